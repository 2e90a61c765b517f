#!/usr/bin/env bash
# import.sh -- copy the real-world quote vectors used by vectors/index.json from the shared
# collection (default /work/shared/vectors, see its MANIFEST.md) into vectors/external/.
# Files are copied byte for byte, except the six go-tpm-tools *.pcrs.json files, which are
# reshaped from {"hash": "SHA1", "pcrs": {...}} to the {"SHA1": {...}} form every other
# *.pcrs.json here uses (same values). Rerunnable: vectors/external/import.sh [SRC]
set -euo pipefail
SRC="${1:-/work/shared/vectors}"
DST="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

cp_files() { # cp_files PROJECT FILE...
    local p=$1; shift
    mkdir -p "$DST/$p"
    for f in "$@"; do
        install -m 0644 "$SRC/$p/$f" "$DST/$p/$f"
    done
}

for n in gce-cos-85-no-nonce gce-cos-85-nonce9009; do
    cp_files go-tpm-tools $n.akpub.bin $n.akpub.pem $n.decoded.json
    for b in sha1 sha256 sha384; do
        cp_files go-tpm-tools $n.$b.quote.bin $n.$b.sig.bin
        python3 - "$SRC/go-tpm-tools/$n.$b.pcrs.json" "$DST/go-tpm-tools/$n.$b.pcrs.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
out = {d["hash"]: {str(k): v for k, v in sorted(d["pcrs"].items(), key=lambda kv: int(kv[0]))}}
with open(sys.argv[2], "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
PY
    done
done

cp_files go-attestation \
    windows_gcp_shielded_vm.quote.bin windows_gcp_shielded_vm.sig.bin \
    windows_gcp_shielded_vm.akpub.bin windows_gcp_shielded_vm.akpub.pem \
    windows_gcp_shielded_vm.pcrs.json windows_gcp_shielded_vm.decoded.json \
    windows_gcp_shielded_vm.akcreation.attest.bin windows_gcp_shielded_vm.akcreation.sig.bin \
    windows_gcp_shielded_vm.akcreation.creationdata.bin \
    activation_test_aks.decoded.json
for n in infineon_rsa_ak gvtpm_ecc_p256_ak; do
    cp_files go-attestation $n.akpub.bin $n.akpub.pem $n.certifycreation.attest.bin \
        $n.certifycreation.sig.bin $n.creationdata.bin
done

cp_files keylime quote.out quotesig.out quotepcr.out ak.pub ak.name akpub.pem \
    quote.out.pcrs.json ibmswtpm.decoded.json
for i in 0 1 2 3 4 5; do
    cp_files keylime emulator-deluxequote$i.quote.bin emulator-deluxequote$i.sig.bin \
        emulator-deluxequote$i.pcrs.tpm2tools.bin emulator-deluxequote$i.pcrs.json
done
cp_files keylime tpm_util_test.checkquote.quote.bin tpm_util_test.checkquote.sig.bin \
    tpm_util_test.checkquote.pcrs.tpm2tools.bin tpm_util_test.checkquote.pcrs.json \
    tpm_util_test.checkquote.akpub.pem tpm_util_test.checkquote.decoded.json

cp_files rust-keylime test-quote.txt test-quote.quote.bin test-quote.sig.bin \
    test-quote.pcrs.tpm2tools.bin test-quote.decoded.json

cp_files aicert sample_build_response.quote.bin sample_build_response.sig.bin \
    sample_build_response.pcrs.tpm2tools.bin sample_build_response.pcrs.json \
    sample_build_response.akpub.pem sample_build_response.decoded.json

cp_files azure-cvm-tooling quote.msg.bin quote.tpmt_signature.bin quote.rawsig.bin akpub.pem \
    quote.pcrs.json decoded.json

cp_files cmc tpm_test.validQuote.bin tpm_test.validSignature.bin tpm_test.invalidSignature.bin \
    tpm_test.validAk.pubkey.pem tpm_test.pcrs.json tpm_test.decoded.json

echo "import.sh: $(find "$DST" -type f ! -name import.sh ! -name ORIGIN.md | wc -l) files in $DST"
