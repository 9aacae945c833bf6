"""Building blocks shared by the website detectors (unfiled_website, false_filing,
shell_website); private to them.

Everything here builds Ibis expressions that run the same on DuckDB and on Spark:
- the time window of a rule, measured back from the as-of time;
- the crawls of a window, the latest of each URL, and which of them are live;
- the active website filings, one row per filed domain with its registered domain;
- which filed domains cover a crawled name (a filed domain covers its subdomains);
- the addresses a name resolved to and the narrowest IP filing covering each.

A filed domain covers a name only when both share the registered domain, so every
coverage test is an equality join on ``registered_domain`` followed by a suffix check,
never a join on a string-suffix condition.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from longpan.core import identifiers as ids
from longpan.detect.base import DetectionContext

ADDRESS_RRTYPES = ("A", "AAAA")
MAX_LISTED = 20  # list items kept in evidence
Rows = list[dict[str, Any]]


# -- time ------------------------------------------------------------------------------
def naive_utc(moment: datetime) -> datetime:
    """Lake timestamps are naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def now(ctx: DetectionContext) -> ir.TimestampScalar:
    return ibis.literal(naive_utc(ctx.as_of))


def since(ctx: DetectionContext, days: int) -> ir.TimestampScalar:
    return ibis.literal(naive_utc(ctx.as_of) - timedelta(days=days))


# -- subjects --------------------------------------------------------------------------
def only_subjects(table: ir.Table, column: str, ctx: DetectionContext) -> ir.Table:
    """``table`` restricted to the re-checked registered domains, when there are any."""
    if ctx.subjects is None:
        return table
    return table.filter(table[column].isin(sorted(ctx.subjects)))


def rechecking(ctx: DetectionContext) -> bool:
    """A re-check of a few subjects (not a full run)."""
    return ctx.subjects is not None and len(ctx.subjects) <= FEW


def pinned(ctx: DetectionContext, table: ir.Table) -> ir.Table:
    """For a re-check of a few subjects, ``table`` run once and kept in memory, so that
    the detector's several queries over it do not each read the registries again; in a
    full run, ``table`` itself (the engine plans each use)."""
    return ctx.engine.materialised(table)[0] if rechecking(ctx) else table


def covers(domain: ir.StringValue, name: ir.StringValue) -> ir.BooleanValue:
    """``domain`` is ``name`` or one of its parents."""
    return (name == domain) | name.endswith(ibis.literal(".").concat(domain))


def name_covered(name: str, domain: str) -> bool:
    """``covers`` in Python."""
    return name == domain or name.endswith("." + domain)


# -- crawls ----------------------------------------------------------------------------
def latest_crawls(ctx: DetectionContext, days: int) -> ir.Table:
    """The latest crawl of each URL fetched in the ``days`` before as-of, whatever its
    outcome: a site taken down since its last live crawl is no longer live."""
    c = only_subjects(ctx.table("web_crawls"), "registered_domain", ctx)
    c = c.filter(
        c.registered_domain.notnull()
        & (c.fetched_at >= since(ctx, days))
        & (c.fetched_at <= now(ctx))
    )
    return latest(c, "url", "fetched_at")


def latest(table: ir.Table, key: str, moment: str) -> ir.Table:
    """The row of each ``key`` with the greatest ``moment`` ((key, moment) is unique)."""
    last = table.group_by(_key=table[key]).aggregate(_last=table[moment].max())
    joined = table.join(last, [table[key] == last._key, table[moment] == last._last])
    return joined.drop("_key", "_last")


def is_live(crawls: ir.Table) -> ir.BooleanValue:
    """An answer with content: HTTP 200–399 and a non-empty body."""
    return crawls.http_status.between(200, 399) & (crawls.content_length > 0)


def live_crawls(ctx: DetectionContext, days: int) -> ir.Table:
    latest = latest_crawls(ctx, days)
    return latest.filter(is_live(latest))


CRAWL_FIELDS = ("url", "fqdn", "fetched_at", "http_status", "title", "content_length")


def crawl_evidence(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in CRAWL_FIELDS}


