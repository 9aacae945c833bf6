"""The supervisor's decision queue (待审批): disputes (dismiss the finding with a reason,
or reject the dispute) and extension requests (approve the new date, or reject)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, Field
from starlette.responses import RedirectResponse, Response

from longpan.cases.decisions import PendingDecision, decide_dispute, decide_extension
from longpan.cases.decisions import pending_decisions as pending
from longpan.cases.views import AnswerView
from longpan.web.deps import Ctx, client_address
from longpan.web.routes._loop import Reader, RecordId, Supervisor, actor
from longpan.web.templating import render

router = APIRouter(tags=["decisions"])
api = APIRouter(prefix="/api", tags=["decisions"])
DONE = {
    "dispute-yes": "The dispute was accepted; the finding is dismissed.",
    "dispute-no": "The dispute was rejected; the enterprise must still rectify.",
    "extension-yes": "The extension was approved; the deadline moved.",
    "extension-no": "The extension was rejected.",
}
Reason = Annotated[str, Form(max_length=1000)]


class DecisionIn(BaseModel):
    accept: bool = Field(description="dispute: dismiss the finding; extension: approve")
    reason: str = Field(max_length=1000)


@router.get("/decisions", include_in_schema=False)
def decisions_page(request: Request, ctx: Ctx, account: Reader, done: str = "") -> Response:
    rows = pending(ctx.workspace, actor(account))
    return render(request, "decisions/list.html", {"rows": rows, "done": DONE.get(done)})


@router.post("/decisions/{answer_id}/dispute", include_in_schema=False)
def dispute(
    request: Request,
    ctx: Ctx,
    account: Supervisor,
    answer_id: RecordId,
    reason: Reason,
    accept: Annotated[bool, Form()] = False,
) -> Response:
    decide_dispute(
        ctx.workspace,
        actor(account),
        answer_id,
        accept=accept,
        reason=reason,
        address=client_address(request),
    )
    return RedirectResponse(f"/decisions?done=dispute-{'yes' if accept else 'no'}", status_code=303)


@router.post("/decisions/{answer_id}/extension", include_in_schema=False)
def extension(
    request: Request,
    ctx: Ctx,
    account: Supervisor,
    answer_id: RecordId,
    reason: Reason,
    accept: Annotated[bool, Form()] = False,
) -> Response:
    decide_extension(
        ctx.workspace,
        actor(account),
        answer_id,
        approve=accept,
        reason=reason,
        address=client_address(request),
    )
    return RedirectResponse(
        f"/decisions?done=extension-{'yes' if accept else 'no'}", status_code=303
    )


@api.get(
    "/decisions", response_model=list[PendingDecision], summary="Disputes and extensions pending"
)
def api_decisions(ctx: Ctx, account: Reader) -> list[PendingDecision]:
    return pending(ctx.workspace, actor(account))


@api.post("/answers/{answer_id}/dispute", response_model=AnswerView, summary="Decide a dispute")
def api_dispute(
    request: Request, ctx: Ctx, account: Supervisor, answer_id: RecordId, body: DecisionIn
) -> AnswerView:
    return decide_dispute(
        ctx.workspace,
        actor(account),
        answer_id,
        accept=body.accept,
        reason=body.reason,
        address=client_address(request),
    )


@api.post(
    "/answers/{answer_id}/extension", response_model=AnswerView, summary="Decide an extension"
)
def api_extension(
    request: Request, ctx: Ctx, account: Supervisor, answer_id: RecordId, body: DecisionIn
) -> AnswerView:
    return decide_extension(
        ctx.workspace,
        actor(account),
        answer_id,
        approve=body.accept,
        reason=body.reason,
        address=client_address(request),
    )
