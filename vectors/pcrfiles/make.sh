#!/usr/bin/env bash
# Regenerates the PCR files in this directory from a fresh swtpm with tpm2-tools (5.4).
# Usage: vectors/pcrfiles/make.sh [port]     (port and port+1 must be free; default 23481)
# The PCR contents are deterministic (fixed pcrevent data on a freshly manufactured TPM),
# so a rerun reproduces the committed files byte for byte, except quote.msg (the AK is new).
set -euo pipefail
port=${1:-23481}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
swtpm_setup --tpm2 --tpmstate "$work" --pcr-banks sha1,sha256,sha384 >/dev/null
swtpm socket --tpm2 --tpmstate dir="$work" \
    --server type=tcp,port="$port",bindaddr=127.0.0.1 \
    --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
    --flags not-need-init,startup-clear --pid file="$work/swtpm.pid" &
swtpm_pid=$!
trap 'kill "$swtpm_pid" 2>/dev/null || true; wait "$swtpm_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/swtpm.pid" ] && break; sleep 0.1; done
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"

# Deterministic PCR contents: every active bank of PCR 0, 7, 14 and 15 gets one event.
printf 'baretpm: firmware' >"$work/e0";  tpm2_pcrevent 0  "$work/e0"  >/dev/null
printf 'baretpm: policy'   >"$work/e7";  tpm2_pcrevent 7  "$work/e7"  >/dev/null
printf 'baretpm: inputs'   >"$work/e14"; tpm2_pcrevent 14 "$work/e14" >/dev/null
printf 'baretpm: outputs'  >"$work/e15"; tpm2_pcrevent 15 "$work/e15" >/dev/null

multi='sha1:0,1,14,15+sha256:0,1,2,3,4,5,6,7,14,15+sha384:14,15'
cd "$here"
tpm2_pcrread -Q -F serialized -o multibank.serialized.bin "$multi"
tpm2_pcrread -Q -F values     -o multibank.values.bin     "$multi"
tpm2_pcrread -Q -F serialized -o all.serialized.bin  sha256:all
tpm2_pcrread -Q -F serialized -o none.serialized.bin sha256:none

# tpm2_quote writes the same forms; banks deliberately not in algorithm order.
tpm2_createek -Q -c "$work/ek.ctx" -G rsa
tpm2_createak -Q -C "$work/ek.ctx" -c "$work/ak.ctx" -G rsa -g sha256 -s rsassa
tpm2_flushcontext -t
quote='sha256:14,15+sha1:0,7'
tpm2_quote -Q -c "$work/ak.ctx" -l "$quote" -q 0badc0de -m quote.msg \
    -s "$work/q.sig" -F serialized -o quote.serialized.bin
tpm2_flushcontext -t
tpm2_quote -Q -c "$work/ak.ctx" -l "$quote" -q 0badc0de -m "$work/q2.msg" \
    -s "$work/q2.sig" -F values -o quote.values.bin
tpm2_flushcontext -t

# tpm2-tools 5.4 has no `-F marshaled`; build that form from the TPM's own wire bytes.
python3 "$here/marshaled_from_tpm.py" 127.0.0.1 "$port" "$multi" multibank.marshaled.bin
echo "regenerated in $here"
