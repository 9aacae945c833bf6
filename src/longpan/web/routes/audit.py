"""The audit log (审计日志): filter and page; for admin, supervisor and auditor."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from longpan.accounts.users import Account
from longpan.web.audit_query import AUDIT_PAGE_SIZE, AuditFilter, search_audit
from longpan.web.deps import DbSession, require_roles
from longpan.web.templating import render

router = APIRouter(tags=["audit"])
api = APIRouter(prefix="/api", tags=["audit"])
AUDIT_ROLES = ("admin", "supervisor", "auditor")
AuditReader = Annotated[Account, Depends(require_roles(*AUDIT_ROLES))]


def audit_filter(
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    object: Annotated[str | None, Query(max_length=200)] = None,
    since: date | None = None,
    until: date | None = None,
) -> AuditFilter:
    return AuditFilter(
        actor=actor or None,
        action=action or None,
        object_text=object or None,
        since=since,
        until=until,
    )


Filter = Annotated[AuditFilter, Depends(audit_filter)]
PageParam = Annotated[int, Query(ge=1, le=1_000_000)]


@router.get("/audit", include_in_schema=False)
def audit_page(
    request: Request, session: DbSession, account: AuditReader, flt: Filter, page: PageParam = 1
) -> Response:
    result = search_audit(session, flt, page=page)
    query = [
        (k, v)
        for k, v in (
            ("actor", flt.actor),
            ("action", flt.action),
            ("object", flt.object_text),
            ("since", flt.since),
            ("until", flt.until),
        )
        if v
    ]
    return render(request, "audit.html", {"result": result, "flt": flt, "query": query})


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any]
    address: str | None


class AuditListOut(BaseModel):
    total: int
    page: int
    size: int
    items: list[AuditEntryOut]


@api.get("/audit", response_model=AuditListOut, summary="The audit log, newest first")
def audit_api(
    session: DbSession, account: AuditReader, flt: Filter, page: PageParam = 1
) -> AuditListOut:
    result = search_audit(session, flt, page=page, size=AUDIT_PAGE_SIZE)
    return AuditListOut(
        total=result.total,
        page=result.page,
        size=result.size,
        items=[AuditEntryOut.model_validate(e, from_attributes=True) for e in result.rows],
    )
