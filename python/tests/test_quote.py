"""checkquote and parse_attest on the tpm2-tools captures in vectors/swtpm, against the CLI's
`checkquote` and the malformed structures of vectors/bad."""

from __future__ import annotations

import json

import pytest

import baretpm
from conftest import VECTORS, run_cli

CASES = json.loads((VECTORS / "swtpm" / "cases.json").read_text())


def case_args(c):
    return dict(
        ak=VECTORS / c["ak"],
        attest=VECTORS / c["message"],
        signature=VECTORS / c["signature"],
        pcrs=VECTORS / c["pcrs"] if c.get("pcrs") else None,
    )


def case_kwargs(c):
    kw = dict(nonce=c["nonce"] or None, pcr_format=c.get("pcrs_format") or "serialized")
    # The vectors' 'ok' assumes SHA-1 banks are allowed (see their notes).
    kw["allow_sha1"] = "sha1:" in (c.get("pcr_list") or "")
    if c.get("pcr_list"):
        kw["pcr_list"] = c["pcr_list"]
    if c.get("hash"):
        kw["hash_algorithm"] = c["hash"]
    if not c["nonce"]:
        kw["allow_no_nonce"] = True
    return kw


def cli_args(c):
    a = case_args(c)
    args = ["checkquote", "-u", str(a["ak"]), "-m", str(a["attest"]), "-s", str(a["signature"])]
    if a["pcrs"]:
        args += ["-f", str(a["pcrs"])]
    kw = case_kwargs(c)
    args += ["-F", kw["pcr_format"]]
    if kw.get("nonce"):
        args += ["-q", kw["nonce"]]
    if kw.get("pcr_list"):
        args += ["-l", kw["pcr_list"]]
    if kw.get("hash_algorithm"):
        args += ["-g", kw["hash_algorithm"]]
    if kw.get("allow_no_nonce"):
        args += ["--allow-no-nonce"]
    if kw.get("allow_sha1"):
        args += ["--allow-sha1"]
    return args


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_checkquote_agrees_with_the_cli_and_the_vectors(cli, case):
    q = baretpm.checkquote(**case_args(case), **case_kwargs(case))
    code, _, err = run_cli(cli, cli_args(case))
    assert q.passed == (case["expect"] == "ok"), repr(q)
    assert bool(q) is q.passed
    assert code == (0 if q.passed else 1), err
    if q.passed:
        assert q.check is None
        assert q.attest["type"] == "TPM_ST_ATTEST_QUOTE"
        assert q.attest["extra_data"] == bytes.fromhex(case["nonce"])
        assert q.signing_hash == case.get("hash", q.signing_hash)
    else:
        assert q.check
        assert q.message in err


def test_checkquote_takes_bytes_as_well_as_paths():
    c = next(c for c in CASES if c["expect"] == "ok")
    a = case_args(c)
    as_bytes = {k: v.read_bytes() for k, v in a.items()}
    q = baretpm.checkquote(**as_bytes, **dict(case_kwargs(c), nonce=bytes.fromhex(c["nonce"])))
    assert q.passed
    assert q.attest == baretpm.checkquote(**a, **case_kwargs(c)).attest


def test_checkquote_refusals_name_the_check():
    c = next(c for c in CASES if c["expect"] == "ok")
    kw = case_kwargs(c)
    other = bytearray.fromhex(c["nonce"])
    other[0] ^= 1
    q = baretpm.checkquote(**case_args(c), **dict(kw, nonce=other.hex()))
    assert (q.passed, q.check) == (False, "nonce")
    q = baretpm.checkquote(**case_args(c), **dict(kw, nonce=None))
    assert (q.passed, q.check) == (False, "nonce-required")
    sig = bytearray(case_args(c)["signature"].read_bytes())
    sig[-1] ^= 1
    q = baretpm.checkquote(**dict(case_args(c), signature=bytes(sig)), **kw)
    assert (q.passed, q.check) == (False, "signature")
    assert "refused by signature" in repr(q)
    q = baretpm.checkquote(**dict(case_args(c), pcrs=b"\x00\x01"), **kw)
    assert (q.passed, q.check) == (False, "pcr-file")


def test_checkquote_input_errors_are_proof_errors(tmp_path):
    c = next(c for c in CASES if c["expect"] == "ok")
    with pytest.raises(baretpm.ProofError):
        baretpm.checkquote(**dict(case_args(c), ak=tmp_path / "missing"), **case_kwargs(c))
    with pytest.raises(baretpm.ProofError):
        baretpm.checkquote(**case_args(c), **dict(case_kwargs(c), pcr_format="yaml"))
    with pytest.raises(baretpm.ProofError):
        baretpm.checkquote(**case_args(c), **dict(case_kwargs(c), hash_algorithm="md5"))
    with pytest.raises(baretpm.ProofError):
        baretpm.checkquote(**case_args(c), **dict(case_kwargs(c), pcr_list="sha256:99"))


def test_parse_attest_reads_every_captured_quote():
    for c in CASES:
        a = baretpm.parse_attest((VECTORS / c["message"]).read_bytes())
        assert a["magic"] == 0xFF544347
        assert set(a) >= {"type", "qualified_signer", "extra_data", "clock_info",
                          "firmware_version", "attested"}
        if a["type"] == "TPM_ST_ATTEST_QUOTE":
            sel = a["attested"]["pcr_select"]
            assert sel and all(isinstance(p, int) for b in sel for p in b["pcrs"])
            if c["expect"] == "ok" and c.get("pcr_list") and "+" not in c["pcr_list"]:
                bank, pcrs = c["pcr_list"].split(":")
                assert sel == [{"hash": bank, "pcrs": [int(x) for x in pcrs.split(",")]}]
        else:
            assert c["expect"] == "not_a_quote"


BAD = sorted(p for p in (VECTORS / "bad").glob("attest_*.bin"))


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_parse_attest_refuses_malformed_structures(path):
    with pytest.raises(baretpm.ProofError) as e:
        baretpm.parse_attest(path.read_bytes())
    assert "TPMS_ATTEST" in str(e.value)


def test_parse_attest_wants_bytes():
    with pytest.raises(TypeError):
        baretpm.parse_attest("quote.msg")
