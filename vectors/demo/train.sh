#!/bin/sh
# The baretpm demo's "training job": fits y = slope * x + intercept by least squares over
# every CSV file (header line "x,y") in DATA_DIR and writes the model to MODEL_FILE.
# Deterministic: same data, same bytes out. Needs only sh and awk.
set -eu
if [ $# -ne 2 ]; then
    echo "usage: train.sh DATA_DIR MODEL_FILE" >&2
    exit 2
fi
data=$1
model=$2
LC_ALL=C
export LC_ALL
set -- "$data"/*.csv
if [ ! -f "$1" ]; then
    echo "train.sh: no CSV files in $data" >&2
    exit 1
fi
awk -F, '
    FNR == 1 { files++; next }
    { n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2 }
    END {
        d = n * sxx - sx * sx
        if (n < 2 || d == 0) { print "train.sh: not enough data" > "/dev/stderr"; exit 1 }
        slope = (n * sxy - sx * sy) / d
        intercept = (sy - slope * sx) / n
        printf "model: linear regression y = slope * x + intercept\n"
        printf "files: %d\nsamples: %d\n", files, n
        printf "slope: %.6f\nintercept: %.6f\n", slope, intercept
    }' "$@" > "$model"
echo "train.sh: fitted $(wc -l < "$model" | tr -d ' ')-line model from $# files into $model"
