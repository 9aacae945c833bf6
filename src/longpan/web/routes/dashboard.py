"""The dashboard (首页): charts of findings and of the closed loop."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from longpan.web.dashboard_data import dashboard
from longpan.web.deps import Ctx, CurrentUser, DbSession
from longpan.web.templating import render, request_language

router = APIRouter(tags=["dashboard"])
api = APIRouter(prefix="/api", tags=["dashboard"])


@router.get("/", include_in_schema=False)
def dashboard_page(
    request: Request, ctx: Ctx, session: DbSession, account: CurrentUser
) -> Response:
    data = dashboard(ctx, session, account, request_language(request))
    return render(request, "dashboard.html", {"data": data})


class Series(BaseModel):
    type: str
    name: str
    data: list[int]


class OverTime(BaseModel):
    months: list[str]
    series: list[Series]


class CityCount(BaseModel):
    city: str
    count: int


class DashboardOut(BaseModel):
    over_time: OverTime
    status: dict[str, int]
    cities: list[CityCount]
    loop: dict[str, Any] | None


@api.get("/dashboard", response_model=DashboardOut, summary="The dashboard's figures")
def dashboard_api(
    request: Request, ctx: Ctx, session: DbSession, account: CurrentUser
) -> DashboardOut:
    return DashboardOut.model_validate(dashboard(ctx, session, account, request_language(request)))
