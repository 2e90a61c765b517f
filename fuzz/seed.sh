#!/usr/bin/env bash
# Rebuilds fuzz/seeds/<target>/ from vectors/ and, when swtpm is installed, from a session
# recorded against a fresh swtpm (tests/replay_swtpm.rs). The seeds are committed; the
# corpora that fuzzing grows from them (fuzz/corpus/<target>/) are not.
#
#   fuzz/seed.sh            # from anywhere; needs python3 (and swtpm + cargo for the
#                           # response_frame and tpm_replay seeds)
#
# Seed file names say where the bytes came from; regression-* files are inputs that once found
# a bug, kept by this script. Input layouts (first bytes that steer a
# target) are described at the top of each fuzz_targets/<target>.rs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
seeds="$here/seeds"

# Vector-derived seeds are rebuilt from scratch; recorded ones (response_frame, tpm_replay,
# proof_file) only when swtpm is here.
# Files named regression-* (inputs that once found a bug) are kept.
clean() {
  mkdir -p "$seeds/$1"
  find "$seeds/$1" -type f ! -name 'regression-*' -delete
}
for t in tpms_attest tpmt_signature tpm2b_public pcr_selection pcr_file verify_quote roundtrip; do
  clean "$t"
done

python3 - "$root/vectors" "$seeds" <<'EOF'
import json, os, struct, sys
from pathlib import Path

vectors, seeds = Path(sys.argv[1]), Path(sys.argv[2])
index = json.loads((vectors / "index.json").read_text())

def put(target, name, data):
    (seeds / target / name).write_bytes(data)

def slug(path):
    return str(path).replace("/", "_")

def files(pattern):
    return sorted(vectors.glob(pattern))

# TPMS_ATTEST: every message of the index, plus the certify/creation attestations.
attests = {}
for c in index:
    attests[c["message"]] = (vectors / c["message"]).read_bytes()
for p in files("external/go-attestation/*.attest.bin"):
    attests[str(p.relative_to(vectors))] = p.read_bytes()
for name, data in attests.items():
    put("tpms_attest", slug(name), data)
    # The TPM2B_ATTEST form, as a Quote response carries it.
    put("tpms_attest", slug(name) + ".tpm2b", struct.pack(">H", len(data)) + data)

# TPMT_SIGNATURE: every signature of the index.
sigs = {c["signature"]: (vectors / c["signature"]).read_bytes() for c in index}
sigs.update({str(p.relative_to(vectors)): p.read_bytes()
             for p in files("external/go-attestation/*.sig.bin")})
for name, data in sigs.items():
    put("tpmt_signature", slug(name), data)

# Public keys: TPM2B_PUBLIC, TPMT_PUBLIC and SubjectPublicKeyInfo PEM (Ak::from_any).
keys = {}
for pattern in ["swtpm/*.ak.pub", "swtpm/*.ak.tpmt", "swtpm/*.ak.pem", "swtpm/ek.pub",
                "external/*/*akpub.bin", "external/*/*akpub.pem", "external/keylime/ak.pub",
                "external/*/*.pubkey.pem"]:
    for p in files(pattern):
        keys[str(p.relative_to(vectors))] = p.read_bytes()
for name, data in keys.items():
    put("tpm2b_public", slug(name), data)

# TPML_PCR_SELECTION: cut out of each quote; the selection strings of the index as text.
def quote_selection(msg):
    if len(msg) < 6 or msg[:4] != b"\xffTCG" or msg[4:6] != b"\x80\x18":
        return None
    at = 6
    for _ in range(2):                       # qualifiedSigner, extraData
        (n,) = struct.unpack_from(">H", msg, at)
        at += 2 + n
    at += 17 + 8                             # clockInfo, firmwareVersion
    (count,) = struct.unpack_from(">I", msg, at)
    end = at + 4
    for _ in range(count):
        end += 3 + msg[end + 2]
    return msg[at:end]

selections = {}
for name, data in attests.items():
    s = quote_selection(data)
    if s is not None:
        selections[s] = name
for s, name in selections.items():
    put("pcr_selection", "selection-" + slug(name), s)
specs = sorted({c["pcr_list"] for c in index if c["pcr_list"]})
for i, spec in enumerate(specs + ["sha256:all", "sha1:none+sha256:0-7,16", "sha384:23"]):
    put("pcr_selection", f"spec-{i:02}.txt", spec.encode())

# PCR files: [form, expected selection, file...]; form 0 values, 1 serialized, 2 marshaled.
table = ["sha256:14,15,16", "sha1:0,1,2+sha256:14,15,16", "sha256:0,1,2,3,4,5,6,7,14,15",
         "sha1:14,15,16", "sha384:14,15,16",
         "sha256:" + ",".join(str(i) for i in range(24))]
