"""Users (用户管理), for administrators: list, create, deactivate/reactivate, reset a
password. Service functions in accounts/users.py do the checks and the audit."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from pydantic import BaseModel
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from longpan.accounts import users
from longpan.accounts.users import Account
from longpan.core.errors import InputError
from longpan.store.models import USER_ROLES, Organisation
from longpan.web.deps import Ctx, DbSession, RecordId, client_address, require_roles
from longpan.web.templating import render

router = APIRouter(tags=["users"])
api = APIRouter(prefix="/api", tags=["users"])
Admin = Annotated[Account, Depends(require_roles("admin"))]
Text = Annotated[str, Form(max_length=256)]

# Fixed confirmation messages (?done=key), never free text from the URL.
DONE = {
    "created": "The user was created.",
    "deactivated": "The user was deactivated; their sessions were ended.",
    "activated": "The user was reactivated.",
    "reset": "The password was reset; the user's sessions were ended.",
}


def _page(request: Request, ctx: Ctx, **extra: object) -> Response:
    with ctx.reading() as session:
        accounts = users.list_users(session)
        orgs = list(
            session.execute(
                select(Organisation.uscc, Organisation.name).order_by(Organisation.name)
            )
        )
    status = int(str(extra.pop("status_code", 200)))
    values = {"users": accounts, "roles": USER_ROLES, "orgs": orgs, **extra}
    return render(request, "users.html", values, status_code=status)


@router.get("/users", include_in_schema=False)
def users_page(request: Request, ctx: Ctx, account: Admin, done: str = "") -> Response:
    return _page(request, ctx, done=DONE.get(done))


@router.post("/users", include_in_schema=False)
def create_user(
    request: Request,
    ctx: Ctx,
    account: Admin,
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=16)],
    password: Text,
    display_name: Annotated[str, Form(max_length=128)] = "",
    org: Annotated[str, Form(max_length=18)] = "",
) -> Response:
    try:
        with ctx.writing() as session:
            users.create_user(
                session,
                username=username,
                role=role,
                password=password,
                actor=account.actor,
                org_uscc=org or None,
                display_name=display_name,
                address=client_address(request),
                clock=ctx.workspace.clock,
            )
    except InputError as exc:
        form = {"username": username, "role": role, "display_name": display_name, "org": org}
        return _page(request, ctx, error=exc.message, field=exc.column, form=form, status_code=400)
    return RedirectResponse("/users?done=created", status_code=303)


@router.post("/users/{user_id}/deactivate", include_in_schema=False)
def deactivate(request: Request, ctx: Ctx, account: Admin, user_id: RecordId) -> Response:
    return _set_active(request, ctx, account, user_id, active=False)


@router.post("/users/{user_id}/activate", include_in_schema=False)
def activate(request: Request, ctx: Ctx, account: Admin, user_id: RecordId) -> Response:
    return _set_active(request, ctx, account, user_id, active=True)


def _set_active(
    request: Request, ctx: Ctx, account: Account, user_id: RecordId, *, active: bool
) -> Response:
    try:
        with ctx.writing() as session:
            users.set_active(
                session,
                user_id,
                active,
                actor=account.actor,
                address=client_address(request),
                clock=ctx.workspace.clock,
            )
    except InputError as exc:
        return _page(request, ctx, error=exc.message, status_code=400)
    return RedirectResponse(
        f"/users?done={'activated' if active else 'deactivated'}", status_code=303
    )


@router.post("/users/{user_id}/password", include_in_schema=False)
def reset_password(
    request: Request, ctx: Ctx, account: Admin, user_id: RecordId, new_password: Text
) -> Response:
    try:
        with ctx.writing() as session:
            users.reset_password(
                session,
                user_id,
                new_password=new_password,
                actor=account.actor,
                address=client_address(request),
                clock=ctx.workspace.clock,
            )
    except InputError as exc:
        return _page(request, ctx, error=exc.message, status_code=400)
    return RedirectResponse("/users?done=reset", status_code=303)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    organisation_uscc: str | None
    organisation_name: str | None
    is_active: bool
    created_at: datetime
    password_changed_at: datetime | None


@api.get("/users", response_model=list[UserOut], summary="All users (administrators only)")
def users_api(session: DbSession, account: Admin) -> list[UserOut]:
    return [UserOut.model_validate(u, from_attributes=True) for u in users.list_users(session)]
