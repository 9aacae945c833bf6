"""FastAPI dependencies: the context, the signed-in account, roles, the global guard.

``guard_unsafe`` runs for EVERY route (it is an app-level dependency): on POST, PUT,
PATCH and DELETE it checks the CSRF token and refuses the auditor (read-only), so a new
route is protected without doing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from longpan.accounts import sessions as web_sessions
from longpan.accounts.errors import PermissionDenied
from longpan.accounts.users import Account
from longpan.web import security
from longpan.web.context import WebContext

# Routes that change only the caller's own sign-in state: allowed to the auditor too.
SELF_SERVICE_PATHS = frozenset({"/login", "/logout", "/account/password", "/lang"})


class LoginRequired(Exception):
    """No valid session: pages redirect to /login, the API answers 401."""


def get_ctx(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx


Ctx = Annotated[WebContext, Depends(get_ctx)]


def db_session(request: Request) -> Iterator[Session]:
    """A read session for the request (writes go through ``ctx.writing()``)."""
    with get_ctx(request).reading() as session:
        yield session


DbSession = Annotated[Session, Depends(db_session)]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def current_account(request: Request) -> Account | None:
    """The account of the session cookie (looked up once per request), or None."""
    if hasattr(request.state, "account"):
        cached: Account | None = request.state.account
        return cached
    token = request.cookies.get(security.SESSION_COOKIE)
    account = None
    if token:
        ctx = get_ctx(request)
        with ctx.workspace.sessions() as session:
            account = web_sessions.resolve(session, token, clock=ctx.workspace.clock)
            if session.dirty:  # last_seen_at refreshed (at most once a minute)
                session.commit()
    request.state.account = account
    request.state.session_token = token if account else None
    return account


def require_user(request: Request) -> Account:
    account = current_account(request)
    if account is None:
        raise LoginRequired()
    return account


CurrentUser = Annotated[Account, Depends(require_user)]


def require_roles(*roles: str) -> Callable[[Request], Account]:
    """A dependency admitting only the given roles (403 for the others)."""

    def dependency(request: Request) -> Account:
        account = require_user(request)
        if account.role not in roles:
            raise PermissionDenied(
                f"角色 {account.role} 无权访问此页面 (role {account.role!r} may not do this)"
            )
        return account

    dependency.__name__ = f"require_{'_'.join(roles)}"
    return dependency


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser: bound to the session, or to the pre-session seed."""
    settings = get_ctx(request).settings
    current_account(request)
    session_token = getattr(request.state, "session_token", None)
    if session_token:
        return security.csrf_token_for(settings.secret_key, "s:" + session_token)
    seed = request.cookies.get(security.PRE_SESSION_COOKIE) or getattr(
        request.state, "new_pre_seed", None
    )
    if not seed:
        seed = security.new_pre_session_seed()
        request.state.new_pre_seed = seed  # the middleware sets the cookie
    return security.csrf_token_for(settings.secret_key, "p:" + seed)


async def _supplied_csrf(request: Request) -> str | None:
    header = request.headers.get(security.CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(security.CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


# Record ids are 32-bit on PostgreSQL (INTEGER): larger ones cannot exist.
MAX_RECORD_ID = 2**31 - 1
RecordId = Annotated[int, Path(ge=1, le=MAX_RECORD_ID)]


def _check_record_ids(request: Request) -> None:
    """Path parameters named *_id that cannot be a record id → 404, before any query."""
    for name, value in request.path_params.items():
        if name.endswith("_id"):
            text = str(value)
            if not text.isdigit() or not 1 <= int(text) <= MAX_RECORD_ID:
                raise HTTPException(404, "Not Found")


async def guard_unsafe(request: Request) -> None:
    """For every route: impossible record ids are 404; CSRF on every state-changing
    request; the auditor may change nothing."""
    _check_record_ids(request)
    if request.method not in security.UNSAFE_METHODS:
        return
    expected = await run_in_threadpool(csrf_token, request)
    if not security.csrf_matches(expected, await _supplied_csrf(request)):
        raise HTTPException(403, "CSRF 校验失败，请刷新页面后重试 (CSRF token missing or invalid)")
    account = getattr(request.state, "account", None)
    read_only = account is not None and not account.can_write
    if read_only and request.url.path not in SELF_SERVICE_PATHS:
        raise PermissionDenied("审计员为只读角色 (the auditor role is read-only)")
