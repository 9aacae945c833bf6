"""The pages and the JSON API as staff use them: findings (filter, sort, page, export),
finding and subject pages, the dashboard, the audit log, user administration."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from longpan.accounts.users import find_user
from longpan.store.models import AuditEntry, Finding
from longpan.store.workspace import Workspace
from tests.web.conftest import PASSWORD, api_token, csrf, login


@pytest.fixture
def analyst(client: TestClient, make_user: Callable[..., str]) -> TestClient:
    login(client, make_user("analyst"))
    return client


def _count(ws: Workspace, *conditions: object) -> int:
    with ws.sessions() as session:
        return int(session.scalar(select(func.count(Finding.id)).where(*conditions)) or 0)  # type: ignore[arg-type]


def test_findings_filter_sort_and_pages(analyst: TestClient, web_ws: Workspace) -> None:
    total = _count(web_ws)
    everything = analyst.get("/api/findings", params={"size": 20}).json()
    assert everything["total"] == total and len(everything["items"]) == min(20, total)
    ids = [i["id"] for i in everything["items"]]
    assert ids == sorted(ids, reverse=True)  # newest first by default
    second = analyst.get("/api/findings", params={"size": 20, "page": 2}).json()
    assert not {i["id"] for i in second["items"]} & set(ids)
    typed = analyst.get("/api/findings", params={"type": "unfiled_website", "size": 200}).json()
    assert typed["total"] == _count(web_ws, Finding.type == "unfiled_website") > 0
    assert {i["type"] for i in typed["items"]} == {"unfiled_website"}
    assert typed["items"][0]["type_title"] == "未备案网站"
    by_severity = analyst.get("/api/findings", params={"sort": "-severity", "size": 200}).json()
    ranks = ["info", "low", "medium", "high", "critical"]
    severities = [ranks.index(i["severity"]) for i in by_severity["items"]]
    assert severities == sorted(severities, reverse=True)


def test_text_and_city_filters(analyst: TestClient) -> None:
    items = analyst.get("/api/findings", params={"size": 200}).json()["items"]
    with_city = next(i for i in items if i["city"] and i["city"] != "未知")
    by_city = analyst.get("/api/findings", params={"city": with_city["city"], "size": 200}).json()
    assert by_city["total"] >= 1 and {i["city"] for i in by_city["items"]} == {with_city["city"]}
    part = with_city["subject"][2:8]
    by_text = analyst.get("/api/findings", params={"q": part.upper(), "size": 200}).json()
    assert with_city["id"] in {i["id"] for i in by_text["items"]}
    assert all(part.lower() in i["subject"].lower() for i in by_text["items"])
    assert analyst.get("/api/findings", params={"q": "%"}).json()["total"] == 0  # no wildcard


@pytest.mark.parametrize(
    "params",
    [{"status": "bogus"}, {"severity": "extreme"}, {"sort": "password"}, {"size": 7}, {"page": 0}],
)
def test_bad_filters_are_refused_with_the_field_named(
    analyst: TestClient, params: dict[str, object]
) -> None:
    response = analyst.get("/api/findings", params=params)
    assert response.status_code in (400, 422)
    assert next(iter(params)) in response.text


def test_findings_page_bulk_select_points_at_the_batch_form(analyst: TestClient) -> None:
    html = analyst.get("/findings").text
    assert 'action="/batches/new"' in html and 'name="ids"' in html
    assert 'id="select-all"' in html
    partial = analyst.get("/findings?type=unfiled_website", headers={"HX-Request": "true"}).text
    assert "<html" not in partial and "findings-total" in partial


def test_auditor_sees_no_bulk_batch_button(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    login(client, make_user("auditor"))
    assert "/batches/new" not in client.get("/findings").text


def test_exports_follow_the_filter(analyst: TestClient, web_ws: Workspace) -> None:
    expected = _count(web_ws, Finding.type == "shell_website")
    response = analyst.get("/findings/export.csv?type=shell_website&sort=subject")
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == expected > 0
    assert {r["类型"] for r in rows} == {"shell_website"}
    assert [r["对象"] for r in rows] == sorted(r["对象"] for r in rows)
    xlsx = analyst.get("/findings/export.xlsx?type=shell_website")
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    assert sum(1 for _row in sheet.iter_rows(min_row=2, values_only=True)) == expected


def test_finding_and_subject_pages(analyst: TestClient, web_ws: Workspace) -> None:
    item = analyst.get(
        "/api/findings", params={"type": "domain_moved_abroad", "sort": "id"}
    ).json()["items"][0]
    page = analyst.get(f"/findings/{item['id']}")
    assert page.status_code == 200 and item["subject"] in page.text
    assert "finding.opened" in page.text  # history from the audit log
    detail = analyst.get(f"/api/findings/{item['id']}").json()
    assert detail["evidence"]
    subject = analyst.get(f"/api/subjects/{item['subject']}").json()
    assert subject["kind"] == "domain" and subject["graph"]["registrations"]
    assert item["id"] in {f["id"] for f in subject["findings"]}
    assert any(h["action"] == "finding.opened" for h in subject["history"])
    html = analyst.get(f"/subjects/{item['subject']}").text
    assert "资源关联图谱" in html


def test_subject_page_refuses_garbage(analyst: TestClient) -> None:
    assert analyst.get("/subjects/not a subject!").status_code == 400
    assert analyst.get("/api/subjects/" + "a" * 600).status_code == 400


def test_dashboard_numbers_match_the_database(analyst: TestClient, web_ws: Workspace) -> None:
    figures = analyst.get("/api/dashboard").json()
    assert figures["status"]["open"] == _count(web_ws, Finding.status == "open")
    assert sum(c["count"] for c in figures["cities"]) == _count(web_ws, Finding.status == "open")
    html = analyst.get("/").text
    shown = re.search(r'data-testid="figure-open">(\d+)<', html)
    assert shown and int(shown.group(1)) == figures["status"]["open"]
    assert 'id="chart-map"' in html and 'id="dashboard-data"' in html


def test_audit_log_filters_and_pages(
    client: TestClient, make_user: Callable[..., str], web_ws: Workspace
) -> None:
    name = make_user("auditor")
    login(client, name)
    body = client.get("/api/audit", params={"actor": name}).json()
    assert [i["action"] for i in body["items"]] == ["user.signed_in"]
    opened = client.get("/api/audit", params={"action": "finding."}).json()
    assert opened["total"] >= 1 and all(i["action"].startswith("finding.") for i in opened["items"])
    html = client.get("/audit", params={"action": "user."}).text
    assert "user.created" in html
    assert client.get("/api/audit", params={"since": "2025-13-01"}).status_code == 422


def test_admin_creates_resets_and_deactivates_users(
    client: TestClient, make_user: Callable[..., str], web_ws: Workspace, orgs: tuple[str, str]
) -> None:
    admin = make_user("admin")
    login(client, admin)
    token = api_token(client)
    form = {
        "csrf_token": token,
        "username": "ent.new",
        "role": "enterprise",
        "org": "",
        "password": "long-enough-pw",
    }
    missing_org = client.post("/users", data=form)
    assert missing_org.status_code == 400 and "企业用户必须指定所属单位" in missing_org.text
    created = client.post("/users", data={**form, "org": orgs[0]}, follow_redirects=False)
    assert created.status_code == 303
    duplicate = client.post("/users", data={**form, "org": orgs[0]})
    assert duplicate.status_code == 400 and "已存在" in duplicate.text
    with web_ws.sessions() as session:
        user = find_user(session, "ent.new")
        assert user is not None and user.organisation_id is not None
        user_id = user.id
    reset = client.post(
        f"/users/{user_id}/password",
        data={"csrf_token": token, "new_password": "reset-by-admin-1"},
        follow_redirects=False,
    )
    assert reset.status_code == 303
    off = client.post(
        f"/users/{user_id}/deactivate", data={"csrf_token": token}, follow_redirects=False
    )
    assert off.status_code == 303
    listed = {u["username"]: u for u in client.get("/api/users").json()}
    assert listed["ent.new"]["is_active"] is False
    assert listed["ent.new"]["organisation_uscc"] == orgs[0]
    with web_ws.sessions() as session:
        actions = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_id == "ent.new")
            .order_by(AuditEntry.id)
        ).all()
        addresses = session.scalars(
            select(AuditEntry.address).where(AuditEntry.actor == admin)
        ).all()
    assert actions == ["user.created", "user.password_reset", "user.deactivated"]
    assert set(addresses) == {"testclient"}
    self_off = client.post(f"/users/{_id(web_ws, admin)}/deactivate", data={"csrf_token": token})
    assert self_off.status_code == 400


def _id(ws: Workspace, username: str) -> int:
    with ws.sessions() as session:
        user = find_user(session, username)
        assert user is not None
        return user.id


def test_login_page_and_api_docs_work_offline(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200 and "登录" in page.text
    for asset in (
        "htmx.min.js",
        "echarts.min.js",
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "jiangsu.json",
    ):
        response = client.get(f"/static/vendor/{asset}")
        if response.status_code == 404:
            pytest.skip("front-end assets not installed: run `npm ci` (make setup)")
        assert response.status_code == 200 and len(response.content) > 1000, asset
    schema = client.get("/api/openapi.json").json()
    assert "/api/findings" in schema["paths"] and "/api/me" in schema["paths"]
    assert "/login" not in schema["paths"]  # pages are not part of the API


def test_api_docs_page_loads_swagger_locally(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    login(client, make_user("analyst"))
    html = client.get("/api/docs").text
    assert (
        "/static/vendor/swagger-ui-bundle.js" in html
        and "http" not in html.split("<body")[1].split("swagger-ui")[0]
    )


def test_password_page_uses_labels(client: TestClient, make_user: Callable[..., str]) -> None:
    login(client, make_user("analyst"))
    html = client.get("/account/password").text
    for field in ("old_password", "new_password", "confirm_password"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
    assert csrf(client, "/account/password")
    assert PASSWORD not in html
