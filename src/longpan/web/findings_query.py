"""Findings as the web shows them: filtered, sorted, paged and scoped to the user.

Enterprise users see only findings whose responsible organisation (responsible_uscc)
is their own; every query here goes through ``scoped``. Filters map to indexed columns
(type+status, subject, responsible_uscc); the city filter turns into a subject list
through the city cache (web/places.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, defer

from longpan.accounts.users import Account
from longpan.core.errors import InputError, NotFoundError
from longpan.store.models import FINDING_STATUSES, SEVERITIES, Finding, Organisation
from longpan.web.cache import Memo, no_memo

SEVERITY_RANK = case({s: i for i, s in enumerate(SEVERITIES)}, value=Finding.severity, else_=-1)
SORT_COLUMNS: dict[str, Any] = {
    "id": Finding.id,
    "type": Finding.type,
    "subject": Finding.subject,
    "severity": SEVERITY_RANK,
    "status": Finding.status,
    "first_seen": Finding.first_seen,
    "last_seen": Finding.last_seen,
    "responsible": Finding.responsible_uscc,
}
PAGE_SIZES = (20, 50, 100, 200)
CityResolver = Callable[[set[str]], Mapping[str, str | None]]
AnySelect = Select[*tuple[Any, ...]]
S = TypeVar("S", bound=AnySelect)


@dataclass(frozen=True)
class FindingFilter:
    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    organisation: str | None = None  # responsible USCC
    text: str | None = None  # part of the subject

    def check(self) -> None:
        """Refuse unknown statuses/severities with the field named."""
        for name, values, known in (
            ("status", self.statuses, FINDING_STATUSES),
            ("severity", self.severities, SEVERITIES),
        ):
            unknown = [v for v in values if v not in known]
            if unknown:
                raise InputError(f"unknown {name} {', '.join(unknown)}", column=name)

    def as_query(self) -> list[tuple[str, str]]:
        """The filter as query-string pairs (for links to the next page and exports)."""
        pairs = [("type", v) for v in self.types] + [("status", v) for v in self.statuses]
        pairs += [("severity", v) for v in self.severities] + [("city", v) for v in self.cities]
        if self.organisation:
            pairs.append(("org", self.organisation))
        if self.text:
            pairs.append(("q", self.text))
        return pairs


@dataclass(frozen=True)
class Sort:
    key: str = "id"
    descending: bool = True

    @classmethod
    def parse(cls, value: str | None) -> Sort:
        """ "-first_seen" → first_seen descending; unknown keys are refused."""
        if not value:
            return cls()
        key = value.lstrip("-")
        if key not in SORT_COLUMNS:
            raise InputError(
                f"unknown sort key {key!r}; known: {', '.join(SORT_COLUMNS)}", column="sort"
            )
        return cls(key, value.startswith("-"))

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.key


@dataclass
class FindingRow:
    id: int
    type: str
    subject: str
    severity: str
    status: str
    observed: bool
    responsible_uscc: str | None
    responsible_name: str | None
    first_seen: datetime
    last_seen: datetime
    detector: str
    detector_version: str
    evidence: dict[str, Any] = field(default_factory=dict)
    city: str | None = None


@dataclass
class FindingPage:
    rows: list[FindingRow]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def scoped(query: S, account: Account) -> S:
    """Restrict to what the account may see: enterprise users only their organisation's."""
    if account.is_enterprise:
        return query.where(Finding.responsible_uscc == (account.organisation_uscc or "\x00"))
    return query


def _base(account: Account) -> AnySelect:
    query = select(Finding, Organisation.name).outerjoin(
        Organisation, Organisation.uscc == Finding.responsible_uscc
    )
    return scoped(query, account)


def _scope_key(account: Account) -> tuple[str, str | None]:
    return ("enterprise", account.organisation_uscc) if account.is_enterprise else ("all", None)


def _city_subjects(
    session: Session, account: Account, cities: tuple[str, ...], resolver: CityResolver, memo: Memo
) -> list[str]:
    """The subjects (in the account's scope) located in any of ``cities``."""

    def compute() -> list[str]:
        subjects = set(session.scalars(scoped(select(Finding.subject).distinct(), account)))
        placed = resolver(subjects)
        wanted = set(cities)
        return sorted(s for s, city in placed.items() if city in wanted)

    return memo(("city-subjects", _scope_key(account), cities), compute)  # type: ignore[no-any-return]


