"""Fixtures: the baretpm CLI, and genuine proofs made by `baretpm demo` on a private swtpm.

The proofs are made fresh for each test session (no TPM is shared with anything else): the
CLI's demo starts its own swtpm when no TPM is configured, so TPM2TOOLS_TCTI is removed from
its environment. The demo flips one byte of model.txt to show a changed output being refused;
the fixture flips it back, so the kept directory holds the files the proof was made over.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "vectors"


def _cli_path() -> Path:
    env = os.environ.get("BARETPM_CLI")
    if env:
        return Path(env)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "baretpm"


@pytest.fixture(scope="session")
def cli() -> Path:
    path = _cli_path()
    if not path.exists():
        subprocess.run(
            ["cargo", "build", "--quiet", "--bin", "baretpm"], cwd=REPO, check=True
        )
    assert path.exists(), f"no baretpm CLI at {path}"
    return path


def _no_tpm_env() -> dict:
    env = dict(os.environ)
    env.pop("TPM2TOOLS_TCTI", None)
    return env


@dataclass
class Demo:
    dir: Path
    proof: Path
    ak_pub: Path
    nonce: str
    inputs: List[Path]
    outputs: List[Path]

    def proof_dict(self) -> dict:
        return json.loads(self.proof.read_text())

    def policy_args(self) -> List[str]:
        args = ["--nonce", self.nonce, "--ak-pub", str(self.ak_pub)]
        for p in self.inputs:
            args += ["--input", str(p)]
        for p in self.outputs:
            args += ["--output", str(p)]
        return args

    def policy_kwargs(self) -> dict:
        return dict(
            nonce=self.nonce,
            ak_pub=self.ak_pub,
            inputs=self.inputs,
            outputs=self.outputs,
        )


def _make_demo(cli: Path, root: Path, ak: str) -> Demo:
    d = root / f"demo-{ak}"
    if d.exists():
        shutil.rmtree(d)
    r = subprocess.run(
        [str(cli), "demo", "--keep", str(d), "--ak", ak],
        env=_no_tpm_env(),
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, f"baretpm demo failed:\n{r.stdout}\n{r.stderr}"
    model = d / "model.txt"
    b = bytearray(model.read_bytes())
    b[0] ^= 0x01
    model.write_bytes(bytes(b))
    proof = d / "proof.json"
    nonce = json.loads(proof.read_text())["nonce"]["value"]
    return Demo(
        dir=d,
        proof=proof,
        ak_pub=d / "ak.pub",
        nonce=nonce,
        inputs=[d / "data", d / "train.sh"],
        outputs=[model],
    )


@pytest.fixture(scope="session")
def demo_ecc(cli, tmp_path_factory) -> Demo:
    return _make_demo(cli, tmp_path_factory.mktemp("proofs"), "ecc")


@pytest.fixture(scope="session")
def demo_rsa(cli, tmp_path_factory) -> Demo:
    return _make_demo(cli, tmp_path_factory.mktemp("proofs"), "rsa")


def run_cli(cli: Path, args: List[str], timeout: int = 120) -> Tuple[int, str, str]:
    r = subprocess.run(
        [str(cli)] + args, capture_output=True, text=True, timeout=timeout, env=_no_tpm_env()
    )
    return r.returncode, r.stdout, r.stderr


def cli_verify_json(
    cli: Path, proof: Path, args: List[str]
) -> Tuple[int, Optional[dict], str]:
    """`baretpm verify --json`: exit code, parsed JSON and the raw stdout."""
    code, out, _ = run_cli(cli, ["verify", "--json", str(proof)] + args)
    try:
        parsed = json.loads(out)
    except ValueError:
        parsed = None
    return code, parsed, out
