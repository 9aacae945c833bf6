"""Reading notices (通报): lists, one notice with its items, attachments.

Enterprise users see only their own organisation's issued notices; another
organisation's notice is "not found" (404), never "forbidden", so ids do not leak.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from longpan.cases.access import ISSUED_STATES, Actor, check_notice_visible, get_or_404, load_actor
from longpan.cases.deadlines import local_today
from longpan.cases.transitions import AWAITING_ENTERPRISE
from longpan.cases.uploads import stored_path
from longpan.cases.views import (
    AnswerView,
    AttachmentView,
    VerificationView,
    answer_view,
    attachment_view,
    evidence_summary,
    verification_view,
)
from longpan.core.errors import InputError
from longpan.detect.registry import finding_type_title
from longpan.store.models import (
    Answer,
    Attachment,
    Batch,
    Finding,
    Notice,
    NoticeItem,
    Organisation,
    User,
    Verification,
)
from longpan.store.models.case import NOTICE_STATUSES
from longpan.store.workspace import Workspace


@dataclass(frozen=True)
class ItemView:
    id: int
    notice_id: int
    finding_id: int
    type: str
    type_title: str
    type_title_en: str
    subject: str
    severity: str
    finding_status: str
    deadline: date | None
    resolved_at: datetime | None
    outcome: str | None
    overdue: bool
    can_answer: bool
    summary: str
    evidence: dict[str, Any]
    answers: list[AnswerView] = field(default_factory=list)
    verifications: list[VerificationView] = field(default_factory=list)


@dataclass(frozen=True)
class NoticeView:
    id: int
    batch_id: int
    batch_title: str
    document_number: str
    number: str
    organisation_id: int
    organisation_uscc: str
    organisation_name: str
    status: str
    deadline: date | None
    issued_at: datetime | None
    closed_at: datetime | None
    last_reminded_at: datetime | None
    reminder_count: int
    item_count: int
    open_item_count: int
    overdue: bool
    items: list[ItemView] = field(default_factory=list)
    attachments: list[AttachmentView] = field(default_factory=list)


def is_overdue(item: NoticeItem, finding: Finding, today: date) -> bool:
    """Past its deadline while the enterprise still owes an answer."""
    return (
        item.outcome is None
        and finding.status in AWAITING_ENTERPRISE
        and item.deadline is not None
        and item.deadline < today
    )


def _notice_query(user: User) -> Select[Notice, Batch, Organisation]:
    query = (
        select(Notice, Batch, Organisation)
        .join(Batch, Batch.id == Notice.batch_id)
        .join(Organisation, Organisation.id == Notice.organisation_id)
        .order_by(Notice.id.desc())
    )
    if user.role == "enterprise":
        query = query.where(
            Notice.organisation_id == user.organisation_id, Notice.status.in_(ISSUED_STATES)
        )
    return query


def list_notices(
    ws: Workspace,
    actor: Actor,
    *,
    batch_id: int | None = None,
    status: str | None = None,
    overdue: bool | None = None,
) -> list[NoticeView]:
    """Notices the actor may see, newest first (without items)."""
    if status is not None and status not in NOTICE_STATUSES:
        raise InputError(f"unknown notice status {status!r}", column="status")
    with ws.sessions() as session:
        user = load_actor(session, actor)
        query = _notice_query(user)
        if batch_id is not None:
            query = query.where(Notice.batch_id == batch_id)
        if status is not None:
            query = query.where(Notice.status == status)
        rows = list(session.execute(query))
        views = notice_list_views(session, rows, local_today(ws.clock))
    return [v for v in views if overdue is None or v.overdue == overdue]


def notice_list_views(
    session: Session, rows: Sequence[tuple[Notice, Batch, Organisation]], today: date
) -> list[NoticeView]:
    ids = [n.id for n, _b, _o in rows]
    totals, open_counts, late = _item_counts(session, ids, today)
    return [
        _notice_view(n, b, o, totals[n.id], open_counts[n.id], n.id in late) for n, b, o in rows
    ]


def _item_counts(
    session: Session, notice_ids: list[int], today: date
) -> tuple[Counter[int], Counter[int], set[int]]:
    totals: Counter[int] = Counter()
    open_counts: Counter[int] = Counter()
    late: set[int] = set()
    for start in range(0, len(notice_ids), 500):
        chunk = notice_ids[start : start + 500]
        query = (
            select(NoticeItem, Finding)
            .join(Finding, Finding.id == NoticeItem.finding_id)
            .where(NoticeItem.notice_id.in_(chunk))
        )
        for item, finding in session.execute(query):
            if item.outcome == "dropped":
                continue
            totals[item.notice_id] += 1
            open_counts[item.notice_id] += item.outcome is None
            if is_overdue(item, finding, today):
                late.add(item.notice_id)
    return totals, open_counts, late


def _notice_view(
    n: Notice,
    b: Batch,
    o: Organisation,
    total: int,
    open_count: int,
    overdue: bool,
    items: list[ItemView] | None = None,
    attachments: list[AttachmentView] | None = None,
) -> NoticeView:
    return NoticeView(
        id=n.id,
        batch_id=b.id,
        batch_title=b.title,
        document_number=b.document_number,
        number=n.number,
        organisation_id=o.id,
        organisation_uscc=o.uscc,
        organisation_name=o.name,
        status=n.status,
        deadline=n.deadline,
        issued_at=n.issued_at,
        closed_at=n.closed_at,
        last_reminded_at=n.last_reminded_at,
        reminder_count=n.reminder_count,
        item_count=total,
        open_item_count=open_count,
        overdue=overdue,
        items=items or [],
        attachments=attachments or [],
    )


def get_notice(ws: Workspace, actor: Actor, notice_id: int) -> NoticeView:
    """One notice with its items, answers, verifications and attachments."""
    with ws.sessions() as session:
        user = load_actor(session, actor)
        notice = get_or_404(session, Notice, notice_id, "通报 notice")
        check_notice_visible(user, notice)
        return notice_detail(session, notice, user, local_today(ws.clock))


def notice_detail(session: Session, notice: Notice, user: User, today: date) -> NoticeView:
    batch = session.get_one(Batch, notice.batch_id)
    org = session.get_one(Organisation, notice.organisation_id)
    pairs = list(
        session.execute(
            select(NoticeItem, Finding)
            .join(Finding, Finding.id == NoticeItem.finding_id)
            .where(NoticeItem.notice_id == notice.id)
            .order_by(NoticeItem.id)
        )
    )
    items = _item_views(session, notice, pairs, user, today)
    shown = [i for i in items if i.outcome != "dropped"]
    attachments = session.scalars(
        select(Attachment).where(Attachment.notice_id == notice.id).order_by(Attachment.id)
    )
    return _notice_view(
        notice,
        batch,
        org,
        len(shown),
        sum(i.outcome is None for i in shown),
        any(i.overdue for i in shown),
        items,
        [attachment_view(a) for a in attachments],
    )


def _item_views(
    session: Session,
    notice: Notice,
    pairs: Sequence[tuple[NoticeItem, Finding]],
    user: User,
    today: date,
) -> list[ItemView]:
    item_ids = [item.id for item, _f in pairs]
    answers = list(
        session.scalars(select(Answer).where(Answer.item_id.in_(item_ids)).order_by(Answer.id))
    )
    answer_ids = [a.id for a in answers]
    files = list(session.scalars(select(Attachment).where(Attachment.answer_id.in_(answer_ids))))
    checks = list(
        session.scalars(
            select(Verification)
            .where(Verification.answer_id.in_(answer_ids))
            .order_by(Verification.id)
        )
    )
    names = usernames(session, {a.author_id for a in answers} | _deciders(answers))
    answerable = user.role == "enterprise" and notice.status == "issued"
    return [
        _item_view(item, f, answers, files, checks, names, answerable, today) for item, f in pairs
    ]


def _deciders(answers: list[Answer]) -> set[int]:
    return {a.decided_by_id for a in answers if a.decided_by_id is not None}


def _item_view(
    item: NoticeItem,
    f: Finding,
    answers: list[Answer],
    files: list[Attachment],
    checks: list[Verification],
    names: dict[int, str],
    answerable: bool,
    today: date,
) -> ItemView:
    own = [a for a in answers if a.item_id == item.id]
    own_ids = {a.id for a in own}
    return ItemView(
        id=item.id,
        notice_id=item.notice_id,
        finding_id=f.id,
        type=f.type,
        type_title=finding_type_title(f.type, "zh"),
        type_title_en=finding_type_title(f.type, "en"),
        subject=f.subject,
        severity=f.severity,
        finding_status=f.status,
        deadline=item.deadline,
        resolved_at=item.resolved_at,
        outcome=item.outcome,
        overdue=is_overdue(item, f, today),
        can_answer=answerable and item.outcome is None and f.status in AWAITING_ENTERPRISE,
        summary=evidence_summary(f.evidence),
        evidence=f.evidence,
        answers=[answer_view(a, names, files) for a in own],
        verifications=[verification_view(v) for v in checks if v.answer_id in own_ids],
    )


def usernames(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(sorted(ids))))
    return {i: name for i, name in rows}


def open_attachment(ws: Workspace, actor: Actor, attachment_id: int) -> tuple[Path, AttachmentView]:
    """The stored file of an attachment the actor may read, and its metadata."""
    with ws.sessions() as session:
        user = load_actor(session, actor)
        attachment = get_or_404(session, Attachment, attachment_id, "附件 attachment")
        check_notice_visible(user, session.get_one(Notice, _owning_notice(session, attachment)))
        path = stored_path(ws.settings, attachment.stored_name)
        return path, attachment_view(attachment)


def _owning_notice(session: Session, attachment: Attachment) -> int:
    if attachment.notice_id is not None:
        return attachment.notice_id
    item_id = session.scalar(select(Answer.item_id).where(Answer.id == attachment.answer_id))
    notice_id = session.scalar(select(NoticeItem.notice_id).where(NoticeItem.id == item_id))
    assert notice_id is not None  # attachments.owner CHECK: a notice or an answer
    return notice_id