# -- filings ---------------------------------------------------------------------------
def active_websites(ctx: DetectionContext) -> ir.Table:
    """Active website service filings (restricted to those listing a re-checked
    registered domain, when there are any)."""
    svc = ctx.table("icp_services")
    active = svc.filter((svc.status == "active") & (svc.service_type == "website"))
    if ctx.subjects is None:
        return active
    wanted = sorted(ctx.subjects)
    listed = active.registered_domains
    if len(wanted) <= FEW:
        return active.filter(ibis.or_(*(listed.contains(s) for s in wanted)))
    return active.filter(listed.intersect(ibis.literal(wanted, type="array<string>")).length() > 0)


FEW = 32  # re-checked subjects tested one by one (cheaper than an array intersection)
FILING_COLUMNS = (
    "service_licence",
    "subject_licence",
    "unit_name",
    "access_provider_uscc",
    "access_ips",
    "approved_at",
)


def filed_websites(ctx: DetectionContext) -> ir.Table:
    """Active website filings (service and subject filing both active), one row per
    filed domain: service_licence, subject_licence, unit_name, access_provider_uscc,
    access_ips, approved_at, domain, registered_domain."""
    subjects = ctx.table("icp_subjects")
    active = active_websites(ctx)
    holders = subjects.filter(subjects.status == "active").select("subject_licence", "unit_name")
    if rechecking(ctx):  # the few filings listing the subjects, read once; their holders
        active, rows = ctx.engine.materialised(active)
        licences = sorted(set(rows.column("subject_licence").to_pylist()))
        holders = holders.filter(holders.subject_licence.isin(licences))
    active = active.join(holders, "subject_licence").select(
        *FILING_COLUMNS, "domains", "registered_domains"
    )
    pairs = ibis.union(*_domain_pairs(active))
    if ctx.subjects is not None:
        return only_subjects(pairs, "registered_domain", ctx)
    return shared(ctx, "filed_websites", ("icp_services", "icp_subjects"), pairs)


def shared(
    ctx: DetectionContext, name: str, datasets: tuple[str, ...], table: ir.Table
) -> ir.Table:
    """``table`` computed once and kept in memory by the engine for as long as the
    current snapshots of ``datasets`` are (``name`` must say everything else it depends
    on): the website detectors of a full run ask for the same intermediate tables."""
    snaps = [ctx.engine.lake.current(d) for d in datasets]
    key = ":".join([name, *(s.id if s else "-" for s in snaps)])
    return ctx.engine.kept(key, table)


def _domain_pairs(active: ir.Table) -> tuple[ir.Table, ir.Table]:
    """Each filed domain with its registered domain: directly for the common filing of
    one domain; otherwise by the suffix relation within the filing."""
    single = (active.domains.length() == 1) & (active.registered_domains.length() == 1)
    one = active.filter(single)
    one = one.select(
        *FILING_COLUMNS, domain=one.domains[0], registered_domain=one.registered_domains[0]
    )
    rest = active.filter(~single)
    domains = rest.select(*FILING_COLUMNS, domain=rest.domains).unnest("domain")
    registered = rest.select(
        _licence=rest.service_licence, registered_domain=rest.registered_domains.unique()
    ).unnest("registered_domain")
    several = domains.join(
        registered,
        [
            domains.service_licence == registered._licence,
            covers(registered.registered_domain, domains.domain),
        ],
    ).drop("_licence")
    return one, several


def filed_registered_domains(ctx: DetectionContext) -> ir.Table:
    """(registered_domain): those of active website service filings, a cheap superset
    of filed_websites' (the subject filing's status is not checked), for filtering."""
    active = active_websites(ctx)
    listed = active.select(registered_domain=active.registered_domains).unnest("registered_domain")
    return only_subjects(listed, "registered_domain", ctx).distinct()


def covering(names: ir.Table, filed: ir.Table) -> ir.Table:
    """Each row of ``names`` (with fqdn, registered_domain) joined to the filed domains
    covering its fqdn; the filing's columns are prefixed ``filed_``."""
    f = filed.rename({f"filed_{c}": c for c in filed.columns})
    joined = names.join(f, names.registered_domain == f.filed_registered_domain)
    return joined.filter(covers(joined.filed_domain, joined.fqdn))


