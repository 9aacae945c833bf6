"""synth/logs.py: deterministic logs whose truth the ingest accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from longpan.detect.findings import list_findings
from longpan.resources.ingest import ingest_folder
from longpan.synth.logs import NEAR_MISS_KINDS, LogsConfig, SynthLogs, generate_logs, write_logs
from longpan.threat.feeds import import_stix
from longpan.threat.stix import read_paths
from tests.conftest import make_workspace
from tests.threat.conftest import UNITS, generated


def test_same_seed_same_logs(tmp_path: Path) -> None:
    one, two = generated(), generated()
    assert one.dns_logs == two.dns_logs and one.bundle == two.bundle
    counts = write_logs(one, tmp_path / "a")
    write_logs(two, tmp_path / "b")
    for name in ("dns_logs.csv", "indicators.json", "threat_truth.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert counts["threat_truth"] == 11 and counts["threat_near_misses"] == 6


def test_ingest_accepts_the_logs_and_the_bundle_reads(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    write_logs(generated(), folder)
    ws = make_workspace(tmp_path / "home")
    report = ingest_folder(ws, folder)  # strict: any bad row would raise
    assert {t.table for t in report.tables} == {"dns_logs", "flow_logs", "http_logs"}
    content = read_paths([folder / "indicators.json"])
    assert sum(i.revoked for i in content.indicators) == 1
    assert all(i.observables for i in content.indicators)
    ws.close()


def test_needs_three_units() -> None:
    with pytest.raises(ValueError, match="three units"):
        generate_logs(UNITS[:2])


def _campaigns(count: int) -> SynthLogs:
    cfg = LogsConfig(seed=7, dns_per_unit=10, flow_per_unit=5, http_per_unit=5, campaigns=count)
    return generate_logs(UNITS, cfg)


def test_campaigns_rotate_through_the_units_and_never_repeat_a_value() -> None:
    logs = _campaigns(3)
    assert len(logs.truth) == 3 * 11 and len(logs.near_misses) == 3 * 6
    live = [i["pattern"] for i in logs.indicators if not i.get("revoked")]
    assert len(live) == len(set(live)) == 3 * 6
    hit_units = {
        t["subject"].split(":", 1)[0] for t in logs.truth if t["finding_type"] == "ioc_hit"
    }
    assert hit_units == set(UNITS)  # 4 units, trios (0,1,2), (3,0,1), (2,3,0)
    assert {n["kind"] for n in logs.near_misses} == set(NEAR_MISS_KINDS)
    assert not {t["subject"] for t in logs.truth} & {n["subject"] for n in logs.near_misses}


def test_every_campaign_is_found_and_no_near_miss(tmp_path: Path) -> None:
    logs = _campaigns(3)
    folder = tmp_path / "logs"
    write_logs(logs, folder)
    ws = make_workspace(tmp_path / "home")
    ingest_folder(ws, folder)
    import_stix(ws, [folder / "indicators.json"], engine="duckdb")
    with ws.sessions() as session:
        found = list_findings(session, types=["ioc_hit", "threat_warning"])
    ws.close()
    assert {(f["type"], f["subject"]) for f in found} == {
        (t["finding_type"], t["subject"]) for t in logs.truth
    }
    assert not {f["subject"] for f in found} & {n["subject"] for n in logs.near_misses}
