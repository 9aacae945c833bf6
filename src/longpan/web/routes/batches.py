"""Batches (通报批次): list, new batch (filters or the findings page's bulk selection,
preview by organisation), detail with approve / issue / cancel; JSON API twins.

The work and the rules are cases.batches'; this module parses, calls, renders.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import RedirectResponse, Response

from longpan.cases import batches as service
from longpan.cases.selection import BatchPreview, FindingFilter
from longpan.core.errors import InputError
from longpan.detect import registry
from longpan.store.models import SEVERITIES
from longpan.store.models.case import BATCH_STATUSES
from longpan.web.deps import Ctx, client_address
from longpan.web.places import PROVINCE_CITIES
from longpan.web.routes._loop import Reader, RecordId, Staff, Supervisor, actor, on_lake
from longpan.web.templating import render

router = APIRouter(tags=["batches"])
api = APIRouter(prefix="/api", tags=["batches"])

DEFAULT_OFFICE = "江苏省通信管理局"
DEFAULT_DEADLINE_DAYS = 10
DONE = {
    "created": "The batch was created as a draft; a supervisor must approve it.",
    "approved": "The batch was approved and can be issued.",
    "issued": "The batch was issued; the notices were sent.",
    "cancelled": "The batch was cancelled.",
}
_USCC_SPLIT = re.compile(r"[\s,，;；]+")
Short = Annotated[str, Form(max_length=200)]


def batch_filter(
    type: Annotated[list[str], Query(max_length=64)] = [],  # noqa: B006 - FastAPI query lists
    severity: Annotated[list[str], Query(max_length=16)] = [],  # noqa: B006
    city: Annotated[list[str], Query(max_length=32)] = [],  # noqa: B006
    orgs: Annotated[str, Query(max_length=2000, description="responsible USCCs")] = "",
    first_seen_from: date | None = None,
    first_seen_to: date | None = None,
    ids: Annotated[list[int], Query(max_length=5000)] = [],  # noqa: B006
) -> FindingFilter:
    """The filter of the new-batch page (query string; the create form repeats it)."""
    return FindingFilter(
        types=tuple(t for t in type if t),
        severities=tuple(s for s in severity if s),
        cities=tuple(c for c in city if c),
        organisations=tuple(u for u in _USCC_SPLIT.split(orgs) if u),
        first_seen_from=first_seen_from,
        first_seen_to=first_seen_to,
        finding_ids=tuple(i for i in ids if i > 0),
    )


def _has_criteria(flt: FindingFilter) -> bool:
    return flt != FindingFilter()


def _form_pairs(flt: FindingFilter) -> list[tuple[str, str]]:
    """The filter as (name, value) pairs: hidden fields of the create form, links."""
    pairs = [("type", t) for t in flt.types] + [("severity", s) for s in flt.severities]
    pairs += [("city", c) for c in flt.cities] + [("ids", str(i)) for i in flt.finding_ids]
    if flt.organisations:
        pairs.append(("orgs", " ".join(flt.organisations)))
    for name in ("first_seen_from", "first_seen_to"):
        value = getattr(flt, name)
        if value:
            pairs.append((name, value.isoformat()))
    return pairs


def _new_page(
    request: Request,
    ctx: Ctx,
    account: Staff,
    flt: FindingFilter,
    form: dict[str, Any] | None = None,
    error: InputError | None = None,
) -> Response:
    preview: BatchPreview | None = None
    if _has_criteria(flt):
        preview = on_lake(ctx, lambda: service.preview_batch(ctx.workspace, actor(account), flt))
    shown = (
        len(preview.finding_ids) + len(preview.unaddressable) + len(preview.held) if preview else 0
    )
    values = {
        # selected on the findings page but not open/reopened (already notified, closed…)
        "left_out": len(set(flt.finding_ids)) - shown if preview and flt.finding_ids else 0,
        "flt": flt,
        "orgs_text": " ".join(flt.organisations),
        "pairs": _form_pairs(flt),
        "preview": preview,
        "form": form
        or {
            "title": "",
            "document_number": "",
            "deadline_days": DEFAULT_DEADLINE_DAYS,
            "issuing_office": DEFAULT_OFFICE,
        },
        "types": registry.finding_types(),
        "severities": SEVERITIES,
        "cities": PROVINCE_CITIES,
        "error": error.message if error else None,
        "field": error.column if error else None,
    }
    return render(request, "batches/new.html", values, status_code=400 if error else 200)


@router.get("/batches", include_in_schema=False)
def batches_page(
    request: Request,
    ctx: Ctx,
    account: Reader,
    status: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    rows = service.list_batches(ctx.workspace, actor(account), status=status or None)
    return render(
        request,
        "batches/list.html",
        {"batches": rows, "status": status, "statuses": BATCH_STATUSES},
    )


@router.get("/batches/new", include_in_schema=False)
def new_batch_page(
    request: Request, ctx: Ctx, account: Staff, flt: Annotated[FindingFilter, Depends(batch_filter)]
) -> Response:
    return _new_page(request, ctx, account, flt)


@router.post("/batches", include_in_schema=False)
def create_batch(
    request: Request,
    ctx: Ctx,
    account: Staff,
    title: Short,
    document_number: Short,
    deadline_days: Annotated[int, Form(ge=1, le=service.MAX_DEADLINE_DAYS)],
    issuing_office: Short = DEFAULT_OFFICE,
    type: Annotated[list[str], Form(max_length=64)] = [],  # noqa: B006 - form lists
    severity: Annotated[list[str], Form(max_length=16)] = [],  # noqa: B006
    city: Annotated[list[str], Form(max_length=32)] = [],  # noqa: B006
    orgs: Annotated[str, Form(max_length=2000)] = "",
    first_seen_from: Annotated[date | None, Form()] = None,
    first_seen_to: Annotated[date | None, Form()] = None,
    ids: Annotated[list[int], Form(max_length=5000)] = [],  # noqa: B006
) -> Response:
    flt = batch_filter(type, severity, city, orgs, first_seen_from, first_seen_to, ids)
    form = {
        "title": title,
        "document_number": document_number,
        "deadline_days": deadline_days,
        "issuing_office": issuing_office,
    }
    try:
        batch = on_lake(
            ctx,
            lambda: service.create_batch(
                ctx.workspace,
                actor(account),
                title=title,
                document_number=document_number,
                filters=flt,
                deadline_days=deadline_days,
                issuing_office=issuing_office,
                address=client_address(request),
            ),
        )
    except InputError as exc:
        return _new_page(request, ctx, account, flt, form, exc)
    return RedirectResponse(f"/batches/{batch.id}?done=created", status_code=303)


@router.get("/batches/{batch_id}", include_in_schema=False)
def batch_page(
    request: Request, ctx: Ctx, account: Reader, batch_id: RecordId, done: str = ""
) -> Response:
    batch = service.get_batch(ctx.workspace, actor(account), batch_id)
    return render(request, "batches/detail.html", {"batch": batch, "done": DONE.get(done)})


@router.post("/batches/{batch_id}/approve", include_in_schema=False)
def approve(request: Request, ctx: Ctx, account: Supervisor, batch_id: RecordId) -> Response:
    service.approve_batch(ctx.workspace, actor(account), batch_id, address=client_address(request))
    return RedirectResponse(f"/batches/{batch_id}?done=approved", status_code=303)


@router.post("/batches/{batch_id}/issue", include_in_schema=False)
def issue(request: Request, ctx: Ctx, account: Staff, batch_id: RecordId) -> Response:
    service.issue_batch(ctx.workspace, actor(account), batch_id, address=client_address(request))
    return RedirectResponse(f"/batches/{batch_id}?done=issued", status_code=303)


@router.post("/batches/{batch_id}/cancel", include_in_schema=False)
def cancel(
    request: Request,
    ctx: Ctx,
    account: Staff,
    batch_id: RecordId,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    service.cancel_batch(
        ctx.workspace, actor(account), batch_id, reason=reason, address=client_address(request)
    )
    return RedirectResponse(f"/batches/{batch_id}?done=cancelled", status_code=303)


# ---------------------------------------------------------------- JSON API


class FilterIn(BaseModel):
    """Which findings a batch gathers; an empty list does not restrict."""

    types: list[str] = Field(default=[], max_length=64)
    severities: list[str] = Field(default=[], max_length=8)
    organisations: list[str] = Field(default=[], max_length=1000, description="USCCs")
    cities: list[str] = Field(default=[], max_length=32, description='e.g. "南京市"')
    first_seen_from: date | None = None
    first_seen_to: date | None = None
    finding_ids: list[int] = Field(default=[], max_length=20_000)

    def to_filter(self) -> FindingFilter:
        return FindingFilter.from_json(self.model_dump(mode="json"))


class BatchIn(BaseModel):
    title: str = Field(max_length=200, examples=["2024年第5批网络安全通报"])
    document_number: str = Field(max_length=200, examples=["苏通信安〔2024〕5号"])
    deadline_days: int = Field(ge=1, le=service.MAX_DEADLINE_DAYS, description="working days")
    issuing_office: str = Field(default=DEFAULT_OFFICE, max_length=200)
    filters: FilterIn


class ReasonIn(BaseModel):
    reason: str = Field(max_length=500)


@api.get("/batches", response_model=list[service.BatchView], summary="Batches, newest first")
def api_batches(
    ctx: Ctx, account: Reader, status: Annotated[str | None, Query(max_length=16)] = None
) -> list[service.BatchView]:
    return service.list_batches(ctx.workspace, actor(account), status=status or None)


@api.get("/batches/{batch_id}", response_model=service.BatchView, summary="One batch")
def api_batch(ctx: Ctx, account: Reader, batch_id: RecordId) -> service.BatchView:
    return service.get_batch(ctx.workspace, actor(account), batch_id)


@api.post("/batches/preview", response_model=BatchPreview, summary="What a batch would gather")
def api_preview(ctx: Ctx, account: Staff, body: FilterIn) -> BatchPreview:
    flt = body.to_filter()
    return on_lake(ctx, lambda: service.preview_batch(ctx.workspace, actor(account), flt))


@api.post("/batches", response_model=service.BatchView, status_code=201, summary="Create a draft")
def api_create(request: Request, ctx: Ctx, account: Staff, body: BatchIn) -> service.BatchView:
    flt = body.filters.to_filter()
    return on_lake(
        ctx,
        lambda: service.create_batch(
            ctx.workspace,
            actor(account),
            title=body.title,
            document_number=body.document_number,
            filters=flt,
            deadline_days=body.deadline_days,
            issuing_office=body.issuing_office,
            address=client_address(request),
        ),
    )


@api.post("/batches/{batch_id}/approve", response_model=service.BatchView, summary="Approve")
def api_approve(
    request: Request, ctx: Ctx, account: Supervisor, batch_id: RecordId
) -> service.BatchView:
    return service.approve_batch(
        ctx.workspace, actor(account), batch_id, address=client_address(request)
    )


@api.post("/batches/{batch_id}/issue", response_model=service.BatchView, summary="Issue")
def api_issue(request: Request, ctx: Ctx, account: Staff, batch_id: RecordId) -> service.BatchView:
    return service.issue_batch(
        ctx.workspace, actor(account), batch_id, address=client_address(request)
    )


@api.post("/batches/{batch_id}/cancel", response_model=service.BatchView, summary="Cancel")
def api_cancel(
    request: Request, ctx: Ctx, account: Staff, batch_id: RecordId, body: ReasonIn
) -> service.BatchView:
    return service.cancel_batch(
        ctx.workspace,
        actor(account),
        batch_id,
        reason=body.reason,
        address=client_address(request),
    )
