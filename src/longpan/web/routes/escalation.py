"""Escalation (督办): overdue notices, most overdue first, and sending reminders (in the
app, and by email when SMTP is configured); JSON API twins."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.responses import RedirectResponse, Response

from longpan.cases.escalation import OverdueNotice, escalation_list, send_reminders
from longpan.web.deps import Ctx, client_address
from longpan.web.routes._loop import Reader, Staff, actor
from longpan.web.templating import render

router = APIRouter(tags=["escalation"])
api = APIRouter(prefix="/api", tags=["escalation"])
Count = Annotated[int, Query(ge=0, le=1_000_000)]


class ReminderReportOut(BaseModel):
    notices: int
    in_app: int
    emails_sent: int
    email_errors: list[str]


@router.get("/escalation", include_in_schema=False)
def escalation_page(
    request: Request,
    ctx: Ctx,
    account: Reader,
    reminded: Count | None = None,
    emails: Count = 0,
    failed: Count = 0,
) -> Response:
    rows = escalation_list(ctx.workspace, actor(account))
    report = None if reminded is None else {"notices": reminded, "emails": emails, "failed": failed}
    return render(request, "escalation/list.html", {"rows": rows, "report": report})


@router.post("/escalation/remind", include_in_schema=False)
def remind(request: Request, ctx: Ctx, account: Staff) -> Response:
    report = send_reminders(ctx.workspace, actor(account), address=client_address(request))
    query = f"reminded={report.notices}&emails={report.emails_sent}"
    return RedirectResponse(
        f"/escalation?{query}&failed={len(report.email_errors)}", status_code=303
    )


@api.get("/escalation", response_model=list[OverdueNotice], summary="Overdue notices (督办清单)")
def api_escalation(ctx: Ctx, account: Reader) -> list[OverdueNotice]:
    return escalation_list(ctx.workspace, actor(account))


@api.post(
    "/escalation/remind",
    response_model=ReminderReportOut,
    summary="Remind every overdue notice's users (once a day per notice)",
)
def api_remind(request: Request, ctx: Ctx, account: Staff) -> ReminderReportOut:
    report = send_reminders(ctx.workspace, actor(account), address=client_address(request))
    return ReminderReportOut(**asdict(report))
