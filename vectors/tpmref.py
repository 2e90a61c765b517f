"""tpmref.py -- a small, independent reference reader/verifier for the vectors in index.json.

Not part of baretpm: it exists to cross-check the index (pcr_list taken from the quote itself,
`expect` recomputed from the bytes) without trusting tpm2-tools. Signature checks need the
`cryptography` package (Debian: python3-cryptography); parsing needs only the stdlib.

The strict verdict order is: bad_magic, not_a_quote, bad_signature (or wrong_key: the two are
indistinguishable from the bytes alone), nonce_mismatch, selection_mismatch, pcr_digest_mismatch.
"""
import hashlib
import json
import struct

ALG = {0x0004: "sha1", 0x000B: "sha256", 0x000C: "sha384", 0x000D: "sha512"}
ALG_ID = {v: k for k, v in ALG.items()}
HLEN = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}
ST_ATTEST = {0x8014: "ATTEST_NV", 0x8015: "ATTEST_COMMAND_AUDIT", 0x8016: "ATTEST_SESSION_AUDIT",
             0x8017: "ATTEST_CERTIFY", 0x8018: "ATTEST_QUOTE", 0x8019: "ATTEST_TIME",
             0x801A: "ATTEST_CREATION", 0x801C: "ATTEST_NV_DIGEST"}
TPM_GENERATED = 0xFF544347
SIG_RSASSA, SIG_RSAPSS, SIG_ECDSA, ALG_NULL = 0x0014, 0x0016, 0x0018, 0x0010


