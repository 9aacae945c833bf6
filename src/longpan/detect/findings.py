"""Reading findings back from the database, as plain JSON-ready records."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from longpan.core.errors import InputError
from longpan.store.models import ACTIVE_STATUSES, FINDING_STATUSES, Finding


def finding_record(f: Finding) -> dict[str, Any]:
    return {
        "type": f.type,
        "subject": f.subject,
        "severity": f.severity,
        "status": f.status,
        "observed": f.observed,
        "responsible_uscc": f.responsible_uscc,
        "first_seen": f.first_seen.isoformat(),
        "last_seen": f.last_seen.isoformat(),
        "detector": f.detector,
        "detector_version": f.detector_version,
        "fingerprint": f.fingerprint,
        "evidence": f.evidence,
    }


def list_findings(
    session: Session,
    *,
    types: list[str] | None = None,
    statuses: list[str] | None = None,
    subject: str | None = None,
) -> list[dict[str, Any]]:
    """Findings ordered by type and subject, optionally filtered."""
    for status in statuses or []:
        if status not in FINDING_STATUSES:
            raise InputError(
                f"--status: unknown status {status!r}; known: {', '.join(FINDING_STATUSES)}"
            )
    query = select(Finding).order_by(Finding.type, Finding.subject)
    if types:
        query = query.where(Finding.type.in_(types))
    if statuses:
        query = query.where(Finding.status.in_(statuses))
    if subject:
        query = query.where(Finding.subject == subject)
    return [finding_record(f) for f in session.scalars(query)]


def open_findings(session: Session) -> set[tuple[str, str]]:
    """(type, subject) of every finding that is still an unresolved irregularity."""
    query = select(Finding.type, Finding.subject).where(Finding.status.in_(ACTIVE_STATUSES))
    return {(t, s) for t, s in session.execute(query)}


def summary(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Counts by (type, severity, status) for the findings summary table."""
    counts = Counter((r["type"], r["severity"], r["status"]) for r in records)
    return [
        {"type": t, "severity": sev, "status": st, "count": n}
        for (t, sev, st), n in sorted(counts.items())
    ]


def count_summary(session: Session, types: list[str] | None = None) -> list[dict[str, Any]]:
    """``summary`` of the stored findings (of ``types``), counted by the database: the
    summary a detection run prints without reading every finding's evidence."""
    query = select(Finding.type, Finding.severity, Finding.status, func.count()).group_by(
        Finding.type, Finding.severity, Finding.status
    )
    if types:
        query = query.where(Finding.type.in_(types))
    rows = sorted(tuple(r) for r in session.execute(query))
    return [{"type": t, "severity": sev, "status": st, "count": n} for t, sev, st, n in rows]
