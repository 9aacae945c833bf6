"""Closed-loop figures: organisations notified, batches, handled, closure and overdue
rates, median time to close — overall and by type, organisation and batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from longpan.cases.answers import submit_answer
from longpan.cases.decisions import decide_dispute
from longpan.cases.notices import get_notice, list_notices
from longpan.cases.selection import FindingFilter
from longpan.cases.verify import verify_answer
from longpan.detect.runner import run_detection
from longpan.metrics.loop import loop_figures
from longpan.metrics.report import build_report
from longpan.resources.ingest import ingest_folder
from longpan.store.workspace import Workspace
from tests.cases.conftest import (
    LOOP_TYPES,
    ORG_A,
    ORG_B,
    issued_batch,
    make_people,
    set_clock,
    set_entity_status,
)

ISSUED = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # Monday; 10 working days → 17 March


def test_loop_figures_follow_the_loop(ws: Workspace, example_copy: Path) -> None:
    ingest_folder(ws, example_copy)
    assert run_detection(ws, only=LOOP_TYPES).status == "succeeded"
    people = make_people(ws)
    assert loop_figures(ws)["overall"]["findings_notified"] == 0
    assert loop_figures(ws)["overall"]["closure_rate"] is None

    set_clock(ws, ISSUED)
    first = issued_batch(ws, people, FindingFilter(organisations=(ORG_A[0],)), "第1批")
    second = issued_batch(ws, people, FindingFilter(), "第2批")  # the other organisations
    [notice_a] = list_notices(ws, people.ent_a)
    items = {i.subject: i for i in get_notice(ws, people.ent_a, notice_a.id).items}

    # Three days later: one rectified and verified gone, one dispute accepted.
    set_clock(ws, ISSUED + timedelta(days=3))
    fixed = submit_answer(
        ws, people.ent_a, items["苏ICP备16078901号"].id, kind="rectified", text="ok"
    )
    set_entity_status(example_copy, "91320104MA1M8C0L7D", "存续")
    ingest_folder(ws, example_copy)
    set_clock(ws, ISSUED + timedelta(days=3))
    assert verify_answer(ws, people.ent_a, fixed.id).outcome == "gone"
    disputed = submit_answer(
        ws, people.ent_a, items["zhangweiblog.net"].id, kind="disputed", text="域名已注销"
    )
    decide_dispute(ws, people.supervisor, disputed.id, accept=True, reason="核实属实")

    set_clock(ws, datetime(2025, 3, 20, 2, 0, tzinfo=UTC))  # after the 17 March deadline
    figures = loop_figures(ws)
    overall = figures["overall"]
    assert overall == {
        "organisations_notified": 3,
        "batches": 2,
        "findings_notified": 4,
        "findings_handled": 2,
        "closed": 1,
        "dismissed": 1,
        "open": 2,
        "overdue": 2,
        "closure_rate": 0.5,
        "overdue_rate": 0.5,
        "median_days_to_close": 3.0,
    }
    by_type = {r["type"]: r for r in figures["by_type"]}
    assert by_type["dissolved_subject"]["findings_notified"] == 3
    assert by_type["dissolved_subject"]["overdue"] == 2
    assert by_type["domain_moved_abroad"]["dismissed"] == 1
    by_org = {r["uscc"]: r for r in figures["by_organisation"]}
    assert by_org[ORG_A[0]]["closure_rate"] == 1.0 and by_org[ORG_A[0]]["overdue"] == 0
    assert by_org[ORG_B[0]]["overdue_rate"] == 1.0
    by_batch = {r["batch_id"]: r for r in figures["by_batch"]}
    assert by_batch[first]["findings_handled"] == 2 and by_batch[first]["title"]
    assert by_batch[second]["findings_notified"] == 2 and by_batch[second]["closed"] == 0

    report = build_report(ws)
    assert report["loop"]["overall"]["findings_notified"] == 4
