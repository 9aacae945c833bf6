"""The whole loop on the example province: notify → rectify → verify (by re-running the
real detectors through the runner) → measure; every state change audited."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from longpan.cases.access import ForbiddenError, StateError
from longpan.cases.answers import submit_answer
from longpan.cases.notices import get_notice, list_notices
from longpan.cases.selection import FindingFilter
from longpan.cases.verify import verify_answer, verify_pending
from longpan.core.errors import NotFoundError
from longpan.metrics.loop import loop_figures
from longpan.resources.ingest import ingest_folder
from longpan.store.db import transaction
from longpan.store.models import AuditEntry, DetectionRun, Finding, Verification
from longpan.store.workspace import Workspace
from tests.cases.conftest import (
    ORG_A,
    People,
    audit_actions,
    issued_batch,
    set_clock,
    set_entity_status,
)

# 苏ICP备16078901号's subject (南京鼎新, 注销) and zhangweiblog.net (moved abroad) are both
# attributed to 南京云擎 (ORG_A) in the example province.
DISSOLVED_ENTITY = "91320104MA1M8C0L7D"
FIXED, NOT_FIXED = "苏ICP备16078901号", "zhangweiblog.net"


def _finding(ws: Workspace, subject: str) -> Finding:
    with ws.sessions() as session:
        return session.scalars(select(Finding).where(Finding.subject == subject)).one()


def test_rectified_and_fixed_closes_not_fixed_reopens(
    lake_loop: tuple[Workspace, People, Path],
) -> None:
    ws, people, folder = lake_loop
    issued_batch(ws, people, FindingFilter(organisations=(ORG_A[0],)))
    [notice] = list_notices(ws, people.ent_a)
    items = {i.subject: i for i in get_notice(ws, people.ent_a, notice.id).items}
    assert set(items) == {FIXED, NOT_FIXED}
    assert {i.type for i in items.values()} == {"dissolved_subject", "domain_moved_abroad"}
    before = loop_figures(ws)["overall"]
    assert (before["findings_notified"], before["closed"], before["closure_rate"]) == (2, 0, 0.0)

    # The enterprise answers both; only the first one's data is fixed in the registry.
    fixed = submit_answer(
        ws, people.ent_a, items[FIXED].id, kind="rectified", text="主体已恢复存续"
    )
    not_fixed = submit_answer(
        ws, people.ent_a, items[NOT_FIXED].id, kind="rectified", text="已迁回"
    )
    set_entity_status(folder, DISSOLVED_ENTITY, "存续")
    ingest_folder(ws, folder)

    gone = verify_answer(ws, people.ent_a, fixed.id, address="192.0.2.7")
    assert gone.outcome == "gone" and gone.evidence_after is None
    assert gone.evidence_before["registry"]["status"] in ("注销", "吊销")
    assert _finding(ws, FIXED).status == "closed"
    with ws.sessions() as session:  # it went through the runner: a real run, scoped
        run = session.get_one(DetectionRun, gone.run_id)
        assert run.detectors == ["dissolved_subject"] and run.status == "succeeded"

    present = verify_answer(ws, people.analyst, not_fixed.id, address="10.0.0.1")
    assert present.outcome == "still_present"
    assert present.evidence_before and present.evidence_after  # both results kept
    assert _finding(ws, NOT_FIXED).status == "reopened"

    view = get_notice(ws, people.ent_a, notice.id)
    by_subject = {i.subject: i for i in view.items}
    assert by_subject[FIXED].outcome == "closed" and not by_subject[FIXED].can_answer
    assert by_subject[NOT_FIXED].outcome is None and by_subject[NOT_FIXED].can_answer
    assert by_subject[NOT_FIXED].answers[0].decision == "rejected"
    assert by_subject[NOT_FIXED].verifications[0].outcome == "still_present"
    assert view.status == "issued"  # one item is still open

    after = loop_figures(ws)["overall"]
    assert (after["closed"], after["open"], after["closure_rate"]) == (1, 1, 0.5)
    assert after["median_days_to_close"] is not None

    actions = audit_actions(ws)
    for expected in (
        ("ent_a", "answer.submitted", None),
        ("ent_a", "finding.verifying", "192.0.2.7"),
        ("ent_a", "verification.finished", "192.0.2.7"),
        ("ent_a", "finding.closed", "192.0.2.7"),
        ("ana", "finding.reopened", "10.0.0.1"),
    ):
        assert expected in actions, expected
    assert any(a == "detection.succeeded" and "verification" in u for u, a, _ in actions)


def test_reopened_can_be_answered_again_and_closes_the_notice(
    lake_loop: tuple[Workspace, People, Path],
) -> None:
    ws, people, folder = lake_loop
    issued_batch(ws, people, FindingFilter(organisations=(ORG_A[0],), types=("dissolved_subject",)))
    [notice] = list_notices(ws, people.ent_a)
    [item] = get_notice(ws, people.ent_a, notice.id).items
    first = submit_answer(ws, people.ent_a, item.id, kind="rectified", text="处理中")
    assert verify_answer(ws, people.ent_a, first.id).outcome == "still_present"
    with pytest.raises(StateError):  # a decided answer is not verified twice
        verify_answer(ws, people.ent_a, first.id)

    set_entity_status(folder, DISSOLVED_ENTITY, "存续")
    ingest_folder(ws, folder)
    second = submit_answer(ws, people.ent_a, item.id, kind="rectified", text="已恢复存续")
    [done] = verify_pending(ws, people.analyst)
    assert (done.answer_id, done.outcome) == (second.id, "gone")
    closed = get_notice(ws, people.ent_a, notice.id)
    assert closed.status == "closed" and closed.closed_at is not None
    assert "notice.closed" in [a for _u, a, _addr in audit_actions(ws)]


def test_who_may_start_a_verification(lake_loop: tuple[Workspace, People, Path]) -> None:
    ws, people, _folder = lake_loop
    issued_batch(ws, people, FindingFilter(organisations=(ORG_A[0],), types=("dissolved_subject",)))
    [notice] = list_notices(ws, people.ent_a)
    [item] = get_notice(ws, people.ent_a, notice.id).items
    answer = submit_answer(ws, people.ent_a, item.id, kind="rectified", text="done")
    with pytest.raises(ForbiddenError):
        verify_answer(ws, people.auditor, answer.id)
    with pytest.raises(NotFoundError):
        verify_answer(ws, people.ent_b, answer.id)  # another organisation's answer
    assert _finding(ws, FIXED).status == "answered"


def test_a_findings_history_is_in_the_audit_log_under_its_subject(
    lake_loop: tuple[Workspace, People, Path],
) -> None:
    ws, people, folder = lake_loop
    issued_batch(ws, people, FindingFilter(organisations=(ORG_A[0],), types=("dissolved_subject",)))
    [notice] = list_notices(ws, people.ent_a)
    [item] = get_notice(ws, people.ent_a, notice.id).items
    answer = submit_answer(ws, people.ent_a, item.id, kind="rectified", text="已恢复存续")
    set_entity_status(folder, DISSOLVED_ENTITY, "存续")
    ingest_folder(ws, folder)
    verify_answer(ws, people.ent_a, answer.id)
    with ws.sessions() as session:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "finding")
            .where(AuditEntry.object_id == f"dissolved_subject:{FIXED}")
            .order_by(AuditEntry.id)
        )
        history = [(r.actor, r.action, r.details.get("from")) for r in rows]
    assert history == [
        ("system:detect", "finding.opened", None),
        ("ana", "finding.notified", "open"),
        ("ent_a", "finding.answered", "notified"),
        ("ent_a", "finding.verifying", "answered"),
        ("system:detect", "finding.not_observed", None),  # the verification's own run
        ("ent_a", "finding.closed", "verifying"),
    ]


def test_an_abandoned_verification_is_taken_up_again(
    lake_loop: tuple[Workspace, People, Path],
) -> None:
    ws, people, _folder = lake_loop
    issued_batch(ws, people, FindingFilter(organisations=(ORG_A[0],), types=("dissolved_subject",)))
    [notice] = list_notices(ws, people.ent_a)
    [item] = get_notice(ws, people.ent_a, notice.id).items
    answer = submit_answer(ws, people.ent_a, item.id, kind="rectified", text="done")
    with transaction(ws.sessions) as session:  # a verification whose process died mid-run
        finding = session.get_one(Finding, item.finding_id)
        finding.status = "verifying"
        session.add(
            Verification(
                finding_id=finding.id,
                answer_id=answer.id,
                evidence_before=finding.evidence,
                requested_by_id=people.ent_a.id,
                started_at=ws.clock(),
            )
        )
    assert verify_pending(ws, people.analyst) == []  # too recent to call abandoned
    set_clock(ws, ws.clock() + timedelta(hours=2))
    [redone] = verify_pending(ws, people.analyst)
    assert redone.outcome == "still_present"  # the data was not fixed
    assert _finding(ws, FIXED).status == "reopened"
    assert "verification.abandoned" in [a for _u, a, _addr in audit_actions(ws)]
