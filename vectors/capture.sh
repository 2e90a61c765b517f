#!/usr/bin/env bash
# capture.sh -- capture TPM 2.0 quote test vectors from a private swtpm with tpm2-tools.
#
# Usage (from anywhere):   vectors/capture.sh
#
# Needs: swtpm + swtpm_setup + swtpm_localca (swtpm 0.7.x), tpm2-tools 5.x, python3, sha*sum.
# Tested as root. It touches nothing outside a temp dir and vectors/swtpm/:
# the TPM state, the EK-certificate CA (a private swtpm_localca config) and all key contexts
# live in the temp dir, which is removed at exit together with the swtpm process.
#
# Output: vectors/swtpm/ is rebuilt from scratch (staged in the temp dir, swapped in at the end):
#   <ak>.ak.pub  TPM2B_PUBLIC   <ak>.ak.tpmt  TPMT_PUBLIC   <ak>.ak.pem  SubjectPublicKeyInfo PEM
#   <ak>.ak.name TPM2B_NAME bytes as tpm2_createak -n writes them (nameAlg || digest, no size)
#   <ak>.ak.qname qualified name (same encoding)
#   <id>.msg  TPMS_ATTEST (no TPM2B size)   <id>.sig  TPMT_SIGNATURE
#   <id>.pcrs  tpm2-tools "serialized" PCR file   <id>.pcrs.values  digests concatenated
#   <id>.pcrs.marshaled  TPML_PCR_SELECTION || u32 n || n x TPML_DIGEST, big-endian (derived here
#                        from the serialized file: tpm2-tools 5.4 cannot write it)
#   events.txt  every PCR extend (PCR, event text, digests) so PCR values can be recomputed
#   commands.log  every TPM command run, in order;  checkquote.log  every tpm2_checkquote run
#   cases.json  the swtpm part of vectors/index.json (build_index.py merges it)
#   ek.pub, ek-rsa.cert.der, ca-issuer.pem, ca-root.pem  EK public, its cert and the throwaway CA
# Quotes differ from run to run (clock, key generation, signature randomness); nonces and
# extended values are fixed.
set -euo pipefail
export LC_ALL=C

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/swtpm"
T0=$(date +%s.%N)

