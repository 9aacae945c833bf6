"""Sign-in, sessions, sign-out, expiry, password change, rate limiting, redirects."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from longpan.store.models import AuditEntry, UserSession
from longpan.store.workspace import Workspace
from longpan.web.security import SESSION_COOKIE
from tests.web.conftest import PASSWORD, MovableClock, api_token, csrf, login


def _post_login(client: TestClient, username: str, password: str, next_: str = "/") -> object:
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf(client),
            "next": next_,
        },
        follow_redirects=False,
    )


def test_sign_in_sets_a_hardened_cookie_and_stores_only_its_hash(
    client: TestClient, make_user: Callable[..., str], web_ws: Workspace
) -> None:
    response = login(client, make_user("analyst"))
    cookie = next(c for c in response.headers.get_list("set-cookie") if SESSION_COOKIE in c)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http in the test
    token = client.cookies[SESSION_COOKIE]
    with web_ws.sessions() as session:
        stored = session.scalars(select(UserSession.token_hash)).all()
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64
    assert client.get("/").status_code == 200


def test_cookie_is_secure_over_https(app: FastAPI, make_user: Callable[..., str]) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        response = login(client, make_user("analyst"))
        cookie = next(c for c in response.headers.get_list("set-cookie") if SESSION_COOKIE in c)
        assert "Secure" in cookie


def test_wrong_password_is_refused_with_a_chinese_message_and_audited_nowhere(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    name = make_user("analyst")
    response = _post_login(client, name, "wrong-password-1")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert SESSION_COOKIE not in client.cookies
    unknown = _post_login(client, "nobody-here", "wrong-password-1")
    assert unknown.status_code == 401 and "用户名或密码错误" in unknown.text


def test_sign_out_revokes_the_session_on_the_server(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    login(client, make_user("analyst"))
    stolen = client.cookies[SESSION_COOKIE]
    token = api_token(client)
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    client.cookies.set(SESSION_COOKIE, stolen)  # replaying the old cookie does not work
    assert client.get("/api/me").status_code == 401


def test_session_expires(
    client: TestClient, make_user: Callable[..., str], clock: MovableClock
) -> None:
    login(client, make_user("analyst"))
    clock.advance(hours=7, minutes=59)
    assert client.get("/api/me").status_code == 200
    clock.advance(minutes=2)
    assert client.get("/api/me").status_code == 401
    page = client.get("/findings?type=x", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Ffindings%3Ftype%3Dx"


def test_password_change_needs_the_old_password_and_revokes_sessions(
    app: FastAPI, client: TestClient, make_user: Callable[..., str]
) -> None:
    name = make_user("analyst")
    login(client, name)
    with TestClient(app) as other_browser:
        login(other_browser, name)
        token = api_token(client)
        form = {
            "csrf_token": token,
            "old_password": "not-the-password",
            "new_password": "a-brand-new-pass",
            "confirm_password": "a-brand-new-pass",
        }
        wrong_old = client.post("/account/password", data=form)
        assert wrong_old.status_code == 400 and "原密码不正确" in wrong_old.text
        weak = client.post(
            "/account/password",
            data={
                **form,
                "old_password": PASSWORD,
                "new_password": "short",
                "confirm_password": "short",
            },
        )
        assert weak.status_code == 400 and "至少 10 个字符" in weak.text
        same_as_name = client.post(
            "/account/password",
            data={
                **form,
                "old_password": PASSWORD,
                "new_password": name.upper(),
                "confirm_password": name.upper(),
            },
        )
        assert same_as_name.status_code == 400
        done = client.post(
            "/account/password", data={**form, "old_password": PASSWORD}, follow_redirects=False
        )
        assert done.status_code == 303
        assert other_browser.get("/api/me").status_code == 401  # every session revoked
    assert client.get("/api/me").status_code == 401
    assert _post_login(client, name, PASSWORD).status_code == 401
    assert _post_login(client, name, "a-brand-new-pass").status_code == 303


def test_rate_limit_per_username_then_window_passes(
    client: TestClient, make_user: Callable[..., str], clock: MovableClock
) -> None:
    name = make_user("analyst")
    for _ in range(3):  # LONGPAN_LOGIN_MAX_FAILURES=3 in these tests
        assert _post_login(client, name, "wrong-password-1").status_code == 401
    limited = _post_login(client, name, PASSWORD)  # even the right password
    assert limited.status_code == 429
    assert "登录失败次数过多" in limited.text
    assert int(limited.headers["retry-after"]) > 0
    clock.advance(minutes=16)
    assert _post_login(client, name, PASSWORD).status_code == 303


def test_rate_limit_per_address_across_usernames(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    victim = make_user("analyst")
    for n in range(3):
        assert _post_login(client, f"guess{n}", "wrong-password-1").status_code == 401
    assert _post_login(client, victim, PASSWORD).status_code == 429


def test_successful_sign_in_resets_the_username_counter(
    app: FastAPI, make_user: Callable[..., str], clock: MovableClock
) -> None:
    name = make_user("analyst")
    with TestClient(app, client=("10.0.0.1", 5000)) as office:
        for _ in range(2):
            assert _post_login(office, name, "wrong-password-1").status_code == 401
        clock.advance(minutes=1)
        assert _post_login(office, name, PASSWORD).status_code == 303
    clock.advance(minutes=1)
    with TestClient(app, client=("10.0.0.2", 5000)) as home:
        for _ in range(2):
            assert _post_login(home, name, "wrong-password-1").status_code == 401
        assert _post_login(home, name, PASSWORD).status_code == 303


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil",
        "javascript:x",
        "http:/evil",
        " /x",
        "/%0d%0aSet-Cookie:x",
        "evil.example",
    ],
)
def test_no_open_redirect_after_sign_in(
    client: TestClient, make_user: Callable[..., str], target: str
) -> None:
    response = _post_login(client, make_user("analyst"), PASSWORD, next_=target)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location == "/" or (location.startswith("/") and not location.startswith("//"))
    assert "evil" not in location


def test_local_next_is_followed(client: TestClient, make_user: Callable[..., str]) -> None:
    response = _post_login(client, make_user("analyst"), PASSWORD, next_="/findings?type=a&q=b")
    assert response.headers["location"] == "/findings?type=a&q=b"


def test_sign_in_and_out_are_audited_with_the_address(
    client: TestClient, make_user: Callable[..., str], web_ws: Workspace
) -> None:
    name = make_user("analyst")
    login(client, name)
    client.post("/logout", data={"csrf_token": api_token(client)})
    with web_ws.sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.actor == name)).all()
    assert [r.action for r in rows] == ["user.signed_in", "user.signed_out"]
    assert all(r.address == "testclient" for r in rows)


def test_deactivated_user_loses_the_session_at_once(
    app: FastAPI, make_user: Callable[..., str], web_ws: Workspace
) -> None:
    with TestClient(app) as admin, TestClient(app) as user:
        login(admin, make_user("admin"))
        name = make_user("analyst")
        login(user, name)
        with web_ws.sessions() as session:
            from longpan.accounts.users import find_user

            found = find_user(session, name)
            assert found is not None
            user_id = found.id
        response = admin.post(
            f"/users/{user_id}/deactivate",
            data={"csrf_token": api_token(admin)},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert user.get("/api/me").status_code == 401
        assert _post_login(user, name, PASSWORD).status_code == 401


def test_language_switch_is_stored_in_a_cookie(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    login(client, make_user("analyst"))
    assert "线索" in client.get("/findings").text
    response = client.post(
        "/lang",
        data={"lang": "en", "next": "/findings", "csrf_token": api_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/findings"
    english = client.get("/findings").text
    assert "Findings" in english and "Subject contains" in english and "对象包含" not in english
    client.post("/lang", data={"lang": "xx", "csrf_token": api_token(client)})
    assert "对象包含" in client.get("/findings").text  # unknown language → the default
