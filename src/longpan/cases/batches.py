"""Batches (批次): draft → approved → issued, or cancelled.

A draft already holds its notices (one per responsible organisation) and their items,
so the supervisor approves exactly what will be sent. Approval needs a supervisor other
than the batch's creator (four-eyes principle). Issuing sets the deadline in working
days from the issue date, renders each notice's PDF and Excel, and moves the findings
to ``notified``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from longpan.cases.access import (
    READERS,
    STAFF,
    Actor,
    ForbiddenError,
    StateError,
    get_or_404,
    load_actor,
    require_role,
)
from longpan.cases.deadlines import add_working_days, load_calendar, local_today
from longpan.cases.issue import issue_notices, prepare_documents
from longpan.cases.notices import NoticeView, notice_list_views, usernames
from longpan.cases.selection import BatchPreview, FindingFilter, select_findings
from longpan.cases.transitions import Who
from longpan.cases.uploads import file_store
from longpan.core.errors import InputError
from longpan.store.db import audit, transaction
from longpan.store.models import Batch, Notice, NoticeItem, Organisation, User
from longpan.store.models.case import BATCH_STATUSES
from longpan.store.workspace import Workspace

MAX_DEADLINE_DAYS = 60


@dataclass(frozen=True)
class BatchView:
    id: int
    title: str
    document_number: str
    status: str
    filters: dict[str, Any]
    deadline_days: int
    issuing_office: str
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    issued_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    notice_count: int
    finding_count: int
    notices: list[NoticeView] = field(default_factory=list)


def preview_batch(ws: Workspace, actor: Actor, filters: FindingFilter) -> BatchPreview:
    """What a batch with these filters would gather, by organisation. Writes nothing."""
    with ws.sessions() as session:
        require_role(load_actor(session, actor), STAFF, "组建批次 (build batches)")
        return select_findings(ws, session, filters)


def create_batch(
    ws: Workspace,
    actor: Actor,
    *,
    title: str,
    document_number: str,
    filters: FindingFilter,
    deadline_days: int,
    issuing_office: str,
    address: str | None = None,
) -> BatchView:
    """A draft batch with one draft notice per responsible organisation."""
    fields = _checked_fields(title, document_number, issuing_office, deadline_days)
    with transaction(ws.sessions) as session:
        user = load_actor(session, actor)
        require_role(user, STAFF, "组建批次 (build batches)")
        _refuse_duplicate(session, fields["document_number"])
        preview = select_findings(ws, session, filters)
        if not preview.groups:
            raise InputError(
                "筛选结果中没有可通报的线索 (no addressable finding matches the filters)",
                column="filters",
            )
        batch = Batch(
            **fields,
            filters=filters.to_json(),
            status="draft",
            deadline_days=deadline_days,
            created_by_id=user.id,
            created_at=ws.clock(),
        )
        session.add(batch)
        session.flush()
        _add_notices(session, batch, preview)
        _audit(session, user, address, ws, "batch.created", batch, _preview_counts(preview))
        return _view(session, batch, ws)


def _checked_fields(
    title: str, document_number: str, issuing_office: str, deadline_days: int
) -> dict[str, str]:
    values = {
        "title": (title or "").strip(),
        "document_number": (document_number or "").strip(),
        "issuing_office": (issuing_office or "").strip(),
    }
    for name, value in values.items():
        if not value:
            raise InputError(f"{name} 不能为空 (is required)", column=name)
        if len(value) > 120:
            raise InputError(f"{name} 过长 (at most 120 characters)", column=name)
    if not 1 <= deadline_days <= MAX_DEADLINE_DAYS:
        raise InputError(
            f"整改期限须为 1–{MAX_DEADLINE_DAYS} 个工作日 (deadline_days must be "
            f"1..{MAX_DEADLINE_DAYS}, got {deadline_days})",
            column="deadline_days",
        )
    return values


def _refuse_duplicate(session: Session, document_number: str) -> None:
    if session.scalar(select(Batch.id).where(Batch.document_number == document_number)):
        raise InputError(
            f"文号 {document_number} 已被使用 (document number already used)",
            column="document_number",
        )


def _add_notices(session: Session, batch: Batch, preview: BatchPreview) -> None:
    for seq, group in enumerate(preview.groups, start=1):
        notice = Notice(
            batch_id=batch.id,
            organisation_id=group.organisation_id,
            number=f"{batch.document_number}-{seq:03d}",
            status="draft",
            reminder_count=0,
        )
        session.add(notice)
        session.flush()
        session.add_all(NoticeItem(notice_id=notice.id, finding_id=f.id) for f in group.findings)


def _preview_counts(preview: BatchPreview) -> dict[str, Any]:
    return {
        "organisations": len(preview.groups),
        "findings": len(preview.finding_ids),
        "unaddressable": [f.id for f in preview.unaddressable],
        "held": [f.id for f in preview.held],
    }


def approve_batch(
    ws: Workspace, actor: Actor, batch_id: int, *, address: str | None = None
) -> BatchView:
    """A supervisor other than the creator approves a draft."""
    with transaction(ws.sessions) as session:
        user = load_actor(session, actor)
        require_role(user, ("supervisor",), "审批批次 (approve batches)")
        batch = _batch_in(session, batch_id, ("draft",), "approve")
        if batch.created_by_id == user.id:
            raise ForbiddenError(
                "不能审批自己组建的批次 (a batch must be approved by someone other than "
                "its creator)"
            )
        batch.status, batch.approved_by_id, batch.approved_at = "approved", user.id, ws.clock()
        _audit(session, user, address, ws, "batch.approved", batch, {})
        return _view(session, batch, ws)


def issue_batch(
    ws: Workspace, actor: Actor, batch_id: int, *, address: str | None = None
) -> BatchView:
    """Send an approved batch: deadlines, documents, findings → notified.

    The documents are rendered first, outside the write transaction (see issue.py).
    """
    with file_store(ws.settings) as files:
        with ws.sessions() as session:
            require_role(load_actor(session, actor), STAFF, "下发批次 (issue batches)")
            today = local_today(ws.clock)
            batch = _batch_in(session, batch_id, ("approved",), "issue", lock=False)
            calendar = load_calendar(ws.settings.workday_calendar)
            deadline = add_working_days(today, batch.deadline_days, calendar)
            prepared = prepare_documents(session, files, batch, today, deadline)
        with transaction(ws.sessions) as session:
            user = load_actor(session, actor)
            require_role(user, STAFF, "下发批次 (issue batches)")
            batch = _batch_in(session, batch_id, ("approved",), "issue", lock=True)
            who = Who(user.username, address, ws.clock)
            batch.issue_date = today
            dropped = issue_notices(session, files, batch, who, prepared, deadline)
            batch.status, batch.issued_by_id, batch.issued_at = "issued", user.id, ws.clock()
            details = {"dropped_findings": dropped}
            _audit(session, user, address, ws, "batch.issued", batch, details)
            return _view(session, batch, ws)


def cancel_batch(
    ws: Workspace, actor: Actor, batch_id: int, *, reason: str, address: str | None = None
) -> BatchView:
    """Withdraw a batch that was not issued yet; its findings become selectable again."""
    if not (reason or "").strip():
        raise InputError("请填写撤销原因 (a reason is required)", column="reason")
    with transaction(ws.sessions) as session:
        user = load_actor(session, actor)
        require_role(user, STAFF, "撤销批次 (cancel batches)")
        batch = _batch_in(session, batch_id, ("draft", "approved"), "cancel")
        if user.role == "analyst" and batch.created_by_id != user.id:
            raise ForbiddenError("只能撤销自己组建的批次 (analysts cancel only their own batches)")
        batch.status, batch.cancelled_at, batch.cancel_reason = "cancelled", ws.clock(), reason
        for notice in session.scalars(select(Notice).where(Notice.batch_id == batch.id)):
            notice.status = "cancelled"
        _audit(session, user, address, ws, "batch.cancelled", batch, {"reason": reason})
        return _view(session, batch, ws)


def _batch_in(
    session: Session, batch_id: int, states: tuple[str, ...], verb: str, lock: bool = True
) -> Batch:
    """The batch, locked for update (PostgreSQL) so concurrent changes serialise."""
    batch = get_or_404(session, Batch, batch_id, "批次 batch", lock=lock)
    if batch.status not in states:
        raise StateError(
            f"批次当前状态为 {batch.status}，不能执行该操作 (cannot {verb} a batch that is "
            f"{batch.status})",
            column="status",
        )
    return batch


def list_batches(ws: Workspace, actor: Actor, *, status: str | None = None) -> list[BatchView]:
    """Every batch, newest first (regulator staff and auditors)."""
    if status is not None and status not in BATCH_STATUSES:
        raise InputError(f"unknown batch status {status!r}", column="status")
    with ws.sessions() as session:
        require_role(load_actor(session, actor), READERS, "查看批次 (read batches)")
        query = select(Batch).order_by(Batch.id.desc())
        if status:
            query = query.where(Batch.status == status)
        return [_view(session, b, ws, with_notices=False) for b in session.scalars(query)]


def get_batch(ws: Workspace, actor: Actor, batch_id: int) -> BatchView:
    with ws.sessions() as session:
        require_role(load_actor(session, actor), READERS, "查看批次 (read batches)")
        return _view(session, get_or_404(session, Batch, batch_id, "批次 batch"), ws)


def _view(session: Session, batch: Batch, ws: Workspace, with_notices: bool = True) -> BatchView:
    rows = list(
        session.execute(
            select(Notice, Batch, Organisation)
            .join(Batch, Batch.id == Notice.batch_id)
            .join(Organisation, Organisation.id == Notice.organisation_id)
            .where(Notice.batch_id == batch.id)
            .order_by(Notice.number)
        )
    )
    notices = notice_list_views(session, rows, local_today(ws.clock))
    names = usernames(session, {batch.created_by_id, batch.approved_by_id or batch.created_by_id})
    return BatchView(
        id=batch.id,
        title=batch.title,
        document_number=batch.document_number,
        status=batch.status,
        filters=batch.filters,
        deadline_days=batch.deadline_days,
        issuing_office=batch.issuing_office,
        created_by=names[batch.created_by_id],
        created_at=batch.created_at,
        approved_by=names.get(batch.approved_by_id) if batch.approved_by_id else None,
        approved_at=batch.approved_at,
        issued_at=batch.issued_at,
        cancelled_at=batch.cancelled_at,
        cancel_reason=batch.cancel_reason,
        notice_count=sum(1 for n in notices if n.status != "cancelled"),
        finding_count=sum(n.item_count for n in notices if n.status != "cancelled"),
        notices=notices if with_notices else [],
    )


def _audit(
    session: Session,
    user: User,
    address: str | None,
    ws: Workspace,
    action: str,
    batch: Batch,
    details: dict[str, Any],
) -> None:
    audit(
        session,
        actor=user.username,
        action=action,
        object_type="batch",
        object_id=str(batch.id),
        details={"title": batch.title, "document_number": batch.document_number, **details},
        address=address,
        clock=ws.clock,
    )
