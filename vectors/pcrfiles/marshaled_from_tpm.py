#!/usr/bin/env python3
"""Builds a `-F marshaled` PCR file from a TPM's own TPM2_PCR_Read wire bytes.

tpm2-tools 5.4 cannot write this form, so this script does what later tpm2-tools do
(TPML_PCR_SELECTION, then a UINT32 count of TPML_DIGEST lists, then the lists, all in TPM
byte order) with bytes that came from, or went to, the TPM unchanged:
  * the selection is the pcrSelectionIn parameter of the first PCR_Read command;
  * each TPML_DIGEST is copied verbatim out of a PCR_Read response.
PCR_Read is repeated, clearing the PCRs each response covered, until nothing is left: the
same loop tpm2-tools uses, so the lists split exactly as its other forms do.

usage: marshaled_from_tpm.py HOST PORT SELECTION OUTFILE   (SELECTION like sha1:0,1+sha256:2)
"""
import socket
import struct
import sys

ALGS = {"sha1": 0x0004, "sha256": 0x000B, "sha384": 0x000C, "sha512": 0x000D}
SIZES = {0x0004: 20, 0x000B: 32, 0x000C: 48, 0x000D: 64}


def parse_selection(text):
    banks = []
    for part in text.split("+"):
        name, pcrs = part.split(":")
        bits = 0
        for p in pcrs.split(","):
            bits |= 1 << int(p, 10)
        banks.append((ALGS[name], bits))
    return banks


def marshal_selection(banks):
    out = struct.pack(">I", len(banks))
    for alg, bits in banks:
        out += struct.pack(">HB", alg, 3) + bits.to_bytes(3, "little")
    return out


def transact(host, port, cmd):
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(cmd)
        rsp = b""
        while len(rsp) < 10 or len(rsp) < struct.unpack(">I", rsp[2:6])[0]:
            chunk = s.recv(4096)
            if not chunk:
                raise SystemExit("TPM closed the connection")
            rsp += chunk
    return rsp


def pcr_read(host, port, banks):
    params = marshal_selection(banks)
    cmd = struct.pack(">HII", 0x8001, 10 + len(params), 0x017E) + params
    rsp = transact(host, port, cmd)
    tag, size, rc = struct.unpack(">HII", rsp[:10])
    if rc != 0:
        raise SystemExit(f"PCR_Read failed: rc={rc:#x}")
    off = 14  # header + pcrUpdateCounter
    (count,) = struct.unpack(">I", rsp[off:off + 4])
    off += 4
    got = []
    for _ in range(count):
        alg, sz = struct.unpack(">HB", rsp[off:off + 3])
        got.append((alg, int.from_bytes(rsp[off + 3:off + 3 + sz], "little")))
        off += 3 + sz
    digests = rsp[off:size]
    return params, got, digests


def main():
    host, port, text, outfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    todo = parse_selection(text)
    selection_bytes = None
    lists = []
    while any(bits for _, bits in todo):
        params, got, digests = pcr_read(host, port, todo)
        if selection_bytes is None:
            selection_bytes = params
        lists.append(digests)
        covered = dict(got)
        todo = [(alg, bits & ~covered.get(alg, 0)) for alg, bits in todo]
    with open(outfile, "wb") as f:
        f.write(selection_bytes + struct.pack(">I", len(lists)) + b"".join(lists))


if __name__ == "__main__":
    main()