form = {"values": 0, "serialized": 1, "marshaled": 2}
done = set()
for c in index:
    if not c["pcrs"] or c["pcrs_format"] not in form or c["pcrs"] in done:
        continue
    done.add(c["pcrs"])
    data = (vectors / c["pcrs"]).read_bytes()
    k = table.index(c["pcr_list"]) if c["pcr_list"] in table else None
    f = form[c["pcrs_format"]]
    if f == 0:
        if k is None:
            continue
        put("pcr_file", slug(c["pcrs"]), bytes([0, k]) + data)
    else:
        put("pcr_file", slug(c["pcrs"]), bytes([f, 0]) + data)
        if k is not None:                    # the same file with its selection expected
            put("pcr_file", slug(c["pcrs"]) + ".expected", bytes([f, 66 + k]) + data)
for p in files("pcrfiles/*.bin"):
    f = 0 if ".values." in p.name else 2 if ".marshaled." in p.name else 1
    put("pcr_file", "pcrfiles_" + p.name, bytes([f, 0]) + p.read_bytes())

# verify_quote: [case (u16), mutations, (op, args)...]; the genuine cases, one of each
# mutation, and a few chains of eight (arguments from a fixed pseudo-random stream).
import random
rng = random.Random(2024)
cases = 15
for i in range(cases):
    put("verify_quote", f"case{i:02}", bytes([0, i, 0]))
for op in range(16):
    args = bytes(rng.randrange(256) for _ in range(24))
    put("verify_quote", f"op{op:02}", bytes([0, op % cases, 1, op]) + args)
for k in range(8):
    chain = bytearray([0, rng.randrange(cases), 8])
    for _ in range(8):
        chain.append(rng.randrange(16))
        chain += bytes(rng.randrange(256) for _ in range(12))
    put("verify_quote", f"chain{k}", bytes(chain))

# roundtrip: [structure, bytes...]
for name, data in attests.items():
    put("roundtrip", "attest-" + slug(name), b"\x00" + data)
for name, data in sigs.items():
    put("roundtrip", "sig-" + slug(name), b"\x01" + data)
for name, data in keys.items():
    if name.endswith(".pub") or name.endswith("akpub.bin"):
        put("roundtrip", "public-" + slug(name), b"\x02" + data)
    if name.endswith(".tpmt") or name.endswith("akpub.bin"):
        put("roundtrip", "tpmt-" + slug(name), b"\x03" + data)
for s, name in selections.items():
    put("roundtrip", "selection-" + slug(name), b"\x04" + s)

for t in sorted(os.listdir(seeds)):
    print(f"{t}: {len(os.listdir(seeds / t))} seeds")
EOF

# response_frame and tpm_replay: responses recorded from a fresh swtpm, by the test that also
# checks that they replay to the same answers.
if command -v swtpm >/dev/null && command -v swtpm_setup >/dev/null; then
  clean response_frame
  clean tpm_replay
  (cd "$root" && BARETPM_FUZZ_SEEDS="$seeds" cargo test -q --test replay_swtpm >/dev/null)
  for t in response_frame tpm_replay; do
    echo "$t: $(ls "$seeds/$t" | wc -l) seeds (recorded from swtpm)"
  done
  # proof_file: a genuine proof from `baretpm demo` (measure, run, quote on a private swtpm),
  # a reference file made from it, and its two event logs as log files.
  clean proof_file
  demo=$(mktemp -d)
  trap 'rm -rf "$demo"' EXIT
  (cd "$root" && cargo build -q --bin baretpm)
  "$root/target/debug/baretpm" demo --keep "$demo/keep" >/dev/null
  cp "$demo/keep/proof.json" "$seeds/proof_file/demo-proof.json"
  "$root/target/debug/baretpm" reference --from "$demo/keep/proof.json" --pcrs 0-7,14,15 \
    -o "$seeds/proof_file/demo-reference.json"
  python3 - "$demo/keep/proof.json" "$seeds/proof_file" <<'PY'
import json, sys
proof = json.load(open(sys.argv[1]))
for pcr in (14, 15):
    log = {"format": "baretpm-event-log", "version": 1, "pcr": pcr,
           "events": proof["events"][f"pcr{pcr}"]}
    open(f"{sys.argv[2]}/demo-log-pcr{pcr}.json", "w").write(json.dumps(log, indent=2))
PY
  echo "proof_file: $(ls "$seeds/proof_file" | wc -l) seeds (from baretpm demo on swtpm)"
else
  echo "swtpm not installed: response_frame, tpm_replay and proof_file seeds left as they are"
fi
# The documented example (its elided hex makes it a near miss, which is a good seed too).
mkdir -p "$seeds/proof_file"
python3 - "$root/docs/proof-format.md" "$seeds/proof_file/doc-example.json" <<'PY'
import re, sys
doc = open(sys.argv[1]).read()
block = re.search(r"## 4\. The proof file.*?```json\n(.*?)```", doc, re.S)
if block:
    open(sys.argv[2], "w").write(block.group(1))
PY

