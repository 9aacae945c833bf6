"""Enterprise answers (整改反馈) to the findings of their organisation's notices.

- rectified (已整改): what was done, optional evidence files → finding answered; the
  platform then verifies it (verify.py);
- disputed (有异议): the reason → finding answered; a supervisor decides (decisions.py);
- extension (申请延期): the reason and a later date → a supervisor decides; the finding
  stays with the enterprise meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from longpan.cases.access import (
    Actor,
    StateError,
    check_notice_visible,
    get_or_404,
    load_actor,
    require_role,
)
from longpan.cases.notices import usernames
from longpan.cases.transitions import AWAITING_ENTERPRISE, Who, move_finding
from longpan.cases.uploads import CheckedUpload, FileStore, Upload, check_uploads, file_store
from longpan.cases.views import AnswerView, answer_view
from longpan.core.errors import InputError
from longpan.store.db import audit, transaction
from longpan.store.models import Answer, Attachment, Finding, Notice, NoticeItem, User
from longpan.store.models.case import ANSWER_KINDS
from longpan.store.workspace import Workspace

MAX_TEXT = 5000


def submit_answer(
    ws: Workspace,
    actor: Actor,
    item_id: int,
    *,
    kind: str,
    text: str,
    requested_deadline: date | None = None,
    uploads: Sequence[Upload] = (),
    address: str | None = None,
) -> AnswerView:
    """Record an enterprise user's answer to one item of their organisation's notice."""
    text = _checked_text(kind, text)
    checked = check_uploads(list(uploads), ws.settings.upload_max_bytes)
    with file_store(ws.settings) as files, transaction(ws.sessions) as session:
        user = load_actor(session, actor)
        require_role(user, ("enterprise",), "反馈整改情况 (answer notices)")
        item, finding = _answerable_item(session, user, item_id)
        _check_kind(session, kind, item, requested_deadline)
        answer = Answer(
            item_id=item.id,
            kind=kind,
            text=text,
            requested_deadline=requested_deadline if kind == "extension" else None,
            author_id=user.id,
            created_at=ws.clock(),
            decision="pending",
        )
        session.add(answer)
        session.flush()
        stored = _store(session, files, answer, user, checked, ws)
        who = Who(user.username, address, ws.clock)
        if kind != "extension":
            move_finding(session, finding, "answered", who, {"answer": answer.id, "kind": kind})
        _audit(session, answer, finding, who, [a.id for a in stored])
        return answer_view(answer, usernames(session, {user.id}), stored)


def _checked_text(kind: str, text: str) -> str:
    if kind not in ANSWER_KINDS:
        raise InputError(
            f"unknown answer kind {kind!r}; use {', '.join(ANSWER_KINDS)}", column="kind"
        )
    cleaned = (text or "").strip()
    if not cleaned:
        raise InputError(
            "请填写整改说明或理由 (a description or reason is required)", column="text"
        )
    if len(cleaned) > MAX_TEXT:
        raise InputError(f"说明过长 (at most {MAX_TEXT} characters)", column="text")
    return cleaned


def _answerable_item(session: Session, user: User, item_id: int) -> tuple[NoticeItem, Finding]:
    item = get_or_404(session, NoticeItem, item_id, "线索 item")
    notice = session.get_one(Notice, item.notice_id)
    check_notice_visible(user, notice)  # another organisation's item: not found
    finding = session.get_one(Finding, item.finding_id, with_for_update=True)
    if notice.status != "issued" or item.outcome is not None:
        raise StateError("该线索已办结 (this item is already resolved)", column="status")
    if finding.status not in AWAITING_ENTERPRISE:
        raise StateError(
            f"该线索状态为 {finding.status}，当前无需反馈 (the finding is {finding.status}; "
            "no answer is expected now)",
            column="status",
        )
    return item, finding


def _check_kind(
    session: Session, kind: str, item: NoticeItem, requested_deadline: date | None
) -> None:
    if kind != "extension":
        return
    if requested_deadline is None:
        raise InputError(
            "请填写申请的新期限 (the requested date is required)", column="requested_deadline"
        )
    if item.deadline is not None and requested_deadline <= item.deadline:
        raise InputError(
            f"新期限须晚于当前期限 {item.deadline} (the requested date must be after "
            f"{item.deadline})",
            column="requested_deadline",
        )
    pending = session.scalar(
        select(Answer.id).where(
            Answer.item_id == item.id, Answer.kind == "extension", Answer.decision == "pending"
        )
    )
    if pending is not None:
        raise StateError(
            "已有待审批的延期申请 (an extension request is already pending)", column="kind"
        )


def _store(
    session: Session,
    files: FileStore,
    answer: Answer,
    user: User,
    checked: list[CheckedUpload],
    ws: Workspace,
) -> list[Attachment]:
    stored = []
    for upload in checked:
        saved = files.put(upload.data)
        attachment = Attachment(
            kind="evidence",
            stored_name=saved.stored_name,
            original_name=upload.name,
            content_type=upload.content_type,
            size=saved.size,
            sha256=saved.sha256,
            answer_id=answer.id,
            uploaded_by_id=user.id,
            created_at=ws.clock(),
        )
        session.add(attachment)
        stored.append(attachment)
    session.flush()
    return stored


def _audit(
    session: Session, answer: Answer, finding: Finding, who: Who, attachment_ids: list[int]
) -> None:
    audit(
        session,
        actor=who.username,
        action="answer.submitted",
        object_type="answer",
        object_id=str(answer.id),
        details={
            "kind": answer.kind,
            "item_id": answer.item_id,
            "finding_id": finding.id,
            "requested_deadline": (
                answer.requested_deadline.isoformat() if answer.requested_deadline else None
            ),
            "attachments": attachment_ids,
        },
        address=who.address,
        clock=who.clock,
    )
