#!/usr/bin/env bash
# Unpacks what the test initrd's /init sent over the second serial port, and checks that it
# is complete: a BEGIN frame, one FILE frame per file (name, size, SHA-256, base64 body, END),
# and a DONE frame whose count matches. Every NAME given must have arrived, with its size and
# SHA-256 as sent.
#
#   tests/initrd/decode.sh TRANSFER DIR NAME...    (writes DIR/NAME)
#
# Exit status: 0 complete; 1 incomplete, malformed, or the guest reported a failed step
# (BARETPM-XFER-FAIL); 2 usage.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 TRANSFER DIR NAME..." >&2; exit 2; }
IN=$1
DIR=$2
shift 2
[ -r "$IN" ] && [ -d "$DIR" ] || { echo "decode: cannot read $IN or $DIR is not a directory" >&2; exit 2; }
err() { echo "transfer: $*" >&2; exit 1; }

T=$(mktemp -d "$DIR/.decode.XXXXXX")
trap 'rm -rf "$T"' EXIT
# Serial output may carry CR LF line ends.
tr -d '\r' <"$IN" >"$T/lf"
if fail=$(grep -m1 '^BARETPM-XFER-FAIL ' "$T/lf"); then
    # The guest's words: keep only harmless characters.
    err "the guest reported a failed step: $(printf '%s' "$fail" | tr -cd '[:alnum:] ._-' | cut -c1-120)"
fi
# Firmware may write to the second UART before the kernel owns it (OVMF does): the frames
# start at the BEGIN line. Writes T/manifest ("name size sha256" per file, then "done N") and
# the base64 bodies to T/NAME.b64. Any line out of frame is an error.
awk -v dir="$T" '
    function bad(m) { print "transfer: line " NR ": " m > "/dev/stderr"; failed = 1; exit 1 }
    !begun { if ($0 == "BARETPM-XFER-BEGIN 1") begun = 1; next }
    cur == "" && $1 == "FILE" {
        if (NF != 4 || $2 !~ /^[a-z0-9_][a-z0-9_.-]*$/ || length($2) > 32 || $3 !~ /^[0-9]+$/ || length($3) > 8 || $3 + 0 > 4194304 || $4 !~ /^[0-9a-f]+$/ || length($4) != 64) bad("malformed FILE frame")
        if ($2 in seen) bad("file " $2 " sent twice")
        seen[$2] = 1; cur = $2; files++
        print $2, $3, $4 >> (dir "/manifest")
        printf "" > (dir "/" cur ".b64")
        next
    }
    cur != "" && $0 == ("END " cur) { close(dir "/" cur ".b64"); cur = ""; next }
    cur != "" { if ($0 !~ /^[A-Za-z0-9+\/=]*$/) bad("not base64 inside " cur); print >> (dir "/" cur ".b64"); next }
    cur == "" && $1 == "BARETPM-XFER-DONE" {
        if (NF != 2 || $2 != files) bad("DONE says " $2 " files, " files " were framed")
        print "done", files >> (dir "/manifest"); done = 1; exit 0
    }
    { bad("unexpected line outside a file frame") }
    END {
        if (!failed && !done) {
            print "transfer: " (begun ? "truncated (no DONE frame" (cur != "" ? ", inside " cur : "") ")" : "no BEGIN frame") > "/dev/stderr"
            exit 1
        }
    }
' "$T/lf" || exit 1

for want in "$@"; do
    line=$(grep -m1 "^$want " "$T/manifest") || err "$want was not sent"
    read -r name size sha <<<"$line"
    base64 -d <"$T/$name.b64" >"$T/$name" 2>/dev/null || err "$name: bad base64"
    got_size=$(stat -c %s "$T/$name")
    [ "$got_size" = "$size" ] || err "$name: $got_size bytes arrived, the guest sent $size"
    got_sha=$(sha256sum "$T/$name" | cut -d' ' -f1)
    [ "$got_sha" = "$sha" ] || err "$name: SHA-256 $got_sha, the guest sent $sha"
done
for want in "$@"; do mv "$T/$want" "$DIR/$want"; done