def not_covered(names: ir.Table, filed: ir.Table, same_subject: str | None = None) -> ir.Table:
    """The rows of ``names`` (with fqdn, registered_domain) whose fqdn no filed domain
    covers; with ``same_subject``, no filed domain of the subject licence held in that
    column. One left join, so ``names`` is computed once."""
    f = filed.select(
        _licence=filed.service_licence,
        _subject=filed.subject_licence,
        _domain=filed.domain,
        _registered=filed.registered_domain,
    )
    predicates = [names.registered_domain == f._registered, covers(f._domain, names.fqdn)]
    if same_subject is not None:
        predicates.append(names[same_subject] == f._subject)
    joined = names.left_join(f, predicates)
    return joined.filter(joined._licence.isnull()).select(*names.columns)


def filing_evidence(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "service_licence": row["service_licence"],
        "subject_licence": row["subject_licence"],
        "unit_name": row["unit_name"],
        "filed_domain": row["domain"],
        "access_provider_uscc": row["access_provider_uscc"],
        "access_ips": list(row["access_ips"] or []),
    }


def majority(values: Iterable[str | None]) -> str | None:
    """The most frequent non-empty value (ties: the smallest)."""
    counts = Counter(v for v in values if v)
    return min(counts, key=lambda v: (-counts[v], v)) if counts else None


# -- serving addresses -----------------------------------------------------------------
def names_table(crawls: dict[str, list[dict[str, Any]]]) -> ir.Table:
    """The names crawled sites are served under, per registered domain: each crawled
    name, the registered domain and www. + the registered domain (registered_domain,
    name), as an in-memory table (crawls: registered domain → crawl rows)."""
    pairs = sorted(
        {
            (domain, name)
            for domain, rows in crawls.items()
            for name in (domain, f"www.{domain}", *(r["fqdn"] for r in rows))
        }
    )
    return ibis.memtable(
        {"registered_domain": [d for d, _ in pairs], "name": [n for _, n in pairs]},
        schema={"registered_domain": "string", "name": "string"},
    )


def serving_filings(ctx: DetectionContext, names: ir.Table, days: int) -> dict[str, Rows]:
    """Per registered domain, the addresses its ``names`` (registered_domain, name)
    resolved to within ``days`` before as-of, each with the narrowest IP filing
    containing it (addresses in no filing are left out); the most recently seen first.
    Rows: registered_domain, fqdn, address, last_seen, start_ip, end_ip, reporter_uscc,
    allocation, user_name, user_uscc. Two small queries: passive DNS is read once."""
    hits = ctx.execute(_resolved(ctx, names, days))
    if not hits:
        return {}
    for hit in hits:
        hit["address"] = ids.key_ip(hit["value_key"], hit["ip_version"])
    keys = sorted({(h["value_key"], h["ip_version"]) for h in hits})
    table = ibis.memtable(
        {"value_key": [k for k, _ in keys], "ip_version": [v for _, v in keys]},
        schema={"value_key": "string", "ip_version": "int64"},
    )
    filings = {r["value_key"]: r for r in ctx.execute(narrowest_filings(ctx, table))}
    grouped: dict[str, Rows] = defaultdict(list)
    for hit in sorted(hits, key=_recent_first):
        filing = filings.get(hit["value_key"])
        if filing is not None:
            grouped[hit["registered_domain"]].append({**hit, **filing})
    return grouped


def _recent_first(hit: dict[str, Any]) -> tuple[Any, ...]:
    return (hit["registered_domain"], datetime.max - hit["last_seen"], hit["address"], hit["fqdn"])


def _resolved(ctx: DetectionContext, names: ir.Table, days: int) -> ir.Table:
    """A/AAAA answers of ``names`` seen within ``days`` before as-of."""
    dns = address_answers(ctx, naive_utc(ctx.as_of) - timedelta(days=days))
    dns = only_subjects(dns, "registered_domain", ctx)
    dns = dns.filter(dns.first_seen <= now(ctx))
    n = names.rename(n_registered_domain="registered_domain", n_name="name")
    return dns.join(
        n, [dns.registered_domain == n.n_registered_domain, dns.fqdn == n.n_name]
    ).select(
        registered_domain=dns.registered_domain,
        fqdn=dns.fqdn,
        value_key=dns.value_key,
        ip_version=dns.ip_version,
        last_seen=dns.last_seen,
    )


