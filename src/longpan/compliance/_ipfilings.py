"""Private helpers of ``ip_filing_inaccurate``: bucketed range joins and its four checks.

Range joins ("which ranges contain this address", "which ranges overlap") are non-equi
joins, which Spark can only run as nested loops. Every join here therefore also carries
an equality on a *bucket*, a prefix of the 32-hex-digit key. Each range goes into
exactly one bucket: the longest prefix in ``LEVELS`` that its first and last key share
(an IPv4 /30 goes to its /24, a /8 to its /8, 10.0.0.0-11.255.255.255 to "all of
IPv4", an IPv6 /48 to its /48 …). An address is looked up once at each level that some
range uses, so a range spanning many /16s costs one bucket, not one per /16. Two ranges
overlap only if the coarser one's bucket is a prefix of the finer one's first key,
which gives the same equality for the overlap self-join.

Each check returns plain rows (small result sets); the detector merges them by subject.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir

from longpan.compliance import _sites as sites
from longpan.core import identifiers as ids
from longpan.detect.base import DetectionContext

# Key prefix lengths in hex digits, deepest first: IPv4 /24 /16 /8 and all of IPv4
# (::ffff:0:0/96 is 24 digits), then IPv6 /80 /64 /48 /32 /16 and everything.
LEVELS = (30, 28, 26, 24, 20, 16, 12, 8, 4, 0)
IPV4_LEVELS = (30, 28, 26, 24)  # every IPv4 range is inside ::ffff:0:0/96
IPV4_PREFIX = "00000000000000000000ffff"
END_USE = ("分配且使用", "自用")  # allocations that name who uses the addresses
RESERVED = "预留"
REGIONS = "ip_regions"  # the reference table of ip2region segments
FILING_COLUMNS = (
    "start_ip",
    "end_ip",
    "reporter_uscc",
    "source_unit",
    "allocation",
    "user_name",
    "user_uscc",
    "province",
    "city",
    "filed_at",
)
OUTSIDE_COLUMNS = (  # check 1063's rows
    *("key", "ip", "ap", "service_licence", "service_type", "registered_domains"),
    *("seen_fqdn", "seen_last"),
)
Bounds = Sequence[tuple[str, str]]  # (start_key, end_key) of the ranges to re-check
Row = dict[str, Any]
Predicate = Callable[[ir.Table, ir.Table], ir.BooleanValue]


# --- bucketed range joins -----------------------------------------------------------------


def _level(start: ir.StringValue, end: ir.StringValue) -> ir.IntegerValue:
    pairs = [(start.substr(0, n) == end.substr(0, n), n) for n in LEVELS if n]
    return ibis.cases(*pairs, else_=0)


def bucketed(t: ir.Table, start: str, end: str) -> ir.Table:
    """``t`` plus ``_level`` and ``_bucket``: the deepest key prefix the range lies in."""
    t = t.mutate(_level=_level(t[start], t[end]))
    return t.mutate(_bucket=t[start].substr(0, t._level))


@dataclass(frozen=True)
class Survey:
    """What the IP filings hold: the bucket levels each kind of filing uses and, when
    re-checking, the allocations filed for exactly each subject range."""

    levels: dict[str, list[int]]  # "all", "end_use", "reserved"
    exact: dict[tuple[str, str], set[str]]  # (start_key, end_key) → allocations


def survey(ctx: DetectionContext, bounds: Bounds | None) -> Survey:
    """One small query over the IP filings (see ``Survey``)."""
    f = ctx.table("ip_filings")
    wanted = sorted({f"{lo}-{hi}" for lo, hi in bounds or ()})
    pair = f.start_key + "-" + f.end_key
    hit = ibis.cases((pair.isin(wanted), pair), else_=None) if wanted else ibis.null("string")
    rows = ctx.execute(
        f.select(level=_level(f.start_key, f.end_key), allocation=f.allocation, hit=hit).distinct()
    )
    sets: dict[str, set[int]] = {"all": set(), "end_use": set(), "reserved": set()}
    exact: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        level, allocation = int(row["level"]), row["allocation"]
        sets["all"].add(level)
        if allocation in END_USE:
            sets["end_use"].add(level)
        if allocation == RESERVED:
            sets["reserved"].add(level)
        if row["hit"]:
            lo, _, hi = row["hit"].partition("-")
            exact.setdefault((lo, hi), set()).add(allocation)
    levels = {name: sorted(found, reverse=True) for name, found in sets.items()}
    return Survey(levels, exact)


def exploded(t: ir.Table, key: str, levels: Sequence[int]) -> ir.Table:
    """One row per row of ``t`` and level: ``_plevel`` and ``_pbucket`` (key prefix)."""
    t = t.mutate(_plevel=ibis.literal(list(levels), type="array<int64>").unnest())
    return t.mutate(_pbucket=t[key].substr(0, t._plevel))


def containing(
    points: ir.Table,
    key: str,
    ranges: ir.Table,
    levels: Sequence[int],
    extra: Sequence[Predicate] = (),
) -> ir.Table:
    """Pairs (point, range) where the range contains the point's ``key``.

    ``ranges`` comes from ``bucketed`` with its bounds named ``r_start`` and ``r_end``
    (no other column may share a name with the points); ``extra`` are further join
    predicates, functions of (points, ranges).
    """
    p = exploded(points, key, levels)
    preds = [
        p._plevel == ranges._level,
        p._pbucket == ranges._bucket,
        ranges.r_start <= p[key],
        p[key] <= ranges.r_end,
        *[f(p, ranges) for f in extra],
    ]
    return p.join(ranges, preds).drop("_plevel", "_pbucket", "_level", "_bucket")


def within_bounds(t: ir.Table, start: str, end: str, bounds: Bounds | None) -> ir.Table:
    """The rows of ``t`` whose range overlaps one of ``bounds`` (None: every row)."""
    if bounds is None:
        return t
    if not bounds:
        return t.filter(ibis.literal(False))
    return t.filter(ibis.or_(*[(t[start] <= hi) & (t[end] >= lo) for lo, hi in bounds]))


def filing_dict(row: Row, prefix: str = "") -> Row:
    return {c: row[f"{prefix}{c}"] for c in FILING_COLUMNS}


def _prefixed(t: ir.Table, prefix: str) -> dict[str, ir.Value]:
    return {f"{prefix}{c}": t[c] for c in FILING_COLUMNS}


# --- shared inputs ------------------------------------------------------------------------


def active_services(ctx: DetectionContext) -> ir.Table:
    """Active service filings of active subject filings."""
    svc = ctx.table("icp_services")
    subj = ctx.table("icp_subjects")
    live = subj.filter(subj.status == "active").select("subject_licence")
    return svc.filter(svc.status == "active").semi_join(live, "subject_licence")


def access_points(services: ir.Table) -> ir.Table:
    """One row per (service, access address): service_licence, ap, ip, key and more."""
    zipped = services.select(
        "service_licence",
        "service_type",
        "registered_domains",
        ap=services.access_provider_uscc,
        pair=services.access_ips.zip(services.access_ip_keys).unnest(),
    )
    return zipped.select(
        "service_licence",
        "service_type",
        "registered_domains",
        "ap",
        ip=zipped.pair.f1,
        key=zipped.pair.f2,
    )


def recent_answers(
    ctx: DetectionContext,
    since: datetime,
    keys: Sequence[str] | None = None,
    domains: Sequence[str] | None = None,
) -> ir.Table:
    """A/AAAA answers last seen at or after ``since`` (for ``keys`` and names under
    ``domains`` only, if given): fqdn, domain, key, version (4 | 6), last_seen. In a full run, the
    answers other website detectors share (see ``_sites.address_answers``)."""
    recent = sites.address_answers(ctx, since)
    if keys is not None:
        recent = recent.filter(recent.value_key.isin(list(keys)))
    if domains is not None:  # the lake is ordered by registered domain: row groups skipped
        recent = recent.filter(recent.registered_domain.isin(list(domains)))
    return recent.select(
        "fqdn",
        "last_seen",
        domain=recent.registered_domain,
        key=recent.value_key,
        version=recent.ip_version,
    )


# --- check 1: overlapping end-use filings with different users ------------------------------


def _user_name(name: ir.StringValue) -> ir.StringValue:
    """User names compared loosely: no spaces, ASCII brackets, lower case."""
    text = name.strip().replace("（", "(").replace("）", ")").re_replace(r"\s+", "").lower()
    return text.nullif("")


def _side(t: ir.Table, p: str) -> dict[str, ir.Value]:
    keys = {f"{p}sk": t.start_key, f"{p}ek": t.end_key, f"{p}uid": t._uid, f"{p}un": t._un}
    return {**keys, **_prefixed(t, p)}


def overlaps(ctx: DetectionContext, bounds: Bounds | None, levels: Sequence[int]) -> list[Row]:
    """Pairs of overlapping end-use filings whose users differ (``a_*``, ``b_*`` columns).

    Each unordered pair comes at least once; the user is the 使用单位's code when both
    filings give one, else its name; a 自用 filing's user is its reporter.
    """
    if not levels:
        return []
    f = ctx.table("ip_filings")
    use = within_bounds(f.filter(f.allocation.isin(END_USE)), "start_key", "end_key", bounds)
    own = ibis.cases((use.allocation == "自用", use.reporter_uscc), else_=None)
    use = bucketed(use, "start_key", "end_key")
    use = use.mutate(_uid=ibis.coalesce(use.user_uscc, own), _un=_user_name(use.user_name))
    a = use.select("_level", "_bucket", **_side(use, "a_"))
    b = use.select(b_level=use._level, **_side(use, "b_"))
    b = exploded(b, "b_sk", levels)
    b = b.filter(b._plevel <= b.b_level)
    ids_known = a.a_uid.notnull() & b.b_uid.notnull()
    names_known = a.a_un.notnull() & b.b_un.notnull()
    differ = ibis.ifelse(ids_known, a.a_uid != b.b_uid, names_known & (a.a_un != b.b_un))
    pairs = a.join(
        b,
        [
            a._level == b._plevel,
            a._bucket == b._pbucket,
            a.a_sk <= b.b_ek,
            b.b_sk <= a.a_ek,
            differ,
        ],
    )
    return ctx.execute(pairs.select(*[f"{p}{c}" for p in ("a_", "b_") for c in FILING_COLUMNS]))


# --- check 2: declared province versus geolocation ----------------------------------------


def _regions(ctx: DetectionContext) -> ir.Table:
    """The ip2region segments (a reference table the detector declares)."""
    return ctx.reference(REGIONS)


def province_mismatches(ctx: DetectionContext, bounds: Bounds | None) -> list[Row]:
    """IPv4 filings whose first or last address geolocates to another known province."""
    f = ctx.table("ip_filings")
    v4 = within_bounds(f.filter(f.ip_version == 4), "start_key", "end_key", bounds)
    ends = [
        v4.select(*FILING_COLUMNS, position=ibis.literal(name), key=v4[column])
        for name, column in (("start", "start_key"), ("end", "end_key"))
    ]
    regions = _regions(ctx)
    known = within_bounds(
        regions.filter(regions.province.notnull()), "start_key", "end_key", bounds
    )
    segments = known.select(
        r_start=known.start_key,
        r_end=known.end_key,
        geo_province=known.province,
        geo_city=known.city,
        geo_isp=known.isp,
    )
    hits = containing(
        ibis.union(*ends, distinct=False),
        "key",
        bucketed(segments, "r_start", "r_end"),
        IPV4_LEVELS,
    )
    wrong = hits.filter(hits.geo_province != hits.province)
    return ctx.execute(
        wrong.select(*FILING_COLUMNS, "position", "geo_province", "geo_city", "geo_isp")
    )


# --- check 3 (MIIT 1063): access address outside the access provider's filed space ----------


def _owned_space(ctx: DetectionContext) -> ir.Table:
    """Every filing once per organisation it belongs to: its reporter and its user."""
    f = ctx.table("ip_filings")
    by_reporter = f.select(owner=f.reporter_uscc, r_start=f.start_key, r_end=f.end_key)
    used = f.filter(f.user_uscc.notnull())
    by_user = used.select(owner=used.user_uscc, r_start=used.start_key, r_end=used.end_key)
    return bucketed(ibis.union(by_reporter, by_user, distinct=False), "r_start", "r_end")


def outside_provider_space(
    ctx: DetectionContext,
    keys: Sequence[str] | None,
    since: datetime,
    confirm: bool,
    levels: Sequence[int],
) -> list[Row]:
    """Access addresses of active services in no filing of their access provider.

    With ``confirm``, a service that has domains is kept only when one of them was seen
    resolving to the address since ``since`` (``seen_fqdn``, ``seen_last``).
    """
    svc = active_services(ctx)
    svc = svc.filter(svc.access_provider_uscc.notnull())
    if keys is not None:
        svc = svc.filter(ibis.or_(*[svc.access_ip_keys.contains(k) for k in keys]))
    acc = access_points(svc)
    if keys is not None:
        acc = acc.filter(acc.key.isin(list(keys)))
    if levels:
        points = acc.select("ap", "key").distinct()
        on_owner: Predicate = lambda p, r: p.ap == r.owner  # noqa: E731
        covered = containing(points, "key", _owned_space(ctx), levels, [on_owner])
        acc = acc.anti_join(covered.select("ap", "key"), ["ap", "key"])
    bad = acc.mutate(n_domains=acc.registered_domains.length().fill_null(0))
    domains = _domains_of(ctx, svc) if keys is not None else None  # re-check: a few
    seen = _seen_serving(bad, recent_answers(ctx, since, keys, domains))
    joined = bad.left_join(seen, [bad.service_licence == seen.s_licence, bad.key == seen.s_key])
    if confirm:
        joined = joined.filter((joined.n_domains == 0) | joined.s_key.notnull())
    return ctx.execute(joined.select(*OUTSIDE_COLUMNS))


def _domains_of(ctx: DetectionContext, services: ir.Table) -> list[str]:
    """The registered domains ``services`` list (a few, when re-checking addresses)."""
    listed = services.select(d=services.registered_domains.unnest())
    return sorted(r["d"] for r in ctx.execute(listed.filter(listed.d.notnull()).distinct()))


def _seen_serving(bad: ir.Table, answers: ir.Table) -> ir.Table:
    """The ``answers`` (recent ones, see ``recent_answers``) that show one of a service's
    own domains at its access address."""
    doms = bad.select("service_licence", "key", d=bad.registered_domains.unnest())
    dns = answers.select("fqdn", "last_seen", dns_domain=answers.domain, dns_key=answers.key)
    seen = doms.join(dns, [doms.d == dns.dns_domain, doms.key == dns.dns_key])
    return seen.group_by(s_licence=seen.service_licence, s_key=seen.key).agg(
        seen_fqdn=seen.fqdn.min(), seen_last=seen.last_seen.max()
    )


def address_holders(ctx: DetectionContext, keys: Sequence[str], levels: Sequence[int]) -> list[Row]:
    """The filings covering each of ``keys`` (evidence of check 1063)."""
    if not keys or not levels:
        return []
    f = ctx.table("ip_filings")
    ranges = bucketed(
        f.select(*FILING_COLUMNS, r_start=f.start_key, r_end=f.end_key), "r_start", "r_end"
    )
    points = ibis.memtable({"key": sorted(set(keys))})
    hits = containing(points, "key", ranges, levels)
    return ctx.execute(hits.select("key", *FILING_COLUMNS))


# --- check 4: a 预留 block that serves filed sites ------------------------------------------


def reserved_serving(
    ctx: DetectionContext, bounds: Bounds | None, since: datetime, levels: Sequence[int]
) -> list[Row]:
    """(预留 filing, serving address) pairs: ICP access addresses and recent DNS answers
    of names under the registered domains of active website filings."""
    if not levels:
        return []
    f = ctx.table("ip_filings")
    res = within_bounds(f.filter(f.allocation == RESERVED), "start_key", "end_key", bounds)
    ranges = bucketed(
        res.select(*FILING_COLUMNS, r_start=res.start_key, r_end=res.end_key), "r_start", "r_end"
    )
    svc = active_services(ctx)
    websites = svc.filter(svc.service_type == "website")
    filed = websites.select(domain=websites.registered_domains.unnest()).distinct()
    answers = within_bounds(recent_answers(ctx, since), "key", "key", bounds)
    # Each distinct address is looked up once (a sixth of the answers), then the
    # answers at the reserved addresses are joined back by key.
    reserved_keys = containing(answers.select("key").distinct(), "key", ranges, levels)
    in_reserve = answers.semi_join(filed, "domain").join(reserved_keys, "key")
    by_dns = in_reserve.select(
        *FILING_COLUMNS,
        "key",
        "version",
        ip=ibis.null("string"),  # from the key below: the answers carry no address text
        last_seen=in_reserve.last_seen,
        source=ibis.literal("dns"),
        ref=in_reserve.fqdn,
    )
    acc = access_points(svc)
    acc = within_bounds(acc.select("key", "ip", ref=acc.service_licence), "key", "key", bounds)
    by_access = containing(acc, "key", ranges, levels)
    by_access = by_access.select(
        *FILING_COLUMNS,
        "key",
        version=ibis.null("int64"),
        ip=by_access.ip,
        last_seen=ibis.null(answers.last_seen.type()),
        source=ibis.literal("icp_service"),
        ref=by_access.ref,
    )
    rows = ctx.execute(ibis.union(by_access, by_dns, distinct=False))
    for row in rows:
        key, version = row.pop("key"), row.pop("version")
        if row["source"] == "dns":
            row["ip"] = ids.key_ip(key, version)
    return rows
