"""Benchmark: retro-hunt of 1M indicators over 100M DNS log rows, against grep -F -f.

Generates (numpy, deterministic, in chunks so memory stays bounded) a ``dns_logs``
snapshot of N rows in the dataset's schema (derived columns included) and an
``indicators`` snapshot of M domain indicators, committed to a fresh lake under --dir.
The same rows are written as CSV text and the indicator values as a pattern file. Then,
in the same run:

* hunt: ``IocHit.hunt`` (all indicators, the detector's own Ibis expressions) on DuckDB,
  with its two parts timed alone too: the integer narrowing, and the engine queries
  (narrowing + exact pass) without building findings;
* bare scan: DuckDB hashing every column of every row (as bench/detect_bench.py);
* grep: ``LC_ALL=C grep -F -c -f patterns.txt dns_logs.csv`` (count of matching lines).

Names are ``<word><n>.<suffix>`` with subdomain prefixes, so some indicators are
substrings of other names (``river7.com`` in ``river77.com`` or ``river7.com.cn``):
grep counts those lines, the hunt does not; the difference is reported as grep's
substring false positives.

    .venv/bin/python bench/threat_bench.py --rows 100000000 --indicators 1000000
    .venv/bin/python bench/threat_bench.py --rows 2000000 --keep   # small, keep files
    .venv/bin/python bench/threat_bench.py --rows 2000000 --reuse --row-group 16384
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from longpan.core import identifiers as ids
from longpan.core.settings import load_settings
from longpan.detect.base import DetectionContext
from longpan.resources.exchange.netlogs import LEVELS, level_name, name_hash
from longpan.resources.exchange.rules import ip_keys
from longpan.store.datasets import DNS_LOGS, INDICATORS
from longpan.store.lake import PendingWrite, StagedWrite
from longpan.store.workspace import Workspace
from longpan.threat import matching as m
from longpan.threat import narrowing as nw
from longpan.threat.ioc_hit import IocHit, received_logs
from longpan.threat.matching import Scope

WORDS = np.array(
    ["river", "stone", "cloud", "lotus", "jade", "harbor", "maple", "cedar", "amber", "delta",
     "orchid", "summit", "willow", "falcon", "silver", "ember", "breeze", "coral", "meadow",
     "aurora", "pixel", "nimbus", "quartz", "tiger", "bamboo"]
)  # fmt: skip
SUFFIXES = np.array(["com", "cn", "com.cn", "net", "org", "top", "xyz", "net.cn"])
PREFIXES = np.array(["", "www.", "api.", "cdn.", "mail.", "img.a.", "m.", "static.b."])
AS_OF = datetime(2024, 12, 31, 12, 0, 0)
DAYS = 14
CHUNK = 4_000_000
TEXT_COLUMNS = ("ts", "org_uscc", "client_ip", "qname", "answer")


def vocabulary(bases: int, rng: np.random.Generator) -> pa.Table:
    """Every base under every prefix: name, base_domain and the hash columns (as ingest
    derives them, ``netlogs.name_levels``, without the public suffix lookup)."""
    words = WORDS[rng.integers(0, len(WORDS), bases)]
    suffix = SUFFIXES[rng.integers(0, len(SUFFIXES), bases)]
    base = np.char.add(np.char.add(np.char.add(words, np.arange(bases).astype(str)), "."), suffix)
    names = np.char.add(np.repeat(PREFIXES, bases), np.tile(base, len(PREFIXES))).tolist()
    tiled = np.tile(base, len(PREFIXES)).tolist()
    hashes = np.array([name_hash(b) for b in base.tolist()], dtype=np.int64)
    levels = {
        f"level{k}_hash": pa.array(
            [_level_hash(name, b, k) for name, b in zip(names, tiled, strict=True)], pa.int64()
        )
        for k in LEVELS
    }
    return pa.table({"qname": names, "base_domain": tiled,
                     "base_hash": np.tile(hashes, len(PREFIXES)), **levels})  # fmt: skip


def _level_hash(name: str, base: str, level: int) -> int | None:
    cut = level_name(name, base, level)
    return None if cut is None else name_hash(cut)


def addresses(count: int, rng: np.random.Generator, first: int) -> pa.Array:
    octets = rng.integers(0, 256, (count, 3))
    text = [f"{first}.{a}.{b}.{c}" for a, b, c in octets]
    return pa.array(text)


def units(count: int) -> pa.Array:
    return pa.array([ids.make_uscc("9", "1", "320100", f"MA{i:06d}") for i in range(count)])


def write_logs(folder: Path, rows: int, rng: np.random.Generator) -> tuple[Path, Path, pa.Array]:
    """The dns_logs Parquet (lake schema) and the same rows as CSV; the vocabulary's bases."""
    bases = 300_000
    names = vocabulary(bases, rng)
    orgs = units(500)
    clients = addresses(100_000, rng, 10)
    client_keys = ip_keys(clients)
    answers = addresses(50_000, rng, 203)
    answer_keys = ip_keys(answers)
    start = int((AS_OF - timedelta(days=DAYS)).timestamp() * 1e6)
    span = DAYS * 86_400 * 1_000_000
    parquet, text = folder / "dns_logs.parquet", folder / "dns_logs.csv"
    text_schema = pa.schema([(c, pa.string()) for c in TEXT_COLUMNS])
    with (
        pq.ParquetWriter(parquet, DNS_LOGS.schema, compression="zstd") as out,
        pacsv.CSVWriter(text, text_schema) as csv_out,
    ):
        for done in range(0, rows, CHUNK):
            n = min(CHUNK, rows - done)
            pick = pa.array((len(names) * rng.random(n) ** 2.5).astype(np.int64))  # skewed
            client = pa.array(rng.integers(0, len(clients), n))
            answer = pa.array(rng.integers(0, len(answers), n))
            has_answer = pa.array(rng.random(n) < 0.8)
            ts = pa.array(start + np.sort(rng.integers(0, span, n)), pa.timestamp("us"))
            named = names.take(pick)
            table = pa.table({
                "ts": ts,
                "org_uscc": orgs.take(pa.array(rng.integers(0, len(orgs), n))),
                "client_ip": clients.take(client),
                "answer": pc.if_else(has_answer, answers.take(answer), pa.nulls(n, pa.string())),
                **{c: named[c] for c in named.column_names},
                "client_key": client_keys.take(client),
                "answer_key": pc.if_else(has_answer, answer_keys.take(answer),
                                         pa.nulls(n, pa.string())),
            }, schema=DNS_LOGS.schema)  # fmt: skip
            out.write_table(table, row_group_size=1 << 20)
            shown = table.select(["org_uscc", "client_ip", "qname", "answer"])
            iso = pc.strftime(ts, format="%Y-%m-%dT%H:%M:%S")
            csv_out.write_table(pa.table({"ts": iso, **{c: shown[c] for c in shown.column_names}}))
            print(f"  logs {done + n:,}/{rows:,}", file=sys.stderr, flush=True)
    return parquet, text, names["base_domain"].slice(0, bases).combine_chunks()