class Reader:
    def __init__(self, b):
        self.b, self.o = bytes(b), 0

    def take(self, n):
        if self.o + n > len(self.b):
            raise ValueError("short read at offset %d (+%d of %d)" % (self.o, n, len(self.b)))
        v = self.b[self.o:self.o + n]
        self.o += n
        return v

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack(">H", self.take(2))[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def u64(self):
        return struct.unpack(">Q", self.take(8))[0]

    def tpm2b(self):
        return self.take(self.u16())

    def done(self):
        if self.o != len(self.b):
            raise ValueError("%d trailing bytes" % (len(self.b) - self.o))


def bits_to_list(select):
    return [8 * i + j for i, byte in enumerate(select) for j in range(8) if byte >> j & 1]


def parse_selection(r):
    sel = []
    for _ in range(r.u32()):
        h = r.u16()
        n = r.u8()
        sel.append((ALG.get(h, "0x%04x" % h), bits_to_list(r.take(n))))
    return sel


def sel_to_str(sel):
    return "+".join("%s:%s" % (h, ",".join(map(str, pcrs))) for h, pcrs in sel)


def str_to_sel(s):
    out = []
    for part in s.split("+"):
        h, pcrs = part.split(":")
        out.append((h, sorted(int(x) for x in pcrs.split(","))))
    return out


def parse_attest(b):
    r = Reader(b)
    a = {"magic": r.u32(), "type": r.u16()}
    a["qualifiedSigner"] = r.tpm2b()
    a["extraData"] = r.tpm2b()
    a["clock"], a["resetCount"], a["restartCount"], a["safe"] = r.u64(), r.u32(), r.u32(), r.u8()
    a["firmwareVersion"] = r.u64()
    if a["type"] == 0x8018:
        a["selection"] = parse_selection(r)
        a["pcrDigest"] = r.tpm2b()
    else:
        a["attested"] = r.take(len(b) - r.o)
    r.done()
    return a


def parse_signature(b):
    r = Reader(b)
    alg = r.u16()
    h = r.u16()
    if alg in (SIG_RSASSA, SIG_RSAPSS):
        s = {"alg": alg, "hash": ALG.get(h), "sig": r.tpm2b()}
    elif alg == SIG_ECDSA:
        s = {"alg": alg, "hash": ALG.get(h), "r": r.tpm2b(), "s": r.tpm2b()}
    else:
        raise ValueError("signature algorithm 0x%04x" % alg)
    r.done()
    return s


def parse_tpmt_public(b):
    r = Reader(b)
    p = {"type": r.u16(), "nameAlg": r.u16(), "attributes": r.u32(), "authPolicy": r.tpm2b()}
    sym = r.u16()
    if sym != ALG_NULL:
        r.u16(), r.u16()
    p["scheme"] = r.u16()
    p["scheme_hash"] = ALG.get(r.u16()) if p["scheme"] != ALG_NULL else None
    if p["type"] == 0x0001:  # RSA
        p["bits"] = r.u16()
        p["exponent"] = r.u32() or 65537
        p["modulus"] = r.tpm2b()
    elif p["type"] == 0x0023:  # ECC
        p["curve"] = r.u16()
        kdf = r.u16()
        if kdf != ALG_NULL:
            r.u16()
        p["x"], p["y"] = r.tpm2b(), r.tpm2b()
    else:
        raise ValueError("key type 0x%04x" % p["type"])
    r.done()
    p["name"] = struct.pack(">H", p["nameAlg"]) + hashlib.new(ALG[p["nameAlg"]], b).digest()
    return p


def load_ak(path, fmt):
    """-> (cryptography public key, TPMT_PUBLIC dict or None)"""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    data = open(path, "rb").read()
    if fmt == "pem":
        return load_pem_public_key(data), None
    if fmt == "tpm2b":
        r = Reader(data)
        data = r.tpm2b()
        r.done()
    elif fmt != "tpmt":
        raise ValueError("ak_format " + fmt)
    p = parse_tpmt_public(data)
    if p["type"] == 0x0001:
        key = rsa.RSAPublicNumbers(p["exponent"], int.from_bytes(p["modulus"], "big")).public_key()
    else:
        curve = {0x0003: ec.SECP256R1(), 0x0004: ec.SECP384R1(), 0x0005: ec.SECP521R1()}[p["curve"]]
        key = ec.EllipticCurvePublicNumbers(int.from_bytes(p["x"], "big"),
                                            int.from_bytes(p["y"], "big"), curve).public_key()
    return key, p


def read_pcrs(path, fmt, pcr_list):
    """-> (selection in the file or None, [(hash, index, value)] in file order)"""
    data = open(path, "rb").read()
    want = str_to_sel(pcr_list) if pcr_list else None
    if fmt == "serialized":
        count, = struct.unpack_from("<I", data, 0)
        if count > 16:
            raise ValueError("selection count %d" % count)
        sel = []
        for i in range(count):
            h, n = struct.unpack_from("<HB", data, 4 + 8 * i)
            sel.append((ALG.get(h, "0x%04x" % h), bits_to_list(data[4 + 8 * i + 3:4 + 8 * i + 3 + n])))
        ndl, = struct.unpack_from("<I", data, 132)
        if len(data) != 136 + 532 * ndl:
            raise ValueError("serialized PCR file size %d for %d digest lists" % (len(data), ndl))
        digests = []
        for j in range(ndl):
            off = 136 + 532 * j
            c, = struct.unpack_from("<I", data, off)
            if c > 8:
                raise ValueError("TPML_DIGEST count %d" % c)
            for k in range(c):
                sz, = struct.unpack_from("<H", data, off + 4 + 66 * k)
                digests.append(data[off + 6 + 66 * k: off + 6 + 66 * k + sz])
        flat = [(h, i) for h, pcrs in sel for i in pcrs]
        if len(flat) != len(digests):
            raise ValueError("%d PCRs selected but %d digests" % (len(flat), len(digests)))
        return sel, [(h, i, d) for (h, i), d in zip(flat, digests)]
    if fmt == "marshaled":
        r = Reader(data)
        sel = parse_selection(r)
        digests = []
        for _ in range(r.u32()):
            for _ in range(r.u32()):
                digests.append(r.tpm2b())
        r.done()
        flat = [(h, i) for h, pcrs in sel for i in pcrs]
        if len(flat) != len(digests):
            raise ValueError("%d PCRs selected but %d digests" % (len(flat), len(digests)))
        return sel, [(h, i, d) for (h, i), d in zip(flat, digests)]
    if fmt == "values":
        out, o = [], 0
        for h, pcrs in want:
            for i in pcrs:
                out.append((h, i, data[o:o + HLEN[h]]))
                o += HLEN[h]
        if o != len(data):
            raise ValueError("values file has %d bytes, selection needs %d" % (len(data), o))
        return None, out
    if fmt == "json":
        j = json.load(open(path))
        banks = {k.lower(): v for k, v in j.items()}
        out = []
        for h, pcrs in want:
            for i in pcrs:
                out.append((h, i, bytes.fromhex(banks[h][str(i)])))
        return None, out
    raise ValueError("pcrs_format " + fmt)


def verify_signature(key, tpmt, sig, msg, hash_name):
    """True if sig (TPMT_SIGNATURE dict) verifies over msg with hash_name."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
    if sig["hash"] != hash_name:
        return False
    if tpmt is not None and tpmt["scheme"] != ALG_NULL:
        if tpmt["scheme"] != sig["alg"] or tpmt["scheme_hash"] != sig["hash"]:
            return False
    h = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
         "sha512": hashes.SHA512}[hash_name]()
    try:
        if sig["alg"] == SIG_RSASSA and isinstance(key, rsa.RSAPublicKey):
            key.verify(sig["sig"], msg, padding.PKCS1v15(), h)
        elif sig["alg"] == SIG_RSAPSS and isinstance(key, rsa.RSAPublicKey):
            # Any salt length (TPM 2.0 Part 1 B.7: the digest size or the maximum).
            key.verify(sig["sig"], msg, padding.PSS(padding.MGF1(h), padding.PSS.AUTO), h)
        elif sig["alg"] == SIG_ECDSA and isinstance(key, ec.EllipticCurvePublicKey):
            der = utils.encode_dss_signature(int.from_bytes(sig["r"], "big"), int.from_bytes(sig["s"], "big"))
            key.verify(der, msg, ec.ECDSA(h))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def strict_verdict(case, base="."):
    """Recompute what a strict verifier must answer for one index.json case."""
    import os
    p = lambda f: os.path.join(base, f)
    msg = open(p(case["message"]), "rb").read()
    a = parse_attest(msg)
    if a["magic"] != TPM_GENERATED:
        return "bad_magic"
    if a["type"] != 0x8018:
        return "not_a_quote"
    if case["ak"] is not None:
        key, tpmt = load_ak(p(case["ak"]), case["ak_format"])
        sig = parse_signature(open(p(case["signature"]), "rb").read())
        if not verify_signature(key, tpmt, sig, msg, case["hash"]):
            return "bad_signature"
    if a["extraData"] != bytes.fromhex(case["nonce"]):
        return "nonce_mismatch"
    quote_sel = [(h, sorted(pcrs)) for h, pcrs in a["selection"]]
    if str_to_sel(case["pcr_list"]) != quote_sel:
        return "selection_mismatch"
    if case["pcrs"] is None:
        return "ok"
    file_sel, values = read_pcrs(p(case["pcrs"]), case["pcrs_format"], case["pcr_list"])
    if file_sel is not None and [(h, sorted(x)) for h, x in file_sel] != quote_sel:
        return "selection_mismatch"
    for h, i, v in values:
        if len(v) != HLEN[h]:
            return "pcr_digest_mismatch"
    digest = hashlib.new(case["hash"], b"".join(v for _, _, v in values)).digest()
    if digest != a["pcrDigest"]:
        return "pcr_digest_mismatch"
    return "ok"
