"""The loop's pages driven like a browser would (forms, redirects, rendered HTML): a
batch from the findings page's selection, approval, issue, answers, verification,
decisions, escalation, and the figures on the dashboard."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from longpan.detect.store import fingerprint
from longpan.store.models import AuditEntry, Finding
from longpan.store.workspace import Workspace
from tests.web.conftest import MovableClock, api_token, csrf, login
from tests.web.test_loop_security import issue_loop

# A real finding of the example province (its registry data is not changed here, so a
# verification still detects it), and its responsible organisation (南京云擎).
REAL_ORG, NOT_FIXED = "91320115MA1N4Q7K0N", ("苏ICP备16078901号", "dissolved_subject")


def _post(client: TestClient, page: str, action: str, data: dict[str, object]) -> object:
    return client.post(
        action, data={**data, "csrf_token": csrf(client, page)}, follow_redirects=False
    )


def _orphan_finding(ws: Workspace) -> int:
    """A finding nobody is responsible for (attribution found no organisation)."""
    seen = datetime(2024, 5, 1, tzinfo=UTC)
    with ws.sessions() as session, session.begin():
        finding = Finding(
            fingerprint=fingerprint("unfiled_website", "orphan.example.cn"),
            type="unfiled_website",
            severity="medium",
            subject="orphan.example.cn",
            evidence={"note": "no responsible organisation"},
            detector="unfiled_website",
            detector_version="test",
            status="open",
            observed=True,
            responsible_uscc=None,
            first_seen=seen,
            last_seen=seen,
        )
        session.add(finding)
        session.flush()
        return finding.id


def _switch(client: TestClient, username: str) -> None:
    client.cookies.clear()
    login(client, username)


def test_batch_from_selection_to_issue(
    client: TestClient, web_ws: Workspace, make_user: Callable[..., str], orgs: tuple[str, str]
) -> None:
    with web_ws.sessions() as session:
        chosen = list(
            session.scalars(select(Finding.id).where(Finding.responsible_uscc == orgs[0]).limit(3))
        )
    orphan = _orphan_finding(web_ws)
    analyst, supervisor = make_user("analyst"), make_user("supervisor")
    login(client, analyst)
    ids = "&".join(f"ids={i}" for i in [*chosen, orphan])
    page = client.get(f"/batches/new?{ids}")
    assert page.status_code == 200
    assert "3 条线索" in page.text or "3 findings" in page.text
    assert "无责任单位" in page.text  # the unaddressable one is listed, with the reason
    form = {
        "title": "2024年第5批网络安全通报",
        "document_number": "苏通信安〔2024〕5号",
        "deadline_days": "10",
        "issuing_office": "江苏省通信管理局",
        "ids": [str(i) for i in [*chosen, orphan]],
    }
    created = _post(client, f"/batches/new?{ids}", "/batches", form)
    assert created.status_code == 303  # type: ignore[attr-defined]
    batch_url = created.headers["location"].split("?")[0]  # type: ignore[attr-defined]
    duplicate = _post(client, f"/batches/new?{ids}", "/batches", form)
    assert duplicate.status_code == 400 and "文号" in duplicate.text  # type: ignore[attr-defined]
    assert 'id="approve"' not in client.get(batch_url).text  # not for the analyst

    _switch(client, supervisor)
    assert _post(client, batch_url, f"{batch_url}/approve", {}).status_code == 303  # type: ignore[attr-defined]
    _switch(client, analyst)
    assert _post(client, batch_url, f"{batch_url}/issue", {}).status_code == 303  # type: ignore[attr-defined]
    detail = client.get(batch_url)
    assert 'data-testid="batch-status">已下发' in detail.text
    with web_ws.sessions() as session:
        statuses = session.scalars(select(Finding.status).where(Finding.id.in_(chosen))).all()
        actions = set(session.scalars(select(AuditEntry.action)))
    assert set(statuses) == {"notified"}
    again = client.get(f"/batches/new?{ids}")  # the same selection, now notified
    assert 'data-testid="left-out">已选线索中有 3 条' in again.text
    assert 'id="create-batch"' not in again.text
    assert {"batch.created", "batch.approved", "batch.issued", "notice.issued"} <= actions


def test_answers_verification_decisions_and_figures(
    client: TestClient,
    web_ws: Workspace,
    make_user: Callable[..., str],
    orgs: tuple[str, str],
    clock: MovableClock,
) -> None:
    other = orgs[0] if orgs[0] != REAL_ORG else orgs[1]
    loop = issue_loop(web_ws, make_user, (REAL_ORG, other))
    a = REAL_ORG
    notice_url = f"/notices/{loop.notice[a]}"
    login(client, loop.users["ent_a"])
    page = client.get(notice_url)
    found = re.findall(
        r'id="item-(\d+)" data-testid="item" data-subject="([^"]+)" data-type="([^"]+)"', page.text
    )
    by_key = {(subject, kind): int(i) for i, subject, kind in found}
    assert page.text.count('data-testid="answer-form-') == len(found) >= 2
    items = [by_key[NOT_FIXED], next(i for key, i in by_key.items() if key != NOT_FIXED)]

    # rectified, data not fixed → verified at once, still present → reopened, both results
    first = _post(
        client,
        notice_url,
        f"/items/{items[0]}/answers",
        {"kind": "rectified", "text": "已整改完毕"},
    )
    assert first.status_code == 303  # type: ignore[attr-defined]
    assert "done=still_present" in first.headers["location"]  # type: ignore[attr-defined]
    shown = client.get(first.headers["location"]).text  # type: ignore[attr-defined]
    assert 'data-testid="verification-still_present"' in shown
    assert "核验前" in shown and "核验后" in shown

    # disputed → the supervisor's queue → dismissed with the reason kept
    second = _post(
        client,
        notice_url,
        f"/items/{items[1]}/answers",
        {"kind": "disputed", "text": "该网站非我单位接入"},
    )
    assert "done=disputed" in second.headers["location"]  # type: ignore[attr-defined]
    _switch(client, loop.users["supervisor"])
    queue = client.get("/decisions")
    [answer_id] = re.findall(r'action="/decisions/(\d+)/dispute"', queue.text)
    decided = _post(
        client,
        "/decisions",
        f"/decisions/{answer_id}/dispute",
        {"accept": "true", "reason": "经核实确非该单位接入"},
    )
    assert decided.status_code == 303  # type: ignore[attr-defined]
    assert 'data-testid="decision"' not in client.get("/decisions").text

    # B rectifies a finding the detector no longer reports (a hand-made one) → closed
    _switch(client, loop.users["ent_b"])
    b_url = f"/notices/{loop.notice[other]}"
    fixed = _post(
        client, b_url, f"/items/{loop.item[other]}/answers", {"kind": "rectified", "text": "已下线"}
    )
    assert "done=gone" in fixed.headers["location"]  # type: ignore[attr-defined]
    assert 'data-testid="verification-gone"' in client.get(b_url).text

    _switch(client, loop.users["supervisor"])
    figures = client.get("/api/dashboard").json()["loop"]["overall"]
    assert (figures["findings_handled"], figures["closed"], figures["dismissed"]) == (2, 1, 1)
    assert figures["organisations_notified"] == 2 and figures["batches"] == 1

    # overdue after the deadline → escalation list → reminders in the enterprise inbox
    clock.advance(days=40)
    _switch(client, loop.users["supervisor"])  # the old session has expired meanwhile
    escalation = client.get("/escalation")
    assert f'href="/notices/{loop.notice[a]}"' in escalation.text
    sent = _post(client, "/escalation", "/escalation/remind", {})
    assert "reminded=2" in sent.headers["location"]  # type: ignore[attr-defined]
    _switch(client, loop.users["ent_a"])
    inbox = client.get("/inbox")
    assert inbox.text.count('data-testid="reminder"') == 1 and "督办" in inbox.text


def test_extension_request_moves_the_deadline_when_approved(
    client: TestClient, web_ws: Workspace, make_user: Callable[..., str], orgs: tuple[str, str]
) -> None:
    loop = issue_loop(web_ws, make_user, orgs)
    a = orgs[0]
    login(client, loop.users["ent_a"])
    token = api_token(client)
    notice = client.get(f"/api/notices/{loop.notice[a]}").json()
    item = notice["items"][0]
    too_early = client.post(
        f"/api/items/{item['id']}/answers",
        data={"kind": "extension", "text": "需要更多时间", "requested_deadline": item["deadline"]},
        headers={"X-CSRF-Token": token},
    )
    assert too_early.status_code == 400 and "requested" in too_early.json()["detail"]
    asked = client.post(
        f"/api/items/{item['id']}/answers",
        data={"kind": "extension", "text": "需要更多时间", "requested_deadline": "2030-01-31"},
        headers={"X-CSRF-Token": token},
    )
    assert asked.status_code == 201, asked.text
    _switch(client, loop.users["supervisor"])
    decided = client.post(
        f"/api/answers/{asked.json()['answer']['id']}/extension",
        json={"accept": True, "reason": "理由充分"},
        headers={"X-CSRF-Token": api_token(client)},
    )
    assert decided.status_code == 200 and decided.json()["decision"] == "accepted"
    after = client.get(f"/api/notices/{loop.notice[a]}").json()["items"][0]
    assert after["deadline"] == "2030-01-31"


def test_loop_pages_switch_to_english(
    client: TestClient, web_ws: Workspace, make_user: Callable[..., str], orgs: tuple[str, str]
) -> None:
    loop = issue_loop(web_ws, make_user, orgs)
    login(client, loop.users["analyst"])
    client.cookies.set("longpan_lang", "en")
    for path in ("/batches", f"/batches/{loop.batch_id}", "/notices", "/escalation"):
        text = client.get(path).text
        assert "Notices" in text and "通报批次" not in text, path
    assert "Issued" in client.get(f"/batches/{loop.batch_id}").text
