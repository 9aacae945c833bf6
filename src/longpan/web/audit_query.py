"""Reading the audit log for the web: filter and page, and one object's history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from longpan.core.clock import as_utc
from longpan.store.models import AuditEntry

AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None  # prefix, e.g. "user." or "batch.approved"
    object_text: str | None = None  # part of the object id
    since: date | None = None
    until: date | None = None  # inclusive


@dataclass
class AuditPage:
    rows: list[AuditEntry]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def _day_start(day: date) -> datetime:
    return as_utc(datetime.combine(day, time()))


def search_audit(
    session: Session, flt: AuditFilter, *, page: int, size: int = AUDIT_PAGE_SIZE
) -> AuditPage:
    query = select(AuditEntry)
    if flt.actor:
        query = query.where(AuditEntry.actor == flt.actor.strip())
    if flt.action:
        query = query.where(AuditEntry.action.startswith(flt.action.strip(), autoescape=True))
    if flt.object_text:
        query = query.where(AuditEntry.object_id.contains(flt.object_text.strip(), autoescape=True))
    if flt.since:
        query = query.where(AuditEntry.at >= _day_start(flt.since))
    if flt.until:
        query = query.where(AuditEntry.at < _day_start(flt.until + timedelta(days=1)))
    total = session.scalar(query.with_only_columns(func.count(AuditEntry.id))) or 0
    rows = session.scalars(
        query.order_by(AuditEntry.id.desc()).limit(size).offset((max(1, page) - 1) * size)
    )
    return AuditPage(list(rows), int(total), max(1, page), size)


def history(
    session: Session, objects: Sequence[tuple[str, str]], limit: int = 200
) -> list[AuditEntry]:
    """Audit entries about any of ``objects`` ((object_type, object_id) pairs), newest first."""
    if not objects:
        return []
    conditions = [
        (AuditEntry.object_type == kind) & (AuditEntry.object_id == ident)
        for kind, ident in objects
    ]
    query = select(AuditEntry).where(or_(*conditions)).order_by(AuditEntry.id.desc()).limit(limit)
    return list(session.scalars(query))


def finding_objects(finding_id: int, finding_type: str, subject: str) -> list[tuple[str, str]]:
    """The audit ids a finding's history is written under (runner: type:subject; the case
    workflow may use the numeric id)."""
    return [("finding", f"{finding_type}:{subject}"), ("finding", str(finding_id))]


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "details": entry.details,
        "address": entry.address,
    }