def address_answers(ctx: DetectionContext, since_moment: datetime) -> ir.Table:
    """The A/AAAA answers of passive DNS (with an address key) last seen at or after
    ``since_moment``: registered_domain, fqdn, value_key, ip_version (4 | 6), first_seen,
    last_seen. The address's text is left out (a quarter of the cost of reading them):
    ``ids.key_ip`` gives it for the few rows a detector reports.

    A full run's readers (unfiled_website, false_filing, ip_filing_inaccurate's checks
    3 and 4) share them: read once per snapshot and window, kept in memory (a sixth of
    passive DNS). A re-check reads the lake, narrowed by the caller."""
    moment = naive_utc(since_moment)
    dns = ctx.table("dns_observations")
    recent = dns.filter(
        dns.rrtype.isin(ADDRESS_RRTYPES) & dns.value_key.notnull() & (dns.last_seen >= moment)
    )
    answers = recent.select(  # no ``value``: ``value_key`` and ``ip_version`` give it
        "registered_domain",
        "fqdn",
        "value_key",
        ip_version=ibis.ifelse(recent.rrtype == "A", 4, 6).cast("int64"),
        first_seen=recent.first_seen,
        last_seen=recent.last_seen,
    )
    if ctx.subjects is not None:
        return answers
    return shared(ctx, f"address_answers:{moment.isoformat()}", ("dns_observations",), answers)


FILING_FIELDS = ("start_ip", "end_ip", "reporter_uscc", "allocation", "user_name", "user_uscc")
BUCKET = 30  # key prefix (hex digits) of a bucket: a /24 of IPv4, a /120 of IPv6


def narrowest_filings(ctx: DetectionContext, keys: ir.Table) -> ir.Table:
    """For each (value_key, ip_version), the narrowest IP filing that contains it: for
    nested ranges the greatest start, then the smallest end; ties by reporter, user."""
    m = containing_filings(ctx, keys)
    rank = ibis.row_number().over(
        group_by=m.value_key,
        order_by=[
            ibis.desc(m.start_key),
            m.end_key,
            m.reporter_uscc,
            m.user_name.fill_null(""),
        ],
    )
    best = m.mutate(_rank=rank).filter(lambda t: t._rank == 0)
    return best.select("value_key", *FILING_FIELDS)


def containing_filings(ctx: DetectionContext, keys: ir.Table) -> ir.Table:
    """Each (value_key, ip_version) of ``keys`` with every IP filing containing it.

    A range join compares every address with every filing; most filings lie inside one
    bucket (a /24 of IPv4), so those are joined on the bucket first and only the few
    wider filings are compared with every address."""
    f = ctx.table("ip_filings")
    f = f.mutate(_bucket=f.start_key.substr(0, BUCKET), _version=f.ip_version)
    k = keys.mutate(_key_bucket=keys.value_key.substr(0, BUCKET))
    narrow = f.filter(f._bucket == f.end_key.substr(0, BUCKET))
    wide = f.filter(f._bucket != f.end_key.substr(0, BUCKET))
    columns = ("value_key", "ip_version", "start_key", "end_key", *FILING_FIELDS)
    parts = []
    for filings, same_bucket in ((narrow, True), (wide, False)):
        predicates = [filings.start_key <= k.value_key, filings.end_key >= k.value_key]
        if same_bucket:
            predicates.append(filings._bucket == k._key_bucket)
        joined = k.join(filings.drop("ip_version"), predicates)
        joined = joined.filter(joined.ip_version == joined._version)
        parts.append(joined.select(*columns))
    return ibis.union(*parts)


def serving_evidence(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "fqdn": row["fqdn"],
        "address": row["address"],
        "dns_last_seen": row["last_seen"],
        "ip_filing": {
            "range": f"{row['start_ip']}-{row['end_ip']}",
            "reporter_uscc": row["reporter_uscc"],
            "allocation": row["allocation"],
            "user_name": row["user_name"],
            "user_uscc": row["user_uscc"],
        },
    }


def capped(items: list[Any]) -> list[Any]:
    return items[:MAX_LISTED]
