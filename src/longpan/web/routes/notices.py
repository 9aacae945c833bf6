"""Notices (通报): the staff list, one notice with its items, answers, verifications and
attachments (PDF, Excel, evidence downloads); JSON API twins.

Enterprise users reach their own notices through the same detail page (their inbox
links here); another organisation's notice is 404, decided by cases.notices.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import FileResponse, RedirectResponse, Response

from longpan.accounts.users import Account
from longpan.cases import notices as service
from longpan.cases.verify import verify_answer
from longpan.cases.views import VerificationView
from longpan.store.models import Answer, NoticeItem
from longpan.store.models.case import NOTICE_STATUSES
from longpan.web.context import WebContext
from longpan.web.deps import Ctx, CurrentUser, client_address
from longpan.web.routes._loop import Reader, RecordId, Staff, actor, on_lake
from longpan.web.templating import render

router = APIRouter(tags=["notices"])
api = APIRouter(prefix="/api", tags=["notices"])

# Fixed confirmation messages (?done=key), never free text from the URL.
DONE = {
    "answered": "Your answer was recorded.",
    "gone": "Verified: the finding is no longer detected. It is closed.",
    "still_present": "Verified: the finding is still detected. It was reopened; "
    "compare both results below.",
    "error": "The verification could not run; it will be retried.",
    "disputed": "Your dispute was recorded; a supervisor will decide.",
    "extension": "Your extension request was recorded; a supervisor will decide.",
}
StatusParam = Annotated[str, Query(max_length=16)]


@router.get("/notices", include_in_schema=False)
def notices_page(
    request: Request,
    ctx: Ctx,
    account: Reader,
    status: StatusParam = "",
    overdue: bool | None = None,
    batch: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> Response:
    rows = service.list_notices(
        ctx.workspace, actor(account), batch_id=batch, status=status or None, overdue=overdue
    )
    return render(
        request,
        "notices/list.html",
        {"notices": rows, "status": status, "overdue": overdue, "statuses": NOTICE_STATUSES},
    )


@router.get("/notices/{notice_id}", include_in_schema=False)
def notice_page(
    request: Request, ctx: Ctx, account: CurrentUser, notice_id: RecordId, done: str = ""
) -> Response:
    notice = service.get_notice(ctx.workspace, actor(account), notice_id)
    return render(
        request,
        "notices/detail.html",
        {"notice": notice, "done": DONE.get(done), "today": ctx.workspace.clock().date()},
    )


@router.get("/attachments/{attachment_id}", include_in_schema=False)
def attachment(ctx: Ctx, account: CurrentUser, attachment_id: RecordId) -> Response:
    return _file(ctx, account, attachment_id)


@router.post("/answers/{answer_id}/verify", include_in_schema=False)
def verify(request: Request, ctx: Ctx, account: Staff, answer_id: RecordId) -> Response:
    """Staff re-run a verification (e.g. after the detector failed the first time)."""
    check = _verify(request, ctx, account, answer_id)
    notice_id, item_id = answer_location(ctx, check.answer_id)
    return RedirectResponse(
        f"/notices/{notice_id}?done={check.outcome}#item-{item_id}", status_code=303
    )


def _verify(request: Request, ctx: Ctx, account: Account, answer_id: int) -> VerificationView:
    return on_lake(
        ctx,
        lambda: verify_answer(
            ctx.workspace, actor(account), answer_id, address=client_address(request)
        ),
    )


def answer_location(ctx: WebContext, answer_id: int) -> tuple[int, int]:
    """(notice id, item id) of an answer the caller was just allowed to act on."""
    with ctx.reading() as session:
        item = session.get_one(NoticeItem, session.get_one(Answer, answer_id).item_id)
        return item.notice_id, item.id


def _file(ctx: WebContext, account: Account, attachment_id: int) -> Response:
    path, view = service.open_attachment(ctx.workspace, actor(account), attachment_id)
    return FileResponse(
        path,
        media_type=view.content_type,
        filename=view.download_name,
        headers={"Cache-Control": "private, no-store"},
    )


# ---------------------------------------------------------------- JSON API


@api.get("/notices", response_model=list[service.NoticeView], summary="Notices (scoped)")
def api_notices(
    ctx: Ctx,
    account: CurrentUser,
    status: Annotated[str | None, Query(max_length=16)] = None,
    overdue: bool | None = None,
    batch: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> list[service.NoticeView]:
    """Staff and auditors: every notice; enterprise users: their organisation's issued ones."""
    return service.list_notices(
        ctx.workspace, actor(account), batch_id=batch, status=status or None, overdue=overdue
    )


@api.get(
    "/notices/{notice_id}",
    response_model=service.NoticeView,
    summary="One notice with items, answers, verifications, attachments",
)
def api_notice(ctx: Ctx, account: CurrentUser, notice_id: RecordId) -> service.NoticeView:
    return service.get_notice(ctx.workspace, actor(account), notice_id)


@api.get(
    "/attachments/{attachment_id}",
    summary="Download an attachment (notice PDF, findings Excel, evidence)",
    response_class=FileResponse,
)
def api_attachment(ctx: Ctx, account: CurrentUser, attachment_id: RecordId) -> Response:
    return _file(ctx, account, attachment_id)


@api.post(
    "/answers/{answer_id}/verify",
    response_model=VerificationView,
    summary="Verify a rectified answer (re-run its detector on its subject)",
)
def api_verify(request: Request, ctx: Ctx, account: Staff, answer_id: RecordId) -> VerificationView:
    return _verify(request, ctx, account, answer_id)
