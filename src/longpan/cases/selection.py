"""Choosing findings for a batch: filters, grouping by responsible organisation.

Findings without a responsible organisation (or with one the platform does not know)
are listed as unaddressable, and findings already held by another draft batch or an
open notice are listed as held — neither is silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from longpan.cases.deadlines import CHINA
from longpan.cases.views import FindingSummary, finding_summary
from longpan.core.errors import InputError
from longpan.metrics.counts import subject_cities
from longpan.store.models import SEVERITIES, Finding, Notice, NoticeItem, Organisation
from longpan.store.workspace import Workspace

SELECTABLE = ("open", "reopened")
MAX_FINDINGS = 20_000


@dataclass(frozen=True)
class FindingFilter:
    """Which findings a batch gathers; an empty field does not restrict."""

    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = SELECTABLE
    severities: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()  # responsible USCCs
    cities: tuple[str, ...] = ()  # e.g. "南京市", by the subject's city in the lake
    first_seen_from: date | None = None
    first_seen_to: date | None = None
    finding_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        bad = [s for s in self.statuses if s not in SELECTABLE]
        if bad or not self.statuses:
            raise InputError(
                f"只能选择待通报或重新打开的线索 (statuses must be among {SELECTABLE}, got "
                f"{list(self.statuses)})",
                column="statuses",
            )
        unknown = [s for s in self.severities if s not in SEVERITIES]
        if unknown:
            raise InputError(f"unknown severity {unknown}", column="severities")
        if (
            self.first_seen_from
            and self.first_seen_to
            and self.first_seen_from > self.first_seen_to
        ):
            raise InputError("first_seen_from is after first_seen_to", column="first_seen")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, date):
                out[f.name] = value.isoformat()
            elif isinstance(value, tuple):
                out[f.name] = list(value)
            else:
                out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FindingFilter:
        known = {f.name for f in fields(cls)}
        extra = sorted(set(data) - known)
        if extra:
            raise InputError(f"unknown filter field(s) {extra}", column="filters")
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            if name.startswith("first_seen") and isinstance(value, str):
                kwargs[name] = _parse_date(value, name)
            elif isinstance(value, list | tuple):
                kwargs[name] = tuple(value)
            else:
                kwargs[name] = value
        return cls(**kwargs)


def _parse_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{value!r} is not a date (YYYY-MM-DD)", column=name) from None


@dataclass(frozen=True)
class OrgGroup:
    organisation_id: int
    uscc: str
    name: str
    findings: list[FindingSummary]


@dataclass(frozen=True)
class BatchPreview:
    groups: list[OrgGroup] = field(default_factory=list)
    unaddressable: list[FindingSummary] = field(default_factory=list)
    held: list[FindingSummary] = field(default_factory=list)

    @property
    def finding_ids(self) -> list[int]:
        return [f.id for g in self.groups for f in g.findings]


def _query(filters: FindingFilter) -> Select[Finding]:
    query = select(Finding).where(Finding.status.in_(filters.statuses))
    if filters.types:
        query = query.where(Finding.type.in_(filters.types))
    if filters.severities:
        query = query.where(Finding.severity.in_(filters.severities))
    if filters.organisations:
        query = query.where(Finding.responsible_uscc.in_(filters.organisations))
    if filters.finding_ids:
        query = query.where(Finding.id.in_(filters.finding_ids))
    if filters.first_seen_from:
        query = query.where(Finding.first_seen >= _day_start(filters.first_seen_from))
    if filters.first_seen_to:
        next_day = filters.first_seen_to + timedelta(days=1)
        query = query.where(Finding.first_seen < _day_start(next_day))
    return query.order_by(Finding.responsible_uscc, Finding.type, Finding.subject)


def _day_start(day: date) -> datetime:
    """The first instant of a Chinese calendar day."""
    return datetime.combine(day, time.min, tzinfo=CHINA)


def held_finding_ids(session: Session, finding_ids: list[int]) -> set[int]:
    """Findings already in an unresolved item of a draft or issued notice."""
    held: set[int] = set()
    for start in range(0, len(finding_ids), 1000):
        chunk = finding_ids[start : start + 1000]
        held.update(
            session.scalars(
                select(NoticeItem.finding_id)
                .join(Notice, Notice.id == NoticeItem.notice_id)
                .where(
                    NoticeItem.finding_id.in_(chunk),
                    NoticeItem.outcome.is_(None),
                    Notice.status.in_(("draft", "issued")),
                )
            )
        )
    return held


def select_findings(ws: Workspace, session: Session, filters: FindingFilter) -> BatchPreview:
    found = list(session.scalars(_query(filters).limit(MAX_FINDINGS + 1)))
    if len(found) > MAX_FINDINGS:
        raise InputError(
            f"筛选结果超过 {MAX_FINDINGS} 条，请缩小范围 (more than {MAX_FINDINGS} findings; "
            "narrow the filters)",
            column="filters",
        )
    if filters.cities:
        cities = subject_cities(ws.analytics(), {f.subject for f in found})
        found = [f for f in found if cities.get(f.subject) in filters.cities]
    held = held_finding_ids(session, [f.id for f in found])
    orgs = _organisations(session, {f.responsible_uscc for f in found if f.responsible_uscc})
    return _grouped(found, held, orgs)


def _organisations(session: Session, usccs: set[str]) -> dict[str, Organisation]:
    if not usccs:
        return {}
    rows = session.scalars(select(Organisation).where(Organisation.uscc.in_(sorted(usccs))))
    return {o.uscc: o for o in rows}


def _grouped(found: list[Finding], held: set[int], orgs: dict[str, Organisation]) -> BatchPreview:
    preview = BatchPreview()
    by_org: dict[str, list[FindingSummary]] = {}
    for f in found:
        if f.id in held:
            preview.held.append(finding_summary(f, "已在其他批次或未办结通报中 (already notified)"))
        elif not f.responsible_uscc:
            preview.unaddressable.append(
                finding_summary(f, "无责任单位 (no responsible organisation)")
            )
        elif f.responsible_uscc not in orgs:
            preview.unaddressable.append(
                finding_summary(
                    f, f"责任单位 {f.responsible_uscc} 未登记 (organisation not registered)"
                )
            )
        else:
            by_org.setdefault(f.responsible_uscc, []).append(finding_summary(f))
    for uscc in sorted(by_org):
        org = orgs[uscc]
        preview.groups.append(OrgGroup(org.id, org.uscc, org.name, by_org[uscc]))
    return preview
