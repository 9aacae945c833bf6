"""Sign-in, sign-out, password change, language switch; GET /api/me."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel
from starlette.responses import RedirectResponse, Response

from longpan.accounts import sessions as web_sessions
from longpan.accounts import users
from longpan.accounts.errors import AuthenticationError, LoginRateLimited
from longpan.core.errors import InputError
from longpan.web import i18n, security
from longpan.web.context import WebContext
from longpan.web.deps import Ctx, CurrentUser, client_address, csrf_token, current_account
from longpan.web.templating import render

router = APIRouter(tags=["account"])
api = APIRouter(prefix="/api", tags=["account"])

# Fixed notices shown on the login page (?msg=key), never free text from the URL.
LOGIN_MESSAGES = {
    "password_changed": "Your password was changed. Please sign in again.",
    "signed_out": "You have signed out.",
}


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str = "/", msg: str = "") -> Response:
    if current_account(request) is not None:
        return RedirectResponse(security.safe_next(next), status_code=303)
    return render(
        request,
        "auth/login.html",
        {"next": security.safe_next(next), "notice": LOGIN_MESSAGES.get(msg)},
    )


@router.post("/login", include_in_schema=False)
def login_submit(
    request: Request,
    ctx: Ctx,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    target = security.safe_next(next)
    try:
        signed = _sign_in(ctx, username, password, client_address(request))
    except AuthenticationError as exc:
        limited = isinstance(exc, LoginRateLimited)
        response = render(
            request,
            "auth/login.html",
            {"next": target, "error": str(exc), "username": username},
            status_code=429 if limited else 401,
        )
        if isinstance(exc, LoginRateLimited):
            response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    redirect = RedirectResponse(target, status_code=303)
    security.set_cookie(
        redirect,
        request,
        ctx.settings,
        security.SESSION_COOKIE,
        signed.token,
        max_age=int(ctx.session_lifetime.total_seconds()),
    )
    return redirect


def _sign_in(
    ctx: WebContext, username: str, password: str, address: str | None
) -> web_sessions.SignedIn:
    """Sign in; a failed attempt is committed (it counts for the rate limit) before the
    error propagates, a refused one (rate limited) writes nothing."""
    with ctx.workspace.sessions() as session:
        try:
            signed = web_sessions.sign_in(
                session,
                username,
                password,
                address=address,
                lifetime=ctx.session_lifetime,
                limits=ctx.limits,
                clock=ctx.workspace.clock,
            )
        except LoginRateLimited:
            session.rollback()
            raise
        except AuthenticationError:
            session.commit()
            raise
        session.commit()
        return signed


@router.post("/logout", include_in_schema=False)
def logout(request: Request, ctx: Ctx) -> Response:
    account = current_account(request)
    token = request.cookies.get(security.SESSION_COOKIE)
    if account is not None and token:
        with ctx.writing() as session:
            web_sessions.sign_out(
                session, token, account, address=client_address(request), clock=ctx.workspace.clock
            )
    response = RedirectResponse("/login?msg=signed_out", status_code=303)
    response.delete_cookie(security.SESSION_COOKIE, path="/")
    return response


@router.get("/account/password", include_in_schema=False)
def password_page(request: Request, account: CurrentUser) -> Response:
    return render(request, "auth/password.html", {})


@router.post("/account/password", include_in_schema=False)
def password_submit(
    request: Request,
    ctx: Ctx,
    account: CurrentUser,
    old_password: Annotated[str, Form(max_length=256)],
    new_password: Annotated[str, Form(max_length=256)],
    confirm_password: Annotated[str, Form(max_length=256)],
) -> Response:
    try:
        if new_password != confirm_password:
            raise InputError(
                "两次输入的新密码不一致 (the new passwords differ)", column="confirm_password"
            )
        with ctx.writing() as session:
            users.change_password(
                session,
                account.id,
                old_password=old_password,
                new_password=new_password,
                address=client_address(request),
                clock=ctx.workspace.clock,
            )
    except InputError as exc:
        return render(
            request,
            "auth/password.html",
            {"error": exc.message, "field": exc.column},
            status_code=400,
        )
    response = RedirectResponse("/login?msg=password_changed", status_code=303)
    response.delete_cookie(security.SESSION_COOKIE, path="/")
    return response


@router.post("/lang", include_in_schema=False)
def switch_language(
    request: Request,
    ctx: Ctx,
    lang: Annotated[str, Form(max_length=8)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    response = RedirectResponse(security.safe_next(next), status_code=303)
    chosen = i18n.choose_language(lang, ctx.settings.lang)
    security.set_cookie(
        response, request, ctx.settings, i18n.LANG_COOKIE, chosen, max_age=365 * 24 * 3600
    )
    return response


class Me(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    organisation_uscc: str | None
    organisation_name: str | None
    csrf_token: str


@api.get("/me", response_model=Me, summary="The signed-in user and its CSRF token")
def me(request: Request, account: CurrentUser) -> Me:
    return Me(
        id=account.id,
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        organisation_uscc=account.organisation_uscc,
        organisation_name=account.organisation_name,
        csrf_token=csrf_token(request),
    )
