"""Finding status changes owned by the loop, each checked and audited in one place.

    open ─┐                      ┌─ verifying ─┬─▶ closed
          ├─▶ notified ─▶ answered              └─▶ reopened ─▶ answered …
 reopened ┘       ▲          ├─ (dispute accepted) ─▶ dismissed
                  └──────────┘  (dispute rejected)

The detection runner owns open ↔ not_observed; everything else happens here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from longpan.cases.access import StateError
from longpan.core.clock import Clock
from longpan.store.db import audit
from longpan.store.models import Finding, Notice, NoticeItem

ALLOWED: dict[str, tuple[str, ...]] = {
    "notified": ("open", "reopened", "answered"),
    "answered": ("notified", "reopened", "verifying"),
    "verifying": ("answered",),
    "closed": ("verifying",),
    "reopened": ("verifying",),
    "dismissed": ("answered",),
}
AWAITING_ENTERPRISE = ("notified", "reopened")  # the enterprise owes an answer
UNRESOLVED = ("notified", "answered", "verifying", "reopened")


@dataclass(frozen=True)
class Who:
    """Who acts and from where, for the audit log."""

    username: str
    address: str | None
    clock: Clock


def move_finding(
    session: Session, finding: Finding, to: str, who: Who, details: dict[str, Any] | None = None
) -> None:
    if finding.status not in ALLOWED[to]:
        raise StateError(
            f"线索 {finding.id} 当前状态为 {finding.status}，不能变为 {to} "
            f"(finding {finding.id} is {finding.status}; cannot become {to})",
            column="status",
        )
    before = finding.status
    finding.status = to
    audit(
        session,
        actor=who.username,
        action=f"finding.{to}",
        object_type="finding",
        object_id=f"{finding.type}:{finding.subject}",
        details={"finding_id": finding.id, "from": before, **(details or {})},
        address=who.address,
        clock=who.clock,
    )


def resolve_item(session: Session, item: NoticeItem, outcome: str, now: datetime, who: Who) -> None:
    """Mark an item done; close its notice when nothing in it is left open."""
    item.outcome = outcome
    item.resolved_at = now
    session.flush()
    open_left = session.scalar(
        select(NoticeItem.id).where(
            NoticeItem.notice_id == item.notice_id, NoticeItem.outcome.is_(None)
        )
    )
    notice = session.get_one(Notice, item.notice_id)
    if open_left is None and notice.status == "issued":
        notice.status = "closed"
        notice.closed_at = now
        audit(
            session,
            actor=who.username,
            action="notice.closed",
            object_type="notice",
            object_id=str(notice.id),
            details={"number": notice.number},
            address=who.address,
            clock=who.clock,
        )


def current_item(session: Session, finding_id: int) -> NoticeItem | None:
    """The unresolved item of an issued notice that holds the finding, if any."""
    return session.scalar(
        select(NoticeItem)
        .join(Notice, Notice.id == NoticeItem.notice_id)
        .where(
            NoticeItem.finding_id == finding_id,
            NoticeItem.outcome.is_(None),
            Notice.status == "issued",
        )
    )
