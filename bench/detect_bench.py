"""Full detection on a synthetic province, against DuckDB's bare scan of the same lake
(a benchmark, not a test; results go to docs/benchmarks.md).

    .venv/bin/longpan synth --scale large --seed 7 --out /tmp/bench-large
    .venv/bin/python bench/detect_bench.py /tmp/bench-large [--engine duckdb|spark]

Steps, each in its own process so that peak memory is its own: ingest the folder into a
fresh LONGPAN_HOME, scan every dataset's newest snapshot once with DuckDB (every column
hashed, so nothing is pruned), run `longpan detect`, re-check one subject, evaluate.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCAN = """
import sys, time, duckdb
from longpan.core.settings import load_settings
from longpan.store.workspace import Workspace
ws = Workspace(load_settings())
con = duckdb.connect()
con.sql("SET enable_progress_bar = false")
started = time.perf_counter()
for name, snap in ws.lake.current_snapshots().items():
    files = [str(p) for p in ws.lake.files(name, snap)]
    columns = con.sql(f"DESCRIBE SELECT * FROM read_parquet({files})").fetchall()
    hashed = ", ".join(f'"{c[0]}"' for c in columns)
    con.sql(f"SELECT sum(hash({hashed})) FROM read_parquet({files})").fetchall()
print(time.perf_counter() - started)
"""

RECHECK = """
import json, sys, time
from longpan.core.settings import load_settings
from longpan.detect.runner import run_detection
from longpan.store.workspace import Workspace
ws = Workspace(load_settings())
ws.analytics()
for finding_type, subject in json.loads(sys.argv[1]).items():
    run_detection(ws, only=[finding_type], subjects=[subject])  # warm the engine once
    started = time.perf_counter()
    result = run_detection(ws, only=[finding_type], subjects=[subject])
    seconds = time.perf_counter() - started
    print(f"re-check {finding_type} {subject}\t{seconds:6.2f} s\t{result.counts}")
"""


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(args, env=env, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024, done.stdout


def main(folder: Path, engine: str) -> None:
    home = Path(tempfile.mkdtemp(prefix="detect-bench-"))
    env = {**os.environ, "LONGPAN_HOME": str(home), "LONGPAN_ENGINE": engine}
    cli = [sys.executable, "-m", "longpan.cli.app"]
    seconds, peak, _ = timed([*cli, "ingest", str(folder)], env)
    print(f"ingest\t{seconds:8.1f} s\tpeak {peak:6.0f} MB", flush=True)
    seconds, peak, out = timed([sys.executable, "-c", SCAN], env)
    scan = float(out.strip().splitlines()[-1])
    print(f"duckdb scan\t{scan:8.1f} s", flush=True)
    seconds, peak, out = timed([*cli, "detect", "--json"], env)
    body = json.loads(out)
    print(f"detect ({engine})\t{seconds:8.1f} s\tpeak {peak:6.0f} MB\t"
          f"{seconds / scan:5.1f}x the scan\tstatus {body['run']['status']}", flush=True)
    picks = {}
    for f in body["findings"]:
        picks.setdefault(f["type"], f["subject"])
    _, _, out = timed([sys.executable, "-c", RECHECK, json.dumps(picks)], env)
    print(out, end="", flush=True)
    _, _, out = timed([*cli, "eval", str(folder / "truth.csv"), "--json"], env)
    for name, s in json.loads(out)["by_type"].items():
        print(f"  {name}: precision {s['precision']:.4f} recall {s['recall']:.4f}", flush=True)


if __name__ == "__main__":
    engine = sys.argv[sys.argv.index("--engine") + 1] if "--engine" in sys.argv else "duckdb"
    main(Path(sys.argv[1]), engine)
