"""baretpm.verify against the CLI's `verify --json`: genuine, tampered (every field of the
proof), replayed and malformed proofs, each giving the same result from Python as from the
CLI, on proofs made by `baretpm demo` on a private swtpm (see conftest.py)."""

from __future__ import annotations

import copy
import json
import pathlib
import string

import pytest

import baretpm
from conftest import VECTORS, cli_verify_json, run_cli

CLI_STATUS = {"pass": "pass", "fail": "fail", "skip": "skip", "not run": "not-run"}


def assert_same_as_cli(report: baretpm.Report, code: int, cli_json: dict, raw: str):
    """The Python report is the CLI's, row for row, and the exit code agrees."""
    assert report.to_json() == raw.rstrip("\n")
    assert cli_json["ok"] is report.passed
    assert cli_json["failed"] == report.failed
    assert [(c["name"], c["status"], c["detail"]) for c in cli_json["checks"]] == [
        (c.name, CLI_STATUS[c.result], c.detail) for c in report.checks
    ]
    assert code == (0 if report.passed else 1)
    for c in report.checks:
        assert c.result in baretpm.RESULTS


def verify_both(cli, proof_path, demo, **overrides):
    kwargs = demo.policy_kwargs()
    kwargs.update(overrides)
    report = baretpm.verify(proof_path, **kwargs)
    args = []
    if kwargs.get("nonce") is not None:
        args += ["--nonce", kwargs["nonce"]]
    if kwargs.get("ak_pub") is not None:
        args += ["--ak-pub", str(kwargs["ak_pub"])]
    for p in kwargs.get("inputs", ()):
        args += ["--input", str(p)]
    for p in kwargs.get("outputs", ()):
        args += ["--output", str(p)]
    if kwargs.get("reference") is not None:
        args += ["--reference", str(kwargs["reference"])]
    if kwargs.get("allow_sha1"):
        args += ["--allow-sha1"]
    code, parsed, raw = cli_verify_json(cli, proof_path, args)
    return report, code, parsed, raw


@pytest.mark.parametrize("which", ["demo_ecc", "demo_rsa"])
def test_genuine_proof_passes_as_in_the_cli(cli, which, request):
    demo = request.getfixturevalue(which)
    report, code, parsed, raw = verify_both(cli, demo.proof, demo)
    assert report.passed, repr(report)
    assert bool(report) is True
    assert_same_as_cli(report, code, parsed, raw)
    names = [c.name for c in report.checks]
    for row in ["format", "ak", "ak-name", "ak-pin", "signature", "nonce", "pcr-digest",
                "pcr14-log", "pcr15-log", "command", "input", "output"]:
        assert row in names
    assert report.check("signature").result == "pass"
    assert report.check("ak-pin").result == "pass"
    assert [c.result for c in report.checks if c.name == "input"] == ["pass", "pass"]
    # str() is the CLI's table.
    code, out, _ = run_cli(cli, ["verify", str(demo.proof)] + demo.policy_args())
    assert code == 0
    assert str(report) == out


def test_every_way_of_giving_the_proof_gives_one_report(demo_ecc):
    kw = demo_ecc.policy_kwargs()
    by_path = baretpm.verify(str(demo_ecc.proof), **kw)
    by_pathlib = baretpm.verify(pathlib.Path(demo_ecc.proof), **kw)
    by_bytes = baretpm.verify(demo_ecc.proof.read_bytes(), **kw)
    by_dict = baretpm.verify(demo_ecc.proof_dict(), **kw)
    nonce_bytes = dict(kw, nonce=bytes.fromhex(demo_ecc.nonce))
    ak_bytes = dict(kw, ak_pub=demo_ecc.ak_pub.read_bytes())
    for r in [by_pathlib, by_bytes, by_dict,
              baretpm.verify(demo_ecc.proof, **nonce_bytes),
              baretpm.verify(demo_ecc.proof, **ak_bytes)]:
        assert r.passed
        assert r.to_dict() == by_path.to_dict()


def test_without_policy_the_gaps_are_skips_not_passes(cli, demo_ecc):
    report = baretpm.verify(demo_ecc.proof)
    code, parsed, raw = cli_verify_json(cli, demo_ecc.proof, [])
    assert_same_as_cli(report, code, parsed, raw)
    assert report.check("nonce").result == "skip"
    assert report.check("ak-pin").result == "skip"
    assert report.check("input") is None


