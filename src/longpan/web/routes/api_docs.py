"""/api/docs: Swagger UI from swagger-ui-dist, served locally (works offline)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from longpan.web.deps import CurrentUser
from longpan.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/api/docs")
def api_docs(request: Request, account: CurrentUser) -> Response:
    return render(request, "api_docs.html", {})
