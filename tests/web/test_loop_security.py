"""Security of the loop's pages and API: one organisation never reaches another's
notices, findings or files; uploads are checked; the auditor and forged requests change
nothing; approval needs a second person.

An issued batch addressed to the two organisations with the most findings (A and B) is
made through cases/' services on the example province (real detectors, real files).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from longpan.cases.batches import approve_batch, create_batch, issue_batch
from longpan.cases.notices import get_notice, list_notices
from longpan.cases.selection import FindingFilter
from longpan.core.settings import load_settings
from longpan.store.models import Answer, Attachment, Finding, User
from longpan.store.workspace import Workspace
from longpan.web.app import create_app
from tests.web.conftest import MovableClock, api_token, csrf, login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(range(256))


@dataclass(frozen=True)
class Loop:
    batch_id: int
    notice: dict[str, int]  # org uscc → notice id
    item: dict[str, int]  # org uscc → the id of one item of its notice
    finding: dict[str, int]  # org uscc → that item's finding id
    pdf: dict[str, int]  # org uscc → its notice's PDF attachment id
    users: dict[str, str]  # role or "ent_a" / "ent_b" → username


def _user(ws: Workspace, username: str) -> User:
    with ws.sessions() as session:
        found = session.scalars(select(User).where(User.username == username)).one()
        session.expunge(found)
        return found


def issue_loop(ws: Workspace, make_user: Callable[..., str], orgs: tuple[str, str]) -> Loop:
    """A batch for orgs A and B: built by an analyst, approved by a supervisor, issued."""
    users = {
        "analyst": make_user("analyst"),
        "supervisor": make_user("supervisor"),
        "auditor": make_user("auditor"),
        "ent_a": make_user("enterprise", orgs[0]),
        "ent_b": make_user("enterprise", orgs[1]),
    }
    analyst = _user(ws, users["analyst"])
    batch = create_batch(
        ws,
        analyst,
        title="2024年第5批网络安全通报",
        document_number="苏通信安〔2024〕5号",
        filters=FindingFilter(organisations=orgs),
        deadline_days=10,
        issuing_office="江苏省通信管理局",
    )
    approve_batch(ws, _user(ws, users["supervisor"]), batch.id)
    issue_batch(ws, analyst, batch.id)
    loop = Loop(batch.id, {}, {}, {}, {}, users)
    for notice in list_notices(ws, analyst, batch_id=batch.id):
        full = get_notice(ws, analyst, notice.id)
        uscc = full.organisation_uscc
        loop.notice[uscc], loop.item[uscc] = full.id, full.items[0].id
        loop.finding[uscc] = full.items[0].finding_id
        loop.pdf[uscc] = next(a.id for a in full.attachments if a.kind == "notice_pdf")
    assert set(loop.notice) == set(orgs)
    return loop


@pytest.fixture
def loop(web_ws: Workspace, make_user: Callable[..., str], orgs: tuple[str, str]) -> Loop:
    return issue_loop(web_ws, make_user, orgs)


def _answer_form(client: TestClient, notice_id: int) -> str:
    """The CSRF token from a page the user may open (their own notice)."""
    return csrf(client, f"/notices/{notice_id}")


def test_enterprise_user_sees_only_its_own_notices(
    client: TestClient, loop: Loop, orgs: tuple[str, str]
) -> None:
    a, b = orgs
    login(client, loop.users["ent_a"])
    inbox = client.get("/inbox")
    assert inbox.status_code == 200
    assert f'href="/notices/{loop.notice[a]}"' in inbox.text
    assert f'href="/notices/{loop.notice[b]}"' not in inbox.text
    assert [n["id"] for n in client.get("/api/notices").json()] == [loop.notice[a]]
    assert client.get(f"/notices/{loop.notice[a]}").status_code == 200
    assert client.get(f"/attachments/{loop.pdf[a]}").content.startswith(b"%PDF-")
    for path in (
        f"/notices/{loop.notice[b]}",
        f"/api/notices/{loop.notice[b]}",
        f"/attachments/{loop.pdf[b]}",
        f"/api/attachments/{loop.pdf[b]}",
        f"/findings/{loop.finding[b]}",
        f"/api/findings/{loop.finding[b]}",
    ):
        assert client.get(path).status_code == 404, path
    for path in (
        "/batches",
        "/api/batches",
        f"/batches/{loop.batch_id}",
        "/notices",
        "/escalation",
        "/api/escalation",
        "/decisions",
        "/api/decisions",
    ):
        assert client.get(path).status_code == 403, path


def test_enterprise_user_cannot_answer_another_organisations_finding(
    client: TestClient, web_ws: Workspace, loop: Loop, orgs: tuple[str, str]
) -> None:
    a, b = orgs
    login(client, loop.users["ent_a"])
    token = _answer_form(client, loop.notice[a])
    form = {"kind": "disputed", "text": "不是我们的", "csrf_token": token}
    page = client.post(f"/items/{loop.item[b]}/answers", data=form, follow_redirects=False)
    assert page.status_code == 404
    api = client.post(
        f"/api/items/{loop.item[b]}/answers",
        data={"kind": "disputed", "text": "x"},
        headers={"X-CSRF-Token": api_token(client)},
    )
    assert api.status_code == 404
    with web_ws.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Answer)) == 0
        assert session.get_one(Finding, loop.finding[b]).status == "notified"


@pytest.mark.parametrize(
    ("filename", "content", "expected"),
    [
        ("../../x", PNG, "file name"),
        ("..\\..\\evil.png", PNG, "file name"),
        ("report.pdf", EXE, "文件类型不支持"),
        ("big.png", PNG + b"\x00" * 5000, "文件过大"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(
    web_ws: Workspace,
    make_user: Callable[..., str],
    orgs: tuple[str, str],
    clock: MovableClock,
    filename: str,
    content: bytes,
    expected: str,
) -> None:
    loop = issue_loop(web_ws, make_user, orgs)
    small = Workspace(load_settings(home=web_ws.settings.home, upload_max_bytes=4096), clock=clock)
    a = orgs[0]
    with TestClient(create_app(workspace=small)) as client:
        login(client, loop.users["ent_a"])
        token = _answer_form(client, loop.notice[a])
        files = {"files": (filename, content, "image/png")}
        data = {"kind": "rectified", "text": "已整改", "csrf_token": token}
        page = client.post(f"/items/{loop.item[a]}/answers", data=data, files=files)
        assert page.status_code == 400 and expected in page.text
        api = client.post(
            f"/api/items/{loop.item[a]}/answers",
            data={"kind": "rectified", "text": "已整改"},
            files=files,
            headers={"X-CSRF-Token": api_token(client)},
        )
        assert api.status_code == 400 and expected in api.json()["detail"]
    small.close()
    with web_ws.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Answer)) == 0
        assert session.scalar(select(func.count()).where(Attachment.kind == "evidence")) == 0
        assert session.get_one(Finding, loop.finding[a]).status == "notified"
    stored = {p.name for p in (web_ws.settings.home / "uploads").rglob("*") if p.is_file()}
    assert len(stored) == 2 * 2  # the PDF and the Excel of each notice, nothing else
    assert not (web_ws.settings.home.parent / "x").exists()


def test_requests_without_a_valid_csrf_token_are_refused(
    client: TestClient, web_ws: Workspace, loop: Loop, orgs: tuple[str, str]
) -> None:
    a = orgs[0]
    login(client, loop.users["ent_a"])
    no_token = client.post(
        f"/items/{loop.item[a]}/answers",
        data={"kind": "rectified", "text": "x"},
        files={"files": ("a.png", PNG, "image/png")},
    )
    assert no_token.status_code == 403
    forged = client.post(
        f"/api/items/{loop.item[a]}/answers",
        data={"kind": "disputed", "text": "x"},
        headers={"X-CSRF-Token": "forged"},
    )
    assert forged.status_code == 403
    client.cookies.clear()
    login(client, loop.users["supervisor"])
    assert (
        client.post(f"/api/batches/{loop.batch_id}/cancel", json={"reason": "x"}).status_code == 403
    )
    with web_ws.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Answer)) == 0


def test_the_auditor_reads_the_loop_but_changes_nothing(
    client: TestClient, web_ws: Workspace, loop: Loop, orgs: tuple[str, str]
) -> None:
    a = orgs[0]
    login(client, loop.users["auditor"])
    for path in (
        "/batches",
        f"/batches/{loop.batch_id}",
        "/notices",
        f"/notices/{loop.notice[a]}",
        "/escalation",
        "/decisions",
        "/api/batches",
        "/api/escalation",
    ):
        assert client.get(path).status_code == 200, path
    token = api_token(client)
    for path, body in (
        (f"/api/batches/{loop.batch_id}/cancel", {"reason": "x"}),
        ("/api/batches", {"title": "t", "document_number": "n", "deadline_days": 5, "filters": {}}),
        ("/api/escalation/remind", None),
    ):
        response = client.post(path, json=body, headers={"X-CSRF-Token": token})
        assert response.status_code == 403, path
    page = client.get(f"/batches/{loop.batch_id}")
    assert "/cancel" not in page.text and "/approve" not in page.text


def test_approval_needs_a_supervisor_who_did_not_create_the_batch(
    client: TestClient, make_user: Callable[..., str], web_ws: Workspace, orgs: tuple[str, str]
) -> None:
    supervisor = make_user("supervisor")
    login(client, supervisor)
    token = api_token(client)
    body = {
        "title": "2024年第6批网络安全通报",
        "document_number": "苏通信安〔2024〕6号",
        "deadline_days": 10,
        "filters": {"organisations": [orgs[0]]},
    }
    created = client.post("/api/batches", json=body, headers={"X-CSRF-Token": token})
    assert created.status_code == 201, created.text
    batch_id = created.json()["id"]
    own = client.post(f"/api/batches/{batch_id}/approve", headers={"X-CSRF-Token": token})
    assert own.status_code == 403 and "creator" in own.json()["detail"]
    client.cookies.clear()
    login(client, make_user("analyst"))
    analyst = client.post(
        f"/api/batches/{batch_id}/approve", headers={"X-CSRF-Token": api_token(client)}
    )
    assert analyst.status_code == 403
    assert client.get(f"/api/batches/{batch_id}").json()["status"] == "draft"


def test_no_open_redirect_through_the_loop_pages(client: TestClient, loop: Loop) -> None:
    """A link to a loop page with a foreign `next` ends on this site."""
    response = client.get("/batches/new", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2Fbatches%2Fnew")


def test_stored_evidence_lives_outside_the_web_root_under_a_generated_name(
    client: TestClient, web_ws: Workspace, loop: Loop, orgs: tuple[str, str]
) -> None:
    a = orgs[0]
    login(client, loop.users["ent_a"])
    token = _answer_form(client, loop.notice[a])
    response = client.post(
        f"/items/{loop.item[a]}/answers",
        data={"kind": "disputed", "text": "该网站不由我单位接入", "csrf_token": token},
        files={"files": ("证明.png", PNG, "image/png")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    with web_ws.sessions() as session:
        evidence = session.scalars(select(Attachment).where(Attachment.kind == "evidence")).one()
    assert evidence.original_name == "证明.png" and evidence.stored_name != "证明.png"
    stored = web_ws.settings.home / "uploads"
    assert any(p.name == Path(evidence.stored_name).name for p in stored.rglob("*"))
    download = client.get(f"/attachments/{evidence.id}")
    assert download.status_code == 200 and download.content == PNG
    assert "attachment" in download.headers["content-disposition"]
    assert client.get(f"/static/{evidence.stored_name}").status_code == 404


LOOP_PATHS = ("/api/batches", "/api/notices", "/api/attachments", "/api/items", "/api/answers",
              "/api/escalation", "/api/decisions", "/api/reminders")  # fmt: skip


@pytest.mark.parametrize("who", ["supervisor", "ent_a"])
def test_loop_api_never_fails_with_a_server_error(app: FastAPI, loop: Loop, who: str) -> None:
    """schemathesis on the loop's operations, signed in as a supervisor (decides, approves)
    and as an enterprise user (answers, with generated files and dates)."""
    from schemathesis import openapi

    from longpan.web.security import SESSION_COOKIE
    from tests.web.test_schemathesis import _fuzz

    with TestClient(app) as client:
        login(client, loop.users[who])
        headers = {
            "Cookie": f"{SESSION_COOKIE}={client.cookies[SESSION_COOKIE]}",
            "X-CSRF-Token": api_token(client),
        }
    schema = openapi.from_asgi("/api/openapi.json", app)
    operations = [
        op.ok() for op in schema.get_all_operations() if op.ok().path.startswith(LOOP_PATHS)
    ]
    assert len(operations) >= 15
    assert all(_fuzz(operation, headers) >= 1 for operation in operations)
