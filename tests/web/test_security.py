"""Security of every route: CSRF, the read-only auditor, sign-in required, headers.

The routes are enumerated from the app, so a new state-changing route that forgets
CSRF or lets the auditor write fails here without anyone adding a test.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from longpan.web.deps import SELF_SERVICE_PATHS
from tests.web.conftest import api_token, csrf, login

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
PUBLIC_GETS = {"/login", "/static/vendor/{name}", "/api/openapi.json"}


def _concrete(path: str) -> str:
    """A request path for a route template: numeric ids for {…_id}, text otherwise."""
    path = re.sub(r"\{[a-z_]*id\}", "1", path)
    return re.sub(r"\{[^}]+\}", "x", path)


def _routes(app: FastAPI, methods: set[str]) -> list[tuple[str, str]]:
    """(method, path) of every endpoint the app serves, routers included."""
    found = []
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.path and context.methods:
            found += [(method, context.path) for method in sorted(context.methods & methods)]
    return found


def test_there_are_state_changing_routes_to_check(app: FastAPI) -> None:
    unsafe = _routes(app, UNSAFE)
    assert ("POST", "/login") in unsafe and ("POST", "/users") in unsafe
    assert len(unsafe) >= 8


def test_every_state_changing_route_refuses_a_missing_or_wrong_csrf_token(
    app: FastAPI, client: TestClient, make_user: Callable[..., str]
) -> None:
    login(client, make_user("admin"))
    for method, path in _routes(app, UNSAFE):
        for headers in ({}, {"X-CSRF-Token": "forged"}):
            response = client.request(
                method,
                _concrete(path),
                headers=headers,
                data={"csrf_token": "forged"},
                follow_redirects=False,
            )
            assert response.status_code == 403, (method, path, headers, response.status_code)
            assert "CSRF" in response.text


def test_csrf_token_of_another_session_is_refused(
    app: FastAPI, make_user: Callable[..., str]
) -> None:
    with TestClient(app) as first, TestClient(app) as second:
        login(first, make_user("admin"))
        login(second, make_user("admin"))
        stolen = api_token(first)
        response = second.post(
            "/users/1/deactivate", headers={"X-CSRF-Token": stolen}, follow_redirects=False
        )
        assert response.status_code == 403


def test_the_auditor_can_change_nothing(
    app: FastAPI, client: TestClient, make_user: Callable[..., str]
) -> None:
    login(client, make_user("auditor"))
    token = api_token(client)
    checked = 0
    for method, path in _routes(app, UNSAFE):
        if path in SELF_SERVICE_PATHS:
            continue
        response = client.request(
            method, _concrete(path), headers={"X-CSRF-Token": token}, follow_redirects=False
        )
        assert response.status_code == 403, (method, path, response.status_code)
        checked += 1
    assert checked >= 4
    # …but reads everything a reader may read
    for path in ("/", "/findings", "/audit", "/api/findings", "/api/audit"):
        assert client.get(path).status_code == 200, path


def test_every_page_and_api_needs_a_session(app: FastAPI, client: TestClient) -> None:
    for _method, path in _routes(app, {"GET"}):
        if path in PUBLIC_GETS:
            continue
        response = client.get(_concrete(path), follow_redirects=False)
        if path.startswith("/api/"):
            assert response.status_code == 401, path
            assert response.json() == {"detail": "not signed in"}
        else:
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("analyst", "/users", 403),
        ("analyst", "/api/users", 403),
        ("supervisor", "/users", 403),
        ("analyst", "/audit", 403),
        ("supervisor", "/audit", 200),
        ("admin", "/users", 200),
        ("admin", "/api/users", 200),
    ],
)
def test_roles_gate_pages(
    client: TestClient, make_user: Callable[..., str], role: str, path: str, status: int
) -> None:
    login(client, make_user(role))
    response = client.get(path)
    assert response.status_code == status
    if status == 403 and not path.startswith("/api/"):
        assert "无权访问" in response.text  # the Chinese 403 page


def test_enterprise_user_cannot_reach_staff_pages(
    client: TestClient, make_user: Callable[..., str], orgs: tuple[str, str]
) -> None:
    login(client, make_user("enterprise", orgs[0]))
    for path in ("/audit", "/users", "/api/audit", "/api/users"):
        assert client.get(path).status_code == 403, path


def test_security_headers_on_pages_and_api(client: TestClient) -> None:
    for path in ("/login", "/api/openapi.json", "/static/css/app.css", "/nowhere"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_pages_have_no_inline_scripts_or_styles(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    login(client, make_user("admin"))
    for path in ("/", "/findings", "/audit", "/users", "/account/password", "/api/docs"):
        html = client.get(path).text
        for script in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S):
            attributes, body = script
            assert "src=" in attributes or 'type="application/json"' in attributes, path
            assert "src=" not in attributes or not body.strip(), path
        assert " style=" not in html and "<style" not in html, path
        assert not re.search(r"\son[a-z]+=", html), f"inline event handler on {path}"


def test_every_post_form_carries_the_csrf_token(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    login(client, make_user("admin"))
    for path in ("/", "/findings", "/users", "/account/password"):
        html = client.get(path).text
        for form in re.findall(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", html, re.S):
            assert 'name="csrf_token"' in form, path


def test_not_found_page_is_chinese_and_api_is_json(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    login(client, make_user("analyst"))
    page = client.get("/findings/999999")
    assert page.status_code == 404 and "页面不存在" in page.text
    api = client.get("/api/findings/999999")
    assert api.status_code == 404 and "not found" in api.json()["detail"]


def test_vendor_route_serves_only_listed_files(client: TestClient) -> None:
    assert client.get("/static/vendor/..%2Fpackage.json").status_code == 404
    assert client.get("/static/vendor/package.json").status_code == 404
    assert client.get("/static/../app.py").status_code == 404


def test_login_form_itself_needs_the_pre_session_token(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    name = make_user("analyst")
    fresh = client.post("/login", data={"username": name, "password": "x" * 12})
    assert fresh.status_code == 403  # no pre-session cookie, no token
    token = csrf(client)
    client.cookies.clear()
    stale = client.post("/login", data={"username": name, "password": "x", "csrf_token": token})
    assert stale.status_code == 403  # token without its cookie


def test_impossible_record_ids_are_not_found_on_every_backend(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    login(client, make_user("admin"))
    for path in (
        "/api/findings/9223372036854775808",
        "/api/findings/2147483648",
        "/findings/0",
        "/findings/-1",
    ):
        assert client.get(path).status_code in (404, 422), path
