"""Moving detector output into the database: idempotent upsert by fingerprint."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from longpan.core.clock import Clock, utc_now
from longpan.detect.base import Detector, FindingDraft
from longpan.store.db import plain_json
from longpan.store.models import AuditEntry, Finding

# The tables, not the classes, take the bulk writes: Core's executemany without the
# ORM's pass over every row, which cost more than the statements themselves.
FINDINGS = cast(Table, Finding.__table__)
AUDIT_ENTRIES = cast(Table, AuditEntry.__table__)


def fingerprint(finding_type: str, subject: str, key: str = "") -> str:
    """The stable identity of a finding: its type, canonical subject and key (if any)."""
    identity = f"{finding_type}\n{subject}" + (f"\n{key}" if key else "")
    return hashlib.sha256(identity.encode()).hexdigest()


_PLAIN = frozenset({str, int, float, bool, type(None)})  # most evidence leaves: as they are


def jsonable(value: Any) -> Any:
    """``value`` as the plain JSON the database stores (``store.db.plain_json``'s rule:
    dates as ISO strings, sets as sorted lists), with keys as strings and tuples as lists;
    for output that is not stored (a subject's neighbourhood)."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    try:
        return jsonable(plain_json(value))
    except TypeError:  # not JSON at all: left for the caller's encoder to refuse
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
    """Open new findings, refresh present ones, mark absent ones not observed.

    In bulk: one query reads the stored state, then one multi-row INSERT of the new
    findings, one executemany UPDATE by primary key, and one multi-row INSERT of the audit
    entries (one per opened, reobserved or no-longer-observed finding) — no ORM object
    per finding, which kept a province's 27 k findings busy for seconds.
    """
    plan = _Plan(detector, run_id, now, clock)
    stored = _stored(session, detector.finding_types, subjects)
    for draft in drafts:
        plan.found(draft, stored.pop(fingerprint(draft.type, draft.subject, draft.key), None))
    for gone in stored.values():
        plan.gone(gone)
    plan.write(session)
    return plan.counts


@dataclass(frozen=True)
class _Stored:
    """What an upsert needs to know of a stored finding."""

    id: int
    type: str
    subject: str
    status: str
    observed: bool


def _update_by_id(session: Session, changes: list[dict[str, Any]]) -> None:
    """One executemany UPDATE of findings by id; every change sets the same columns."""
    table = FINDINGS
    columns = [c for c in changes[0] if c != "id"]
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({c: bindparam(f"new_{c}") for c in columns})
    )
    rows = [{"row_id": ch["id"], **{f"new_{c}": ch[c] for c in columns}} for ch in changes]
    session.execute(statement, rows)


def _stored(
    session: Session, types: Sequence[str], subjects: frozenset[str] | None
) -> dict[str, _Stored]:
    """Fingerprint → the stored findings of ``types`` (of ``subjects``, when given)."""
    query = select(
        Finding.fingerprint,
        Finding.id,
        Finding.type,
        Finding.subject,
        Finding.status,
        Finding.observed,
    ).where(Finding.type.in_(types))
    if subjects is not None:
        query = query.where(Finding.subject.in_(sorted(subjects)))
    rows = session.execute(query)
    return {fp: _Stored(id_, t, subject, st, seen) for fp, id_, t, subject, st, seen in rows}


class _Plan:
    """The rows one upsert inserts and updates, and the audit entries it writes."""

    def __init__(self, detector: Detector, run_id: int, now: datetime, clock: Clock) -> None:
        self.detector = detector
        self.run_id = run_id
        self.now = now
        self.clock = clock
        self.counts = {"found": 0, "new": 0, "refreshed": 0, "reobserved": 0, "not_observed": 0}
        self.inserts: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.entries: list[dict[str, Any]] = []

    def found(self, draft: FindingDraft, stored: _Stored | None) -> None:
        self.counts["found"] += 1
        if stored is None:
            self.inserts.append(self._new(draft))
            self._log("finding.opened", draft.type, draft.subject)
            self.counts["new"] += 1
            return
        change = self._refreshed(draft, stored.id)
        if stored.observed:
            self.counts["refreshed"] += 1
        else:  # seen again: back to open unless a case moved it on meanwhile
            change["observed"] = True
            change["status"] = "open" if stored.status == "not_observed" else stored.status
            self._log("finding.reobserved", draft.type, draft.subject)
            self.counts["reobserved"] += 1
        self.updates.append(change)

    def gone(self, stored: _Stored) -> None:
        if not stored.observed:
            return
        status = "not_observed" if stored.status == "open" else stored.status
        self.updates.append({"id": stored.id, "observed": False, "status": status})
        self._log("finding.not_observed", stored.type, stored.subject)
        self.counts["not_observed"] += 1

    def write(self, session: Session) -> None:
        if self.inserts:
            session.execute(insert(FINDINGS), self.inserts)
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for change in self.updates:  # executemany needs the same columns in every row
            by_columns.setdefault(tuple(change), []).append(change)
        for changes in by_columns.values():
            _update_by_id(session, changes)
        if self.entries:
            session.execute(insert(AUDIT_ENTRIES), self.entries)

    def _new(self, draft: FindingDraft) -> dict[str, Any]:
        return {
            "fingerprint": fingerprint(draft.type, draft.subject, draft.key),
            "type": draft.type,
            "subject": draft.subject,
            "status": "open",
            "observed": True,
            "first_seen": self.now,
            "first_run_id": self.run_id,
            **self._refreshed(draft, None),
        }

    def _refreshed(self, draft: FindingDraft, finding_id: int | None) -> dict[str, Any]:
        change: dict[str, Any] = {} if finding_id is None else {"id": finding_id}
        change.update(
            severity=draft.severity,
            evidence=draft.evidence,
            responsible_uscc=draft.responsible_uscc,
            detector=self.detector.id,
            detector_version=self.detector.version,
            last_seen=self.now,
            last_run_id=self.run_id,
        )
        return change

    def _log(self, action: str, finding_type: str, subject: str) -> None:
        """The row ``store.db.audit`` would add, inserted with the others in one go."""
        self.entries.append(
            {
                "at": self.clock(),
                "actor": "system:detect",
                "action": action,
                "object_type": "finding",
                "object_id": f"{finding_type}:{subject}",
                "details": {},
                "address": None,
            }
        )
