"""The enterprise inbox (企业收件箱): the organisation's notices, in-app reminders, and
the answers to each finding — rectified (with evidence), disputed, more time.

A rectified answer is verified at once (the finding's detector re-runs on its subject)
and the notice page shows the result: closed, or reopened with both results.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel
from starlette.responses import RedirectResponse, Response

from longpan.accounts.users import Account
from longpan.cases.answers import submit_answer
from longpan.cases.escalation import ReminderView, mark_reminder_read, my_reminders
from longpan.cases.notices import list_notices
from longpan.cases.uploads import MAX_UPLOADS, Upload
from longpan.cases.verify import verify_answer
from longpan.cases.views import AnswerView, VerificationView
from longpan.core.errors import InputError
from longpan.web.context import WebContext
from longpan.web.deps import Ctx, CurrentUser, client_address
from longpan.web.routes._loop import Enterprise, RecordId, actor, on_lake
from longpan.web.routes.notices import answer_location
from longpan.web.templating import render

router = APIRouter(tags=["inbox"])
api = APIRouter(prefix="/api", tags=["inbox"])

Kind = Annotated[str, Form(max_length=16, description="rectified | disputed | extension")]
Text = Annotated[str, Form(max_length=5000)]
Files = Annotated[list[UploadFile], File(description="evidence files")]


class AnswerResult(BaseModel):
    """The answer as stored and, for a rectified one, its verification."""

    answer: AnswerView
    verification: VerificationView | None = None


@router.get("/inbox", include_in_schema=False)
def inbox_page(request: Request, ctx: Ctx, account: Enterprise) -> Response:
    notices = list_notices(ctx.workspace, actor(account))
    reminders = my_reminders(ctx.workspace, actor(account))
    return render(request, "inbox/inbox.html", {"notices": notices, "reminders": reminders})


@router.post("/items/{item_id}/answers", include_in_schema=False)
def answer_page(
    request: Request,
    ctx: Ctx,
    account: Enterprise,
    item_id: RecordId,
    kind: Kind,
    text: Text,
    requested_deadline: Annotated[str, Form(max_length=10)] = "",
    files: Files = [],  # noqa: B006 - FastAPI form lists
) -> Response:
    deadline = _parse_date(requested_deadline)
    result = _answer(request, ctx, account, item_id, kind, text, deadline, files)
    notice_id, _item = answer_location(ctx, result.answer.id)
    done = result.verification.outcome if result.verification else _done_key(kind)
    return RedirectResponse(f"/notices/{notice_id}?done={done}#item-{item_id}", status_code=303)


def _done_key(kind: str) -> str:
    return kind if kind in ("disputed", "extension") else "answered"


def _parse_date(value: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(
            f"日期格式应为 YYYY-MM-DD ({value!r} is not a date)", column="requested_deadline"
        ) from None


def _answer(
    request: Request,
    ctx: WebContext,
    account: Account,
    item_id: int,
    kind: str,
    text: str,
    deadline: date | None,
    files: list[UploadFile],
) -> AnswerResult:
    """Record the answer; verify a rectified one right away as the answering user."""
    uploads = _read_uploads(files, ctx.settings.upload_max_bytes)
    answer = submit_answer(
        ctx.workspace,
        actor(account),
        item_id,
        kind=kind,
        text=text,
        requested_deadline=deadline,
        uploads=uploads,
        address=client_address(request),
    )
    if answer.kind != "rectified":
        return AnswerResult(answer=answer)
    check = on_lake(
        ctx,
        lambda: verify_answer(
            ctx.workspace, actor(account), answer.id, address=client_address(request)
        ),
    )
    return AnswerResult(answer=answer, verification=check)


def _read_uploads(files: list[UploadFile], limit: int) -> list[Upload]:
    """The uploaded files, each read to at most one byte past the limit: cases/ refuses
    an oversized one by name without the whole file ever sitting in memory."""
    chosen = [f for f in files if f.filename or f.size]
    if len(chosen) > MAX_UPLOADS:
        raise InputError(
            f"最多上传 {MAX_UPLOADS} 个文件 (at most {MAX_UPLOADS} files)", column="upload"
        )
    return [Upload(filename=f.filename or "", data=f.file.read(limit + 1)) for f in chosen]


@router.post("/reminders/{reminder_id}/read", include_in_schema=False)
def reminder_read(
    request: Request, ctx: Ctx, account: CurrentUser, reminder_id: RecordId
) -> Response:
    mark_reminder_read(ctx.workspace, actor(account), reminder_id, address=client_address(request))
    return RedirectResponse("/inbox", status_code=303)


# ---------------------------------------------------------------- JSON API


@api.post(
    "/items/{item_id}/answers",
    response_model=AnswerResult,
    status_code=201,
    summary="Answer a finding of your organisation's notice (multipart form)",
)
def api_answer(
    request: Request,
    ctx: Ctx,
    account: Enterprise,
    item_id: RecordId,
    kind: Kind,
    text: Text,
    requested_deadline: Annotated[date | None, Form()] = None,
    files: Files = [],  # noqa: B006
) -> AnswerResult:
    """rectified (+ evidence files) is verified at once; disputed and extension (with
    requested_deadline) wait for a supervisor."""
    return _answer(request, ctx, account, item_id, kind, text, requested_deadline, files)


@api.get("/reminders", response_model=list[ReminderView], summary="My in-app reminders")
def api_reminders(ctx: Ctx, account: CurrentUser, unread: bool = False) -> list[ReminderView]:
    return my_reminders(ctx.workspace, actor(account), unread_only=unread)


@api.post(
    "/reminders/{reminder_id}/read", response_model=ReminderView, summary="Mark a reminder read"
)
def api_reminder_read(
    request: Request, ctx: Ctx, account: CurrentUser, reminder_id: RecordId
) -> ReminderView:
    return mark_reminder_read(
        ctx.workspace, actor(account), reminder_id, address=client_address(request)
    )
