"""Domain matching in two passes: integers first, strings only where they hit.

A log row can only match a domain indicator ``d`` that is ``level`` labels below its
registered domain if the row's name, cut to that level, is ``d`` — so if the row's hash
column for that level (``base_hash`` for level 0, ``level1_hash``, ``level2_hash``;
derived at ingest, ``resources/exchange/netlogs.py``) equals the 64-bit hash of ``d``.

1. **Narrowing** (one engine query per log): the rows' integer columns are semi-joined
   with the indicators' hashes, and only the distinct hashes that occur come back — the
   scan reads ``ts`` and one int64 column, never a string.
2. **Exact pass**: the log, filtered to those few hashes (a filter the engines push into
   the Parquet scan; the logs are ordered by ``base_hash``, so the rows that hit lie
   together and only the row groups holding them have their strings decoded), is joined
   with the indicators that hashed to them, and the exact test ``name = d OR name ends
   with '.' || d`` keeps the real hits. A hash collision only adds a candidate this
   test drops.

An indicator deeper than the log has hash columns for (or any indicator, for a log
without level columns, such as ``http_logs``) is narrowed by its base domain's hash: a
superset of its hits, made exact by the same test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from longpan.resources.exchange.netlogs import name_hash

MAX_LISTED = 2048  # more candidate hashes than this are joined, not listed in a filter
Run = Callable[[ir.Expr], pa.Table]


@dataclass(frozen=True)
class NameColumns:
    """Where a log keeps a domain name and the integers derived from it."""

    name: str  # qname, host
    base: str  # hash of the base (registered) domain
    levels: tuple[str, ...] = ()  # hash of the name cut to 1, 2… labels below the base


@dataclass(frozen=True)
class Candidates:
    """What the narrowing found: per hash column, the hashes that occur in the logs."""

    hashes: dict[str, list[int]]

    def __bool__(self) -> bool:
        return any(self.hashes.values())


@dataclass(frozen=True)
class Subdomains:
    """The domain indicators below their registered domain, with their level (labels
    below it) and their own hash. Fetched and hashed here once per hunt: they are few next
    to the registered domains, and the indicators dataset keeps only the base's hash."""

    table: pa.Table  # value, base_hash, level, key

    @classmethod
    def of(cls, domains: ir.Table, run: Run) -> Subdomains:
        below = domains.filter(domains.value != domains.base_domain)
        found = run(below.select("value", "base_domain", "base_hash").distinct())
        level = pc.subtract(pc.count_substring(found["value"], "."),
                            pc.count_substring(found["base_domain"], "."))  # fmt: skip
        keys = pa.array([name_hash(v) for v in found["value"].to_pylist()], pa.int64())
        return cls(pa.table({"value": found["value"], "base_hash": found["base_hash"],
                             "level": level.cast(pa.int64()), "key": keys}))  # fmt: skip

    def at(self, level: int) -> pa.Table:
        return self.table.filter(pc.equal(self.table["level"], level))

    def deeper(self, level: int) -> pa.Table:
        return self.table.filter(pc.greater(self.table["level"], level))


def narrowing(rows: ir.Table, domains: ir.Table, subs: Subdomains, names: NameColumns) -> ir.Table:
    """The distinct (column, hash) of ``rows`` that some indicator hashes to."""
    bases = domains.filter(domains.value == domains.base_domain)
    keys = bases.select(key=bases.base_hash)
    deep = subs.deeper(len(names.levels))
    if deep.num_rows:
        deep_keys = ibis.memtable(pa.table({"key": deep["base_hash"]}))
        keys = ibis.union(keys, deep_keys, distinct=True)
    parts = [_occurring(rows, names.base, keys)]
    for level, column in enumerate(names.levels, start=1):
        at = subs.at(level)
        if at.num_rows:
            parts.append(_occurring(rows, column, ibis.memtable(at.select(["key"]))))
    return ibis.union(*parts, distinct=True)


def _occurring(rows: ir.Table, column: str, keys: ir.Table) -> ir.Table:
    hit = rows.semi_join(keys, rows[column] == keys.key)
    return hit.select(column=ibis.literal(column), hash=hit[column]).distinct()


def candidates(found: pa.Table) -> Candidates:
    hashes: dict[str, list[int]] = {}
    for column, value in zip(found["column"].to_pylist(), found["hash"].to_pylist(), strict=True):
        hashes.setdefault(column, []).append(value)
    return Candidates({column: sorted(values) for column, values in hashes.items()})


def exact_pairs(
    rows: ir.Table, domains: ir.Table, subs: Subdomains, names: NameColumns, found: Candidates
) -> list[ir.Table]:
    """(row, indicator) pairs whose hashes matched, each a join to test exactly."""
    pairs = []
    for column, hashes in found.hashes.items():
        narrowed = _only(rows, rows[column], hashes)
        if column == names.base:
            chosen = _under_bases(domains, subs, len(names.levels), hashes)
        else:
            at = subs.at(names.levels.index(column) + 1)
            values = at.filter(pc.is_in(at["key"], pa.array(hashes, pa.int64())))["value"]
            chosen = _only(domains, domains.value, values.to_pylist())
        pairs.append(narrowed.join(chosen, narrowed[names.base] == chosen.base_hash))
    return pairs


def _under_bases(domains: ir.Table, subs: Subdomains, deepest: int, hashes: list[int]) -> ir.Table:
    """The indicators narrowed by their base's hash (``hashes``): the bases themselves,
    and those deeper than the log's level columns."""
    chosen = _only(domains, domains.base_hash, hashes)
    deep = subs.deeper(deepest)
    deep = deep.filter(pc.is_in(deep["base_hash"], pa.array(hashes, pa.int64())))
    is_base = chosen.value == chosen.base_domain
    if not deep.num_rows:
        return chosen.filter(is_base)
    return chosen.filter(is_base | chosen.value.isin(deep["value"].to_pylist()))


def _only(table: ir.Table, column: ir.Column, wanted: list[Any]) -> ir.Table:
    """Rows of ``table`` whose ``column`` is one of ``wanted``: a listed filter (pushed
    into the scan) while the list is short, a semi-join beyond."""
    if len(wanted) <= MAX_LISTED:
        return table.filter(column.isin(wanted))
    values = ibis.memtable(pa.table({"_wanted": pa.array(wanted, column.type().to_pyarrow())}))
    return table.semi_join(values, column == values._wanted)