# eventlog and eventlog_replay: the smaller real logs of vectors/eventlogs/ (SHA-1 and
# crypto-agile, StartupLocality, H-CRTM, Windows WBCL with PCR -1, shim quirks, the negative
# ones); eventlog_replay's inputs start with two steering bytes (PCR, bank).
clean eventlog
clean eventlog_replay
for f in tpm2-tools/event-sd-boot-fedora37.bin tpm2-tools/event-uefi-sha1-log.bin \
         tpm2-tools/specid-vendordata.bin go-attestation/short_no_action_eventlog \
         go-attestation/sb_cert_eventlog go-attestation/windows_gcp_shielded_vm.eventlog.bin \
         go-attestation/crypto_agile_eventlog go-tpm-tools/glinux-alex.bin \
         keylime/binary_bios_measurements-bogus tpm2-tss/binary_measurements_hcrtm.bin; do
  name=$(echo "$f" | tr / _)
  cp "$root/vectors/eventlogs/$f" "$seeds/eventlog/$name"
  { printf '\x00\x00'; cat "$root/vectors/eventlogs/$f"; } > "$seeds/eventlog_replay/$name"
done
echo "eventlog, eventlog_replay: $(ls "$seeds/eventlog" | wc -l) seeds each"

# credential: tpm2-tools credential files, EK/AK publics, ID objects, a PEM EK, and EK
# TPMT_PUBLICs behind their KAT's fixed inputs (layout in fuzz_targets/credential.rs).
clean credential
python3 - "$root/vectors/credential" "$seeds/credential" <<'PY'
import json, shutil, sys
from pathlib import Path
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
for f in sorted((src / "swtpm").glob("*.bin")):
    if f.name.endswith((".credential-file.bin", ".tpm2b_public.bin")):
        shutil.copyfile(f, dst / f"vectors_credential_{f.name}")
for f in sorted((src / "swtpm").glob("*.kat.json")):
    v, b = json.loads(f.read_text()), f.name.removesuffix(".kat.json")
    (dst / f"vectors_{b}.id_object.bin").write_bytes(bytes.fromhex(v["tpm2b_id_object"]))
    fx = bytes.fromhex(v["ephemeral_private"] or v["seed"] + v["oaep_salt"])
    (dst / f"vectors_{b}.fixed_then_ek.bin").write_bytes(bytes([len(fx)]) + fx + bytes.fromhex(v["ek_tpmt_public"]))
k = json.loads((src / "go-tpm-legacy-rsa-kat.json").read_text())
(dst / "vectors_go-tpm-legacy.ek.pem").write_text(k["ek_rsa_spki_pem"] + "\n")
PY
echo "credential: $(ls "$seeds/credential" | wc -l) seeds"

# cert_chain: certificate chains from vectors/certs as concatenated DER (leaf first, root last).
clean cert_chain
python3 - "$root/vectors/certs" "$seeds/cert_chain" <<'EOF2'
import base64, re, sys
from pathlib import Path
base, out = Path(sys.argv[1]), Path(sys.argv[2])
def ders(name):
    b = (base / name).read_bytes()
    if b"-----BEGIN" in b:
        return [base64.b64decode(m) for m in re.findall(rb"-----BEGIN CERTIFICATE-----(.*?)-----END", b, re.S)]
    return [b]
chains = {
    "swtpm-rsa": ["material/ek-rsa2048.crt", "material/swtpm-localca-issuercert.pem", "material/swtpm-localca-rootca-cert.pem"],
    "swtpm-p384": ["material/ek-secp384r1.crt", "material/swtpm-localca-issuercert.pem", "material/swtpm-localca-rootca-cert.pem"],
    "infineon": ["material/slb9670_ek_rsa2048.der", "material/OptigaRsaMfrCA035.pem", "material/OptigaRsaRootCA.pem"],
    "tpm12-oaep": ["material/tpm12_ek_rsaes_oaep.pem", "material/IFX_RSA_20I.pem", "material/IFX_RSA_RT.pem"],
    "gce-new": ["material/pca_tpm_ecc_enc_cert.pem", "material/gcp_ek_ak_ca_intermediate_v3.crt", "material/gcp_ek_ak_ca_root.crt"],
    "gce-old-ak": ["material/uca_tpm_rsa_sign_cert.pem", "material/tpm_ek_intermediate_3.crt", "material/tpm_ek_root_1.cer"],
    "intel": ["material/INTEL_I.pem", "material/INTEL_RT.pem"],
    "nuvoton": ["material/NTC1.pem"],
    "pss-p384": ["gen/ek-p256.pem", "gen/p384-ica.pem", "gen/pss-root.pem"],
    "loop": ["gen/loop-leaf.pem", "gen/loop-a.pem", "gen/loop-b.pem", "gen/pss-root.pem"],
    "pathlen": ["gen/pl0-leaf.pem", "gen/pl0-ica.pem", "gen/pl0-root.pem"],
}
for name, files in chains.items():
    (out / f"chain-{name}.der").write_bytes(b"".join(d for f in files for d in ders(f)))
leaf = ders("material/ek-rsa2048.crt")[0]
(out / "nv-wrapped-padded.bin").write_bytes(b"\x10\x01\x00" + len(leaf).to_bytes(2, "big") + leaf + b"\xff" * 200)
(out / "pem-chain.pem").write_bytes((base / "gen/ek-p256.pem").read_bytes() + (base / "gen/p384-ica.pem").read_bytes() + (base / "gen/pss-root.pem").read_bytes())
EOF2
