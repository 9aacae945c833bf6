"""Small lookups over the lake, shared by the resource graph and attribution.

Each returns plain rows (dicts) for one subject; they filter first, so they stay fast
on a large province.
"""

from __future__ import annotations

from typing import Any

import ibis

from longpan.core import identifiers as ids
from longpan.store.engine import AnalyticsEngine

Row = dict[str, Any]


def rows(engine: AnalyticsEngine, expr: Any) -> list[Row]:
    return engine.rows(expr)


def parents(fqdn: str) -> list[str]:
    """fqdn and each parent down to two labels: a filed domain covers its subdomains."""
    labels = fqdn.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def services_for_domain(engine: AnalyticsEngine, fqdn: str) -> list[Row]:
    """Service filings whose domains equal or cover ``fqdn``."""
    t = engine.table("icp_services")
    u = t.mutate(filed_domain=t.domains.unnest())
    hits = u.filter(u.filed_domain.isin(parents(fqdn)))
    return rows(engine, hits.drop("filed_domain").distinct().order_by("service_licence"))


def services_where(engine: AnalyticsEngine, column: str, value: str) -> list[Row]:
    t = engine.table("icp_services")
    return rows(engine, t.filter(t[column] == value).order_by("service_licence"))


def services_with_ip(engine: AnalyticsEngine, ip: str) -> list[Row]:
    t = engine.table("icp_services")
    return rows(engine, t.filter(t.access_ips.contains(ip)).order_by("service_licence"))


def one(engine: AnalyticsEngine, dataset: str, column: str, value: str) -> Row | None:
    t = engine.table(dataset)
    found = rows(engine, t.filter(t[column] == value).limit(1))
    return found[0] if found else None


def many(
    engine: AnalyticsEngine,
    dataset: str,
    column: str,
    value: str,
    order: str | None = None,
    limit: int = 200,
) -> list[Row]:
    t = engine.table(dataset)
    expr = t.filter(t[column] == value)
    if order:
        expr = expr.order_by(order)
    return rows(engine, expr.limit(limit))


def filings_covering(engine: AnalyticsEngine, ip_range: ids.IpRange) -> list[Row]:
    """IP filings that contain the whole range, narrowest first."""
    f = engine.table("ip_filings")
    hits = f.filter(
        (f.ip_version == ip_range.version)
        & (f.start_key <= ip_range.start_key)
        & (f.end_key >= ip_range.end_key)
    )
    found = rows(engine, hits)
    return sorted(found, key=lambda r: (_size(r), r["reporter_uscc"], r["start_key"]))


def filings_overlapping(engine: AnalyticsEngine, ip_range: ids.IpRange) -> list[Row]:
    f = engine.table("ip_filings")
    hits = f.filter(
        (f.ip_version == ip_range.version)
        & (f.start_key <= ip_range.end_key)
        & (f.end_key >= ip_range.start_key)
    )
    return rows(engine, hits.order_by(["start_key", "end_key", "reporter_uscc"]))


def _size(row: Row) -> int:
    return int(row["end_key"], 16) - int(row["start_key"], 16)


def serving_ips(engine: AnalyticsEngine, fqdn: str) -> list[str]:
    """Addresses the name (or, for a registered domain, its www name) resolved to."""
    d = engine.table("dns_observations")
    names = [fqdn, f"www.{fqdn}"]
    hits = d.filter(d.fqdn.isin(names) & d.rrtype.isin(["A", "AAAA"]))
    ordered = hits.order_by([ibis.desc("last_seen"), "value"]).select("value")
    return list(dict.fromkeys(r["value"] for r in rows(engine, ordered)))
