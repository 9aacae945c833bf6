"""Enterprise answers: only to their own organisation's notices; uploads checked before
anything is stored; disputes and extensions decided by a supervisor."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from longpan.cases.access import ForbiddenError, StateError
from longpan.cases.answers import submit_answer
from longpan.cases.decisions import decide_dispute, decide_extension, pending_decisions
from longpan.cases.notices import NoticeView, get_notice, list_notices, open_attachment
from longpan.cases.selection import FindingFilter
from longpan.cases.uploads import Upload
from longpan.core.errors import InputError, NotFoundError
from longpan.store.db import transaction
from longpan.store.models import Answer, Attachment, Finding, NoticeItem, User
from longpan.store.workspace import Workspace
from tests.cases.conftest import People, audit_actions, issued_batch

Seeded = tuple[Workspace, People, dict[str, int]]
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture
def notices(seeded: Seeded) -> tuple[Workspace, People, dict[str, int], NoticeView, NoticeView]:
    ws, people, ids = seeded
    issued_batch(ws, people, FindingFilter())
    [a] = list_notices(ws, people.ent_a)
    [b] = list_notices(ws, people.ent_b)
    return ws, people, ids, get_notice(ws, people.ent_a, a.id), get_notice(ws, people.ent_b, b.id)


Notices = tuple[Workspace, People, dict[str, int], NoticeView, NoticeView]


def _item(notice: NoticeView, finding_id: int) -> int:
    return next(i.id for i in notice.items if i.finding_id == finding_id)


def _status(ws: Workspace, finding_id: int) -> str:
    with ws.sessions() as session:
        return session.get_one(Finding, finding_id).status


def _stored_files(ws: Workspace) -> set[str]:
    folder = ws.settings.home / "uploads"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_enterprise_users_see_only_their_own_notices(notices: Notices) -> None:
    ws, people, ids, a, b = notices
    assert a.organisation_uscc != b.organisation_uscc
    assert {i.finding_id for i in a.items} == {ids["a1"], ids["a2"]}
    assert all(i.can_answer for i in a.items)
    with pytest.raises(NotFoundError):
        get_notice(ws, people.ent_a, b.id)
    with pytest.raises(NotFoundError):
        open_attachment(ws, people.ent_a, b.attachments[0].id)
    assert len(list_notices(ws, people.auditor)) == 2  # regulator staff see all


def test_an_enterprise_user_cannot_answer_another_organisations_finding(notices: Notices) -> None:
    ws, people, ids, _a, b = notices
    with pytest.raises(NotFoundError):
        submit_answer(ws, people.ent_a, _item(b, ids["b1"]), kind="rectified", text="done")
    assert _status(ws, ids["b1"]) == "notified"


def test_regulator_staff_do_not_answer_for_enterprises(notices: Notices) -> None:
    ws, people, ids, a, _b = notices
    for someone in (people.auditor, people.analyst, people.supervisor, people.admin):
        with pytest.raises(ForbiddenError):
            submit_answer(ws, someone, _item(a, ids["a1"]), kind="rectified", text="done")


def test_a_deactivated_user_is_refused(notices: Notices) -> None:
    ws, people, ids, a, _b = notices
    with transaction(ws.sessions) as session:
        session.get_one(User, people.ent_a.id).is_active = False
    with pytest.raises(ForbiddenError, match="deactivated"):
        submit_answer(ws, people.ent_a, _item(a, ids["a1"]), kind="rectified", text="done")


def test_rectified_with_evidence(notices: Notices) -> None:
    ws, people, ids, a, _b = notices
    answer = submit_answer(
        ws,
        people.ent_a,
        _item(a, ids["a1"]),
        kind="rectified",
        text="已注销备案 filing cancelled",
        uploads=[Upload("整改报告.pdf", PDF), Upload("截图.png", b"\x89PNG\r\n\x1a\n" + b"0" * 9)],
        address="192.0.2.7",
    )
    assert answer.decision == "pending" and answer.author == "ent_a"
    assert [x.original_name for x in answer.attachments] == ["整改报告.pdf", "截图.png"]
    assert _status(ws, ids["a1"]) == "answered"
    path, meta = open_attachment(ws, people.ent_a, answer.attachments[0].id)
    assert path.read_bytes() == PDF and meta.content_type == "application/pdf"
    assert path.name != "整改报告.pdf" and path.parent == ws.settings.home / "uploads"
    assert ("ent_a", "answer.submitted", "192.0.2.7") in audit_actions(ws)
    # Regulator staff may read the evidence; the other enterprise may not.
    assert open_attachment(ws, people.auditor, answer.attachments[0].id)[0] == path
    with pytest.raises(NotFoundError):
        open_attachment(ws, people.ent_b, answer.attachments[0].id)
    with pytest.raises(StateError):  # answered: nothing more is expected now
        submit_answer(ws, people.ent_a, _item(a, ids["a1"]), kind="disputed", text="again")


@pytest.mark.parametrize(
    ("upload", "match"),
    [
        (Upload("../../x", PDF), "not allowed"),
        (Upload("..\\..\\x.pdf", PDF), "not allowed"),
        (Upload("big.pdf", PDF + b"0" * 5000), "limit is 4,096"),
        (Upload("evidence.pdf", b"MZ\x90\x00 an executable"), "not PDF, PNG"),
    ],
)
def test_refused_uploads_store_nothing(notices: Notices, upload: Upload, match: str) -> None:
    ws, people, ids, a, _b = notices
    small = Workspace(ws.settings.model_copy(update={"upload_max_bytes": 4096}), clock=ws.clock)
    before = _stored_files(ws)
    good = Upload("ok.txt", b"fine")
    with pytest.raises(InputError, match=match) as caught:
        submit_answer(
            small,
            people.ent_a,
            _item(a, ids["a1"]),
            kind="rectified",
            text="x",
            uploads=[good, upload],
        )
    small.close()
    assert caught.value.column == "upload"
    assert _stored_files(ws) == before
    with ws.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Answer)) == 0
        assert session.scalar(select(func.count()).select_from(Attachment)) == 4  # notice docs
    assert _status(ws, ids["a1"]) == "notified"


def test_dispute_dismissed_with_reason(notices: Notices) -> None:
    ws, people, ids, a, _b = notices
    answer = submit_answer(
        ws, people.ent_a, _item(a, ids["a2"]), kind="disputed", text="该IP已不归我司使用"
    )
    [pending] = pending_decisions(ws, people.supervisor)
    assert pending.answer.id == answer.id and pending.subject == "221.226.1.10:8080"
    with pytest.raises(ForbiddenError):
        decide_dispute(ws, people.analyst, answer.id, accept=True, reason="x")
    with pytest.raises(InputError, match="reason"):
        decide_dispute(ws, people.supervisor, answer.id, accept=True, reason="")
    decided = decide_dispute(
        ws, people.supervisor, answer.id, accept=True, reason="核实IP已回收", address="10.0.0.2"
    )
    assert (decided.decision, decided.decided_by, decided.decision_reason) == (
        "accepted",
        "sup",
        "核实IP已回收",
    )
    assert _status(ws, ids["a2"]) == "dismissed"
    item = next(i for i in get_notice(ws, people.ent_a, a.id).items if i.finding_id == ids["a2"])
    assert item.outcome == "dismissed" and not item.can_answer
    actions = audit_actions(ws)
    assert ("sup", "dispute.accepted", "10.0.0.2") in actions
    assert ("sup", "finding.dismissed", "10.0.0.2") in actions
    with pytest.raises(StateError):
        decide_dispute(ws, people.supervisor, answer.id, accept=False, reason="again")


def test_dispute_rejected_goes_back_to_the_enterprise(notices: Notices) -> None:
    ws, people, ids, a, _b = notices
    answer = submit_answer(ws, people.ent_a, _item(a, ids["a1"]), kind="disputed", text="不认可")
    decide_dispute(ws, people.supervisor, answer.id, accept=False, reason="登记信息显示已注销")
    assert _status(ws, ids["a1"]) == "notified"
    again = submit_answer(ws, people.ent_a, _item(a, ids["a1"]), kind="rectified", text="已整改")
    assert again.kind == "rectified"


def test_extension_moves_the_item_deadline(notices: Notices) -> None:
    ws, people, ids, a, _b = notices
    item_id = _item(a, ids["a1"])
    with pytest.raises(InputError) as caught:
        submit_answer(
            ws,
            people.ent_a,
            item_id,
            kind="extension",
            text="需要时间",
            requested_deadline=date(2025, 1, 10),
        )
    assert caught.value.column == "requested_deadline"
    answer = submit_answer(
        ws,
        people.ent_a,
        item_id,
        kind="extension",
        text="需协调用户",
        requested_deadline=date(2025, 2, 28),
    )
    assert _status(ws, ids["a1"]) == "notified"  # still owes an answer
    with pytest.raises(StateError, match="already pending"):
        submit_answer(
            ws,
            people.ent_a,
            item_id,
            kind="extension",
            text="x",
            requested_deadline=date(2025, 3, 1),
        )
    decide_extension(ws, people.supervisor, answer.id, approve=True, reason="同意")
    with ws.sessions() as session:
        assert session.get_one(NoticeItem, item_id).deadline == date(2025, 2, 28)
    assert "extension.approved" in [act for _u, act, _a in audit_actions(ws)]