for tool in swtpm swtpm_setup swtpm_localca tpm2_createek tpm2_createak tpm2_quote \
            tpm2_checkquote tpm2_pcrread tpm2_pcrextend tpm2_nvdefine tpm2_nvwrite \
            tpm2_nvcertify tpm2_certify tpm2_readpublic tpm2_evictcontrol tpm2_flushcontext \
            tpm2_nvread python3 sha1sum sha256sum sha384sum; do
    command -v "$tool" >/dev/null || { echo "capture.sh: missing tool: $tool" >&2; exit 1; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/baretpm-capture.XXXXXX")"
SWTPM_PID=""
cleanup() {
    local rc=$?
    if [ -n "$SWTPM_PID" ] && kill -0 "$SWTPM_PID" 2>/dev/null; then
        kill "$SWTPM_PID" 2>/dev/null || true
        wait "$SWTPM_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

STATE="$WORK/state"; CA="$WORK/ca"; CTX="$WORK/ctx"; STAGE="$WORK/out"
mkdir -p "$STATE" "$CA" "$CTX" "$STAGE"
cd "$STAGE"
: > commands.log; : > checkquote.log; : > events.txt; : > cases.jsonl

# ------------------------------------------------------------------------------------------
# helpers
log() { printf '%s\n' "$*" >&2; }
# run a TPM command quietly, keep it in commands.log (paths are relative to the output dir,
# ../ctx/ is the temp dir holding object contexts)
run() {
    printf '%s\n' "$*" >> commands.log
    if ! "$@" > "$WORK/last.out" 2> "$WORK/last.err"; then
        log "capture.sh: FAILED: $*"; cat "$WORK/last.err" >&2; exit 1
    fi
}
# no resource manager: transient objects and sessions pile up, flush them after each step
flush() { run tpm2_flushcontext -t; run tpm2_flushcontext -s; }

nonce() { # nonce ID NBYTES -> deterministic hex nonce
    python3 -c 'import hashlib,sys; print(hashlib.sha512(("baretpm nonce "+sys.argv[1]).encode()).hexdigest()[:2*int(sys.argv[2])])' "$1" "$2"
}

# ------------------------------------------------------------------------------------------
# 1. private swtpm
cat > "$WORK/localca.conf" <<EOF
statedir = $CA
signingkey = $CA/signkey.pem
issuercert = $CA/issuercert.pem
certserial = $CA/certserial
EOF
printf -- '--platform-manufacturer baretpm\n--platform-version 2.1\n--platform-model swtpm\n' \
    > "$WORK/localca.options"
cat > "$WORK/swtpm_setup.conf" <<EOF
create_certs_tool = $(command -v swtpm_localca)
create_certs_tool_config = $WORK/localca.conf
create_certs_tool_options = $WORK/localca.options
active_pcr_banks = sha256
EOF
log "capture.sh: swtpm_setup (EK + EK certificate from a throwaway CA) ..."
if ! swtpm_setup --tpm2 --tpmstate "$STATE" --config "$WORK/swtpm_setup.conf" \
        --createek --create-ek-cert --pcr-banks sha1,sha256,sha384 > "$WORK/setup.log" 2>&1; then
    log "capture.sh: swtpm_setup with --create-ek-cert failed, retrying without the EK cert"
    cat "$WORK/setup.log" >&2
    rm -rf "$STATE"; mkdir -p "$STATE"
    swtpm_setup --tpm2 --tpmstate "$STATE" --config "$WORK/swtpm_setup.conf" \
        --createek --pcr-banks sha1,sha256,sha384 > "$WORK/setup.log" 2>&1 \
        || { cat "$WORK/setup.log" >&2; exit 1; }
fi

free_port_pair() { # prints P such that 127.0.0.1:P and :P+1 can be bound now
    python3 - <<'EOF'
import random, socket
for _ in range(500):
    p = random.randrange(20000, 60000, 2)
    socks = []
    try:
        for q in (p, p + 1):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", q))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(p)
    break
else:
    raise SystemExit("no free port pair")
EOF
}

started=""
for attempt in 1 2 3 4 5; do
    PORT=$(free_port_pair)
    swtpm socket --tpm2 --tpmstate dir="$STATE" \
        --server type=tcp,port="$PORT",bindaddr=127.0.0.1 \
        --ctrl type=tcp,port=$((PORT + 1)),bindaddr=127.0.0.1 \
        --flags not-need-init,startup-clear --log file="$WORK/swtpm.log" &
    SWTPM_PID=$!
    export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$PORT"
    for _ in $(seq 50); do
        if ! kill -0 "$SWTPM_PID" 2>/dev/null; then break; fi
        if tpm2_getcap properties-fixed > /dev/null 2>&1; then started=1; break; fi
        sleep 0.1
    done
    [ -n "$started" ] && break
    kill "$SWTPM_PID" 2>/dev/null || true; wait "$SWTPM_PID" 2>/dev/null || true; SWTPM_PID=""
    log "capture.sh: swtpm did not come up on port $PORT (attempt $attempt)"
done
[ -n "$started" ] || { log "capture.sh: cannot start swtpm"; cat "$WORK/swtpm.log" >&2 || true; exit 1; }
log "capture.sh: swtpm pid $SWTPM_PID on 127.0.0.1:$PORT"
echo "# swtpm socket --tpm2 --flags not-need-init,startup-clear on 127.0.0.1 (port varies); TPM2TOOLS_TCTI=swtpm:..." >> commands.log

# ------------------------------------------------------------------------------------------
# 2. PCR extends with fixed events. PCR 23 gets exactly PCR 16's events, so PCR23 == PCR16 in
# every bank (used by swtpm-bad-selection-equal-values). PCRs 0-13 stay as swtpm starts them
# (all zero), 17-22 are all-ones (not reset at locality 0).
extend() { # extend PCR "event text"
    local d1 d256 d384
    d1=$(printf '%s' "$2" | sha1sum | cut -d' ' -f1)
    d256=$(printf '%s' "$2" | sha256sum | cut -d' ' -f1)
    d384=$(printf '%s' "$2" | sha384sum | cut -d' ' -f1)
    run tpm2_pcrextend "$1:sha1=$d1,sha256=$d256,sha384=$d384"
    printf '%s\t%s\tsha1=%s\tsha256=%s\tsha384=%s\n' "$1" "$2" "$d1" "$d256" "$d384" >> events.txt
}
printf '# PCR\tevent text (extended as sha1/sha256/sha384 of the text, in this order)\tdigests\n' >> events.txt
extend 14 "baretpm vector event 1 for PCR 14"
extend 14 "baretpm vector event 2 for PCR 14"
extend 15 "baretpm vector event 1 for PCR 15"
extend 16 "baretpm vector event 1 for PCR 16"
extend 23 "baretpm vector event 1 for PCR 16"

# ------------------------------------------------------------------------------------------
# 3. EK and AKs (AKs made persistent so that quotes need no context reload)
run tpm2_createek -c ../ctx/ek.ctx -G rsa -u ek.pub
flush
if tpm2_nvread 0x01c00002 -C o -o ek-rsa.cert.der > /dev/null 2>&1; then
    echo "tpm2_nvread 0x01c00002 -C o -o ek-rsa.cert.der" >> commands.log
    # tpm2_nvread reads the whole index; the DER certificate is followed by nothing
    cp "$CA/issuercert.pem" ca-issuer.pem
    cp "$CA/swtpm-localca-rootca-cert.pem" ca-root.pem
fi

make_ak() { # make_ak NAME HANDLE createak-args...
    local name=$1 handle=$2; shift 2
    run tpm2_createak -C ../ctx/ek.ctx -c "../ctx/$name.ctx" "$@" \
        -u "$name.ak.pub" -n "$name.ak.name" -q "$name.ak.qname" -r "../ctx/$name.priv"
    flush
    run tpm2_evictcontrol -C o -c "../ctx/$name.ctx" "$handle"
    flush
    run tpm2_readpublic -c "$handle" -f pem -o "$name.ak.pem"
    run tpm2_readpublic -c "$handle" -f tpmt -o "$name.ak.tpmt"
    flush
}
H_RSA=0x81000100;    make_ak rsa       $H_RSA    -G rsa    -g sha256 -s rsassa
H_RSA2=0x81000101;   make_ak rsa2      $H_RSA2   -G rsa    -g sha256 -s rsassa
H_PSS=0x81000102;    make_ak rsapss    $H_PSS    -G rsa    -g sha256 -s rsapss
H_ECC=0x81000103;    make_ak ecc       $H_ECC    -G ecc    -g sha256 -s ecdsa
H_ECC256S384=0x81000104; make_ak ecc-sha384 $H_ECC256S384 -G ecc -g sha384 -s ecdsa
H_ECC384=0x81000105; make_ak ecc384    $H_ECC384 -G ecc384 -g sha384 -s ecdsa
H_RSAS384=0x81000106; make_ak rsa-sha384 $H_RSAS384 -G rsa -g sha384 -s rsassa

# ------------------------------------------------------------------------------------------
# 4. quotes
pcr_forms() { # pcr_forms ID PCRLIST: .pcrs.values read right after the quote, .pcrs.marshaled derived
    run tpm2_pcrread -F values -o "$1.pcrs.values" "$2"
    python3 - "$1" <<'EOF'
import struct, sys
vid = sys.argv[1]
b = open(vid + ".pcrs", "rb").read()
count, = struct.unpack_from("<I", b, 0)
sels = []
for i in range(count):
    h, n = struct.unpack_from("<HB", b, 4 + 8 * i)
    sels.append((h, bytes(b[4 + 8 * i + 3: 4 + 8 * i + 3 + n])))
ndl, = struct.unpack_from("<I", b, 132)
assert len(b) == 136 + 532 * ndl, "serialized PCR file of unexpected size"
lists = []
for j in range(ndl):
    off = 136 + 532 * j
    c, = struct.unpack_from("<I", b, off)
    ds = []
    for k in range(c):
        sz, = struct.unpack_from("<H", b, off + 4 + 66 * k)
        ds.append(bytes(b[off + 6 + 66 * k: off + 6 + 66 * k + sz]))
    lists.append(ds)
vals = open(vid + ".pcrs.values", "rb").read()
assert vals == b"".join(d for l in lists for d in l), vid + ": PCR values changed between quote and pcrread"
m = struct.pack(">I", len(sels)) + b"".join(struct.pack(">HB", h, len(s)) + s for h, s in sels)
m += struct.pack(">I", len(lists))
for l in lists:
    m += struct.pack(">I", len(l)) + b"".join(struct.pack(">H", len(d)) + d for d in l)
open(vid + ".pcrs.marshaled", "wb").write(m)
EOF
    echo "# $1.pcrs.marshaled derived from $1.pcrs (python, big-endian TPM marshaling)" >> commands.log
}

quote() { # quote ID HANDLE PCRLIST HASH NONCEHEX [extra tpm2_quote args]
    local id=$1 handle=$2 list=$3 hash=$4 n=$5; shift 5
    run tpm2_quote -c "$handle" -l "$list" -q "$n" -m "$id.msg" -s "$id.sig" \
        -o "$id.pcrs" -F serialized -g "$hash" "$@"
    flush
    pcr_forms "$id" "$list"
}

# checkquote ARGS... -> sets CQ to "ok" or "fail: <first stderr line>", logs everything
checkquote() {
    local id=$1 ak=$2 msg=$3 sig=$4 pcrs=$5 pfmt=$6 list=$7 hash=$8 n=$9
    local args=(-u "$ak" -m "$msg" -s "$sig" -g "$hash")
    if [ -n "$pcrs" ]; then
        args+=(-f "$pcrs")
        [ "$pfmt" = values ] && args+=(-l "$list")
    fi
    [ -n "$n" ] && args+=(-q "$n")
    local rc=0
    tpm2_checkquote "${args[@]}" > "$WORK/cq.out" 2> "$WORK/cq.err" || rc=$?
    {
        echo "== $id"
        echo "\$ tpm2_checkquote ${args[*]}"
        echo "exit status: $rc"
        sed 's/^/stderr: /' "$WORK/cq.err"
    } >> checkquote.log
    if [ "$rc" -eq 0 ]; then CQ="ok"; else CQ="fail: $(head -n1 "$WORK/cq.err")"; fi
}

ORIGIN="swtpm $(swtpm --version 2>&1 | sed -n 's/.*version \([0-9.]*\).*/\1/p') (libtpms) + tpm2-tools $(tpm2_quote -v | sed -n 's/.*version="\([^"]*\)".*/\1/p'), vectors/capture.sh"

# add_case ID AK AKFMT MSG SIG PCRS PCRSFMT PCRLIST HASH NONCE EXPECT NOTE
# (file names relative to vectors/swtpm; PCRS may be empty for none)
add_case() {
    local id=$1 ak=$2 akfmt=$3 msg=$4 sig=$5 pcrs=$6 pfmt=$7 list=$8 hash=$9 n=${10} expect=${11} note=${12}
    checkquote "$id" "$ak" "$msg" "$sig" "$pcrs" "$pfmt" "$list" "$hash" "$n"
    python3 - "$ORIGIN" "$@" "$CQ" >> cases.jsonl <<'EOF'
import json, sys
(origin, vid, ak, akfmt, msg, sig, pcrs, pfmt, plist, hash_, n, expect, note, cq) = sys.argv[1:]
p = lambda f: "swtpm/" + f
print(json.dumps({
    "id": vid, "origin": origin,
    "ak": p(ak), "ak_format": akfmt,
    "message": p(msg), "signature": p(sig),
    "pcrs": p(pcrs) if pcrs else None, "pcrs_format": pfmt if pcrs else None,
    "pcr_list": plist, "hash": hash_, "nonce": n,
    "expect": expect, "tpm2_checkquote": cq, "note": note,
}))
EOF
    log "  $(printf '%-40s' "$id") expect=$(printf '%-20s' "$expect") tpm2_checkquote=$CQ"
}

# three PCR-file forms as separate cases
add_forms() { # add_forms ID AK LIST HASH NONCE NOTE
    local id=$1 ak=$2 list=$3 hash=$4 n=$5 note=$6
    add_case "$id" "$ak.ak.pub" tpm2b "$id.msg" "$id.sig" "$id.pcrs" serialized "$list" "$hash" "$n" ok "$note"
    add_case "$id.values" "$ak.ak.pub" tpm2b "$id.msg" "$id.sig" "$id.pcrs.values" values "$list" "$hash" "$n" ok \
        "$note; PCR file in tpm2-tools 'values' form (digests only, selection from pcr_list)"
    add_case "$id.marshaled" "$ak.ak.pub" tpm2b "$id.msg" "$id.sig" "$id.pcrs.marshaled" marshaled "$list" "$hash" "$n" ok \
        "$note; PCR file in 'marshaled' form (derived from the serialized file; tpm2-tools 5.4 can neither write nor read it, so its checkquote answer here is meaningless)"
}

log "capture.sh: quotes ..."
L=sha256:14,15,16

ID=swtpm-rsassa-sha256; N=$(nonce $ID 32)
quote $ID $H_RSA $L sha256 "$N"
add_forms $ID rsa $L sha256 "$N" "RSA-2048 AK, RSASSA-PKCS1-v1_5/SHA-256, SHA-256 bank PCR 14,15,16"
add_case $ID.ak-pem rsa.ak.pem pem $ID.msg $ID.sig $ID.pcrs serialized $L sha256 "$N" ok \
    "same quote as $ID, AK given as SubjectPublicKeyInfo PEM"
add_case $ID.ak-tpmt rsa.ak.tpmt tpmt $ID.msg $ID.sig $ID.pcrs serialized $L sha256 "$N" ok \
    "same quote as $ID, AK given as TPMT_PUBLIC (no size prefix)"
RSA_N=$N

ID=swtpm-rsapss-sha256; N=$(nonce $ID 32)
quote $ID $H_PSS $L sha256 "$N" --scheme rsapss
add_case $ID rsapss.ak.pub tpm2b $ID.msg $ID.sig $ID.pcrs serialized $L sha256 "$N" ok \
    "RSA-2048 AK with scheme RSASSA-PSS/SHA-256 (salt length 32 = hash length, as the TPM signs); genuine quote"
add_case $ID.values rsapss.ak.pub tpm2b $ID.msg $ID.sig $ID.pcrs.values values $L sha256 "$N" ok \
    "same quote as $ID, PCR file in 'values' form"

ID=swtpm-ecdsa-sha256; N=$(nonce $ID 32)
quote $ID $H_ECC $L sha256 "$N"
add_forms $ID ecc $L sha256 "$N" "ECC NIST P-256 AK, ECDSA/SHA-256, SHA-256 bank PCR 14,15,16"
add_case $ID.ak-pem ecc.ak.pem pem $ID.msg $ID.sig $ID.pcrs serialized $L sha256 "$N" ok \
    "same quote as $ID, AK given as SubjectPublicKeyInfo PEM"

ID=swtpm-rsassa-sha1bank; N=$(nonce $ID 20)
quote $ID $H_RSA sha1:14,15,16 sha256 "$N"
add_case $ID rsa.ak.pub tpm2b $ID.msg $ID.sig $ID.pcrs serialized sha1:14,15,16 sha256 "$N" ok \
    "SHA-1 bank PCR 14,15,16 signed RSASSA/SHA-256: pcrDigest = SHA-256 over the 20-byte values (a verifier may refuse SHA-1 banks by policy; 'ok' assumes SHA-1 allowed); 20-byte nonce"

ID=swtpm-rsassa-sha384bank; N=$(nonce $ID 32)
quote $ID $H_RSA sha384:14,15,16 sha256 "$N"
add_case $ID rsa.ak.pub tpm2b $ID.msg $ID.sig $ID.pcrs serialized sha384:14,15,16 sha256 "$N" ok \
    "SHA-384 bank PCR 14,15,16 signed RSASSA/SHA-256: pcrDigest = SHA-256 over the 48-byte values"

ID=swtpm-rsassa-multibank; N=$(nonce $ID 16); ML=sha1:0,1,2+sha256:14,15,16
quote $ID $H_RSA $ML sha256 "$N"
add_forms $ID rsa $ML sha256 "$N" "two banks in one quote: sha1 PCR 0,1,2 (zero) then sha256 PCR 14,15,16; values in selection order; 16-byte nonce; ok under the default policy (the SHA-256 bank is strong, both banks are checked)"

ID=swtpm-rsassa-pcr0-7-14-15; N=$(nonce $ID 8); BL=sha256:0,1,2,3,4,5,6,7,14,15
quote $ID $H_RSA $BL sha256 "$N"
add_forms $ID rsa $BL sha256 "$N" "10 PCRs (0-7 zero, 14, 15): the serialized file needs two TPML_DIGEST blocks (8 + 2); 8-byte nonce"

ID=swtpm-ecdsa-p256-sha384; N=$(nonce $ID 32)
quote $ID $H_ECC256S384 $L sha384 "$N"
add_case $ID ecc-sha384.ak.pub tpm2b $ID.msg $ID.sig $ID.pcrs serialized $L sha384 "$N" ok \
    "ECC P-256 AK with scheme ECDSA/SHA-384: pcrDigest = SHA-384 over SHA-256-bank values (48 bytes); ECDSA over a 48-byte digest truncated to the 256-bit order"

ID=swtpm-ecdsa-p384-sha384; N=$(nonce $ID 48)
quote $ID $H_ECC384 sha384:14,15,16 sha384 "$N"
add_case $ID ecc384.ak.pub tpm2b $ID.msg $ID.sig $ID.pcrs serialized sha384:14,15,16 sha384 "$N" ok \
    "ECC P-384 AK, ECDSA/SHA-384, SHA-384 bank PCR 14,15,16; 48-byte nonce (accepted since P-384 AKs are: it was curve_not_allowed before)"

ID=swtpm-rsassa-sha384; N=$(nonce $ID 32)
quote $ID $H_RSAS384 $L sha384 "$N"
add_case $ID rsa-sha384.ak.pub tpm2b $ID.msg $ID.sig $ID.pcrs serialized $L sha384 "$N" ok \
    "RSA-2048 AK with scheme RSASSA/SHA-384 over the SHA-256 bank: pcrDigest is 48 bytes"

# ------------------------------------------------------------------------------------------
# 5. things a strict verifier must refuse (all captured, nothing re-signed)
log "capture.sh: bad vectors ..."
BASE=swtpm-rsassa-sha256

# 5a. right files, wrong expected nonce
BADN=$(nonce swtpm-bad-nonce 32)
add_case swtpm-bad-nonce rsa.ak.pub tpm2b $BASE.msg $BASE.sig $BASE.pcrs serialized $L sha256 "$BADN" nonce_mismatch \
    "files of $BASE, but the expected nonce differs from the quote's extraData"

# 5b. PCR file whose selection differs from the quote's (CVE-2024-29039 kind)
run tpm2_pcrread -F serialized -o swtpm-bad-selection-subset.pcrs sha256:14,15
add_case swtpm-bad-selection-subset rsa.ak.pub tpm2b $BASE.msg $BASE.sig swtpm-bad-selection-subset.pcrs serialized $L sha256 "$RSA_N" selection_mismatch \
    "quote $BASE is over sha256:14,15,16; the PCR file is a genuine tpm2_pcrread of sha256:14,15 (a subset)"
run tpm2_pcrread -F serialized -o swtpm-bad-selection-equal-values.pcrs sha256:14,15,23
add_case swtpm-bad-selection-equal-values rsa.ak.pub tpm2b $BASE.msg $BASE.sig swtpm-bad-selection-equal-values.pcrs serialized $L sha256 "$RSA_N" selection_mismatch \
    "quote $BASE is over sha256:14,15,16; the PCR file is a genuine tpm2_pcrread of sha256:14,15,23 where PCR23 got the same events as PCR16, so the digest of its values equals the quote's pcrDigest: only the selection tells them apart"

# 5c. quote signed by another AK than the one given
ID=swtpm-wrong-ak; N=$(nonce $ID 32)
quote $ID $H_RSA2 $L sha256 "$N"
add_case swtpm-rsassa-sha256-ak2 rsa2.ak.pub tpm2b $ID.msg $ID.sig $ID.pcrs serialized $L sha256 "$N" ok \
    "genuine quote by the second RSASSA AK (rsa2); control case for swtpm-bad-wrong-ak"
add_case swtpm-bad-wrong-ak rsa.ak.pub tpm2b $ID.msg $ID.sig $ID.pcrs serialized $L sha256 "$N" wrong_key \
    "quote $ID.msg is signed by rsa2 but the AK given is rsa (same type and scheme); qualifiedSigner does not match either; a verifier may only be able to report the signature check failing"

# 5d. TPM2_NV_Certify (ATTEST_NV, 0x8014) signed by the same AK, nonce as qualifyingData.
# The NV contents are chosen so that, in tpm2-tools' in-memory TPMU_ATTEST union (little-endian
# x86-64 layout), TPMS_QUOTE_INFO.pcrDigest overlays nvContents.buffer[58..]: a u16 size 32 then
# SHA-256 of the $BASE PCR values. A verifier that does not check the attestation type then
# "finds" the right PCR digest.
ID=swtpm-bad-nvcertify; N=$(nonce $ID 32)
python3 - "$BASE.pcrs.values" "$WORK/nv.dat" <<'EOF'
import hashlib, sys
digest = hashlib.sha256(open(sys.argv[1], "rb").read()).digest()
head = b"baretpm: NV contents crafted to alias TPMS_QUOTE_INFO"[:58].ljust(58, b".")
data = head + (32).to_bytes(2, "little") + digest
open(sys.argv[2], "wb").write(data.ljust(96, b"."))
EOF
run tpm2_nvdefine 0x01500020 -C o -s 96 -a "ownerread|ownerwrite|authread|authwrite"
run tpm2_nvwrite 0x01500020 -C o -i ../nv.dat
flush
run tpm2_nvcertify -C $H_RSA -g sha256 -s rsassa -q "$N" --size 96 --offset 0 \
    --attestation $ID.msg -o $ID.sig 0x01500020
flush
cp "$WORK/nv.dat" $ID.nvdata
add_case $ID rsa.ak.pub tpm2b $ID.msg $ID.sig $BASE.pcrs serialized $L sha256 "$N" not_a_quote \
    "TPMS_ATTEST of type ATTEST_NV (0x8014) from TPM2_NV_Certify of NV index 0x01500020 (96 bytes, contents in $ID.nvdata), signed by the rsa AK with the nonce; NV contents crafted so that a tool reading the union as a quote sees the pcrDigest of $BASE.pcrs"

# 5e. TPM2_Certify (ATTEST_CERTIFY, 0x8017) of the ecc AK, signed by the rsa AK.
# tpm2_certify 5.4 has no -q; it always sends qualifyingData 00ff55aa.
ID=swtpm-bad-certify
run tpm2_certify -c $H_ECC -C $H_RSA -g sha256 -o $ID.msg -s $ID.sig
flush
add_case $ID rsa.ak.pub tpm2b $ID.msg $ID.sig "" "" $L sha256 00ff55aa not_a_quote \
    "TPMS_ATTEST of type ATTEST_CERTIFY (0x8017): TPM2_Certify of the ecc AK signed by the rsa AK; extraData is tpm2_certify 5.4's fixed qualifyingData 00ff55aa; no PCR file (pcr_list only says what a caller might expect)"
checkquote "$ID+pcrs" rsa.ak.pub $ID.msg $ID.sig $BASE.pcrs serialized $L sha256 00ff55aa

# 5f. stale PCR values: PCR 16 extended after the quote, PCR file read afterwards
extend 16 "baretpm vector event 2 for PCR 16 (after the quotes)"
run tpm2_pcrread -F serialized -o swtpm-bad-pcr-stale.pcrs $L
add_case swtpm-bad-pcr-stale rsa.ak.pub tpm2b $BASE.msg $BASE.sig swtpm-bad-pcr-stale.pcrs serialized $L sha256 "$RSA_N" pcr_digest_mismatch \
    "quote $BASE with a PCR file of the same selection read after PCR 16 was extended once more: the values do not hash to the quote's pcrDigest"

# ------------------------------------------------------------------------------------------
# 6. finish
python3 - <<'EOF'
import json
cases = [json.loads(l) for l in open("cases.jsonl")]
with open("cases.json", "w") as f:
    f.write("[\n" + ",\n".join(json.dumps(c) for c in cases) + "\n]\n")
EOF
rm cases.jsonl
{
    echo "captured: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    swtpm --version 2>&1 | head -n1
    tpm2_quote -v
    if command -v dpkg-query > /dev/null; then
        dpkg-query -W -f='${Package} ${Version}\n' swtpm libtpms0 tpm2-tools libtss2-esys-3.0.2-0 2>/dev/null || true
    fi
    tpm2_getcap properties-fixed | grep -A1 -E 'TPM2_PT_(FIRMWARE_VERSION_[12]|MANUFACTURER|REVISION):' | grep -E 'TPM2_PT|raw' | paste - - || true
} > capture-info.txt

# swap the new set in
cd "$HERE"
rm -rf "$OUT.old"
[ -d "$OUT" ] && mv "$OUT" "$OUT.old"
cp -r "$STAGE" "$OUT"
rm -rf "$OUT.old"
T1=$(date +%s.%N)
log "capture.sh: wrote $(ls "$OUT" | wc -l) files to $OUT in $(python3 -c "print(round($T1-$T0,1))") s"