def _filtered_ids(
    session: Session, account: Account, flt: FindingFilter, cities: CityResolver, memo: Memo
) -> AnySelect:
    """SELECT Finding.id with the filter and the scope applied (narrow, for sort and count)."""
    flt.check()
    query = scoped(select(Finding.id), account)
    if flt.types:
        query = query.where(Finding.type.in_(flt.types))
    if flt.statuses:
        query = query.where(Finding.status.in_(flt.statuses))
    if flt.severities:
        query = query.where(Finding.severity.in_(flt.severities))
    if flt.organisation:
        query = query.where(Finding.responsible_uscc == flt.organisation.strip().upper())
    if flt.text:
        query = query.where(
            func.lower(Finding.subject).contains(flt.text.strip().lower(), autoescape=True)
        )
    if flt.cities:
        query = query.where(
            Finding.subject.in_(_city_subjects(session, account, flt.cities, cities, memo))
        )
    return query


def _row(finding: Finding, org_name: str | None, with_evidence: bool) -> FindingRow:
    return FindingRow(
        id=finding.id,
        type=finding.type,
        subject=finding.subject,
        severity=finding.severity,
        status=finding.status,
        observed=finding.observed,
        responsible_uscc=finding.responsible_uscc,
        responsible_name=org_name,
        first_seen=finding.first_seen,
        last_seen=finding.last_seen,
        detector=finding.detector,
        detector_version=finding.detector_version,
        evidence=finding.evidence if with_evidence else {},
    )


def _ordered(query: AnySelect, sort: Sort) -> AnySelect:
    column = SORT_COLUMNS[sort.key]
    tie = Finding.id.desc() if sort.descending else Finding.id.asc()
    return query.order_by(column.desc() if sort.descending else column.asc(), tie)


def _rows_for(session: Session, ids: list[int], with_evidence: bool) -> list[FindingRow]:
    """Full rows for ``ids``, in the order of ``ids``."""
    if not ids:
        return []
    query = (
        select(Finding, Organisation.name)
        .outerjoin(Organisation, Organisation.uscc == Finding.responsible_uscc)
        .where(Finding.id.in_(ids))
    )
    if not with_evidence:
        query = query.options(defer(Finding.evidence))
    by_id = {f.id: _row(f, name, with_evidence) for f, name in session.execute(query)}
    return [by_id[i] for i in ids if i in by_id]


def search(
    session: Session,
    account: Account,
    flt: FindingFilter,
    *,
    sort: Sort,
    page: int,
    size: int,
    cities: CityResolver,
    memo: Memo = no_memo,
    row_cities: CityResolver | None = None,
) -> FindingPage:
    """One page of findings and the total count of the filter.

    Sorting and paging run on the narrow id query; only the page's rows are loaded.
    ``cities`` serves the city filter, ``row_cities`` (default: ``cities``) the rows."""
    if size not in PAGE_SIZES:
        raise InputError(f"page size must be one of {PAGE_SIZES}", column="size")
    page = max(1, page)
    ids_query = _filtered_ids(session, account, flt, cities, memo)
    count_query = select(func.count()).select_from(ids_query.subquery())
    total = memo(("count", _scope_key(account), flt), lambda: int(session.scalar(count_query) or 0))
    ids = list(session.scalars(_ordered(ids_query, sort).limit(size).offset((page - 1) * size)))
    found = _rows_for(session, ids, with_evidence=False)
    placed = (row_cities or cities)({r.subject for r in found}) if found else {}
    for row in found:
        row.city = placed.get(row.subject)
    return FindingPage(found, int(total), page, size)


def iterate(
    session: Session,
    account: Account,
    flt: FindingFilter,
    *,
    sort: Sort,
    cities: CityResolver,
    chunk: int = 1000,
) -> Iterator[FindingRow]:
    """Every finding of the filter, in order, read in chunks (for exports)."""
    ids = list(
        session.scalars(_ordered(_filtered_ids(session, account, flt, cities, no_memo), sort))
    )
    for start in range(0, len(ids), chunk):
        rows = _rows_for(session, ids[start : start + chunk], with_evidence=True)
        placed = cities({r.subject for r in rows})
        for row in rows:
            row.city = placed.get(row.subject)
            yield row


def get_finding(session: Session, account: Account, finding_id: int) -> FindingRow:
    """One finding; NotFoundError also when it is outside the account's scope."""
    found = session.execute(_base(account).where(Finding.id == finding_id)).first()
    if found is None:
        raise NotFoundError(f"线索 {finding_id} 不存在 (finding {finding_id} not found)")
    return _row(found[0], found[1], with_evidence=True)


def subject_findings(session: Session, account: Account, subject: str) -> list[FindingRow]:
    rows = session.execute(_base(account).where(Finding.subject == subject).order_by(Finding.id))
    return [_row(f, name, with_evidence=True) for f, name in rows]


def distinct_values(
    session: Session, account: Account, column: Any, memo: Memo = no_memo
) -> list[str]:
    """Values present in the account's findings (for filter drop-downs)."""
    query = scoped(select(column).distinct().where(column.is_not(None)), account)
    key = ("distinct", _scope_key(account), str(column))
    return memo(key, lambda: sorted(str(v) for v in session.scalars(query)))  # type: ignore[no-any-return]
