"""Batches: preview by filters, draft → approved → issued, cancel; who may do what."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from longpan.cases.access import ForbiddenError, StateError
from longpan.cases.batches import (
    approve_batch,
    cancel_batch,
    create_batch,
    get_batch,
    issue_batch,
    list_batches,
    preview_batch,
)
from longpan.cases.notices import get_notice, list_notices, open_attachment
from longpan.cases.selection import FindingFilter
from longpan.core.errors import InputError
from longpan.store.db import transaction
from longpan.store.models import Finding
from longpan.store.workspace import Workspace
from tests.cases.conftest import (
    ORG_A,
    ORG_B,
    People,
    audit_actions,
    issued_batch,
    set_clock,
)
from tests.cases.pdftext import embedded_fonts, pdf_text

Seeded = tuple[Workspace, People, dict[str, int]]


def _create(
    ws: Workspace, people: People, filters: FindingFilter, number: str = "苏通信安〔2024〕5号"
) -> int:
    return create_batch(
        ws,
        people.analyst,
        title="2024年第5批网络安全通报",
        document_number=number,
        filters=filters,
        deadline_days=10,
        issuing_office="江苏省通信管理局",
        address="10.0.0.1",
    ).id


def _statuses(ws: Workspace) -> dict[int, str]:
    with ws.sessions() as session:
        return {f.id: f.status for f in session.scalars(select(Finding))}


def test_preview_groups_by_organisation_and_lists_what_cannot_be_sent(seeded: Seeded) -> None:
    ws, people, ids = seeded
    preview = preview_batch(ws, people.analyst, FindingFilter())
    groups = {g.uscc: [f.id for f in g.findings] for g in preview.groups}
    assert groups == {ORG_A[0]: [ids["a1"], ids["a2"]], ORG_B[0]: [ids["b1"]]}
    notes = {f.id: f.note for f in preview.unaddressable}
    assert set(notes) == {ids["none"], ids["unreg"]}
    assert "no responsible organisation" in notes[ids["none"]]
    assert "not registered" in notes[ids["unreg"]]
    # A type no detector declares still flows, shown by its id.
    [a2] = [f for g in preview.groups for f in g.findings if f.id == ids["a2"]]
    assert a2.type_title == "later_capability_type" and "test evidence" in a2.summary
    assert "snapshots" not in a2.summary


def test_filters_narrow_the_selection(seeded: Seeded) -> None:
    ws, people, ids = seeded
    by_type = preview_batch(ws, people.analyst, FindingFilter(types=("dissolved_subject",)))
    assert sorted(by_type.finding_ids) == sorted([ids["a1"], ids["b1"]])
    by_org = preview_batch(ws, people.analyst, FindingFilter(organisations=(ORG_B[0],)))
    assert by_org.finding_ids == [ids["b1"]]
    by_id = preview_batch(ws, people.analyst, FindingFilter(finding_ids=(ids["a2"],)))
    assert by_id.finding_ids == [ids["a2"]]
    late = preview_batch(ws, people.analyst, FindingFilter(first_seen_from=date(2024, 6, 2)))
    assert late.finding_ids == []
    same_day = FindingFilter(first_seen_from=date(2024, 6, 1), first_seen_to=date(2024, 6, 1))
    assert len(preview_batch(ws, people.analyst, same_day).finding_ids) == 3
    assert preview_batch(ws, people.analyst, FindingFilter(severities=("low",))).groups == []
    with pytest.raises(InputError, match="statuses"):
        FindingFilter(statuses=("closed",))


def test_filters_round_trip_as_json() -> None:
    filters = FindingFilter(types=("a",), first_seen_from=date(2024, 1, 2), finding_ids=(3,))
    assert FindingFilter.from_json(filters.to_json()) == filters
    with pytest.raises(InputError, match="first_seen_to"):
        FindingFilter.from_json({"first_seen_to": "2024-13-01"})


def test_draft_approve_issue(seeded: Seeded) -> None:
    ws, people, ids = seeded
    batch_id = _create(ws, people, FindingFilter())
    draft = get_batch(ws, people.auditor, batch_id)
    assert (draft.status, draft.notice_count, draft.finding_count) == ("draft", 2, 3)
    assert {n.number for n in draft.notices} == {
        "苏通信安〔2024〕5号-001",
        "苏通信安〔2024〕5号-002",
    }
    assert _statuses(ws)[ids["a1"]] == "open"  # nothing is sent before approval
    with pytest.raises(StateError):
        issue_batch(ws, people.analyst, batch_id)

    approved = approve_batch(ws, people.supervisor, batch_id, address="10.0.0.2")
    assert (approved.status, approved.approved_by) == ("approved", "sup")
    issued = issue_batch(ws, people.analyst, batch_id, address="10.0.0.1")
    assert issued.status == "issued" and issued.issued_at is not None

    statuses = _statuses(ws)
    assert [statuses[ids[k]] for k in ("a1", "a2", "b1")] == ["notified"] * 3
    assert statuses[ids["none"]] == statuses[ids["unreg"]] == "open"
    # StepClock starts 2025-01-01 (New Year's Day): 10 working days → 15 January.
    assert {n.deadline for n in issued.notices} == {date(2025, 1, 15)}
    actions = [a for _u, a, _addr in audit_actions(ws)]
    for expected in ("batch.created", "batch.approved", "batch.issued", "notice.issued"):
        assert expected in actions
    assert actions.count("finding.notified") == 3
    assert ("sup", "batch.approved", "10.0.0.2") in audit_actions(ws)


def test_the_creator_cannot_approve_and_only_supervisors_can(seeded: Seeded) -> None:
    ws, people, _ids = seeded
    batch = create_batch(
        ws,
        people.supervisor,
        title="t",
        document_number="N-1",
        filters=FindingFilter(),
        deadline_days=5,
        issuing_office="江苏省通信管理局",
    )
    with pytest.raises(ForbiddenError, match="other than its creator"):
        approve_batch(ws, people.supervisor, batch.id)
    for someone in (people.analyst, people.admin, people.auditor, people.ent_a):
        with pytest.raises(ForbiddenError):
            approve_batch(ws, someone, batch.id)
    assert approve_batch(ws, people.supervisor2, batch.id).status == "approved"
    with pytest.raises(StateError):
        approve_batch(ws, people.supervisor2, batch.id)


def test_auditors_and_enterprises_change_nothing(seeded: Seeded) -> None:
    ws, people, _ids = seeded
    for someone in (people.auditor, people.ent_a):
        with pytest.raises(ForbiddenError):
            preview_batch(ws, someone, FindingFilter())
        with pytest.raises(ForbiddenError):
            create_batch(
                ws,
                someone,
                title="t",
                document_number="X",
                filters=FindingFilter(),
                deadline_days=5,
                issuing_office="o",
            )
    batch_id = _create(ws, people, FindingFilter())
    for someone in (people.auditor, people.ent_a):
        with pytest.raises(ForbiddenError):
            issue_batch(ws, someone, batch_id)
        with pytest.raises(ForbiddenError):
            cancel_batch(ws, someone, batch_id, reason="r")
    with pytest.raises(ForbiddenError):
        list_batches(ws, people.ent_a)
    assert len(list_batches(ws, people.auditor)) == 1


def test_bad_fields_are_named(seeded: Seeded) -> None:
    ws, people, _ids = seeded
    _create(ws, people, FindingFilter(types=("dissolved_subject",)))
    cases: list[tuple[dict[str, Any], str]] = [
        ({"document_number": "苏通信安〔2024〕5号"}, "document_number"),
        ({"title": "  "}, "title"),
        ({"deadline_days": 0}, "deadline_days"),
        ({"filters": FindingFilter(types=("nothing_of_this_type",))}, "filters"),
    ]
    for change, column in cases:
        fields: dict[str, Any] = {
            "title": "t",
            "document_number": "N-2",
            "filters": FindingFilter(),
            "deadline_days": 5,
            "issuing_office": "o",
            **change,
        }
        with pytest.raises(InputError) as caught:
            create_batch(ws, people.analyst, **fields)
        assert caught.value.column == column


def test_findings_in_a_draft_or_open_notice_are_held(seeded: Seeded) -> None:
    ws, people, ids = seeded
    first = _create(ws, people, FindingFilter(types=("dissolved_subject",)))
    held = preview_batch(ws, people.analyst, FindingFilter())
    assert {f.id for f in held.held} == {ids["a1"], ids["b1"]}
    assert held.finding_ids == [ids["a2"]]
    cancel_batch(ws, people.analyst, first, reason="重复")
    assert {f.id for f in preview_batch(ws, people.analyst, FindingFilter()).held} == set()


def test_issue_drops_findings_that_changed_since_the_draft(seeded: Seeded) -> None:
    ws, people, ids = seeded
    batch_id = _create(ws, people, FindingFilter(organisations=(ORG_B[0],)))
    approve_batch(ws, people.supervisor, batch_id)
    with transaction(ws.sessions) as session:
        session.get_one(Finding, ids["b1"]).status = "not_observed"  # the runner saw it go
    issued = issue_batch(ws, people.analyst, batch_id)
    assert [n.status for n in issued.notices] == ["cancelled"]
    assert _statuses(ws)[ids["b1"]] == "not_observed"


def test_cancel(seeded: Seeded) -> None:
    ws, people, _ids = seeded
    batch_id = _create(ws, people, FindingFilter())
    with pytest.raises(InputError, match="reason"):
        cancel_batch(ws, people.analyst, batch_id, reason=" ")
    cancelled = cancel_batch(ws, people.analyst, batch_id, reason="范围有误", address="10.0.0.1")
    assert cancelled.status == "cancelled" and cancelled.cancel_reason == "范围有误"
    assert {n.status for n in cancelled.notices} == {"cancelled"}
    with pytest.raises(StateError):
        approve_batch(ws, people.supervisor, batch_id)
    assert ("ana", "batch.cancelled", "10.0.0.1") in audit_actions(ws)


def test_issued_notice_documents(seeded: Seeded) -> None:
    ws, people, _ids = seeded
    issued_batch(ws, people, FindingFilter(organisations=(ORG_A[0],)))
    [notice] = list_notices(ws, people.ent_a)
    full = get_notice(ws, people.ent_a, notice.id)
    kinds = {a.kind: a for a in full.attachments}
    assert set(kinds) == {"notice_pdf", "findings_xlsx"}

    path, meta = open_attachment(ws, people.ent_a, kinds["notice_pdf"].id)
    assert path.parent == ws.settings.home / "uploads"
    assert meta.content_type == "application/pdf" and meta.download_name.endswith(".pdf")
    pdf = path.read_bytes()
    text = pdf_text(pdf)
    for expected in (
        "2024年第5批网络安全通报",  # title
        "苏通信安〔2024〕5号-001",  # 文号
        f"{ORG_A[1]}（统一社会信用代码 {ORG_A[0]}）",  # 主送
        "2025年1月15日",  # deadline
        "苏ICP备16078901号",  # the table of findings
        "221.226.1.10:8080",
        "江苏省通信管理局",  # issuing office
        "2025年1月1日",  # date
    ):
        assert expected in text, expected
    assert any("WenQuanYi" in name for name in embedded_fonts(pdf))

    path, meta = open_attachment(ws, people.ent_a, kinds["findings_xlsx"].id)
    sheet = load_workbook(io.BytesIO(path.read_bytes())).active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(min_row=5, values_only=True)]
    assert [r[4] for r in rows] == ["苏ICP备16078901号", "221.226.1.10:8080"]
    assert rows[0][8] == "2025-01-15"


def test_a_deadline_in_a_year_the_package_lacks_needs_the_calendar_file(
    seeded: Seeded, tmp_path: Path
) -> None:
    ws, people, ids = seeded
    set_clock(ws, datetime(2026, 12, 24, 2, 0, tzinfo=UTC))  # Thursday 24 Dec in Beijing
    batch_id = _create(ws, people, FindingFilter())
    approve_batch(ws, people.supervisor, batch_id, address="10.0.0.2")
    with pytest.raises(InputError, match="LONGPAN_WORKDAY_CALENDAR"):
        issue_batch(ws, people.analyst, batch_id, address="10.0.0.1")
    assert _statuses(ws)[ids["a1"]] == "open"  # refused before anything was sent
    path = tmp_path / "workdays-2027.csv"
    path.write_text("date,kind\n2027-01-01,holiday\n", "utf-8")
    settings = ws.settings.model_copy(update={"workday_calendar": path})
    issued = issue_batch(Workspace(settings, clock=ws.clock), people.analyst, batch_id)
    # Fri 25, Mon 28 – Thu 31 Dec (5); Fri 1 Jan off; Mon 4 – Fri 8 Jan (5): 8 Jan
    assert {n.deadline for n in issued.notices} == {date(2027, 1, 8)}
    assert _statuses(ws)[ids["a1"]] == "notified"
