"""The dashboard's figures, scoped to the user: findings by type over time, by city,
open vs closed, and the closed loop's figures (metrics/loop.py) once they exist."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from longpan.accounts.users import Account
from longpan.core.errors import LongpanError
from longpan.detect.registry import finding_type_title
from longpan.metrics import loop as metrics_loop
from longpan.store.models import ACTIVE_STATUSES, Finding
from longpan.web.context import WebContext
from longpan.web.findings_query import scoped

log = logging.getLogger(__name__)

# How a finding status counts on the "open vs closed" chart.
STATUS_GROUPS = {
    **dict.fromkeys(ACTIVE_STATUSES, "open"),
    "closed": "closed",
    "dismissed": "dismissed",
    "not_observed": "not_observed",
}


def by_type_over_time(session: Session, account: Account, lang: str) -> dict[str, Any]:
    """Findings first seen per month, one series per finding type."""
    day = func.date(Finding.first_seen)
    query = scoped(
        select(Finding.type, day, func.count(Finding.id)).group_by(Finding.type, day), account
    )
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for finding_type, first_day, n in session.execute(query):
        counts[finding_type][str(first_day)[:7]] += int(n)
    months = sorted({m for c in counts.values() for m in c})
    series = [
        {"type": t, "name": finding_type_title(t, lang), "data": [counts[t][m] for m in months]}
        for t in sorted(counts)
    ]
    return {"months": months, "series": series}


def by_status(session: Session, account: Account) -> dict[str, int]:
    query = scoped(select(Finding.status, func.count(Finding.id)).group_by(Finding.status), account)
    grouped: Counter[str] = Counter()
    for status, n in session.execute(query):
        grouped[STATUS_GROUPS.get(status, status)] += int(n)
    return {
        group: grouped.get(group, 0) for group in ("open", "closed", "dismissed", "not_observed")
    }


def by_city(ctx: WebContext, session: Session, account: Account) -> list[dict[str, Any]]:
    """Unresolved findings per city (the province map)."""
    query = scoped(
        select(Finding.subject, func.count(Finding.id))
        .where(Finding.status.in_(ACTIVE_STATUSES))
        .group_by(Finding.subject),
        account,
    )
    per_subject = {subject: int(n) for subject, n in session.execute(query)}
    if not per_subject:
        return []
    cities = ctx.places.cities(set(per_subject), ctx.with_lake)
    totals: Counter[str] = Counter()
    for subject, n in per_subject.items():
        totals[cities.get(subject) or "未知"] += n
    return [{"city": c, "count": n} for c, n in totals.most_common()]


def loop_figures(ctx: WebContext, account: Account) -> dict[str, Any] | None:
    """The closed loop's figures (metrics/loop.py); enterprise users get only their
    organisation's row. None (the slot says so) if they cannot be computed."""
    try:
        figures: dict[str, Any] = metrics_loop.loop_figures(ctx.workspace)
    except LongpanError as exc:  # e.g. a deadline outside the holiday calendar's years
        log.warning("loop figures unavailable: %s", exc)
        return None
    if account.is_enterprise:
        own = [
            row
            for row in figures.get("by_organisation", [])
            if row.get("uscc") == account.organisation_uscc
        ]
        return {"overall": own[0] if own else None, "by_type": [], "by_batch": []}
    return figures


def dashboard(ctx: WebContext, session: Session, account: Account, lang: str) -> dict[str, Any]:
    """All figures, recomputed only after the database or the lake changed (web/cache.py)."""

    def compute() -> dict[str, Any]:
        return {
            "over_time": by_type_over_time(session, account, lang),
            "status": by_status(session, account),
            "cities": by_city(ctx, session, account),
            "loop": loop_figures(ctx, account),
        }

    scope = (account.role == "enterprise", account.organisation_uscc)
    return ctx.cache.memo(session)(("dashboard", scope, lang), compute)  # type: ignore[no-any-return]
