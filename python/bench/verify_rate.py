"""Proofs verified per second: `baretpm.verify` in Python vs the CLI as one process per proof.

    python python/bench/verify_rate.py [--cli target/release/baretpm] [--seconds 5]

Makes an ECC and an RSA proof with `baretpm demo` (private swtpm), then, for each, verifies it
the same way both ways (nonce, pinned AK, and the demo's 2 inputs and 1 output hashed):

- python: `baretpm.verify(path, nonce=..., ak_pub=..., inputs=..., outputs=...)` in a loop;
- python, 2 threads: the same from two threads (the GIL is released while verifying);
- cli: `baretpm verify --json PATH --nonce ... --ak-pub ... --input ... --output ...`, one
  process per proof, waited for, output read.

Each figure is the count of verifications in a fixed time; the contenders alternate in short
rounds (the machine is shared, so all of them see the same load). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import baretpm

REPO = Path(__file__).resolve().parents[2]


def make_demo(cli: Path, root: Path, ak: str) -> dict:
    d = root / ak
    env = dict(os.environ)
    env.pop("TPM2TOOLS_TCTI", None)
    subprocess.run([str(cli), "demo", "--keep", str(d), "--ak", ak], env=env, check=True,
                   capture_output=True)
    model = d / "model.txt"
    b = bytearray(model.read_bytes())
    b[0] ^= 1  # the demo flipped it to show a refusal; flip it back
    model.write_bytes(bytes(b))
    nonce = json.loads((d / "proof.json").read_text())["nonce"]["value"]
    return dict(proof=d / "proof.json", nonce=nonce, ak_pub=d / "ak.pub",
                inputs=[d / "data", d / "train.sh"], outputs=[model])


def py_once(p):
    r = baretpm.verify(p["proof"], nonce=p["nonce"], ak_pub=p["ak_pub"], inputs=p["inputs"],
                       outputs=p["outputs"], threads=1)
    assert r.passed, repr(r)


def cli_once(cli, p):
    args = [str(cli), "verify", "--json", str(p["proof"]), "--nonce", p["nonce"],
            "--ak-pub", str(p["ak_pub"])]
    for x in p["inputs"]:
        args += ["--input", str(x)]
    for x in p["outputs"]:
        args += ["--output", str(x)]
    r = subprocess.run(args, capture_output=True)
    assert r.returncode == 0, r.stdout


def rate(fn, seconds):
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        t = time.perf_counter() - t0
        if t >= seconds:
            return n, t


def rate_threads(fn, seconds, threads=2):
    deadline = time.perf_counter() + seconds

    def work():
        k = 0
        while time.perf_counter() < deadline:
            fn()
            k += 1
        return k

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as ex:
        n = sum(ex.map(lambda _: work(), range(threads)))
    return n, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", type=Path, default=REPO / "target" / "release" / "baretpm")
    ap.add_argument("--seconds", type=float, default=5.0, help="per contender and proof")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="baretpm-bench-"))
    try:
        proofs = {ak: make_demo(a.cli, root, ak) for ak in ("ecc", "rsa")}
        slice_ = a.seconds / a.rounds
        totals = {}
        for ak, p in proofs.items():
            py_once(p)
            cli_once(a.cli, p)  # warm both
            for _ in range(a.rounds):
                for name, f in [
                    ("python", lambda: rate(lambda: py_once(p), slice_)),
                    ("python, 2 threads", lambda: rate_threads(lambda: py_once(p), slice_)),
                    ("cli process", lambda: rate(lambda: cli_once(a.cli, p), slice_)),
                ]:
                    n, t = f()
                    c = totals.setdefault((ak, name), [0, 0.0])
                    c[0] += n
                    c[1] += t
        print(f"CLI: {a.cli}; Python {sys.version.split()[0]}; baretpm from {baretpm.__file__}")
        print(f"load average at the end: {os.getloadavg()}")
        print()
        print("| proof | contender | proofs/s | ms per proof | vs CLI process |")
        print("|---|---|---|---|---|")
        for ak in proofs:
            cli_rate = totals[(ak, "cli process")][0] / totals[(ak, "cli process")][1]
            for name in ("python", "python, 2 threads", "cli process"):
                n, t = totals[(ak, name)]
                r = n / t
                print(f"| {ak.upper()} AK | {name} | {r:.0f} | {1000 / r:.2f} | "
                      f"{r / cli_rate:.1f}× |")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
