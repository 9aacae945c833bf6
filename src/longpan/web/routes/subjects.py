"""A subject's page: its resource-graph neighbourhood (resources/graph.py), its findings
and their history. Enterprise users see only subjects they have findings on, and no
graph (it shows other organisations' records)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.responses import Response

from longpan.accounts.users import Account
from longpan.core.errors import InputError, LongpanError, NotFoundError
from longpan.detect.store import jsonable
from longpan.resources.graph import neighbourhood
from longpan.web import findings_query as fq
from longpan.web.audit_query import finding_objects, history
from longpan.web.context import WebContext
from longpan.web.deps import Ctx, CurrentUser, DbSession
from longpan.web.routes.findings import FindingOut, finding_out
from longpan.web.templating import render, request_language

router = APIRouter(tags=["subjects"])
api = APIRouter(prefix="/api", tags=["subjects"])

MAX_SUBJECT = 512


def subject_view(
    ctx: WebContext, session: Session, account: Account, subject: str
) -> dict[str, Any]:
    """Findings, graph and history of ``subject`` as the account may see them."""
    if not subject or len(subject) > MAX_SUBJECT:
        raise InputError("subject: 1–512 characters", column="subject")
    findings = fq.subject_findings(session, account, subject)
    graph, graph_error, malformed = None, None, False
    if not account.is_enterprise:
        try:
            graph = jsonable(ctx.with_lake(lambda engine: neighbourhood(engine, subject)))
        except InputError as exc:
            graph_error, malformed = str(exc), True
        except LongpanError as exc:  # the lake cannot answer: show the findings anyway
            graph_error = str(exc)
    if not findings and graph is None:
        if malformed:
            raise InputError(graph_error or "not a subject", column="subject")
        raise NotFoundError(f"对象 {subject} 无可查看的记录 (nothing to show for this subject)")
    objects = [o for f in findings for o in finding_objects(f.id, f.type, f.subject)]
    return {
        "subject": subject,
        "kind": graph["kind"] if graph else None,
        "graph": graph,
        "graph_error": graph_error,
        "findings": findings,
        "history": history(session, objects),
    }


@router.get("/subjects/{subject:path}", include_in_schema=False)
def subject_page(
    request: Request, ctx: Ctx, session: DbSession, account: CurrentUser, subject: str
) -> Response:
    view = subject_view(ctx, session, account, subject)
    return render(request, "subjects/detail.html", view)


class HistoryOut(BaseModel):
    at: Any
    actor: str
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any]


class SubjectOut(BaseModel):
    subject: str
    kind: str | None
    graph: dict[str, Any] | None
    findings: list[FindingOut]
    history: list[HistoryOut]


@api.get(
    "/subjects/{subject:path}",
    response_model=SubjectOut,
    summary="A subject's neighbourhood and findings",
)
def subject_api(
    request: Request, ctx: Ctx, session: DbSession, account: CurrentUser, subject: str
) -> SubjectOut:
    view = subject_view(ctx, session, account, subject)
    lang = request_language(request)
    return SubjectOut(
        subject=view["subject"],
        kind=view["kind"],
        graph=view["graph"],
        findings=[finding_out(f, lang) for f in view["findings"]],
        history=[
            HistoryOut(
                at=e.at,
                actor=e.actor,
                action=e.action,
                object_type=e.object_type,
                object_id=e.object_id,
                details=e.details,
            )
            for e in view["history"]
        ],
    )
