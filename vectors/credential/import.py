#!/usr/bin/env python3
"""Copies the credential-activation vectors from the shared research collection into
vectors/credential/ (see ORIGIN.md). The TCG-validated labeled-encapsulation vectors are cut
down to their "IDENTITY" subset (the label credential activation uses); everything else is
copied byte for byte."""
import json, shutil, sys
from pathlib import Path

src = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/material")
dst = Path(__file__).resolve().parent
shutil.copyfile(src / "credential/go-tpm-legacy-rsa-kat.json", dst / "go-tpm-legacy-rsa-kat.json")
for f in ["kdfa.json", "kdfe.json"]:
    shutil.copyfile(src / "credential/tpm-test-vectors" / f, dst / f)
for f in ["rsa_labeled_encaps.json", "ecc_labeled_encaps.json"]:
    cases = json.loads((src / "credential/tpm-test-vectors" / f).read_text())
    keep = [c for c in cases if c["Label"] == "IDENTITY"]
    (dst / f.replace(".json", ".identity.json")).write_text(json.dumps(keep, indent=1) + "\n")
gen = src / "generated/credential-kat"
(dst / "swtpm").mkdir(exist_ok=True)
for p in sorted(gen.iterdir()):
    if p.name.endswith((".kat.json", ".credential-file.bin", ".activated.bin", ".tpm2b_public.bin", ".ak.name")) or p.name in ("negative-results.txt", "versions.txt", "wire-transcript.json"):
        shutil.copyfile(p, dst / "swtpm" / p.name)
print("ok")