def test_replayed_proof_is_refused_by_nonce(cli, demo_ecc, demo_rsa):
    for demo in (demo_ecc, demo_rsa):
        other = bytearray.fromhex(demo.nonce)
        other[0] ^= 0xFF
        report, code, parsed, raw = verify_both(cli, demo.proof, demo, nonce=other.hex())
        assert not report.passed
        assert bool(report) is False
        assert report.failed == ["nonce"]
        assert_same_as_cli(report, code, parsed, raw)


def test_another_ak_is_refused_by_the_pin(cli, demo_ecc, demo_rsa):
    report, code, parsed, raw = verify_both(cli, demo_ecc.proof, demo_ecc, ak_pub=demo_rsa.ak_pub)
    assert report.failed == ["ak-pin"]
    assert_same_as_cli(report, code, parsed, raw)


def test_a_pem_pin_is_read_and_compared(cli, demo_ecc):
    # A PEM public key of another ECC AK: read as a key (not "unreadable"), and refused.
    pem = VECTORS / "swtpm" / "ecc.ak.pem"
    assert pem.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    report, code, parsed, raw = verify_both(cli, demo_ecc.proof, demo_ecc, ak_pub=pem)
    assert report.failed == ["ak-pin"]
    assert report.check("ak-pin").detail == "the proof's AK is not the pinned AK"
    assert_same_as_cli(report, code, parsed, raw)
    as_bytes = baretpm.verify(demo_ecc.proof, **dict(demo_ecc.policy_kwargs(),
                                                      ak_pub=pem.read_bytes()))
    assert as_bytes.to_dict() == report.to_dict()


def test_changed_output_is_refused(cli, demo_ecc, tmp_path):
    changed = tmp_path / "model.txt"
    data = bytearray(demo_ecc.outputs[0].read_bytes())
    data[-2] ^= 0x01
    changed.write_bytes(bytes(data))
    report, code, parsed, raw = verify_both(cli, demo_ecc.proof, demo_ecc, outputs=[changed])
    assert report.failed == ["output"]
    assert_same_as_cli(report, code, parsed, raw)


def test_reference_pass_and_mismatch(cli, demo_ecc, tmp_path):
    ref = tmp_path / "ref.json"
    code, _, err = run_cli(cli, ["reference", "--from", str(demo_ecc.proof), "-o", str(ref),
                                 "--nonce", demo_ecc.nonce, "--ak-pub", str(demo_ecc.ak_pub)])
    assert code == 0, err
    report, code, parsed, raw = verify_both(cli, demo_ecc.proof, demo_ecc, reference=ref)
    assert report.check("reference").result == "pass"
    assert_same_as_cli(report, code, parsed, raw)
    # The same reference as a dict and as bytes.
    assert baretpm.verify(demo_ecc.proof, **dict(demo_ecc.policy_kwargs(),
                                                  reference=json.loads(ref.read_text()))).passed
    assert baretpm.verify(demo_ecc.proof, **dict(demo_ecc.policy_kwargs(),
                                                  reference=ref.read_bytes())).passed
    bad = json.loads(ref.read_text())
    v = bad["pcrs"][0]["values"][0]
    v["value"] = ("1" if v["value"][0] != "1" else "2") + v["value"][1:]
    bad_ref = tmp_path / "bad-ref.json"
    bad_ref.write_text(json.dumps(bad))
    report, code, parsed, raw = verify_both(cli, demo_ecc.proof, demo_ecc, reference=bad_ref)
    assert report.failed == ["reference"]
    assert_same_as_cli(report, code, parsed, raw)


# ------------------------------------------------------------------------------------------
# Tampering with every field of the proof

def leaves(x, path=()):
    if isinstance(x, dict):
        for k, v in x.items():
            yield from leaves(v, path + (k,))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from leaves(v, path + (i,))
    else:
        yield path, x


