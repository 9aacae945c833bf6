"""The general attribution rule for registered domains, for many at once.

``resources.attribution`` names the organisation responsible for one domain with a few
lookups: the access provider of the active service filings covering it, else the
reporter of the narrowest IP filing covering an address it (or its www. name) resolved
to. The runner applies it to every finding a detector leaves unattributed, one subject
at a time, and each lookup of a name in passive DNS reads the whole dataset. A detector
that relies on that rule for many subjects calls ``domain_owners`` instead: the same
rule, the same answers, in three queries whatever the number of domains.

The detector must declare ``icp_services``, ``dns_observations`` and ``ip_filings``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import ibis

from longpan.compliance import _sites as sites
from longpan.detect.base import DetectionContext
from longpan.resources.attribution import majority_access_provider
from longpan.resources.lookups import parents

Row = dict[str, Any]


def domain_owners(ctx: DetectionContext, domains: Sequence[str]) -> dict[str, str]:
    """Registered domain → responsible 统一社会信用代码, for those the lake can name."""
    wanted = sorted(set(domains))
    if not wanted:
        return {}
    owners = _by_filings(ctx, wanted)
    rest = [d for d in wanted if d not in owners]
    return {**owners, **_by_serving_address(ctx, rest)}


def _by_filings(ctx: DetectionContext, domains: list[str]) -> dict[str, str]:
    """The access provider of most active service filings listing the domain or a
    parent of it (as ``lookups.services_for_domain``, each filing counted once)."""
    names = {d: parents(d) for d in domains}
    t = ctx.table("icp_services")
    t = t.filter(t.status == "active")
    u = t.select("service_licence", "access_provider_uscc", filed_domain=t.domains.unnest())
    hits = u.filter(u.filed_domain.isin(sorted({n for ns in names.values() for n in ns})))
    by_name: dict[str, list[Row]] = defaultdict(list)
    for row in ctx.execute(hits.distinct()):
        by_name[row["filed_domain"]].append(row)
    owners: dict[str, str] = {}
    for domain, ns in names.items():
        services = {r["service_licence"]: r for n in ns for r in by_name.get(n, [])}
        found = majority_access_provider(list(services.values()), "")
        if found:
            owners[domain] = found.uscc
    return owners


def _by_serving_address(ctx: DetectionContext, domains: list[str]) -> dict[str, str]:
    """The reporter of the narrowest IP filing covering the first address (latest seen,
    then the smallest) that the domain or its www. name resolved to and that a filing
    covers (as ``lookups.serving_ips`` then ``lookups.filings_covering``)."""
    if not domains:
        return {}
    answers = _answers(ctx, domains)
    keys = sorted({(a["value_key"], a["ip_version"]) for a in answers})
    if not keys:
        return {}
    table = ibis.memtable(
        {"value_key": [k for k, _ in keys], "ip_version": [v for _, v in keys]},
        schema={"value_key": "string", "ip_version": "int64"},
    )
    narrowest: dict[str, Row] = {}
    for f in ctx.execute(sites.containing_filings(ctx, table)):
        best = narrowest.get(f["value_key"])
        if best is None or _narrower(f, best):
            narrowest[f["value_key"]] = f
    owners: dict[str, str] = {}
    for answer in answers:  # latest first, so the first covered address decides
        filing = narrowest.get(answer["value_key"])
        if filing is not None:
            owners.setdefault(answer["domain"], filing["reporter_uscc"])
    return owners


def _answers(ctx: DetectionContext, domains: list[str]) -> list[Row]:
    """A/AAAA answers of each domain and its www. name: each address once per domain,
    the latest seen first (ties: the smallest address text)."""
    names = sorted({n for d in domains for n in (d, f"www.{d}")})
    dns = ctx.table("dns_observations")
    hits = dns.filter(
        dns.registered_domain.isin(domains)  # skips row groups: the lake is in this order
        & dns.fqdn.isin(names)
        & dns.rrtype.isin(sites.ADDRESS_RRTYPES)
    )
    rows = ctx.execute(
        hits.select(
            "fqdn",
            "value",
            "value_key",
            "last_seen",
            ip_version=ibis.ifelse(hits.rrtype == "A", 4, 6).cast("int64"),
        )
    )
    wanted = set(domains)
    for row in rows:
        row["domain"] = row["fqdn"] if row["fqdn"] in wanted else row["fqdn"][len("www.") :]
    rows.sort(key=lambda r: (r["domain"], datetime.max - r["last_seen"], r["value"]))
    seen: set[tuple[str, str]] = set()
    unique = []
    for row in rows:
        if (row["domain"], row["value"]) not in seen:
            seen.add((row["domain"], row["value"]))
            unique.append(row)
    return unique


def _narrower(a: Row, b: Row) -> bool:
    """``lookups.filings_covering``'s order: the smaller range, then reporter, start."""
    return _rank(a) < _rank(b)


def _rank(f: Row) -> tuple[int, str, str]:
    return (int(f["end_key"], 16) - int(f["start_key"], 16), f["reporter_uscc"], f["start_key"])