def indicator_table(
    count: int, bases: pa.Array, rng: np.random.Generator, hit_bases: int
) -> pa.Table:
    """``count`` domain indicators: ``hit_bases`` bases of the logs (real hits), look-alikes of
    others ('.com' of a '.com.cn' name, a longer number), and names never seen."""
    base = bases.to_numpy(zero_copy_only=False)
    hit = base[rng.choice(len(base), hit_bases, replace=False)]
    cn = base[np.char.endswith(base.astype(str), ".com.cn")]
    alike = np.char.replace(cn[: count // 10].astype(str), ".com.cn", ".com")
    rest = count - len(hit) - len(alike)
    words = WORDS[rng.integers(0, len(WORDS), rest)]
    numbers = rng.integers(10**6, 10**9, rest).astype(str)
    unseen = np.char.add(np.char.add(words, numbers), ".net")
    values = pa.array(np.unique(np.concatenate([hit.astype(str), alike, unseen])).tolist())
    n = len(values)
    valid_from = AS_OF - timedelta(days=365)
    added = datetime(2024, 12, 31)
    return pa.table({
        "indicator_id": pa.array([f"indicator--bench-{i}" for i in range(n)]),
        "modified": pa.array([valid_from] * n, pa.timestamp("us")),
        "kind": pa.array(["domain"] * n), "value": values,
        "base_domain": values, "base_hash": pa.array([name_hash(v) for v in values.to_pylist()]),
        "start_key": pa.nulls(n, pa.string()),
        "end_key": pa.nulls(n, pa.string()), "revoked": pa.array([False] * n),
        "valid_from": pa.array([valid_from] * n, pa.timestamp("us")),
        "valid_until": pa.nulls(n, pa.timestamp("us")), "name": pa.nulls(n, pa.string()),
        "pattern": pc.binary_join_element_wise("[domain-name:value = '", values, "']", ""),
        "unsupported": pa.array([[]] * n, pa.list_(pa.string())),
        "labels": pa.array([["malicious-activity"]] * n, pa.list_(pa.string())),
        "confidence": pa.array([80] * n, pa.int64()),
        "kill_chain": pa.array([[]] * n, pa.list_(pa.string())),
        "source": pa.array(["bench"] * n), "added_at": pa.array([added] * n, pa.timestamp("us")),
    }, schema=INDICATORS.schema)  # fmt: skip


def timed(label: str, work):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - started
    print(f"{label}: {elapsed:.2f} s", file=sys.stderr, flush=True)
    return result, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/longpan-threat-bench"))
    parser.add_argument("--hit-bases", type=int, default=200, help="indicators seen in logs")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--reuse", action="store_true", help="reuse the files a --keep run left")
    parser.add_argument("--row-group", type=int, help="what-if: rows per row group of the logs")
    args = parser.parse_args()
    logs = replace(DNS_LOGS, row_group=args.row_group) if args.row_group else DNS_LOGS
    (parquet, text, indicators, patterns), gen_s = timed("generate", lambda: _inputs(args))
    ws, commit_s = _lake(args, logs, parquet, indicators)
    engine = ws.analytics("duckdb")
    ctx = DetectionContext(engine, AS_OF.replace(tzinfo=UTC), IocHit.inputs)
    detector = IocHit({"window_days": DAYS + 1})
    scope = Scope(ctx.as_of, DAYS + 1)
    files = [str(p) for p in ws.lake.files("dns_logs")]
    con = engine.backend.con
    columns = ", ".join(DNS_LOGS.schema.names)
    scan_sql = f"SELECT sum(hash({columns})) FROM read_parquet($files)"  # as detect_bench
    _, scan_s = timed("bare scan", lambda: con.execute(scan_sql, {"files": files}).fetchall())
    narrow_s = _narrowing(engine, ctx, scope)
    query_s = _query(engine, ctx, scope)
    load_hunt = _load()
    drafts, hunt_s = timed("hunt", lambda: detector.hunt(ctx, scope))
    hits = [d for d in drafts if d.type == "ioc_hit"]
    rows_hit = _rows_hit(engine, ctx, scope)
    grep = ["grep", "-F", "-c", "-f", str(patterns), str(text)]
    load_grep = _load()
    grep_out, grep_s = timed("grep", lambda: subprocess.run(grep, capture_output=True, text=True,
                                                            env={"LC_ALL": "C"}))  # fmt: skip
    grep_lines = int(grep_out.stdout.strip() or 0)
    report = {
        "rows": args.rows, "indicators": indicators.num_rows, "generate_s": round(gen_s, 1),
        "commit_s": round(commit_s, 1), "row_group": logs.group_rows,
        "load_at_hunt": " ".join(load_hunt),
        "load_at_grep": " ".join(load_grep), "load_at_end": " ".join(_load()),
        "bare_scan_s": round(scan_s, 2), "hunt_s": round(hunt_s, 2),
        "hunt_query_s": round(query_s, 2), "narrowing_s": round(narrow_s, 2),
        "grep_s": round(grep_s, 2),
        "hunt_rows_per_s": round(args.rows / hunt_s), "grep_rows_per_s": round(args.rows / grep_s),
        "speedup_vs_grep": round(grep_s / hunt_s, 1),
        "hunt_vs_bare_scan": round(hunt_s / scan_s, 1),
        "ioc_hit_findings": len(hits), "log_rows_hit": rows_hit, "grep_lines": grep_lines,
        "grep_substring_false_positives": grep_lines - rows_hit,
        "text_bytes": text.stat().st_size,
    }  # fmt: skip
    for key, value in report.items():
        print(f"{key}: {value}")
    ws.close()
    if not args.keep:
        shutil.rmtree(args.dir, ignore_errors=True)


def _inputs(args: argparse.Namespace) -> tuple[Path, Path, pa.Table, Path]:
    """The logs (Parquet and CSV), the indicators and grep's pattern file: generated, or
    those of an earlier ``--keep`` run with ``--reuse``."""
    gen = args.dir / "gen"
    parquet, text, patterns = gen / "dns_logs.parquet", gen / "dns_logs.csv", gen / "patterns.txt"
    if args.reuse and (gen / "indicators.parquet").exists():
        return parquet, text, pq.read_table(gen / "indicators.parquet"), patterns
    shutil.rmtree(args.dir, ignore_errors=True)
    gen.mkdir(parents=True)
    rng = np.random.default_rng(20241231)
    parquet, text, bases = write_logs(gen, args.rows, rng)
    indicators = indicator_table(args.indicators, bases, rng, args.hit_bases)
    pq.write_table(indicators, gen / "indicators.parquet")
    patterns.write_text("\n".join(indicators["value"].to_pylist()) + "\n", "ascii")
    return parquet, text, indicators, patterns


def _lake(args, logs, parquet, indicators):  # type: ignore[no-untyped-def]
    """The workspace whose lake holds the logs and indicators: committed afresh, or with
    ``--reuse`` the lake an earlier run committed when it has the same row groups."""
    home = args.dir / "home"
    ws = Workspace(load_settings(home=home))
    stored = ws.lake.files("dns_logs") if (home / "lake" / "_catalog.json").exists() else []
    if (
        args.reuse
        and stored
        and pq.ParquetFile(stored[0]).metadata.row_group(0).num_rows == logs.group_rows
    ):
        print("commit: reusing the lake of an earlier run", file=sys.stderr)
        return ws, 0.0
    ws.close()
    shutil.rmtree(home, ignore_errors=True)
    ws = Workspace(load_settings(home=home))
    ws.init()
    digest = hashlib.sha256(str(args.rows).encode()).hexdigest()
    _, commit_s = timed("commit (ordered by base_hash)", lambda: ws.lake.commit([
        StagedWrite(logs, parquet, args.rows, digest, ["bench"]),
        PendingWrite(INDICATORS, indicators, digest, ["bench"])]))  # fmt: skip
    return ws, commit_s


def _load() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def _query(engine, ctx, scope) -> float:  # type: ignore[no-untyped-def]
    """The hunt's engine queries alone (narrowing, then all hits to Arrow), without
    building findings."""

    def work():  # type: ignore[no-untyped-def]
        hits = m.all_hits(_logs(ctx), _live(ctx, scope), scope, frozenset({"domain"}),
                          engine.execute)  # fmt: skip
        return engine.execute(hits)

    return float(timed("hunt query", work)[1])


def _narrowing(engine, ctx, scope) -> float:  # type: ignore[no-untyped-def]
    """The integer pass alone: the hashes of dns_logs that some indicator has."""
    hunt = m.DomainHunt.of(_live(ctx, scope), engine.execute)
    rows = m.in_window(ctx.table("dns_logs"), scope)
    query = nw.narrowing(rows, hunt.domains, hunt.subs, m.DNS_NAMES)
    return float(timed("narrowing", lambda: engine.execute(query))[1])


def _logs(ctx):  # type: ignore[no-untyped-def]
    return received_logs(ctx)


def _live(ctx, scope):  # type: ignore[no-untyped-def]
    return m.live_indicators(ctx.table("indicators"), scope)


def _rows_hit(engine, ctx, scope) -> int:  # type: ignore[no-untyped-def]
    """Distinct log rows with at least one hit (what grep's line count should be)."""
    live = _live(ctx, scope)
    kinds = m.present_kinds(ctx.execute(m.kinds_query(live)))
    hits = m.all_hits(_logs(ctx), live, scope, kinds, engine.execute)
    assert hits is not None
    rows = hits.select("ts", "org_uscc", "detail").distinct().count()
    return int(engine.scalar(rows))


if __name__ == "__main__":
    main()
