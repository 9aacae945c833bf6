"""Benchmark: `longpan ingest` of one big dns_observations file.

Generates (numpy, deterministic) a dns_observations file of N rows with realistic values
(names like www.<word><n>.com, A records with some CNAMEs, timestamps, counts), in a
child process so that its memory does not count, then times ``ingest_folder`` into a
fresh temporary LONGPAN_HOME and prints rows/s and the peak RSS of the ingest.

    .venv/bin/python bench/ingest_bench.py               # 1,000,000 rows, Parquet
    .venv/bin/python bench/ingest_bench.py 5000000
    .venv/bin/python bench/ingest_bench.py 1000000 --csv
    .venv/bin/python bench/ingest_bench.py 1000000 --merge   # then half-overlapping rows

With ``--merge`` a second file, whose first half repeats the second half of the first
one, is ingested after it: that times the log merge (new rows replace old ones).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CHUNK = 1_000_000
WORDS = pa.array(
    [
        "river",
        "stone",
        "cloud",
        "lotus",
        "jade",
        "harbor",
        "maple",
        "cedar",
        "amber",
        "delta",
        "orchid",
        "summit",
        "willow",
        "falcon",
        "silver",
        "ember",
        "breeze",
        "coral",
        "meadow",
        "aurora",
        "pixel",
        "nimbus",
        "quartz",
        "tiger",
        "bamboo",
        "crane",
        "lantern",
        "pearl",
        "sparrow",
        "comet",
    ]
)
PREFIXES = pa.array(["www", "api", "m", "mail"])
TLDS = pa.array(["com", "net", "cn", "com.cn", "org"])
START = np.datetime64("2024-01-01T00:00:00", "s").astype(np.int64)


def dns_chunk(first: int, size: int) -> pa.Table:
    """Rows first .. first+size-1: four records per name, keys unique."""
    rng = np.random.default_rng([7, first])
    row = np.arange(first, first + size, dtype=np.int64)
    name = row // 4
    cname = (row % 4 == 3) & (name % 5 == 0)
    fqdn = pc.binary_join_element_wise(
        PREFIXES.take(pa.array(name % 4)),
        pc.binary_join_element_wise(
            WORDS.take(pa.array(name % len(WORDS))), pa.array(name).cast(pa.string()), ""
        ),
        TLDS.take(pa.array((name // 7) % len(TLDS))),
        ".",
    )
    address = (1 << 24) + row * 7
    quad = [pa.array((address >> s) & 255).cast(pa.string()) for s in (24, 16, 8, 0)]
    value = pc.if_else(
        pa.array(cname),
        pc.binary_join_element_wise(
            "edge", pa.array(name).cast(pa.string()), ".cdn.example.net", ""
        ),
        pc.binary_join_element_wise(*quad, "."),
    )
    seen = START + rng.integers(0, 200 * 86400, size)
    return pa.table(
        {
            "fqdn": fqdn,
            "rrtype": pc.if_else(pa.array(cname), "CNAME", "A"),
            "value": value,
            "first_seen": pa.array(seen, pa.timestamp("s")),
            "last_seen": pa.array(seen + rng.integers(0, 60 * 86400, size), pa.timestamp("s")),
            "count": pa.array(rng.integers(1, 100_000, size)),
        }
    )


def generate(path: Path, rows: int, start: int = 0) -> None:
    """Write rows start .. start+rows-1 to ``path`` (.parquet native, or .csv ISO text)."""
    end = start + rows
    parts = (dns_chunk(first, min(CHUNK, end - first)) for first in range(start, end, CHUNK))
    if path.suffix == ".csv":
        with open(path, "wb") as out:
            for index, table in enumerate(parts):
                for column in ("first_seen", "last_seen"):
                    text = pc.strftime(table[column], "%Y-%m-%dT%H:%M:%SZ")
                    table = table.set_column(table.schema.get_field_index(column), column, text)
                options = pacsv.WriteOptions(include_header=index == 0)
                pacsv.write_csv(table, out, write_options=options)
        return
    first = next(parts)
    with pq.ParquetWriter(path, first.schema, compression="zstd") as writer:
        for table in (first, *parts):
            writer.write_table(table, row_group_size=CHUNK)


def ingest(folders: list[Path], home: Path) -> None:
    from longpan.core.settings import load_settings
    from longpan.resources.ingest import ingest_folder
    from longpan.store.workspace import Workspace

    ws = Workspace(load_settings(home=home))
    ws.init()
    for folder in folders:
        started, cpu = time.perf_counter(), _cpu_seconds()
        report = ingest_folder(ws, folder)
        elapsed, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
        rows = sum(t.rows for t in report.tables)
        snapshot = ws.lake.current("dns_observations")
        total = snapshot.rows if snapshot else 0
        print(
            f"ingested {rows:,} rows in {elapsed:.1f} s ({cpu:.1f} s CPU): "
            f"{rows / elapsed:,.0f} rows/s (dataset now {total:,} rows)"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the ingest process: {peak:,.0f} MiB")
    ws.close()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _generate_in_child(path: Path, rows: int, start: int) -> None:
    started = time.perf_counter()
    command = [sys.executable, __file__, str(rows), "--generate", str(path), "--start", str(start)]
    subprocess.run(command, check=True)
    size, took = path.stat().st_size / 2**20, time.perf_counter() - started
    print(f"generated {rows:,} rows ({size:,.0f} MiB) in {took:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rows", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--csv", action="store_true", help="write CSV instead of Parquet")
    parser.add_argument("--merge", action="store_true", help="then ingest overlapping rows")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.rows, args.start)
        return
    suffix = "csv" if args.csv else "parquet"
    with tempfile.TemporaryDirectory(prefix="longpan-bench-") as tmp:
        folders = []
        for index, start in enumerate([0, args.rows // 2] if args.merge else [0]):
            folder = Path(tmp) / f"in{index}"
            folder.mkdir()
            _generate_in_child(folder / f"dns_observations.{suffix}", args.rows, start)
            folders.append(folder)
        ingest(folders, Path(tmp) / "home")


if __name__ == "__main__":
    main()
