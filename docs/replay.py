#!/usr/bin/env python3
"""Replays the event logs of a baretpm proof, independently of baretpm (standard library only).

    python3 docs/replay.py proof.json

For every quoted bank, replays events.pcr14 and events.pcr15 from their recorded start (the
proof's "starts", zero when absent) with the encoding of docs/proof-format.md and compares with the quoted PCR14/PCR15; then recomputes the quote's
pcrDigest from the listed PCR values and compares it with the one inside quote.attest.
It does NOT check the signature (the standard library has no ECDSA/RSA): use
`baretpm verify` or tpm2_checkquote for that. Exit status 0 when everything matches.
"""
import hashlib
import json
import struct
import sys

ALG_IDS = {"sha1": 0x0004, "sha256": 0x000B, "sha384": 0x000C, "sha512": 0x000D}
KINDS = {"file": 1, "dir": 2, "git": 3, "text": 4}


def encode(event):
    name = event["name"].encode("utf-8")
    return (b"BTPMEV01" + bytes([KINDS[event["kind"]]]) + struct.pack(">H", len(name)) + name
            + struct.pack(">H", ALG_IDS[event["alg"]]) + bytes.fromhex(event["digest"]))


def replay(bank, events, start=None):
    h = lambda data: hashlib.new(bank, data).digest()
    pcr = start if start is not None else bytes(hashlib.new(bank).digest_size)
    for e in events:
        pcr = h(pcr + h(encode(e)))
    return pcr


def quote_pcr_digest(attest):
    """(hash name of the digest, pcrDigest) from a TPMS_ATTEST of type quote."""
    magic, typ = struct.unpack_from(">IH", attest, 0)
    if magic != 0xFF544347 or typ != 0x8018:
        raise ValueError("not a TPM-generated quote")
    off = 6
    for _ in range(2):  # qualifiedSigner, extraData
        (n,) = struct.unpack_from(">H", attest, off)
        off += 2 + n
    off += 17 + 8  # clockInfo, firmwareVersion
    (count,) = struct.unpack_from(">I", attest, off)
    off += 4
    for _ in range(count):
        size = attest[off + 2]
        off += 3 + size
    (n,) = struct.unpack_from(">H", attest, off)
    return attest[off + 2:off + 2 + n]


def main(path):
    proof = json.load(open(path))
    ok = True
    values = {}
    for b in proof["pcrs"]:
        for v in b["values"]:
            values[(b["bank"], v["pcr"])] = bytes.fromhex(v["value"])
    starts = {}
    for s in proof.get("starts", []):
        for v in s["values"]:
            starts[(v["bank"], s["pcr"])] = bytes.fromhex(v["value"])
    for pcr, log in ((14, proof["events"]["pcr14"]), (15, proof["events"]["pcr15"])):
        recorded = any(s["pcr"] == pcr for s in proof.get("starts", []))
        for b in proof["pcrs"]:
            quoted = values.get((b["bank"], pcr))
            if quoted is None:
                continue
            start = starts.get((b["bank"], pcr))
            if recorded and start is None:
                ok = False
                print(f"PCR{pcr} {b['bank']}: no start value recorded for this bank")
                continue
            got = replay(b["bank"], log, start)
            same = got == quoted
            ok &= same
            print(f"PCR{pcr} {b['bank']}: {len(log)} events replay to {got.hex()} "
                  f"{'==' if same else '!='} quoted {quoted.hex()}")
    attest = bytes.fromhex(proof["quote"]["attest"])
    sig = bytes.fromhex(proof["quote"]["signature"])
    sig_hash = {v: k for k, v in ALG_IDS.items()}[struct.unpack_from(">H", sig, 2)[0]]
    concat = b"".join(bytes.fromhex(v["value"]) for b in proof["pcrs"] for v in b["values"])
    digest = hashlib.new(sig_hash, concat).digest()
    same = digest == quote_pcr_digest(attest)
    ok &= same
    print(f"pcrDigest ({sig_hash}) of the listed values {'matches' if same else 'differs from'}"
          " the quote")
    print("OK (signature not checked)" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
