"""The GIL is released while files are hashed and proofs verified: another Python thread keeps
running during a long hash.

A sparse file (no disk used) is hashed on the calling thread alone (threads=1), so if the
GIL were held for the call, the other thread could not run at all until it returned. The
file grows until one call takes long enough to tell the two apart.
"""

from __future__ import annotations

import threading
import time

import baretpm


class Ticker(threading.Thread):
    """Records the moments it gets to run Python code."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stamps = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.stamps.append(time.monotonic())
            time.sleep(0.002)


def sparse(path, size):
    with open(path, "wb") as f:
        f.truncate(size)


def run_with_ticker(call):
    t = Ticker()
    t.start()
    while not t.stamps:
        time.sleep(0.001)
    t0 = time.monotonic()
    result = call()
    t1 = time.monotonic()
    t.stop.set()
    t.join()
    inside = [s for s in t.stamps if t0 < s < t1]
    gaps = [b - a for a, b in zip([t0] + inside, inside + [t1])]
    return result, t1 - t0, inside, max(gaps)


def long_enough(tmp_path, call_for):
    """Grows the file until a call lasts at least 0.4 s (at most 8 GiB, sparse)."""
    big = tmp_path / "big.bin"
    size = 256 << 20
    while True:
        sparse(big, size)
        out = run_with_ticker(call_for(big))
        if out[1] >= 0.4 or size >= 8 << 30:
            return out
        size *= 2


def test_other_threads_run_while_a_large_file_is_hashed(tmp_path):
    events, took, inside, max_gap = long_enough(
        tmp_path, lambda big: (lambda: baretpm.measure([big], threads=1))
    )
    assert events[0].kind == "file" and len(events[0].digest) == 32
    assert took >= 0.4, f"hashing took only {took:.2f}s even at 8 GiB"
    # Held GIL: no stamp at all inside the call, one gap as long as the call.
    assert len(inside) >= 10, f"{len(inside)} ticks during a {took:.2f}s hash"
    assert max_gap < took / 2, f"the other thread stalled {max_gap:.2f}s of {took:.2f}s"


def test_other_threads_run_while_verify_hashes_an_output(tmp_path, demo_ecc):
    report, took, inside, max_gap = long_enough(
        tmp_path,
        lambda big: (lambda: baretpm.verify(demo_ecc.proof, outputs=[big], threads=1)),
    )
    # The big file is not the proof's output: the row fails, and the call still ran.
    assert report.failed == ["output"]
    assert took >= 0.4
    assert len(inside) >= 10, f"{len(inside)} ticks during a {took:.2f}s verify"
    assert max_gap < took / 2, f"the other thread stalled {max_gap:.2f}s of {took:.2f}s"
