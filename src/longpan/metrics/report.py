"""``longpan report``: the governance figures, computed from the lake and the findings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from longpan.detect.findings import list_findings
from longpan.metrics.accuracy import ICP_TYPES, IP_TYPES, accuracy, icp_records, ip_records
from longpan.metrics.counts import filing_statistics, finding_counts
from longpan.metrics.loop import loop_figures
from longpan.store.models import ACTIVE_STATUSES, Organisation
from longpan.store.workspace import Workspace


def build_report(ws: Workspace, *, engine: str | None = None, seed: int = 0) -> dict[str, Any]:
    analytics = ws.analytics(engine)
    with ws.sessions() as session:
        findings = list_findings(session, statuses=list(ACTIVE_STATUSES))
        names = {o.uscc: o.name for o in session.scalars(select(Organisation))}
    flagged = {t: {f["subject"] for f in findings if f["type"] == t} for t in ICP_TYPES}
    icp_flagged = set().union(*flagged.values())
    ip_flagged = set().union(*(flagged.get(t, set()) for t in IP_TYPES))
    return {
        "as_of_snapshots": ws.lake.current_snapshots(),
        "open_findings": len(findings),
        "icp_accuracy": accuracy(icp_records(analytics), icp_flagged, names, seed),
        "ip_accuracy": accuracy(ip_records(analytics), ip_flagged, names, seed),
        "counts": finding_counts(analytics, findings, names),
        "filings": filing_statistics(analytics),
        "loop": loop_figures(ws),
    }
