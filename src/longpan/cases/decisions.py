"""Supervisor decisions: disputes (异议) and extension requests (延期申请).

A dispute accepted dismisses the finding (the reason is kept on the answer and in the
audit log); rejected, the finding goes back to ``notified`` and the enterprise still
owes a rectification. An extension approved moves the item's deadline to the date
asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from longpan.cases.access import READERS, Actor, StateError, get_or_404, load_actor, require_role
from longpan.cases.notices import usernames
from longpan.cases.transitions import Who, move_finding, resolve_item
from longpan.cases.views import AnswerView, answer_view
from longpan.core.errors import InputError
from longpan.detect.registry import finding_type_title
from longpan.store.db import audit, transaction
from longpan.store.models import Answer, Attachment, Finding, Notice, NoticeItem, Organisation, User
from longpan.store.workspace import Workspace

DECIDERS = ("supervisor",)


@dataclass(frozen=True)
class PendingDecision:
    """An answer waiting for a supervisor, with what it is about."""

    answer: AnswerView
    notice_id: int
    notice_number: str
    organisation_name: str
    finding_id: int
    finding_type: str
    type_title: str
    subject: str
    item_deadline: str | None


def decide_dispute(
    ws: Workspace,
    actor: Actor,
    answer_id: int,
    *,
    accept: bool,
    reason: str,
    address: str | None = None,
) -> AnswerView:
    """Accept (dismiss the finding) or reject (back to notified) a dispute."""
    reason = _reason(reason)
    with transaction(ws.sessions) as session:
        user, answer, item, finding = _pending(session, actor, answer_id, "disputed")
        who = Who(user.username, address, ws.clock)
        _decide(answer, user, accept, reason, ws)
        if accept:
            move_finding(
                session, finding, "dismissed", who, {"reason": reason, "answer": answer.id}
            )
            resolve_item(session, item, "dismissed", ws.clock(), who)
        else:
            move_finding(session, finding, "notified", who, {"reason": reason, "answer": answer.id})
        _audit(session, who, f"dispute.{'accepted' if accept else 'rejected'}", answer, reason)
        return _view(session, answer)


def decide_extension(
    ws: Workspace,
    actor: Actor,
    answer_id: int,
    *,
    approve: bool,
    reason: str,
    address: str | None = None,
) -> AnswerView:
    """Approve (move the item's deadline) or reject an extension request."""
    reason = _reason(reason)
    with transaction(ws.sessions) as session:
        user, answer, item, _finding = _pending(session, actor, answer_id, "extension")
        who = Who(user.username, address, ws.clock)
        _decide(answer, user, approve, reason, ws)
        details = reason
        if approve:
            old, item.deadline = item.deadline, answer.requested_deadline
            details = f"{reason} ({old} → {item.deadline})"
        _audit(session, who, f"extension.{'approved' if approve else 'rejected'}", answer, details)
        return _view(session, answer)


def _reason(reason: str) -> str:
    cleaned = (reason or "").strip()
    if not cleaned:
        raise InputError("请填写理由 (a reason is required)", column="reason")
    return cleaned


def _pending(
    session: Session, actor: Actor, answer_id: int, kind: str
) -> tuple[User, Answer, NoticeItem, Finding]:
    user = load_actor(session, actor)
    require_role(user, DECIDERS, "审批异议和延期 (decide disputes and extensions)")
    answer = get_or_404(session, Answer, answer_id, "反馈 answer", lock=True)
    if answer.kind != kind or answer.decision != "pending":
        raise StateError(
            f"该反馈不是待审批的 {kind} (answer {answer_id} is not a pending {kind})",
            column="answer",
        )
    item = session.get_one(NoticeItem, answer.item_id)
    finding = session.get_one(Finding, item.finding_id, with_for_update=True)
    return user, answer, item, finding


def _decide(answer: Answer, user: User, yes: bool, reason: str, ws: Workspace) -> None:
    answer.decision = "accepted" if yes else "rejected"
    answer.decided_by_id, answer.decided_at, answer.decision_reason = user.id, ws.clock(), reason


def _audit(session: Session, who: Who, action: str, answer: Answer, reason: str) -> None:
    audit(
        session,
        actor=who.username,
        action=action,
        object_type="answer",
        object_id=str(answer.id),
        details={"item_id": answer.item_id, "reason": reason},
        address=who.address,
        clock=who.clock,
    )


def _view(session: Session, answer: Answer) -> AnswerView:
    ids = {answer.author_id} | ({answer.decided_by_id} if answer.decided_by_id else set())
    files = list(session.scalars(select(Attachment).where(Attachment.answer_id == answer.id)))
    return answer_view(answer, usernames(session, ids), files)


def pending_decisions(ws: Workspace, actor: Actor) -> list[PendingDecision]:
    """Disputes and extension requests waiting for a supervisor, oldest first."""
    with ws.sessions() as session:
        require_role(load_actor(session, actor), READERS, "查看待审批事项 (read pending decisions)")
        rows = session.execute(
            select(Answer, NoticeItem, Notice, Organisation, Finding)
            .join(NoticeItem, NoticeItem.id == Answer.item_id)
            .join(Notice, Notice.id == NoticeItem.notice_id)
            .join(Organisation, Organisation.id == Notice.organisation_id)
            .join(Finding, Finding.id == NoticeItem.finding_id)
            .where(Answer.kind.in_(("disputed", "extension")), Answer.decision == "pending")
            .order_by(Answer.id)
        )
        return [
            PendingDecision(
                answer=_view(session, a),
                notice_id=n.id,
                notice_number=n.number,
                organisation_name=o.name,
                finding_id=f.id,
                finding_type=f.type,
                type_title=finding_type_title(f.type, "zh"),
                subject=f.subject,
                item_deadline=i.deadline.isoformat() if i.deadline else None,
            )
            for a, i, n, o, f in rows
        ]
