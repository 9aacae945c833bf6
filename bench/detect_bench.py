"""Full detection on a synthetic province, against DuckDB's bare scan of the same lake
(a benchmark, not a test; results go to docs/benchmarks.md).

    .venv/bin/longpan synth --scale large --seed 7 --out /tmp/bench-large
    .venv/bin/python bench/detect_bench.py /tmp/bench-large [--engine duckdb|spark]
        [--home DIR]   # reuse DIR as LONGPAN_HOME: ingest only if its lake is empty

Steps, each in its own process so that peak memory is its own: ingest the folder into a
fresh LONGPAN_HOME, scan every dataset's newest snapshot once with DuckDB (every column
hashed, so nothing is pruned), run `longpan detect` (all detectors, findings stored and
summarised, as a user runs it), re-check one subject per finding type in a warm process
(the best of three runs, after a first one) and as a new `longpan detect --subject`
command (every detector of the subject's kind, as the one-second target is stated),
evaluate. The load average is printed
next to each timing: the figures mean little on a busy machine.
"""

from __future__ import annotations

import argparse
import json
import os
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
started, cpu = time.perf_counter(), time.process_time()
for name, snap in ws.lake.current_snapshots().items():
    files = [str(p) for p in ws.lake.files(name, snap)]
    columns = con.sql(f"DESCRIBE SELECT * FROM read_parquet({files})").fetchall()
    hashed = ", ".join(f'"{c[0]}"' for c in columns)
    con.sql(f"SELECT sum(hash({hashed})) FROM read_parquet({files})").fetchall()
print(time.perf_counter() - started, time.process_time() - cpu)
"""

RECHECK = """
import json, os, sys, time
from longpan.core.settings import load_settings
from longpan.detect.runner import run_detection
from longpan.store.workspace import Workspace
ws = Workspace(load_settings())
ws.analytics()
for finding_type, subject in json.loads(sys.argv[1]).items():
    run_detection(ws, only=[finding_type], subjects=[subject])  # warm the engine once
    times = []
    for _ in range(3):
        started = time.perf_counter()
        result = run_detection(ws, only=[finding_type], subjects=[subject])
        times.append(time.perf_counter() - started)
    load = os.getloadavg()[0]
    print(f"re-check {finding_type} {subject}\t{min(times):6.2f} s\t(load {load:.1f})\t"
          f"{result.counts[finding_type]}")
"""

PICKS = """
import json
from sqlalchemy import select
from longpan.core.settings import load_settings
from longpan.store.models import Finding
from longpan.store.workspace import Workspace
ws = Workspace(load_settings())
with ws.sessions() as session:
    query = select(Finding.type, Finding.subject)
    rows = session.execute(query.order_by(Finding.type, Finding.subject))
    picks = {}
    for finding_type, subject in rows:
        picks.setdefault(finding_type, subject)
print(json.dumps(picks))
"""


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Run ``args``: wall seconds, its own peak RSS (MB), CPU seconds (user + system, all
    threads: less disturbed than wall time when other jobs share the cores), stdout.

    The child is reaped with ``os.wait4``, whose usage is that child's alone (the
    RUSAGE_CHILDREN maximum would report the ingest's peak for every later step)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=errors, text=True)
        assert proc.stdout is not None
        stdout = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        if proc.returncode:
            errors.seek(0)
            raise subprocess.CalledProcessError(proc.returncode, args, stdout, errors.read())
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, stdout


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def main(folder: Path, engine: str, home: Path | None) -> None:
    home = home or Path(tempfile.mkdtemp(prefix="detect-bench-"))
    env = {**os.environ, "LONGPAN_HOME": str(home), "LONGPAN_ENGINE": engine}
    cli = [sys.executable, "-m", "longpan.cli.app"]
    if not (home / "lake" / "_catalog.json").exists():
        seconds, peak, cpu, _ = timed([*cli, "ingest", str(folder)], env)
        print(f"ingest\t{seconds:8.1f} s\tcpu {cpu:6.1f} s\tpeak {peak:6.0f} MB\t{load()}")
    *_, out = timed([sys.executable, "-c", SCAN], env)
    scan, scan_cpu = (float(v) for v in out.strip().splitlines()[-1].split())
    print(f"duckdb scan\t{scan:8.1f} s\tcpu {scan_cpu:6.1f} s\t{load()}", flush=True)
    seconds, peak, cpu, out = timed([*cli, "detect"], env)
    print(
        f"detect ({engine})\t{seconds:8.1f} s\tcpu {cpu:6.1f} s\tpeak {peak:6.0f} MB\t"
        f"{seconds / scan:5.1f}x the scan (cpu {cpu / scan_cpu:4.1f}x)\t{load()}",
        flush=True,
    )
    *_, out = timed([sys.executable, "-c", PICKS], env)
    picks = json.loads(out)
    *_, out = timed([sys.executable, "-c", RECHECK, json.dumps(picks)], env)
    print(out, end="", flush=True)
    for finding_type, subject in picks.items():
        seconds, _, cpu, _ = timed([*cli, "detect", "--subject", subject], env)
        print(f"cold `detect --subject` ({finding_type}) {subject}\t{seconds:6.2f} s\t"
              f"cpu {cpu:5.2f} s\t{load()}", flush=True)  # fmt: skip
    *_, out = timed([*cli, "eval", str(folder / "truth.csv"), "--json"], env)
    for name, s in json.loads(out)["by_type"].items():
        print(f"  {name}: precision {s['precision']:.4f} recall {s['recall']:.4f}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a province folder from `longpan synth`")
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    parser.add_argument("--home", type=Path, help="LONGPAN_HOME to reuse (ingest if empty)")
    args = parser.parse_args()
    if not (args.folder / "manifest.json").is_file():
        parser.error(f"{args.folder} is not a province folder (no manifest.json)")
    main(args.folder, args.engine, args.home)
