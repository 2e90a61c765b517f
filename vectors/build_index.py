#!/usr/bin/env python3
"""build_index.py -- write vectors/index.json.

index.json = swtpm/cases.json (written by capture.sh, tpm2_checkquote answers included)
           + the external cases below, for which this script runs tpm2_checkquote itself.

pcr_list of an external case is the quote's own selection: read from its *.decoded.json and
checked against the TPMS_ATTEST bytes. Run from anywhere: python3 vectors/build_index.py
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tpmref  # noqa: E402

ORIGINS = {
    "go-tpm-tools": "google/go-tpm-tools@67670e5c021a (Apache-2.0)",
    "go-attestation": "google/go-attestation@01dcb1119591 (Apache-2.0)",
    "keylime": "keylime/keylime@9b1f6e6a917f (Apache-2.0)",
    "rust-keylime": "keylime/rust-keylime@3a4d565476dd (Apache-2.0)",
    "aicert": "mithril-security/aicert@c50d57f201ee (Apache-2.0)",
    "azure-cvm-tooling": "kinvolk/azure-cvm-tooling@e4e440748fc1 (MIT)",
    "cmc": "Fraunhofer-AISEC/cmc@aeb585989534 (Apache-2.0)",
}


def decoded_selections(obj):
    """every pcrSelect found in a decoded.json, with its pcrDigest"""
    out = []
    if isinstance(obj, dict):
        if "pcrSelect" in obj and "pcrDigest" in obj:
            out.append((obj["pcrDigest"], [(s["hash"].lower(), s["pcrs"]) for s in obj["pcrSelect"]]))
        for v in obj.values():
            out += decoded_selections(v)
    elif isinstance(obj, list):
        for v in obj:
            out += decoded_selections(v)
    return out


def ext(vid, project, msg, sig, ak, ak_format, pcrs, pcrs_format, hash_, nonce, expect, decoded, note,
        platform):
    d = "external/" + project + "/"
    case = {
        "id": vid,
        "origin": "%s, %s; %s" % (ORIGINS[project], platform, "see external/ORIGIN.md"),
        "ak": d + ak if ak else None, "ak_format": ak_format if ak else None,
        "message": d + msg, "signature": d + sig,
        "pcrs": d + pcrs if pcrs else None, "pcrs_format": pcrs_format if pcrs else None,
        "pcr_list": "", "hash": hash_, "nonce": nonce,
        "expect": expect, "tpm2_checkquote": None, "note": note,
    }
    a = tpmref.parse_attest(open(os.path.join(HERE, case["message"]), "rb").read())
    if a["type"] == 0x8018:
        sel = [(h, sorted(p)) for h, p in a["selection"]]
        digests = {dg: s for dg, s in decoded_selections(json.load(open(os.path.join(HERE, d + decoded))))}
        assert digests.get(a["pcrDigest"].hex()) == sel, (vid, "decoded.json selection differs from the quote")
        case["pcr_list"] = tpmref.sel_to_str(sel)
    return case


def external_cases():
    C = []
    for n, nonce, nn in (("gce-cos-85-no-nonce", "", "empty nonce"), ("gce-cos-85-nonce9009", "9009", "nonce 9009")):
        for b in ("sha1", "sha256", "sha384"):
            C.append(ext("go-tpm-tools.%s.%s" % (n, b), "go-tpm-tools", "%s.%s.quote.bin" % (n, b),
                         "%s.%s.sig.bin" % (n, b), n + ".akpub.bin", "tpmt", "%s.%s.pcrs.json" % (n, b), "json",
                         "sha256", nonce, "ok", n + ".decoded.json",
                         "real GCE vTPM quote over all 24 %s PCRs, RSASSA/SHA-256 (pcrDigest = SHA-256 over the %s values), %s; upstream verify_test.go expects success"
                         % (b.upper(), b.upper(), nn),
                         "GCE Shielded VM vTPM, internal/test/attestations/%s.pb" % n))
    C.append(ext("go-attestation.windows_gcp_shielded_vm.quote", "go-attestation", "windows_gcp_shielded_vm.quote.bin",
                 "windows_gcp_shielded_vm.sig.bin", "windows_gcp_shielded_vm.akpub.bin", "tpmt",
                 "windows_gcp_shielded_vm.pcrs.json", "json", "sha1", "", "ok", "windows_gcp_shielded_vm.decoded.json",
                 "Windows PCP AK (scheme RSASSA/SHA-1), quote over all 24 SHA-1 PCRs signed RSASSA-SHA1, empty nonce, clock info obfuscated; upstream TestEventLog expects success (a verifier may refuse SHA-1 by policy)",
                 "Windows on GCE Shielded VM vTPM, attest/testdata/windows_gcp_shielded_vm.json"))
    for vid, stem, sigf, plat in (
            ("go-attestation.windows_gcp_shielded_vm.akcreation", "windows_gcp_shielded_vm",
             "windows_gcp_shielded_vm.akcreation", "Windows on GCE Shielded VM vTPM, attest/testdata/windows_gcp_shielded_vm.json"),
            ("go-attestation.infineon_rsa_ak.certifycreation", "infineon_rsa_ak", "infineon_rsa_ak.certifycreation",
             "Infineon hardware TPM (upstream comment), attest/activation_test.go"),
            ("go-attestation.gvtpm_ecc_p256_ak.certifycreation", "gvtpm_ecc_p256_ak", "gvtpm_ecc_p256_ak.certifycreation",
             "Google vTPM (upstream comment), attest/activation_test.go")):
        C.append(ext(vid, "go-attestation", sigf + ".attest.bin", sigf + ".sig.bin", stem + ".akpub.bin", "tpmt",
                     None, None, "sha1", "", "not_a_quote", None,
                     "genuine TPM2_CertifyCreation of the AK signed by itself (ATTEST_CREATION 0x801A, %s-SHA1, empty extraData): valid signature, but not a quote"
                     % ("ECDSA" if "ecc" in stem else "RSASSA"), plat))
    kl = "IBM TPM 2.0 simulator (ibmswtpm2 rev 1.46)"
    C.append(ext("keylime.quote.out", "keylime", "quote.out", "quotesig.out", "ak.pub", "tpm2b", "quotepcr.out",
                 "serialized", "sha256", "db1db298db6d60e6385b7231743e9c3056a18003", "ok", "ibmswtpm.decoded.json",
                 "tpm2-tools outputs (quote.out/quotesig.out/quotepcr.out) from keylime test-data; 20-byte nonce taken from extraData (not recorded upstream)",
                 kl + ", test-data/files/"))
    emu_nonces = ["75354374506f4a315850476d4d4e457831467739", "54647678677a486f396543586671314d504b6352",
                  "494f355a5a4e4a504a4d4932626d346c33714e68", "306338796334325a77566b31676c544b354b334b",
                  "4562346869526d694731354442496247396f5844", "784339434d7069524343543169674b4e44714b37"]
    for i, n in enumerate(emu_nonces):
        C.append(ext("keylime.emulator-deluxequote%d" % i, "keylime", "emulator-deluxequote%d.quote.bin" % i,
                     "emulator-deluxequote%d.sig.bin" % i, "ak.pub", "tpm2b", "emulator-deluxequote%d.pcrs.tpm2tools.bin" % i,
                     "serialized", "sha256", n, "ok", "ibmswtpm.decoded.json",
                     "canned tpm2_deluxequote output #%d from keylime test-data/emulator-inputs.txt; nonce is ASCII %r"
                     % (i, bytes.fromhex(n).decode()), kl + ", test-data/emulator-inputs.txt"))
    C.append(ext("keylime.tpm_util_test.checkquote", "keylime", "tpm_util_test.checkquote.quote.bin",
                 "tpm_util_test.checkquote.sig.bin", "tpm_util_test.checkquote.akpub.pem", "pem",
                 "tpm_util_test.checkquote.pcrs.tpm2tools.bin", "serialized", "sha256",
                 "4169354d35536a596a6e6b797634503769744831", "ok", "tpm_util_test.checkquote.decoded.json",
                 "keylime test_checkquote: nonce ASCII 'Ai5M5SjYjnkyv4P7itH1'; upstream also requires failure with a flipped byte, a changed nonce and with hash sha1",
                 "swtpm/libtpms (fw 0x2019102300163636), keylime/tpm/tpm_util_test.py"))
    C.append(ext("rust-keylime.test-quote", "rust-keylime", "test-quote.quote.bin", "test-quote.sig.bin", None, None,
                 "test-quote.pcrs.tpm2tools.bin", "serialized", "sha1", "54455354", "ok", "test-quote.decoded.json",
                 "PARSE-ONLY (ak is null: no AK public key exists upstream, the signature cannot be checked); SHA-1 bank PCR 16, RSASSA-SHA1, nonce ASCII 'TEST'; 'ok' covers parsing, nonce, selection and pcrDigest only",
                 "swtpm/libtpms, keylime/test-data/test-quote.txt"))
    C.append(ext("aicert.sample_build_response", "aicert", "sample_build_response.quote.bin",
                 "sample_build_response.sig.bin", "sample_build_response.akpub.pem", "pem",
                 "sample_build_response.pcrs.tpm2tools.bin", "serialized", "sha256", "", "ok",
                 "sample_build_response.decoded.json",
                 "Azure vTPM quote over all 24 SHA-256 PCRs with NO nonce (replayable; verifies only with an empty expected nonce); upstream ran tpm2_checkquote on it",
                 "Azure Trusted Launch VM vTPM (fw 0x2020031200120000), sample_build_response.json"))
    C.append(ext("azure-cvm-tooling.quote", "azure-cvm-tooling", "quote.msg.bin", "quote.tpmt_signature.bin",
                 "akpub.pem", "pem", "quote.pcrs.json", "json", "sha256", "6368616c6c656e6765", "ok", "decoded.json",
                 "nonce ASCII 'challenge'; signature upstream is raw (quote.rawsig.bin), TPMT header added in quote.tpmt_signature.bin",
                 "Azure Confidential VM (SEV-SNP) vTPM (fw 0x2020031200120003), az-cvm-vtpm/test/quote.bin"))
    C.append(ext("cmc.validQuote", "cmc", "tpm_test.validQuote.bin", "tpm_test.validSignature.bin",
                 "tpm_test.validAk.pubkey.pem", "pem", "tpm_test.pcrs.json", "json", "sha256", "db6c3c042fa12645", "ok",
                 "tpm_test.decoded.json", "cmc TestVerifyTpm valid case; clock info obfuscated",
                 "unknown TPM, verifier/tpm_test.go"))
    C.append(ext("cmc.invalidSignature", "cmc", "tpm_test.validQuote.bin", "tpm_test.invalidSignature.bin",
                 "tpm_test.validAk.pubkey.pem", "pem", "tpm_test.pcrs.json", "json", "sha256", "db6c3c042fa12645",
                 "bad_signature", "tpm_test.decoded.json",
                 "cmc's deliberate invalid signature: well-formed RSASSA-SHA256 TPMT_SIGNATURE that does not verify over validQuote",
                 "unknown TPM, verifier/tpm_test.go"))
    return C


def serialized_from(values, sel):
    """tpm2-tools serialized PCR file for tpm2_checkquote (it cannot read JSON)"""
    b = struct.pack("<I", len(sel))
    for h, pcrs in sel:
        mask = bytearray(3)
        for i in pcrs:
            mask[i // 8] |= 1 << (i % 8)
        b += struct.pack("<HB", tpmref.ALG_ID[h], 3) + bytes(mask) + b"\0"
    b += b"\0" * (132 - len(b))
    chunks = [values[i:i + 8] for i in range(0, len(values), 8)]
    b += struct.pack("<I", len(chunks))
    for c in chunks:
        blk = struct.pack("<I", len(c)) + b"".join(struct.pack("<H", len(v)) + v.ljust(64, b"\0") for v in c)
        b += blk.ljust(532, b"\0")
    return b


def run_checkquote(case):
    if case["ak"] is None:
        return "not run: no AK public key"
    args = ["tpm2_checkquote", "-u", case["ak"], "-m", case["message"], "-s", case["signature"], "-g", case["hash"]]
    tmp = None
    if case["pcrs"]:
        path = case["pcrs"]
        if case["pcrs_format"] == "json":
            _, vals = tpmref.read_pcrs(os.path.join(HERE, path), "json", case["pcr_list"])
            tmp = tempfile.NamedTemporaryFile(suffix=".pcrs", delete=False)
            tmp.write(serialized_from([v for _, _, v in vals], tpmref.str_to_sel(case["pcr_list"])))
            tmp.close()
            path = tmp.name
        args += ["-f", path]
        if case["pcrs_format"] == "values":
            args += ["-l", case["pcr_list"]]
    if case["nonce"]:
        args += ["-q", case["nonce"]]
    try:
        p = subprocess.run(args, cwd=HERE, capture_output=True, text=True)
    finally:
        if tmp:
            os.unlink(tmp.name)
    shown = " ".join(a if a != (tmp.name if tmp else None) else "<pcrs.json as serialized>" for a in args)
    log = "== %s\n$ %s\nexit status: %d\n%s" % (case["id"], shown, p.returncode,
                                               "".join("stderr: %s\n" % l for l in p.stderr.splitlines()))
    if p.returncode == 0:
        return "ok", log
    return "fail: " + (p.stderr.splitlines() or ["(no stderr)"])[0], log


def main():
    cases = json.load(open(os.path.join(HERE, "swtpm", "cases.json")))
    logs = []
    for c in external_cases():
        r = run_checkquote(c)
        if isinstance(r, tuple):
            c["tpm2_checkquote"], l = r
            logs.append(l)
        else:
            c["tpm2_checkquote"] = r
            logs.append("== %s\n%s\n" % (c["id"], r))
        if c["pcrs_format"] == "json" and c["ak"]:
            c["note"] += "; tpm2_checkquote was given these JSON values as a serialized PCR file"
        cases.append(c)
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), "duplicate ids"
    with open(os.path.join(HERE, "index.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(c) for c in cases) + "\n]\n")
    with open(os.path.join(HERE, "external", "checkquote.log"), "w") as f:
        f.write("".join(logs))
    for c in cases:
        print("%-52s expect=%-20s tpm2_checkquote=%s" % (c["id"], c["expect"], c["tpm2_checkquote"]))


if __name__ == "__main__":
    main()
