"""verify(ek_ca=, ak_ca=) against `baretpm verify --json --ek-ca/--ak-ca`, on a proof from a
private swtpm whose EK certificates were issued by a private swtpm_localca CA made in a temp
dir (as tests/cert_swtpm.rs does): the right root passes the ek-certificate row, another
root fails it, each exactly as the CLI reports it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import baretpm
from conftest import VECTORS, cli_verify_json, run_cli
from test_verify import assert_same_as_cli

OTHER_ROOT = VECTORS / "certs/material/swtpm-localca-rootca-cert.pem"


@dataclass
class EkProof:
    proof: Path
    root: Path
    issuer: Path


def _write(p: Path, s: str) -> None:
    p.write_text(s)


@pytest.fixture(scope="module")
def ek_proof(cli, tmp_path_factory):
    for tool in ["swtpm", "swtpm_setup", "swtpm_localca"]:
        assert shutil.which(tool), f"{tool} not installed (.ci/run installs it)"
    d = tmp_path_factory.mktemp("ekcert")
    ca, state = d / "localca", d / "state"
    ca.mkdir()
    state.mkdir()
    _write(
        d / "swtpm-localca.conf",
        f"statedir = {ca}\nsigningkey = {ca}/signkey.pem\nissuercert = {ca}/issuercert.pem\n"
        f"certserial = {ca}/certserial\n",
    )
    _write(
        d / "swtpm-localca.options",
        "--platform-manufacturer baretpm\n--platform-version 2.1\n--platform-model test\n",
    )
    _write(
        d / "swtpm_setup.conf",
        f"create_certs_tool = swtpm_localca\ncreate_certs_tool_config = {d}/swtpm-localca.conf\n"
        f"create_certs_tool_options = {d}/swtpm-localca.options\n",
    )
    env = dict(os.environ, XDG_CONFIG_HOME=str(d), HOME=str(d))
    r = subprocess.run(
        ["swtpm_setup", "--tpm2", "--tpmstate", str(state), "--config",
         str(d / "swtpm_setup.conf"), "--createek", "--create-ek-cert", "--ecc",
         "--pcr-banks", "sha256"],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
    )
    assert r.returncode == 0, f"swtpm_setup failed:\n{r.stdout}\n{r.stderr}"
    sock = d / "swtpm.sock"
    tpm = subprocess.Popen(
        ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={state}", "--server",
         f"type=unixio,path={sock}", "--ctrl", f"type=unixio,path={sock}.ctrl",
         "--flags", "not-need-init,startup-clear"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(str(sock))
                break
            except OSError:
                assert time.monotonic() < deadline, "swtpm did not start listening"
                time.sleep(0.02)
            finally:
                s.close()
        proof = d / "proof.json"
        code, out, err = run_cli(
            cli, ["-T", f"swtpm:path={sock}", "run", "--proof", str(proof), "--", "true"],
            timeout=300,
        )
        assert code == 0, f"baretpm run failed:\n{out}\n{err}"
    finally:
        tpm.terminate()
        tpm.wait(timeout=30)
    yield EkProof(proof=proof, root=ca / "swtpm-localca-rootca-cert.pem",
                  issuer=ca / "issuercert.pem")


def both(cli, proof, cli_args, **kwargs):
    report = baretpm.verify(proof, **kwargs)
    code, parsed, raw = cli_verify_json(cli, proof, cli_args)
    assert_same_as_cli(report, code, parsed, raw)
    return report


def test_ek_certificate_row_is_a_skip_without_roots(cli, ek_proof):
    r = both(cli, ek_proof.proof, [])
    assert r.check("ek-certificate").result == "skip"
    assert r.check("ak-certificate").result == "skip"


def test_the_right_root_passes_the_ek_certificate_row(cli, ek_proof):
    r = both(cli, ek_proof.proof, ["--ek-ca", str(ek_proof.root), "--ek-chain",
                                   str(ek_proof.issuer)],
             ek_ca=ek_proof.root, ek_chain=[ek_proof.issuer])
    row = r.check("ek-certificate")
    assert row.result == "pass", repr(r)
    assert "IBM (swtpm)" in row.detail
    # Roots and chain as bytes, as one PEM bundle, and as a directory: one report.
    as_bytes = baretpm.verify(ek_proof.proof, ek_ca=ek_proof.root.read_bytes(),
                              ek_chain=ek_proof.issuer.read_bytes())
    assert as_bytes.to_json() == r.to_json()
    bundle = ek_proof.proof.parent / "bundle.pem"
    bundle.write_bytes(ek_proof.root.read_bytes() + ek_proof.issuer.read_bytes())
    both(cli, ek_proof.proof, ["--ek-ca", str(bundle)], ek_ca=bundle.read_bytes())
    rootdir = ek_proof.proof.parent / "roots"
    rootdir.mkdir(exist_ok=True)
    shutil.copy(ek_proof.root, rootdir / "root.pem")
    by_dir = both(cli, ek_proof.proof, ["--ek-ca", str(rootdir), "--ek-chain",
                                        str(ek_proof.issuer)],
                  ek_ca=str(rootdir), ek_chain=ek_proof.issuer)
    assert by_dir.check("ek-certificate").result == "pass"


def test_another_root_fails_the_ek_certificate_row(cli, ek_proof):
    r = both(cli, ek_proof.proof, ["--ek-ca", str(OTHER_ROOT), "--ek-chain",
                                   str(ek_proof.issuer)],
             ek_ca=OTHER_ROOT, ek_chain=[ek_proof.issuer])
    assert not r.passed
    assert r.check("ek-certificate").result == "fail"
    assert "ek-certificate" in r.failed


def test_no_ak_certificate_fails_the_ak_certificate_row(cli, ek_proof):
    r = both(cli, ek_proof.proof, ["--ak-ca", str(ek_proof.root)], ak_ca=ek_proof.root)
    assert r.check("ak-certificate").result == "fail"


def test_bad_certificate_inputs_are_proof_errors_as_in_the_cli(cli, ek_proof, tmp_path):
    # A chain without roots: the CLI's usage error (exit 2).
    code, parsed, _ = cli_verify_json(cli, ek_proof.proof, ["--ek-chain", str(ek_proof.issuer)])
    assert code == 2 and parsed["error"] == "usage"
    with pytest.raises(baretpm.ProofError) as e:
        baretpm.verify(ek_proof.proof, ek_chain=ek_proof.issuer)
    assert e.value.kind == "usage"
    # Not a certificate, and a missing file.
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    for roots in [junk, tmp_path / "missing.pem"]:
        code, parsed, _ = cli_verify_json(cli, ek_proof.proof, ["--ek-ca", str(roots)])
        assert code == 2 and parsed["error"] == "usage"
        with pytest.raises(baretpm.ProofError) as e:
            baretpm.verify(ek_proof.proof, ek_ca=roots)
        assert e.value.kind == "usage"
    with pytest.raises(baretpm.ProofError):
        baretpm.verify(ek_proof.proof, ek_ca=b"not a certificate")
    with pytest.raises(TypeError):
        baretpm.verify(ek_proof.proof, ek_ca=12)
