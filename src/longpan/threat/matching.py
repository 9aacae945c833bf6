"""Indicator matching as Ibis expressions (the same on DuckDB and Spark).

Every kind of indicator becomes a join on columns derived at ingest
(``resources/exchange/netlogs.py``), never a substring test:

* domain: two passes (``threat/narrowing.py``): the logs' integer hash columns (the
  base domain's, and the name's one and two labels below it) are semi-joined with the
  indicators' hashes, then only the rows of the hashes that occur are joined with their
  indicators and tested exactly, ``name = indicator OR name ends with '.' ||
  indicator``: ``evil.example`` matches ``a.b.evil.example`` but neither
  ``notevil.example`` nor ``evil.example.com`` (a hash collision can only add pairs the
  exact test drops);
* ip: single addresses by equality of ``*_key``; CIDR blocks by ``key BETWEEN start_key
  AND end_key`` (keys are 32 hex digits, so string order is address order);
* url: equality of the canonical URL (``url_norm``);
* file hashes: none of the three logs carries one, so they are stored, never matched.

A hit counts only while its indicator is valid (``valid_from <= ts < valid_until``) and
inside the window ``[as_of - window_days, as_of]``; revoked indicators never match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longpan.threat import narrowing as nw

MATCHED_KINDS = ("domain", "ip", "url")
HIT_COLUMNS = ("dataset", "ts", "org_uscc", "value", "kind", "field", "observed", "detail")


@dataclass(frozen=True)
class Scope:
    """What to hunt: a time window, and optionally only some values or units."""

    as_of: datetime
    window_days: int
    values: frozenset[str] | None = None
    orgs: frozenset[str] | None = None
    indicator_ids: frozenset[str] | None = None

    @property
    def since(self) -> datetime:
        return self.as_of - timedelta(days=self.window_days)


def live_indicators(indicators: ir.Table, scope: Scope) -> ir.Table:
    """Matchable, not revoked indicator rows in scope."""
    t = indicators.filter(~indicators.revoked, indicators.kind.isin(MATCHED_KINDS))
    if scope.indicator_ids is not None:
        t = t.filter(t.indicator_id.isin(sorted(scope.indicator_ids)))
    if scope.values is not None:
        t = t.filter(t.value.isin(sorted(scope.values)))
    return t.select(
        "value", "kind", "base_domain", "base_hash", "start_key", "end_key", "valid_from",
        "valid_until",
    )  # fmt: skip


def in_window(logs: ir.Table, scope: Scope) -> ir.Table:
    as_of = scope.as_of.replace(tzinfo=None)
    since = scope.since.replace(tzinfo=None)
    t = logs.filter(logs.ts >= since, logs.ts <= as_of)
    if scope.orgs is not None:
        t = t.filter(t.org_uscc.isin(sorted(scope.orgs)))
    return t


def _valid(joined: ir.Table) -> ir.Table:
    return joined.filter(
        joined.ts >= joined.valid_from,
        joined.valid_until.isnull() | (joined.ts < joined.valid_until),
    )


Detail = Callable[[ir.Table], ir.Value]  # the log row, as text, from a joined table


def _hits(joined: ir.Table, dataset: str, field: str, detail: Detail) -> ir.Table:
    """The hit columns of a join of logs (``field`` matched) and indicators. ``detail``
    is computed here, after the join, so only on the rows that hit."""
    valid = _valid(joined)
    return valid.select(
        dataset=ibis.literal(dataset),
        ts=valid.ts,
        org_uscc=valid.org_uscc,
        value=valid.value,
        kind=valid.kind,
        field=ibis.literal(field),
        observed=valid[field],
        detail=detail(valid),
    )


@dataclass(frozen=True)
class DomainHunt:
    """The domain indicators of a hunt, with their hashes, and the engine to narrow by."""

    domains: ir.Table  # live domain indicators
    subs: nw.Subdomains
    run: nw.Run

    @classmethod
    def of(cls, live: ir.Table, run: nw.Run) -> DomainHunt:
        domains = live.filter(live.kind == "domain")
        return cls(domains, nw.Subdomains.of(domains, run), run)


DNS_NAMES = nw.NameColumns("qname", "base_hash", ("level1_hash", "level2_hash"))
HTTP_NAMES = nw.NameColumns("host", "host_base_hash")


def domain_hits(
    logs: ir.Table, hunt: DomainHunt, *, dataset: str, names: nw.NameColumns, detail: Detail
) -> list[ir.Table]:
    """Log rows whose name is an indicator domain or under one: narrowed by integers
    (one engine query), then tested exactly on the few candidate rows."""
    found = nw.candidates(hunt.run(nw.narrowing(logs, hunt.domains, hunt.subs, names)))
    if not found:
        return []
    parts = []
    for joined in nw.exact_pairs(logs, hunt.domains, hunt.subs, names, found):
        name = joined[names.name]
        exact = (name == joined.value) | name.endswith("." + joined.value)
        parts.append(_hits(joined.filter(exact), dataset, names.name, detail))
    return parts


def ip_hits(
    logs: ir.Table,
    indicators: ir.Table,
    kinds: frozenset[str],
    *,
    dataset: str,
    key: str,
    address: str,
    detail: Detail,
) -> list[ir.Table]:
    """Log rows whose address column (``key``) is an indicator address or in its block."""
    ips = indicators.filter(indicators.kind == "ip")
    rows = logs.filter(logs[key].notnull())
    parts = []
    if "ip" in kinds:
        single = ips.filter(ips.start_key == ips.end_key)
        parts.append(_hits(rows.join(single, rows[key] == single.start_key), dataset, address,
                           detail))  # fmt: skip
    if "block" in kinds:
        blocks = ips.filter(ips.start_key != ips.end_key)
        inside = (rows[key] >= blocks.start_key) & (rows[key] <= blocks.end_key)
        parts.append(_hits(rows.join(blocks, inside), dataset, address, detail))
    return parts


def url_hits(logs: ir.Table, indicators: ir.Table) -> ir.Table:
    urls = indicators.filter(indicators.kind == "url")
    joined = logs.join(urls, logs.url_norm == urls.value)
    return _hits(joined, "http_logs", "url_norm", lambda t: t.url_norm)


def _dns_detail(t: ir.Table) -> ir.Value:
    return t.client_ip.concat(" ", t.qname, " ", t.answer.fill_null(""))


def _flow_detail(t: ir.Table) -> ir.Value:
    return t.src.concat(" ", t.dst, " ", t.dport.cast("string").fill_null(""))


def _http_detail(t: ir.Table) -> ir.Value:
    return t.host.concat(" ", t.url)


def dns_hits(
    dns: ir.Table, indicators: ir.Table, kinds: frozenset[str], hunt: DomainHunt | None
) -> list[ir.Table]:
    parts = ip_hits(dns, indicators, kinds, dataset="dns_logs", key="answer_key",
                    address="answer", detail=_dns_detail)  # fmt: skip
    if hunt is not None:
        parts += domain_hits(dns, hunt, dataset="dns_logs", names=DNS_NAMES, detail=_dns_detail)
    return parts


def flow_hits(
    flow: ir.Table, indicators: ir.Table, kinds: frozenset[str], hunt: DomainHunt | None
) -> list[ir.Table]:
    return [
        part
        for key, address in (("dst_key", "dst"), ("src_key", "src"))
        for part in ip_hits(
            flow,
            indicators,
            kinds,
            dataset="flow_logs",
            key=key,
            address=address,
            detail=_flow_detail,
        )
    ]


def http_hits(
    http: ir.Table, indicators: ir.Table, kinds: frozenset[str], hunt: DomainHunt | None
) -> list[ir.Table]:
    parts = ip_hits(http, indicators, kinds, dataset="http_logs", key="host_key",
                    address="host", detail=_http_detail)  # fmt: skip
    if hunt is not None:
        parts += domain_hits(http, hunt, dataset="http_logs", names=HTTP_NAMES,
                             detail=_http_detail)  # fmt: skip
    if "url" in kinds:
        parts.append(url_hits(http, indicators))
    return parts


def present_kinds(rows: list[dict[str, object]]) -> frozenset[str]:
    """Which joins a hunt needs, from the distinct (kind, is_block) of live indicators:
    a log is never scanned for a kind no indicator has."""
    kinds = set()
    for row in rows:
        kind = str(row["kind"])
        kinds.add("block" if kind == "ip" and row["block"] else kind)
    return frozenset(kinds)


def kinds_query(live: ir.Table) -> ir.Table:
    return live.select(kind=live.kind, block=live.start_key != live.end_key).distinct()


def all_hits(
    logs: dict[str, ir.Table], live: ir.Table, scope: Scope, kinds: frozenset[str], run: nw.Run
) -> ir.Table | None:
    """Every (log row, indicator value) hit in scope, each once (None: nothing to hunt),
    in the ``logs`` given (by dataset name; a log the lake never received is best left
    out: its narrowing would still read every indicator's key).

    Domain matching runs its integer narrowing now (``run``, one query per log with
    names); the query returned reads only the rows that narrowing left."""
    builds = (("dns_logs", dns_hits), ("flow_logs", flow_hits), ("http_logs", http_hits))
    given = [(name, build) for name, build in builds if name in logs]
    hunt = DomainHunt.of(live, run) if "domain" in kinds and given else None
    parts: list[ir.Table] = []
    for name, build in given:
        parts.extend(build(in_window(logs[name], scope), live, kinds, hunt))
    return ibis.union(*parts, distinct=True) if parts else None


# The hits are few next to the logs (an indicator hit is rare), so they are fetched once
# and summarised in Arrow: one engine query per hunt instead of one per summary.
def summarise(hits: pa.Table) -> pa.Table:
    """First and last sighting and count per (unit, indicator value), sorted."""
    grouped = hits.group_by(["org_uscc", "value", "kind"]).aggregate(
        [("ts", "min"), ("ts", "max"), ("ts", "count")]
    )
    renamed = grouped.rename_columns(
        {"ts_min": "first_seen", "ts_max": "last_seen", "ts_count": "count"}
    )
    return renamed.sort_by([("value", "ascending"), ("org_uscc", "ascending")])


def samples(hits: pa.Table, per_subject: int) -> pa.Table:
    """The first ``per_subject`` log rows of each (unit, value), by time."""
    order = ["org_uscc", "value", "ts", "dataset", "detail"]
    ranked = hits.sort_by([(c, "ascending") for c in order])
    if not ranked.num_rows:
        return ranked
    keys = pc.binary_join_element_wise(ranked["org_uscc"], ranked["value"], "\x1f")
    keys = keys.combine_chunks()
    starts = np.ones(len(keys), np.bool_)
    starts[1:] = np.asarray(pc.not_equal(keys[1:], keys[:-1]).to_numpy(zero_copy_only=False))
    index = np.arange(len(keys))
    first = np.maximum.accumulate(np.where(starts, index, 0))
    return ranked.filter(pa.array(index - first < per_subject))
