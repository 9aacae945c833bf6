"""Figures of the closed loop (闭环指标), computed from notices and their items.

Counted are the items of issued notices (a finding dropped at issue is not counted):
- organisations_notified, batches: distinct organisations and batches;
- findings_notified: items; closed (verified gone), dismissed (dispute accepted);
  findings_handled = closed + dismissed; open = the rest;
- closure_rate = findings_handled / findings_notified (闭环率);
- overdue = open items past their deadline while the enterprise owes an answer;
  overdue_rate = overdue / findings_notified (逾期率);
- median_days_to_close: median days from the notice's issue to the item's closure
  (closed items only; 平均整改时长 is skewed by a few late ones, so the median).
Rates are null when nothing was notified; the median is null when nothing closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from statistics import median
from typing import Any

from sqlalchemy import select

from longpan.cases.deadlines import local_today
from longpan.cases.notices import is_overdue
from longpan.detect.registry import finding_type_title
from longpan.store.models import Batch, Finding, Notice, NoticeItem, Organisation
from longpan.store.workspace import Workspace


@dataclass(frozen=True)
class _Item:
    batch_id: int
    batch_title: str
    document_number: str
    uscc: str
    organisation: str
    type: str
    outcome: str | None
    overdue: bool
    issued_at: datetime | None
    resolved_at: datetime | None


def loop_figures(ws: Workspace, *, today: date | None = None) -> dict[str, Any]:
    """Overall figures and the same by finding type, organisation and batch."""
    items = _items(ws, today or local_today(ws.clock))
    return {
        "overall": _figures(items),
        "by_type": _grouped(
            items,
            lambda i: i.type,
            lambda i: {"type": i.type, "title": finding_type_title(i.type, "zh")},
        ),
        "by_organisation": _grouped(
            items, lambda i: i.uscc, lambda i: {"uscc": i.uscc, "name": i.organisation}
        ),
        "by_batch": _grouped(
            items,
            lambda i: f"{i.batch_id:09d}",
            lambda i: {
                "batch_id": i.batch_id,
                "title": i.batch_title,
                "document_number": i.document_number,
            },
        ),
    }


def _items(ws: Workspace, today: date) -> list[_Item]:
    query = (
        select(NoticeItem, Finding, Notice, Batch, Organisation)
        .join(Finding, Finding.id == NoticeItem.finding_id)
        .join(Notice, Notice.id == NoticeItem.notice_id)
        .join(Batch, Batch.id == Notice.batch_id)
        .join(Organisation, Organisation.id == Notice.organisation_id)
        .where(Notice.status.in_(("issued", "closed")))
        .where((NoticeItem.outcome.is_(None)) | (NoticeItem.outcome != "dropped"))
    )
    with ws.sessions() as session:
        return [
            _Item(
                batch_id=b.id,
                batch_title=b.title,
                document_number=b.document_number,
                uscc=o.uscc,
                organisation=o.name,
                type=f.type,
                outcome=i.outcome,
                overdue=is_overdue(i, f, today),
                issued_at=n.issued_at,
                resolved_at=i.resolved_at,
            )
            for i, f, n, b, o in session.execute(query)
        ]


def _figures(items: list[_Item]) -> dict[str, Any]:
    notified = len(items)
    closed = sum(i.outcome == "closed" for i in items)
    dismissed = sum(i.outcome == "dismissed" for i in items)
    overdue = sum(i.overdue for i in items)
    days = [
        (i.resolved_at - i.issued_at).total_seconds() / 86400
        for i in items
        if i.outcome == "closed" and i.resolved_at and i.issued_at
    ]
    return {
        "organisations_notified": len({i.uscc for i in items}),
        "batches": len({i.batch_id for i in items}),
        "findings_notified": notified,
        "findings_handled": closed + dismissed,
        "closed": closed,
        "dismissed": dismissed,
        "open": notified - closed - dismissed,
        "overdue": overdue,
        "closure_rate": _rate(closed + dismissed, notified),
        "overdue_rate": _rate(overdue, notified),
        "median_days_to_close": round(median(days), 2) if days else None,
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _grouped(
    items: Iterable[_Item],
    key: Callable[[_Item], str],
    label: Callable[[_Item], dict[str, Any]],
) -> list[dict[str, Any]]:
    groups: dict[str, list[_Item]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return [{**label(group[0]), **_figures(group)} for _k, group in sorted(groups.items())]
