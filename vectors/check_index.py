#!/usr/bin/env python3
"""check_index.py -- validate vectors/index.json: exact key set, allowed values, every file
referenced exists, ids unique. Stdlib only. Exit status 1 on any problem.
Run from anywhere: python3 vectors/check_index.py
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = {"id", "origin", "ak", "ak_format", "message", "signature", "pcrs", "pcrs_format",
        "pcr_list", "hash", "nonce", "expect", "tpm2_checkquote", "note"}
EXPECT = {"ok", "bad_signature", "nonce_mismatch", "selection_mismatch", "not_a_quote",
          "pcr_digest_mismatch", "wrong_key", "bad_magic", "curve_not_allowed"}
AK_FORMATS = {"tpm2b", "pem", "tpmt"}
PCRS_FORMATS = {"serialized", "values", "marshaled", "json"}
HASHES = {"sha1", "sha256", "sha384", "sha512"}
PCR_LIST = re.compile(r"^(sha1|sha256|sha384|sha512):\d+(,\d+)*(\+(sha1|sha256|sha384|sha512):\d+(,\d+)*)*$")


def main():
    index = json.load(open(os.path.join(HERE, "index.json")))
    errors = []
    err = lambda cid, msg: errors.append("%s: %s" % (cid, msg))
    if not isinstance(index, list) or not index:
        print("index.json: not a non-empty array")
        return 1
    seen = set()
    for n, c in enumerate(index):
        cid = c.get("id", "#%d" % n)
        if set(c) != KEYS:
            err(cid, "keys: missing %s, extra %s" % (sorted(KEYS - set(c)), sorted(set(c) - KEYS)))
            continue
        if cid in seen:
            err(cid, "duplicate id")
        seen.add(cid)
        for k in ("id", "origin", "message", "signature", "pcr_list", "hash", "nonce", "expect",
                  "tpm2_checkquote", "note"):
            if not isinstance(c[k], str):
                err(cid, "%s is not a string" % k)
        for k in ("message", "signature", "ak", "pcrs"):
            if c[k] is not None and not os.path.isfile(os.path.join(HERE, c[k])):
                err(cid, "%s file missing: %s" % (k, c[k]))
        if (c["ak"] is None) != (c["ak_format"] is None):
            err(cid, "ak and ak_format must both be null or both set")
        if c["ak_format"] is not None and c["ak_format"] not in AK_FORMATS:
            err(cid, "ak_format %r" % c["ak_format"])
        if (c["pcrs"] is None) != (c["pcrs_format"] is None):
            err(cid, "pcrs and pcrs_format must both be null or both set")
        if c["pcrs_format"] is not None and c["pcrs_format"] not in PCRS_FORMATS:
            err(cid, "pcrs_format %r" % c["pcrs_format"])
        if c["pcrs"] is not None and not PCR_LIST.match(c["pcr_list"]):
            err(cid, "pcr_list %r" % c["pcr_list"])
        if c["pcr_list"] and not PCR_LIST.match(c["pcr_list"]):
            err(cid, "pcr_list %r" % c["pcr_list"])
        if c["hash"] not in HASHES:
            err(cid, "hash %r" % c["hash"])
        if not re.fullmatch(r"([0-9a-f]{2})*", c["nonce"]):
            err(cid, "nonce is not lower-case hex: %r" % c["nonce"])
        if c["expect"] not in EXPECT:
            err(cid, "expect %r" % c["expect"])
        cq = c["tpm2_checkquote"]
        if not (cq == "ok" or cq.startswith("fail: ") or (c["ak"] is None and cq.startswith("not run"))):
            err(cid, "tpm2_checkquote %r" % cq)
        if c["ak"] is None and c["expect"] != "ok":
            err(cid, "a case without AK can only be a parse-only 'ok'")
    for e in errors:
        print(e)
    print("check_index.py: %d cases, %d problems" % (len(index), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
