"""Verification (复核): a rectified answer is checked by re-running the finding's
detector on its subject, through the detection runner like any other run.

The runner refreshes the finding when the detector still reports it and marks it not
observed when it does not; that is the whole test — nothing here knows finding types.
Still present → reopened (answer rejected, before/after evidence kept); gone → closed
(answer accepted, item resolved). A failing detector leaves the finding ``answered``
so the check can be retried, with the error recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from longpan.cases.access import (
    STAFF,
    Actor,
    StateError,
    check_notice_visible,
    get_or_404,
    load_actor,
    require_role,
)
from longpan.cases.transitions import Who, current_item, move_finding, resolve_item
from longpan.cases.views import VerificationView, verification_view
from longpan.core.errors import LongpanError
from longpan.detect.runner import run_detection
from longpan.store.db import audit, transaction
from longpan.store.models import Answer, Finding, Notice, NoticeItem, User, Verification
from longpan.store.workspace import Workspace

ABANDONED_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class _Started:
    verification_id: int
    finding_type: str
    subject: str
    username: str


def verify_answer(
    ws: Workspace,
    actor: Actor,
    answer_id: int,
    *,
    address: str | None = None,
    engine: str | None = None,
) -> VerificationView:
    """Re-check the finding of a rectified answer and close or reopen it."""
    started = _start(ws, actor, answer_id, address)
    try:
        result = run_detection(
            ws,
            engine=engine,
            only=[started.finding_type],
            subjects=[started.subject],
            actor=f"{started.username} (verification)",
        )
        error = "; ".join(f"{k}: {v}" for k, v in result.errors.items()) or None
        run_id: int | None = result.run_id
    except LongpanError as exc:  # e.g. no registered detector produces this type any more
        error, run_id = str(exc), None
    return _finish(ws, started, run_id, error, address)


def _start(ws: Workspace, actor: Actor, answer_id: int, address: str | None) -> _Started:
    with transaction(ws.sessions) as session:
        user = load_actor(session, actor)
        answer = get_or_404(session, Answer, answer_id, "反馈 answer", lock=True)
        item = session.get_one(NoticeItem, answer.item_id)
        _check_may_verify(session, user, item)
        finding = session.get_one(Finding, item.finding_id, with_for_update=True)
        if answer.kind != "rectified" or answer.decision != "pending":
            raise StateError(
                "只有待复核的整改反馈可以复核 (only a pending 'rectified' answer is verified)",
                column="answer",
            )
        who = Who(user.username, address, ws.clock)
        move_finding(session, finding, "verifying", who, {"answer": answer.id})
        check = Verification(
            finding_id=finding.id,
            answer_id=answer.id,
            evidence_before=finding.evidence,
            requested_by_id=user.id,
            started_at=ws.clock(),
        )
        session.add(check)
        session.flush()
        _audit(session, who, "verification.started", check, {"answer": answer.id})
        return _Started(check.id, finding.type, finding.subject, user.username)


def _check_may_verify(session: Session, user: User, item: NoticeItem) -> None:
    notice = session.get_one(Notice, item.notice_id)
    if user.role == "enterprise":
        check_notice_visible(user, notice)
    else:
        require_role(user, STAFF, "发起复核 (start verifications)")


def _finish(
    ws: Workspace, started: _Started, run_id: int | None, error: str | None, address: str | None
) -> VerificationView:
    with transaction(ws.sessions) as session:
        check = session.get_one(Verification, started.verification_id)
        finding = session.get_one(Finding, check.finding_id)
        answer = session.get_one(Answer, check.answer_id)
        who = Who(started.username, address, ws.clock)
        check.run_id, check.finished_at = run_id, ws.clock()
        if error is not None:
            check.outcome, check.error = "error", error
            move_finding(session, finding, "answered", who, {"verification": check.id})
        elif finding.observed:
            _still_present(session, check, finding, answer, who)
        else:
            _gone(session, check, finding, answer, who)
        _audit(session, who, "verification.finished", check, {"outcome": check.outcome})
        return verification_view(check)


def _still_present(
    session: Session, check: Verification, finding: Finding, answer: Answer, who: Who
) -> None:
    check.outcome, check.evidence_after = "still_present", finding.evidence
    answer.decision, answer.decided_at = "rejected", who.clock()
    answer.decision_reason = "复核仍存在 (verification: still present)"
    move_finding(session, finding, "reopened", who, {"verification": check.id})


def _gone(
    session: Session, check: Verification, finding: Finding, answer: Answer, who: Who
) -> None:
    check.outcome, check.evidence_after = "gone", None
    answer.decision, answer.decided_at = "accepted", who.clock()
    answer.decision_reason = "复核通过 (verification: no longer detected)"
    move_finding(session, finding, "closed", who, {"verification": check.id})
    item = current_item(session, finding.id)
    if item is not None:
        resolve_item(session, item, "closed", who.clock(), who)


def _audit(
    session: Session, who: Who, action: str, check: Verification, details: dict[str, object]
) -> None:
    audit(
        session,
        actor=who.username,
        action=action,
        object_type="verification",
        object_id=str(check.id),
        details={"finding_id": check.finding_id, "run_id": check.run_id, **details},
        address=who.address,
        clock=who.clock,
    )


def verify_pending(
    ws: Workspace, actor: Actor, *, address: str | None = None, engine: str | None = None
) -> list[VerificationView]:
    """Verify every rectified answer still waiting for its check (e.g. after a failure).

    A verification left unfinished for over an hour (the process died mid-run) is
    marked abandoned and its finding handed back, so it is checked again here.
    """
    _release_abandoned(ws, actor, address)
    with ws.sessions() as session:
        require_role(load_actor(session, actor), STAFF, "发起复核 (start verifications)")
        waiting = list(
            session.scalars(
                select(Answer.id)
                .join(NoticeItem, NoticeItem.id == Answer.item_id)
                .join(Finding, Finding.id == NoticeItem.finding_id)
                .where(
                    Answer.kind == "rectified",
                    Answer.decision == "pending",
                    Finding.status == "answered",
                )
                .order_by(Answer.id)
            )
        )
    return [verify_answer(ws, actor, a, address=address, engine=engine) for a in waiting]


def _release_abandoned(ws: Workspace, actor: Actor, address: str | None) -> None:
    with transaction(ws.sessions) as session:
        user = load_actor(session, actor)
        require_role(user, STAFF, "发起复核 (start verifications)")
        cutoff = ws.clock() - ABANDONED_AFTER
        stale = session.scalars(
            select(Verification).where(
                Verification.finished_at.is_(None), Verification.started_at < cutoff
            )
        )
        who = Who(user.username, address, ws.clock)
        for check in stale:
            check.outcome, check.error, check.finished_at = "error", "abandoned", ws.clock()
            finding = session.get_one(Finding, check.finding_id, with_for_update=True)
            if finding.status == "verifying":
                move_finding(session, finding, "answered", who, {"verification": check.id})
            _audit(session, who, "verification.abandoned", check, {})
