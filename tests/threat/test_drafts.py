"""Building the findings of a hunt from its hit rows: whole columns at once, one severity
per value; the same drafts as row by row. And a log the
lake never received is not narrowed at all."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from longpan.detect.base import DetectionContext, FindingDraft
from longpan.resources.ingest import ingest_folder
from longpan.threat import ioc_hit as ih
from longpan.threat import matching as m
from longpan.threat.feeds import import_stix
from longpan.threat.ioc_hit import IocHit
from tests.conftest import make_workspace
from tests.threat.conftest import UNITS
from tests.threat.test_ioc_hit import AS_OF, EVIL, bundle, handmade

A, B, C = UNITS[:3]
T0 = datetime(2024, 12, 30, 8)


def hit_rows() -> pa.Table:
    """Three units, three values: one (unit, value) seen 7 times (more than the samples
    kept), two rows at the same instant told apart by their detail only, and a value
    without described indicators."""
    rows = []

    def add(
        org: str, value: str, kind: str, minutes: int, detail: str, dataset: str = "dns_logs"
    ) -> None:
        rows.append({"dataset": dataset, "ts": T0 + timedelta(minutes=minutes), "org_uscc": org,
                     "value": value, "kind": kind, "field": "qname", "observed": f"x.{value}",
                     "detail": detail})  # fmt: skip

    for i in range(7):
        add(A, EVIL, "domain", 7 - i, f"10.0.0.{i} x.{EVIL}")
    add(A, EVIL, "domain", 1, "10.0.0.99 tie")  # same ts as the 7th row, other detail
    add(B, EVIL, "domain", 3, "10.1.0.1")
    add(C, EVIL, "domain", 9, "10.2.0.1", "http_logs")
    add(B, "203.0.113.0/24", "ip", 5, "10.1.0.5 203.0.113.200")
    add(C, "203.0.113.0/24", "ip", 2, "10.2.0.5 203.0.113.9")
    add(A, "quiet.example", "domain", 4, "10.0.0.4 quiet.example")
    types = {"ts": pa.timestamp("us")}
    return pa.table({c: pa.array([r[c] for r in rows], types.get(c, pa.string()))
                     for c in m.HIT_COLUMNS})  # fmt: skip


DESCRIBED: dict[str, list[Any]] = {
    EVIL: [{"indicator_id": "indicator--1", "confidence": 90}],
    "203.0.113.0/24": [{"indicator_id": "indicator--4", "confidence": 40},
                       {"indicator_id": "indicator--5", "confidence": None}],
}  # fmt: skip


def row_by_row(hits: pa.Table, scope: m.Scope) -> list[FindingDraft]:
    """The drafts as built before stop 10 (dicts from ``to_pylist``, a severity per
    finding): the reference the column-wise build must equal."""
    summary = m.summarise(hits).to_pylist()
    samples: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in m.samples(hits, ih.SAMPLES).to_pylist():
        samples[(row["org_uscc"], row["value"])].append({k: row[k] for k in ih.SAMPLE_FIELDS})
    drafts, by_value = [], defaultdict(list)
    for r in summary:
        found = DESCRIBED.get(r["value"], [])
        evidence = {"org_uscc": r["org_uscc"],
                    "indicator": {"value": r["value"], "kind": r["kind"]},
                    "first_seen": r["first_seen"], "last_seen": r["last_seen"], "count": r["count"],
                    "samples": samples.get((r["org_uscc"], r["value"]), []), "indicators": found,
                    "window_days": scope.window_days}  # fmt: skip
        drafts.append(FindingDraft("ioc_hit", ih.ioc_subject(r["org_uscc"], r["value"]),
                                   ih.severity(i["confidence"] for i in found), evidence,
                                   r["org_uscc"]))  # fmt: skip
        by_value[r["value"]].append(r)
    for value, rows in by_value.items():
        found = DESCRIBED.get(value, [])
        units = [{k: r[k] for k in ("org_uscc", "first_seen", "last_seen", "count")}
                 for r in sorted(rows, key=lambda r: r["org_uscc"])]  # fmt: skip
        evidence = {"indicator": {"value": value, "kind": rows[0]["kind"]},
                    "unit_count": len(units), "units": units,
                    "first_seen": min(r["first_seen"] for r in rows),
                    "last_seen": max(r["last_seen"] for r in rows),
                    "count": sum(r["count"] for r in rows), "indicators": found,
                    "window_days": scope.window_days}  # fmt: skip
        grade = ih.severity(i["confidence"] for i in found)
        drafts.append(FindingDraft("threat_warning", ih.warning_subject(value), grade, evidence))
    return drafts


def test_drafts_equal_the_row_by_row_build() -> None:
    hits = hit_rows()
    scope = m.Scope(AS_OF, 30)
    built = IocHit()._drafts(m.summarise(hits), m.samples(hits, ih.SAMPLES), DESCRIBED, scope)
    assert built == row_by_row(hits, scope)
    first = next(d for d in built if d.subject == f"{A}:{EVIL}")
    assert first.evidence["count"] == 8 and len(first.evidence["samples"]) == ih.SAMPLES
    assert type(first.evidence["first_seen"]) is datetime
    warnings = [d.severity for d in built if d.type == "threat_warning"]
    assert warnings == ["medium", "critical", "high"]  # 203.0.113.0/24, evil, quiet


@pytest.mark.parametrize(
    "column",
    [
        pa.array([T0, T0 + timedelta(microseconds=7)], pa.timestamp("us")),
        pa.array([T0, T0 + timedelta(seconds=1)], pa.timestamp("s")),
        pa.array([T0, T0 + timedelta(milliseconds=3)], pa.timestamp("ms")),
        pa.array([T0, None], pa.timestamp("us")),  # nulls: Arrow's own conversion
        pa.array([T0.replace(tzinfo=UTC)], pa.timestamp("us", "UTC")),  # aware
        pa.array([T0], pa.timestamp("ns")),
        pa.array([], pa.timestamp("us")),
        pa.array(["a", None]),
        pa.array([1, 2], pa.int64()),
    ],
)
def test_pylist_is_arrows_own(column: pa.Array) -> None:
    chunked = pa.chunked_array([column, column], column.type)
    assert ih._pylist(chunked) == chunked.to_pylist()
    assert [type(v) for v in ih._pylist(chunked)] == [type(v) for v in chunked.to_pylist()]


def test_a_log_never_received_is_not_read(tmp_path: Path, engine_name: str) -> None:
    folder = handmade(tmp_path / "logs")
    (folder / "flow_logs.csv").unlink()
    (folder / "http_logs.csv").unlink()
    ws = make_workspace(tmp_path / "home")
    ingest_folder(ws, folder)
    import_stix(ws, [bundle(folder)], hunt=False)
    engine = ws.analytics(engine_name)
    ctx = DetectionContext(engine, AS_OF, IocHit.inputs)
    logs = ih.received_logs(ctx)
    assert set(logs) == {"dns_logs"}
    ran: list[str] = []

    def run(expr: Any) -> pa.Table:
        ran.append(expr.columns[0])
        return engine.execute(expr)

    scope = m.Scope(AS_OF, 30)
    live = m.live_indicators(engine.table("indicators"), scope)
    query = m.all_hits(logs, live, scope, frozenset({"domain", "block", "url"}), run)
    assert query is not None and ran.count("column") == 1  # dns_logs narrowed, no other
    assert {d.subject for d in IocHit().detect(ctx)} == {
        f"{A}:{EVIL}", f"indicator:{EVIL}", f"{C}:203.0.113.0/24", "indicator:203.0.113.0/24",
    }  # fmt: skip
    ws.close()
