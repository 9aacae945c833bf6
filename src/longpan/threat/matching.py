"""Indicator matching as Ibis expressions (the same on DuckDB and Spark).

Every kind of indicator becomes a join on columns derived at ingest
(``resources/exchange/netlogs.py``), never a substring test:

* domain: an integer equi-join on the hash of the base (registered) domain pairs each
  name with the few indicators under the same base, then the exact test ``name =
  indicator OR name ends with '.' || indicator`` keeps the real hits: ``evil.example``
  matches ``a.b.evil.example`` but neither ``notevil.example`` nor
  ``evil.example.com`` (a hash collision can only add pairs the exact test drops);
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
        "value", "kind", "base_hash", "start_key", "end_key", "valid_from", "valid_until"
    )


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


def domain_hits(
    logs: ir.Table, indicators: ir.Table, *, dataset: str, name: str, base: str, detail: Detail
) -> ir.Table:
    """Log rows whose name (``name``) is an indicator domain or under one."""
    domains = indicators.filter(indicators.kind == "domain")
    joined = logs.join(domains, logs[base] == domains.base_hash)
    exact = (joined[name] == joined.value) | joined[name].endswith("." + joined.value)
    return _hits(joined.filter(exact), dataset, name, detail)


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


def dns_hits(dns: ir.Table, indicators: ir.Table, kinds: frozenset[str]) -> list[ir.Table]:
    parts = ip_hits(dns, indicators, kinds, dataset="dns_logs", key="answer_key",
                    address="answer", detail=_dns_detail)  # fmt: skip
    if "domain" in kinds:
        parts.append(domain_hits(dns, indicators, dataset="dns_logs", name="qname",
                                 base="base_hash", detail=_dns_detail))  # fmt: skip
    return parts


def flow_hits(flow: ir.Table, indicators: ir.Table, kinds: frozenset[str]) -> list[ir.Table]:
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


def http_hits(http: ir.Table, indicators: ir.Table, kinds: frozenset[str]) -> list[ir.Table]:
    parts = ip_hits(http, indicators, kinds, dataset="http_logs", key="host_key",
                    address="host", detail=_http_detail)  # fmt: skip
    if "domain" in kinds:
        parts.append(domain_hits(http, indicators, dataset="http_logs", name="host",
                                 base="host_base_hash", detail=_http_detail))  # fmt: skip
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
    logs: dict[str, ir.Table], live: ir.Table, scope: Scope, kinds: frozenset[str]
) -> ir.Table | None:
    """Every (log row, indicator value) hit in scope, each once (None: nothing to hunt)."""
    parts: list[ir.Table] = []
    for name, build in (("dns_logs", dns_hits), ("flow_logs", flow_hits), ("http_logs", http_hits)):
        parts.extend(build(in_window(logs[name], scope), live, kinds))
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
