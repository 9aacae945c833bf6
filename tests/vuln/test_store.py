"""Findings through the runner on SQLite and PostgreSQL: opened, refreshed by a KEV
entry, marked not observed when a changed CVE record no longer names the version."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from longpan.detect.findings import list_findings
from longpan.store.models import AuditEntry
from longpan.store.workspace import Workspace
from longpan.vuln.service import import_kev_and_rematch, import_nvd_and_rematch
from tests.vuln.helpers import KEV, NVD, asset, ingest_assets, needs_shared

pytestmark = needs_shared


def _findings(ws: Workspace) -> dict[str, dict[str, object]]:
    with ws.sessions() as session:
        found = list_findings(session, types=["vulnerable_asset"])
    return {f"{f['subject']}/{f['evidence']['cve']}": f for f in found}


def test_new_changed_and_kev_cves_are_rematched_alone(ws: Workspace, tmp_path: Path) -> None:
    ingest_assets(
        ws,
        tmp_path / "assets",
        [
            asset("198.51.100.1", 80, product="Apache httpd", version="2.4.49"),
            asset("198.51.100.5", 22, product="OpenSSH", version="8.9p1"),
        ],
    )
    feed, rematch = import_nvd_and_rematch(
        ws, [NVD / "CVE-2021-41773.json", NVD / "CVE-2024-6387.json"]
    )
    assert feed.new == ["CVE-2021-41773", "CVE-2024-6387"] and rematch.subjects == 2
    found = _findings(ws)
    assert found["198.51.100.1:80/CVE-2021-41773"]["severity"] == "high"  # 7.5, KEV unknown
    assert found["198.51.100.1:80/CVE-2021-41773"]["status"] == "open"

    _, rematch = import_kev_and_rematch(ws, KEV)
    assert rematch.run is not None and rematch.run.status == "succeeded"
    assert _findings(ws)["198.51.100.1:80/CVE-2021-41773"]["severity"] == "critical"

    record = json.loads((NVD / "CVE-2021-41773.json").read_text())
    record["lastModified"] = "2030-01-01T00:00:00.000"
    match = record["configurations"][0]["nodes"][0]["cpeMatch"][0]
    match["criteria"] = match["criteria"].replace("2.4.49", "2.4.48")
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(record))
    feed, rematch = import_nvd_and_rematch(ws, [changed])
    assert feed.updated == ["CVE-2021-41773"] and rematch.subjects == 1
    after = _findings(ws)
    assert after["198.51.100.1:80/CVE-2021-41773"]["status"] == "not_observed"
    assert after["198.51.100.5:22/CVE-2024-6387"]["status"] == "open"  # untouched
    with ws.sessions() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"vuln.nvd_imported", "vuln.kev_imported", "finding.opened"} <= actions
    assert "finding.not_observed" in actions


def test_a_service_with_two_cves_has_two_findings_under_one_subject(
    ws: Workspace, tmp_path: Path
) -> None:
    ingest_assets(
        ws, tmp_path / "assets", [asset("198.51.100.9", 443, product="FortiOS", version="6.0.4")]
    )
    _, rematch = import_nvd_and_rematch(
        ws, [NVD / "CVE-2018-13379.json", NVD / "CVE-2024-21762.json"]
    )
    assert rematch.subjects == 1  # one service re-checked
    found = _findings(ws)
    assert set(found) == {"198.51.100.9:443/CVE-2018-13379", "198.51.100.9:443/CVE-2024-21762"}
    assert {f["subject"] for f in found.values()} == {"198.51.100.9:443"}
    assert len({f["fingerprint"] for f in found.values()}) == 2