def tamper(value):
    """A different value of the same type: one hex digit or character changed, ints +1."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if value and all(c in string.hexdigits for c in value):
        last = value[-1].lower()
        return value[:-1] + ("0" if last != "0" else "1")
    return value + "x"


def set_at(d, path, v):
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = v


# Fields that are unsigned claims, shown as such (skip rows) and never trusted: changing them
# changes a detail, not the verdict.
UNSIGNED = {("tpm", "manufacturer"), ("tpm", "vendor"), ("nonce", "source")}


def is_unsigned(path):
    return path[:2] in UNSIGNED or path[0] == "ek_certificates"


def check_tampered(cli, demo, proof: dict, tmp_path, label):
    p = tmp_path / "tampered.json"
    p.write_text(json.dumps(proof, indent=1))
    code, parsed, raw = cli_verify_json(cli, p, demo.policy_args())
    try:
        report = baretpm.verify(p, **demo.policy_kwargs())
    except baretpm.ProofError as e:
        assert code == 2, f"{label}: Python says malformed ({e}), the CLI exits {code}"
        assert parsed == {"ok": False, "error": e.kind, "message": str(e)}, label
        # The dict form is refused in the same way.
        with pytest.raises(baretpm.ProofError) as e2:
            baretpm.verify(proof, **demo.policy_kwargs())
        assert e2.value.kind == e.kind
        return None
    assert_same_as_cli(report, code, parsed, raw)
    assert baretpm.verify(proof, **demo.policy_kwargs()).to_dict() == report.to_dict()
    return report


def test_tampering_any_field_refuses_the_proof_as_the_cli_does(cli, demo_ecc, tmp_path):
    original = demo_ecc.proof_dict()
    fields = list(leaves(original))
    assert len(fields) > 50
    refused = 0
    for path, value in fields:
        t = copy.deepcopy(original)
        set_at(t, path, tamper(value))
        label = "/".join(map(str, path))
        report = check_tampered(cli, demo_ecc, t, tmp_path, label)
        if report is None:
            refused += 1
            continue
        if is_unsigned(path):
            continue
        assert not report.passed, f"tampered {label} still passes:\n{report!r}"
        refused += 1
    assert refused >= len(fields) - 10


def test_structural_tampering_is_refused_as_the_cli_does(cli, demo_ecc, tmp_path):
    original = demo_ecc.proof_dict()
    variants = {}
    for key in original:
        t = copy.deepcopy(original)
        del t[key]
        variants[f"without {key}"] = t
    t = copy.deepcopy(original)
    t["extra"] = 1
    variants["unknown field"] = t
    for log in ("pcr14", "pcr15"):
        t = copy.deepcopy(original)
        t["events"][log].pop()
        variants[f"{log} event removed"] = t
        t = copy.deepcopy(original)
        t["events"][log].reverse()
        variants[f"{log} reordered"] = t
        t = copy.deepcopy(original)
        t["events"][log].append(copy.deepcopy(t["events"][log][-1]))
        variants[f"{log} event repeated"] = t
    t = copy.deepcopy(original)
    t["pcrs"].pop()
    variants["a PCR bank removed"] = t
    t = copy.deepcopy(original)
    t["pcrs"][0]["values"].pop(0)
    variants["a PCR value removed"] = t
    t = copy.deepcopy(original)
    t["command"]["argv"].append("--evil")
    variants["argument added"] = t
    for label, t in variants.items():
        report = check_tampered(cli, demo_ecc, t, tmp_path, label)
        if label == "without command":
            # The command record is optional (measure + attest proofs have none): without
            # it the logs still replay, and the command row is a skip, never a pass. (The
            # command and exit-status text events stay in the logs, unchecked: reported.)
            assert report.check("command").result == "skip"
            continue
        if label == "without session":
            # Optional and unsigned (the prover's word about its salted session): without it
            # the proof says nothing about the session, and the row is a skip, never a pass.
            assert report.check("session").result == "skip"
            assert "does not say" in report.check("session").detail
            continue
        assert report is None or not report.passed, f"{label} still passes:\n{report!r}"


# ------------------------------------------------------------------------------------------
# Malformed and unreadable input: ProofError, as the CLI's exit 2

MALFORMED = {
    "empty": b"",
    "not json": b"\x00\x01garbage",
    "truncated": None,  # filled from the real proof
    "a list": b"[]",
    "wrong format": b'{"format": "something-else", "version": 1}',
    "nul byte in json": b'{"format": "baretpm-proof\x00"}',
}


@pytest.mark.parametrize("label", sorted(MALFORMED))
def test_malformed_proof_is_a_proof_error_as_cli_exit_2(cli, demo_ecc, tmp_path, label):
    data = MALFORMED[label]
    if data is None:
        data = demo_ecc.proof.read_bytes()[:200]
    p = tmp_path / "bad.json"
    p.write_bytes(data)
    code, parsed, _ = cli_verify_json(cli, p, [])
    assert code == 2
    with pytest.raises(baretpm.ProofError) as e:
        baretpm.verify(p)
    assert isinstance(e.value, ValueError)
    assert parsed == {"ok": False, "error": e.value.kind, "message": str(e.value)}
    assert e.value.kind == "proof-malformed"
    with pytest.raises(baretpm.ProofError):
        baretpm.verify(data)


def test_unreadable_inputs_are_proof_errors(cli, demo_ecc, tmp_path):
    missing = tmp_path / "missing.json"
    code, parsed, _ = cli_verify_json(cli, missing, [])
    assert code == 2
    with pytest.raises(baretpm.ProofError) as e:
        baretpm.verify(missing)
    assert e.value.kind == "proof-unreadable" == parsed["error"]
    assert str(e.value) == parsed["message"]
    # A directory is not a proof.
    with pytest.raises(baretpm.ProofError):
        baretpm.verify(tmp_path)
    kw = demo_ecc.policy_kwargs()
    for bad in [dict(outputs=[tmp_path / "no-such-output"]),
                dict(ak_pub=tmp_path / "no-such-ak"),
                dict(reference=tmp_path / "no-such-ref"),
                dict(reference=b"{}"),
                dict(nonce="zz"),
                dict(nonce=""),
                dict(nonce=b""),
                dict(nonce=b"\x01" * 65)]:
        with pytest.raises(baretpm.ProofError) as e:
            baretpm.verify(demo_ecc.proof, **dict(kw, **bad))
        assert e.value.kind == "usage"
    # The CLI agrees on the unreadable output file.
    code, parsed, _ = cli_verify_json(
        cli, demo_ecc.proof, ["--output", str(tmp_path / "no-such-output")])
    assert code == 2 and parsed["error"] == "usage"


def test_an_unusable_pinned_key_is_a_failed_row_not_an_error(cli, demo_ecc, tmp_path):
    junk = tmp_path / "junk.pub"
    junk.write_bytes(b"not a key")
    report, code, parsed, raw = verify_both(cli, demo_ecc.proof, demo_ecc, ak_pub=junk)
    assert report.failed == ["ak-pin"]
    assert_same_as_cli(report, code, parsed, raw)


def test_type_errors_are_type_errors(demo_ecc):
    with pytest.raises(TypeError):
        baretpm.verify(12)
    with pytest.raises(TypeError):
        baretpm.verify(demo_ecc.proof, inputs="data")
    with pytest.raises(TypeError):
        baretpm.verify(demo_ecc.proof, nonce=12)


def test_certificate_arguments_are_checked(demo_ecc):
    with pytest.raises(TypeError):
        baretpm.verify(demo_ecc.proof, ak_ca=12)
    with pytest.raises(baretpm.ProofError, match="ek_chain needs ek_ca"):
        baretpm.verify(demo_ecc.proof, ek_chain=b"x")


# ------------------------------------------------------------------------------------------
# Showing untrusted text

HOSTILE = "<b>x</b>\x1b[2J\u202e"


def test_repr_and_html_escape_untrusted_text(demo_ecc):
    proof = demo_ecc.proof_dict()
    proof["tpm"]["vendor"] = HOSTILE[:16]
    report = baretpm.verify(proof, **demo_ecc.policy_kwargs())
    info = report.check("tpm-info")
    assert "\x1b" in info.detail  # raw in the data ...
    for shown in (repr(report), str(report), report._repr_html_(), repr(info)):
        assert "\x1b" not in shown  # ... never in what is shown
        assert "\u202e" not in shown
    page = report._repr_html_()
    assert "<b>x</b>" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    assert page.startswith("<table") and page.count("<tr>") == len(report.checks) + 1
    assert "PASS" in repr(report).splitlines()[0]


def test_to_dict_is_json_and_complete(demo_ecc):
    report = baretpm.verify(demo_ecc.proof, **demo_ecc.policy_kwargs())
    d = json.loads(json.dumps(report.to_dict()))
    assert d["passed"] is True and d["failed"] == []
    assert [c["name"] for c in d["checks"]] == [c.name for c in report.checks]
    assert set(d["checks"][0]) == {"name", "result", "detail"}
