"""ioc_hit / threat_warning on both engines: planted hits found, look-alikes not."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from longpan.detect.base import DetectionContext
from longpan.detect.findings import list_findings
from longpan.detect.runner import run_detection
from longpan.resources.ingest import ingest_folder
from longpan.store.workspace import Workspace
from longpan.threat.feeds import import_stix
from longpan.threat.ioc_hit import IocHit
from tests.conftest import make_workspace
from tests.threat.conftest import UNITS, generated, indicator, write_bundle

A, B, C = UNITS[:3]
AS_OF = datetime(2024, 12, 31, 12, tzinfo=UTC)


def findings(ws: Workspace, status: str | None = None) -> dict[tuple[str, str], dict[str, Any]]:
    with ws.sessions() as session:
        rows = list_findings(session, types=["ioc_hit", "threat_warning"])
    return {(f["type"], f["subject"]): f for f in rows if status in (None, f["status"])}


def test_synthetic_logs_truth_is_found_and_near_misses_are_not(
    logs_folder: Path, engine_name: str, tmp_path: Path
) -> None:
    ws = make_workspace(tmp_path / "home")
    ingest_folder(ws, logs_folder)
    result = import_stix(ws, [logs_folder / "indicators.json"], engine=engine_name)
    truth = generated()
    expected = {(t["finding_type"], t["subject"]) for t in truth.truth}
    assert set(findings(ws)) == expected
    near = {n["subject"] for n in truth.near_misses}
    assert not near & {s for _, s in findings(ws)}
    warnings = {w["subject"]: w["units"] for w in result.hunt.warnings}
    assert len(warnings) == 4 and max(len(u) for u in warnings.values()) == 3
    if engine_name == "duckdb":  # re-running changes nothing (once: Spark is slow to run)
        again = run_detection(ws, engine=engine_name, detectors=[IocHit])
        assert again.counts["ioc_hit"]["new"] == again.counts["ioc_hit"]["not_observed"] == 0
    ws.close()


EVIL = "evil.example"
HOURS = ("2024-12-30T08:00:00", "2024-12-30T09:00:00", "2024-12-31T10:00:00")


def write_csv(path: Path, header: str, rows: list[tuple[Any, ...]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header.split(","))
        out.writerows(rows)


def handmade(folder: Path) -> Path:
    folder.mkdir(parents=True)
    write_csv(folder / "dns_logs.csv", "ts,org_uscc,client_ip,qname,answer", [
        (HOURS[0], A, "10.0.0.5", f"a.b.{EVIL}", "198.51.100.9"),
        (HOURS[2], A, "10.0.0.6", EVIL.upper(), ""),
        (HOURS[1], B, "10.1.0.5", f"not{EVIL}", ""),  # look-alike, not under it
        (HOURS[1], B, "10.1.0.5", f"{EVIL}.com", ""),  # another registered domain
        (HOURS[1], B, "10.1.0.7", "early.example", ""),  # before valid_from
        (HOURS[1], C, "10.2.0.5", "gone.example", ""),  # revoked
        (HOURS[1], C, "10.2.0.5", "www.example.org", "203.0.113.77"),  # answer in block
        ("2024-10-01T00:00:00", C, "10.2.0.5", EVIL, ""),  # outside the 30-day window
    ])  # fmt: skip
    write_csv(folder / "flow_logs.csv", "ts,org_uscc,src,dst,dport,bytes", [
        (HOURS[0], B, "10.1.0.5", "203.0.113.200", 443, 5120),
        (HOURS[1], B, "10.1.0.5", "203.0.114.1", 443, 10),  # just outside the block
    ])  # fmt: skip
    write_csv(folder / "http_logs.csv", "ts,org_uscc,host,url", [
        (HOURS[1], C, "dl.example.net", "/x/payload%2Ebin"),  # same URL, other spelling
        (HOURS[1], C, "dl.example.net", "/x/other.bin"),
    ])  # fmt: skip
    return folder


def bundle(folder: Path) -> Path:
    def ind(n: int, pattern: str, **extra: Any) -> dict[str, Any]:
        return indicator(n, pattern, **{"confidence": 90, **extra})

    objects = [
        ind(1, f"[domain-name:value = '{EVIL}']", labels=["apt"]),
        ind(2, "[domain-name:value = 'early.example']", valid_from="2024-12-31T00:00:00Z"),
        ind(3, "[domain-name:value = 'gone.example']"),
        ind(3, "[domain-name:value = 'gone.example']", modified="2024-07-01T00:00:00Z",
            revoked=True),
        ind(4, "[ipv4-addr:value = '203.0.113.0/24']", confidence=40),
        ind(5, "[url:value = 'http://dl.example.net/x/payload.bin']"),
    ]  # fmt: skip
    return write_bundle(folder / "bundle.json", objects)


@pytest.fixture
def hand_ws(tmp_path: Path) -> Workspace:
    ws = make_workspace(tmp_path / "home")
    folder = handmade(tmp_path / "logs")
    ingest_folder(ws, folder)
    import_stix(ws, [bundle(folder)], hunt=False)
    return ws


def test_matching_semantics(hand_ws: Workspace, engine_name: str) -> None:
    ctx = DetectionContext(hand_ws.analytics(engine_name), AS_OF, IocHit.inputs)
    drafts = {(d.type, d.subject): d for d in IocHit().detect(ctx)}
    url = "http://dl.example.net/x/payload.bin"
    assert set(drafts) == {
        ("ioc_hit", f"{A}:{EVIL}"),
        ("ioc_hit", f"{B}:203.0.113.0/24"),
        ("ioc_hit", f"{C}:203.0.113.0/24"),
        ("ioc_hit", f"{C}:{url}"),
        ("threat_warning", f"indicator:{EVIL}"),
        ("threat_warning", "indicator:203.0.113.0/24"),
        ("threat_warning", f"indicator:{url}"),
    }
    hit = drafts[("ioc_hit", f"{A}:{EVIL}")]
    assert hit.severity == "critical" and hit.responsible_uscc == A
    ev = hit.evidence
    assert (ev["count"], str(ev["first_seen"]), str(ev["last_seen"])) == (
        2, "2024-12-30 08:00:00", "2024-12-31 10:00:00",
    )  # fmt: skip
    assert [s["observed"] for s in ev["samples"]] == [f"a.b.{EVIL}", EVIL]
    assert ev["indicators"][0]["labels"] == ["apt"]
    block = drafts[("threat_warning", "indicator:203.0.113.0/24")]
    assert block.severity == "medium" and block.responsible_uscc is None
    assert [u["org_uscc"] for u in block.evidence["units"]] == sorted([B, C])
    fields = {s["dataset"] + "." + s["field"]
              for s in drafts[("ioc_hit", f"{C}:203.0.113.0/24")].evidence["samples"]}  # fmt: skip
    assert fields == {"dns_logs.answer"}


def test_subject_recheck_and_window(hand_ws: Workspace, engine_name: str) -> None:
    engine = hand_ws.analytics(engine_name)
    one = f"{A}:{EVIL}"
    ctx = DetectionContext(engine, AS_OF, IocHit.inputs, subjects=frozenset({one}))
    assert [d.subject for d in IocHit().detect(ctx)] == [one]
    ctx = DetectionContext(engine, AS_OF, IocHit.inputs, subjects=frozenset({f"indicator:{EVIL}"}))
    assert [d.subject for d in IocHit().detect(ctx)] == [f"indicator:{EVIL}"]
    wide = DetectionContext(engine, AS_OF, IocHit.inputs)
    drafts = {d.subject: d for d in IocHit({"window_days": 120}).detect(wide)}
    assert f"{C}:{EVIL}" in drafts  # the October query is inside a 120-day window
    narrow = {d.subject for d in IocHit({"window_days": 1}).detect(wide)}
    assert narrow == {f"{A}:{EVIL}", f"indicator:{EVIL}"}  # only the 31 December query


def test_retro_hunt_touches_only_the_new_indicators_findings(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "home")
    folder = handmade(tmp_path / "logs")
    ingest_folder(ws, folder)
    full = json.loads(bundle(folder).read_text("utf-8"))
    first = tmp_path / "first.json"
    first.write_text(json.dumps({**full, "objects": full["objects"][:1]}), "utf-8")
    result = import_stix(ws, [first])
    assert [w["subject"] for w in result.hunt.warnings] == [f"indicator:{EVIL}"]
    assert result.hunt.run is not None and result.hunt.run.status == "succeeded"
    rest = tmp_path / "rest.json"
    rest.write_text(json.dumps({**full, "objects": full["objects"][1:]}), "utf-8")
    later = import_stix(ws, [rest])
    assert {w["subject"] for w in later.hunt.warnings} == {
        "indicator:203.0.113.0/24", "indicator:http://dl.example.net/x/payload.bin",
    }  # fmt: skip
    opened = findings(ws, "open")
    assert ("ioc_hit", f"{A}:{EVIL}") in opened  # the first hunt's finding is untouched
    assert len(opened) == 7
    ws.close()


def test_a_retro_hunt_hunts_once_and_stores_what_a_recheck_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace(tmp_path / "home")
    folder = handmade(tmp_path / "logs")
    ingest_folder(ws, folder)
    hunts: list[object] = []
    real_hunt = IocHit.hunt

    def counted(self: IocHit, ctx: DetectionContext, scope: Any) -> Any:
        hunts.append(scope)
        return real_hunt(self, ctx, scope)

    monkeypatch.setattr(IocHit, "hunt", counted)
    result = import_stix(ws, [bundle(folder)])
    assert result.hunt.run is not None and result.hunt.run.status == "succeeded"
    assert len(hunts) == 1  # the runner stored the retro-hunt's own drafts
    stored = findings(ws)
    assert stored
    recheck = run_detection(ws, subjects=[s for _t, s in stored], detectors=[IocHit])
    assert len(hunts) == 2 and recheck.counts["ioc_hit"]["new"] == 0
    again = findings(ws)
    for key, finding in stored.items():  # computed anew, they are the same findings
        assert (again[key]["severity"], again[key]["evidence"]) == (
            finding["severity"],
            finding["evidence"],
        )
