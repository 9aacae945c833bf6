"""Moving detector output into the database: idempotent upsert by fingerprint."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from longpan.core.clock import Clock, utc_now
from longpan.detect.base import Detector, FindingDraft
from longpan.store.db import audit
from longpan.store.models import Finding


def fingerprint(finding_type: str, subject: str) -> str:
    """The stable identity of a finding: its type and canonical subject."""
    return hashlib.sha256(f"{finding_type}\n{subject}".encode()).hexdigest()


def jsonable(value: Any) -> Any:
    """Evidence as plain JSON: dates as ISO strings, tuples as lists, keys as strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def upsert_findings(
    session: Session,
    detector: Detector,
    drafts: Sequence[FindingDraft],
    *,
    run_id: int,
    now: datetime,
    subjects: frozenset[str] | None = None,
    clock: Clock = utc_now,
) -> dict[str, int]:
    """Open new findings, refresh present ones, mark absent ones not observed."""
    query = select(Finding).where(Finding.type.in_(detector.finding_types))
    if subjects is not None:
        query = query.where(Finding.subject.in_(sorted(subjects)))
    existing = {f.fingerprint: f for f in session.scalars(query)}
    counts = {"found": len(drafts), "new": 0, "refreshed": 0, "reobserved": 0, "not_observed": 0}
    for draft in drafts:
        found = existing.pop(fingerprint(draft.type, draft.subject), None)
        if found is None:
            session.add(_new_finding(detector, draft, run_id, now))
            _log(session, "finding.opened", draft.type, draft.subject, clock)
            counts["new"] += 1
        else:
            counts[_refresh(session, found, detector, draft, run_id, now, clock)] += 1
    for gone in existing.values():
        if gone.observed:
            gone.observed = False
            if gone.status == "open":
                gone.status = "not_observed"
            _log(session, "finding.not_observed", gone.type, gone.subject, clock)
            counts["not_observed"] += 1
    return counts


def _new_finding(detector: Detector, draft: FindingDraft, run_id: int, now: datetime) -> Finding:
    return Finding(
        fingerprint=fingerprint(draft.type, draft.subject),
        type=draft.type,
        severity=draft.severity,
        subject=draft.subject,
        evidence=draft.evidence,
        detector=detector.id,
        detector_version=detector.version,
        status="open",
        observed=True,
        responsible_uscc=draft.responsible_uscc,
        first_seen=now,
        last_seen=now,
        first_run_id=run_id,
        last_run_id=run_id,
    )


def _refresh(
    session: Session,
    finding: Finding,
    detector: Detector,
    draft: FindingDraft,
    run_id: int,
    now: datetime,
    clock: Clock,
) -> str:
    outcome = "refreshed"
    if not finding.observed:
        finding.observed = True
        if finding.status == "not_observed":
            finding.status = "open"
        _log(session, "finding.reobserved", draft.type, draft.subject, clock)
        outcome = "reobserved"
    finding.severity = draft.severity
    finding.evidence = draft.evidence
    finding.responsible_uscc = draft.responsible_uscc
    finding.detector = detector.id
    finding.detector_version = detector.version
    finding.last_seen = now
    finding.last_run_id = run_id
    return outcome


def _log(session: Session, action: str, finding_type: str, subject: str, clock: Clock) -> None:
    audit(
        session,
        actor="system:detect",
        action=action,
        object_type="finding",
        object_id=f"{finding_type}:{subject}",
        clock=clock,
    )
