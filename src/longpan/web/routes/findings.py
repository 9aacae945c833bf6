"""Findings (线索): list with filters, sort, pages, bulk select, exports; detail; JSON API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.responses import Response

from longpan.accounts.users import Account
from longpan.detect import registry
from longpan.store.models import FINDING_STATUSES, SEVERITIES, Finding
from longpan.web import export
from longpan.web import findings_query as fq
from longpan.web.audit_query import finding_objects, history
from longpan.web.context import WebContext
from longpan.web.deps import Ctx, CurrentUser, DbSession, RecordId
from longpan.web.places import PROVINCE_CITIES
from longpan.web.templating import gettext_for, render, request_language

router = APIRouter(tags=["findings"])
api = APIRouter(prefix="/api", tags=["findings"])

# Who may put findings into a notification batch (the loop's /batches/new page).
BATCH_ROLES = ("admin", "supervisor", "analyst")
SORT_OPTIONS = (
    ("-id", "Newest"),
    ("id", "Oldest"),
    ("-severity", "Severity, highest first"),
    ("severity", "Severity, lowest first"),
    ("-first_seen", "First seen, newest first"),
    ("-last_seen", "Last seen, newest first"),
    ("type", "Type"),
    ("subject", "Subject"),
    ("status", "Status"),
    ("responsible", "Responsible organisation"),
)
EXPORT_COLUMNS = (
    ("id", "ID"),
    ("type", "Type"),
    ("type_title", "Type name"),
    ("subject", "Subject"),
    ("severity", "Severity"),
    ("status", "Status"),
    ("city", "City"),
    ("responsible_uscc", "Responsible USCC"),
    ("responsible_name", "Responsible organisation"),
    ("first_seen", "First seen"),
    ("last_seen", "Last seen"),
    ("detector", "Detector"),
)


def finding_filter(
    type: Annotated[list[str], Query(max_length=64)] = [],  # noqa: B006 - FastAPI query lists
    status: Annotated[list[str], Query(max_length=16)] = [],  # noqa: B006
    severity: Annotated[list[str], Query(max_length=16)] = [],  # noqa: B006
    city: Annotated[list[str], Query(max_length=32)] = [],  # noqa: B006
    org: Annotated[str | None, Query(max_length=18, description="responsible USCC")] = None,
    q: Annotated[str | None, Query(max_length=200, description="part of the subject")] = None,
) -> fq.FindingFilter:
    return fq.FindingFilter(
        types=_clean(type),
        statuses=_clean(status),
        severities=_clean(severity),
        cities=_clean(city),
        organisation=org or None,
        text=q or None,
    )


Filter = Annotated[fq.FindingFilter, Depends(finding_filter)]
SortParam = Annotated[str, Query(max_length=32, description='e.g. "-first_seen"')]
PageParam = Annotated[int, Query(ge=1, le=1_000_000)]
SizeParam = Annotated[int, Query(description="20, 50, 100 or 200")]


def _clean(values: list[str]) -> tuple[str, ...]:
    """Drop empty values (an empty <select> option means "any")."""
    return tuple(v for v in values if v)


def city_resolver(ctx: WebContext) -> fq.CityResolver:
    """Cities from the lake, waiting for look-ups (filters, exports, the API)."""
    return lambda subjects: ctx.places.cities(subjects, ctx.with_lake)


def known_cities(ctx: WebContext) -> fq.CityResolver:
    """Cities already known; the rest are looked up in the background (the HTML list)."""
    return lambda subjects: ctx.places.known(subjects, ctx.with_lake)


@dataclass(frozen=True)
class Listing:
    """One page of the findings list as the page and the API both ask for it."""

    flt: fq.FindingFilter
    sort: str
    page: int
    size: int

    def search(
        self,
        ctx: WebContext,
        session: Session,
        account: Account,
        row_cities: fq.CityResolver | None = None,
    ) -> fq.FindingPage:
        return fq.search(
            session,
            account,
            self.flt,
            sort=fq.Sort.parse(self.sort),
            page=self.page,
            size=self.size,
            cities=city_resolver(ctx),
            memo=ctx.cache.memo(session),
            row_cities=row_cities,
        )


@router.get("/findings", include_in_schema=False)
def findings_page(
    request: Request,
    ctx: Ctx,
    session: DbSession,
    account: CurrentUser,
    flt: Filter,
    sort: SortParam = "-id",
    page: PageParam = 1,
    size: SizeParam = 50,
) -> Response:
    listing = Listing(flt, sort, page, size)  # the API asks for the same page
    result = listing.search(ctx, session, account, row_cities=known_cities(ctx))
    template = (
        "findings/_results.html" if request.headers.get("hx-request") else "findings/list.html"
    )
    return render(
        request,
        template,
        {
            "result": result,
            "flt": flt,
            "sort": fq.Sort.parse(sort),
            "query": flt.as_query(),
            "options": _options(ctx, session, account),
            "can_batch": account.role in BATCH_ROLES,
            "page_sizes": fq.PAGE_SIZES,
            "sort_options": SORT_OPTIONS,
        },
    )


def _options(ctx: WebContext, session: DbSession, account: Account) -> dict[str, Any]:
    memo = ctx.cache.memo(session)
    types = sorted(
        set(registry.finding_types())
        | set(fq.distinct_values(session, account, Finding.type, memo))
    )
    orgs = (
        []
        if account.is_enterprise
        else fq.distinct_values(session, account, Finding.responsible_uscc, memo)
    )
    return {
        "types": types,
        "statuses": FINDING_STATUSES,
        "severities": SEVERITIES,
        "cities": PROVINCE_CITIES,
        "orgs": orgs,
    }


def _export_rows(
    ctx: WebContext, account: Account, flt: fq.FindingFilter, sort: fq.Sort, lang: str
) -> Iterator[list[Any]]:
    with ctx.reading() as session:
        for row in fq.iterate(session, account, flt, sort=sort, cities=city_resolver(ctx)):
            values = {**row.__dict__, "type_title": registry.finding_type_title(row.type, lang)}
            yield [values[key] for key, _label in EXPORT_COLUMNS]


def _export_header(request: Request) -> list[str]:
    _ = gettext_for(request)
    return [_(label) for _key, label in EXPORT_COLUMNS]


@router.get("/findings/export.csv", include_in_schema=False)
def export_csv(
    request: Request, ctx: Ctx, account: CurrentUser, flt: Filter, sort: SortParam = "-id"
) -> Response:
    flt.check()
    lang = request_language(request)
    rows = _export_rows(ctx, account, flt, fq.Sort.parse(sort), lang)
    return export.csv_response(_export_header(request), rows, f"findings-{_stamp()}.csv")


@router.get("/findings/export.xlsx", include_in_schema=False)
def export_xlsx(
    request: Request, ctx: Ctx, account: CurrentUser, flt: Filter, sort: SortParam = "-id"
) -> Response:
    flt.check()
    lang = request_language(request)
    rows = _export_rows(ctx, account, flt, fq.Sort.parse(sort), lang)
    return export.xlsx_response(
        _export_header(request), rows, f"findings-{_stamp()}.xlsx", "findings"
    )


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


@router.get("/findings/{finding_id}", include_in_schema=False)
def finding_page(
    request: Request, ctx: Ctx, session: DbSession, account: CurrentUser, finding_id: RecordId
) -> Response:
    row = fq.get_finding(session, account, finding_id)
    row.city = ctx.places.cities({row.subject}, ctx.with_lake).get(row.subject)
    entries = history(session, finding_objects(row.id, row.type, row.subject))
    return render(request, "findings/detail.html", {"f": row, "history": entries})


# ---------------------------------------------------------------- JSON API


class FindingOut(BaseModel):
    id: int
    type: str
    type_title: str
    subject: str
    severity: str
    status: str
    observed: bool
    city: str | None
    responsible_uscc: str | None
    responsible_name: str | None
    first_seen: datetime
    last_seen: datetime
    detector: str
    detector_version: str


class FindingDetailOut(FindingOut):
    evidence: dict[str, Any]


class FindingListOut(BaseModel):
    total: int
    page: int
    size: int
    items: list[FindingOut]


def finding_out(row: fq.FindingRow, lang: str, detail: bool = False) -> FindingOut:
    values = {**row.__dict__, "type_title": registry.finding_type_title(row.type, lang)}
    if detail:
        return FindingDetailOut(**values)
    values.pop("evidence")
    return FindingOut(**values)


@api.get("/findings", response_model=FindingListOut, summary="Findings (scoped to the user)")
def api_findings(
    request: Request,
    ctx: Ctx,
    session: DbSession,
    account: CurrentUser,
    flt: Filter,
    sort: SortParam = "-id",
    page: PageParam = 1,
    size: SizeParam = 50,
) -> FindingListOut:
    result = Listing(flt, sort, page, size).search(ctx, session, account)
    lang = request_language(request)
    return FindingListOut(
        total=result.total,
        page=result.page,
        size=result.size,
        items=[finding_out(r, lang) for r in result.rows],
    )


@api.get(
    "/findings/{finding_id}",
    response_model=FindingDetailOut,
    summary="One finding with its evidence",
)
def api_finding(
    request: Request, ctx: Ctx, session: DbSession, account: CurrentUser, finding_id: RecordId
) -> FindingOut:
    row = fq.get_finding(session, account, finding_id)
    row.city = ctx.places.cities({row.subject}, ctx.with_lake).get(row.subject)
    return finding_out(row, request_language(request), detail=True)
