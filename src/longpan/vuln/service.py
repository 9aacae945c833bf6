"""The library twins of ``longpan vuln …``: import feeds and scans, then re-match only
what changed, storing findings through the detection runner.

A newly arrived (or changed) CVE or KEV entry is matched alone against all assets; the
runner is then asked to re-check exactly the services (``ip:port``; the CVE is the
finding's key) that match now or matched before, so findings are opened, refreshed or
marked not observed as in a full run, and nothing else is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from longpan.core.subjects import service_subject
from longpan.detect.runner import RunResult, run_detection
from longpan.detect.store import fingerprint
from longpan.resources.ingest import IngestReport
from longpan.store.models import Finding
from longpan.store.workspace import Workspace
from longpan.vuln.feeds import FeedImport, import_kev, import_nvd
from longpan.vuln.importers import import_scan, read_scan
from longpan.vuln.matching import Service, match_assets
from longpan.vuln.vulnerable_asset import VulnerableAsset

FINDING_TYPE = "vulnerable_asset"


@dataclass
class Rematch:
    subjects: int
    run: RunResult | None


def rematch_cves(
    ws: Workspace, cve_ids: list[str], *, engine: str | None = None, actor: str = "system:cli"
) -> Rematch:
    """Re-match ``cve_ids`` alone against every asset and store the outcome."""
    if not cve_ids:
        return Rematch(0, None)
    result = match_assets(ws.analytics(engine), cve_ids=cve_ids)
    found = {_subject(h.asset) for h in result.hits}
    before = {
        subject
        for subject, stored in _existing(ws)
        if any(fingerprint(FINDING_TYPE, subject, cve) == stored for cve in cve_ids)
    }
    return _store(ws, found | before, engine, actor)


def rematch_services(
    ws: Workspace, services: list[Service], *, engine: str | None = None, actor: str = "system:cli"
) -> Rematch:
    """Re-match some services (a scan just imported) against every CVE."""
    if not services:
        return Rematch(0, None)
    result = match_assets(ws.analytics(engine), services=services)
    found = {_subject(h.asset) for h in result.hits}
    wanted = {service_subject(*s) for s in services}
    before = {subject for subject, _fp in _existing(ws) if subject in wanted}
    return _store(ws, found | before, engine, actor)


def _subject(asset: dict[str, object]) -> str:
    return service_subject(str(asset["ip"]), int(str(asset["port"])), str(asset["protocol"]))


def _existing(ws: Workspace) -> set[tuple[str, str]]:
    """(subject, fingerprint) of every stored vulnerable_asset finding (any status).

    The subject is the service; its CVE is part of the fingerprint only (the key).
    """
    query = select(Finding.subject, Finding.fingerprint).where(Finding.type == FINDING_TYPE)
    with ws.sessions() as session:
        return {(subject, fp) for subject, fp in session.execute(query)}


def _store(ws: Workspace, subjects: set[str], engine: str | None, actor: str) -> Rematch:
    if not subjects:
        return Rematch(0, None)
    run = run_detection(
        ws, engine=engine, subjects=sorted(subjects), actor=actor, detectors=[VulnerableAsset]
    )
    return Rematch(len(subjects), run)


def import_nvd_and_rematch(
    ws: Workspace, paths: list[Path], *, engine: str | None = None, actor: str = "system:cli"
) -> tuple[FeedImport, Rematch]:
    feed = import_nvd(ws, paths, actor=actor)
    return feed, rematch_cves(ws, feed.changed, engine=engine, actor=actor)


def import_kev_and_rematch(
    ws: Workspace, path: Path, *, engine: str | None = None, actor: str = "system:cli"
) -> tuple[FeedImport, Rematch]:
    feed = import_kev(ws, path, actor=actor)
    return feed, rematch_cves(ws, feed.changed, engine=engine, actor=actor)


def import_scan_and_rematch(
    ws: Workspace,
    path: Path,
    org_uscc: str,
    *,
    engine: str | None = None,
    actor: str = "system:cli",
) -> tuple[IngestReport, int, Rematch]:
    report, count = import_scan(ws, path, org_uscc, actor=actor)
    services = [(r["ip"], int(r["port"]), r["protocol"]) for r in read_scan(path)]
    if not report.changed:
        return report, count, Rematch(0, None)
    return report, count, rematch_services(ws, services, engine=engine, actor=actor)
