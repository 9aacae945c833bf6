"""Time and peak memory of `longpan synth` per scale (a benchmark, not a test).

    .venv/bin/python bench/synth_bench.py tiny small medium large
    .venv/bin/python bench/synth_bench.py xl      # about an hour, a few GB on disk

Each scale runs in a fresh subprocess and its own peak RSS is read from that child's
resource usage (os.wait4), so the figures of one scale never include another's. Results
go to stdout as one line per scale, to be copied into docs/benchmarks.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(scale: str, seed: int = 1) -> str:
    with tempfile.TemporaryDirectory(prefix=f"synth-{scale}-") as tmp:
        out = Path(tmp) / "province"
        command = [sys.executable, "-m", "longpan.cli.app", "synth", "--scale", scale,
                   "--seed", str(seed), "--out", str(out)]  # fmt: skip
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if child.returncode != 0:
            raise SystemExit(f"synth --scale {scale} failed (status {status})")
        peak_mb = usage.ru_maxrss / 1024
        size_mb = sum(p.stat().st_size for p in out.iterdir()) / 2**20
    return f"{scale}\t{seconds:8.1f} s\tpeak {peak_mb:7.0f} MB\t{size_mb:8.1f} MB on disk"


if __name__ == "__main__":
    for name in sys.argv[1:] or ["tiny", "small", "medium"]:
        print(run(name), flush=True)
