"""Time and peak memory of `longpan synth` per scale (a benchmark, not a test).

    .venv/bin/python bench/synth_bench.py tiny small medium large

Each scale runs in a fresh subprocess so peak RSS is its own; results go to stdout as
one line per scale, to be copied into docs/benchmarks.md.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(scale: str, seed: int = 1) -> str:
    with tempfile.TemporaryDirectory(prefix=f"synth-{scale}-") as tmp:
        out = Path(tmp) / "province"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "longpan.cli.app", "synth", "--scale", scale,
                        "--seed", str(seed), "--out", str(out)], check=True,
                       stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        size_mb = sum(p.stat().st_size for p in out.iterdir()) / 2**20
    return f"{scale}\t{seconds:8.1f} s\tpeak {peak_mb:7.0f} MB\t{size_mb:8.1f} MB on disk"


if __name__ == "__main__":
    for name in sys.argv[1:] or ["tiny", "small", "medium"]:
        print(run(name), flush=True)
