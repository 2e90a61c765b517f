#!/usr/bin/env python3
"""reference_check.py -- recompute every case's strict verdict from the bytes with tpmref.py
(python3-cryptography for the signatures) and compare it with `expect` in index.json.
A signature failure satisfies both `bad_signature` and `wrong_key`. Exit status 1 on mismatch.
Run from anywhere: python3 vectors/reference_check.py
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tpmref  # noqa: E402


def main():
    bad = 0
    index = json.load(open(os.path.join(HERE, "index.json")))
    for c in index:
        try:
            got = tpmref.strict_verdict(c, HERE)
        except Exception as e:  # a parse error is a finding too
            got = "error: %s" % e
        want = c["expect"]
        same = got == want or (got == "bad_signature" and want == "wrong_key")
        bad += not same
        print("%-4s %-52s expect=%-20s reference=%s" % ("ok" if same else "BAD", c["id"], want, got))
    print("reference_check.py: %d cases, %d disagreements" % (len(index), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
