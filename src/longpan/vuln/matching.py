"""Matching assets to CVEs in bulk: candidates by (part, vendor, product), then versions.

1. The assets' distinct descriptions become software identities (``identities.py``),
   sent to the engine as a small table with their version keys.
2. One Ibis join of the vulnerable cpeMatch rows with the identities on (part, vendor,
   product), filtered by the attribute rules and the version keys (string comparisons,
   alike on DuckDB and Spark), gives the candidates.
3. Each candidate is judged by the reference rules (``criteria.py``), which also give
   the reason; a candidate in an AND configuration counts only when every other node
   is satisfied by the asset's platform (``os_cpe``, ``hw_cpe``) or its service.

``cve_ids`` restricts the run to some CVEs (a newly arrived record is re-matched
alone), ``services`` to some (ip, port, protocol).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from longpan.core.subjects import service_subject
from longpan.store.datasets import ASSETS
from longpan.store.engine import AnalyticsEngine
from longpan.vuln.aliases import names_for, siblings
from longpan.vuln.cpe import ANY, NA, PLAIN_ATTRIBUTES
from longpan.vuln.criteria import (
    accepted_reason,
    full_row,
    judge,
    needs_judgement,
    row_range,
)
from longpan.vuln.identities import Identity, identities, platform_cpes

ASSET_COLUMNS = ASSETS.exchange_columns
Service = tuple[str, int, str]  # ip, port, protocol
CANDIDATE_COLUMNS = (
    "ident",
    "cve_id",
    "config",
    "config_operator",
    "config_negate",
    "node",
    "match",
    "criteria",
    "version",
    "update",
    "version_start_including",
    "version_start_excluding",
    "version_end_including",
    "version_end_excluding",
)
_IDENT_FIELDS = ("part", "vendor", "product", "version", *PLAIN_ATTRIBUTES)


class Hit(NamedTuple):
    """One asset affected by one CVE, with every cpeMatch that says so and why."""

    asset: dict[str, Any]
    cve_id: str
    matched: list[dict[str, Any]]


Matched = list[tuple[str, list[dict[str, Any]]]]  # (CVE id, matched configurations)
Configs = dict[tuple[str, int], dict[int, list[dict[str, Any]]]]  # (CVE, config) → nodes


@dataclass
class MatchResult:
    """The hits grouped by asset: assets that describe the same thing share one list."""

    groups: list[tuple[dict[str, Any], Matched]]
    identities: int  # distinct software identities matched
    candidates: int  # candidate (identity, cpeMatch) pairs from the engine

    @property
    def hits(self) -> list[Hit]:
        return [Hit(asset, cve, matched) for asset, found in self.groups for cve, matched in found]

    @property
    def count(self) -> int:
        return sum(len(found) for _, found in self.groups)

    def cve_ids(self) -> set[str]:
        return {cve for _, found in self.groups for cve, _ in found}


def load_assets(
    engine: AnalyticsEngine,
    *,
    services: Iterable[Service] | None = None,
    since: datetime | None = None,
    cve_ids: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The assets (newest snapshot), optionally only some services, recent ones, or those
    that may run a product some of ``cve_ids`` name."""
    table = engine.table("assets")
    if since is not None:
        table = table.filter(table.observed_at >= since)
    if cve_ids is not None:
        table = table.filter(_may_run(engine, table, cve_ids))
    if services is not None:
        wanted = sorted({ip for ip, _, _ in services})
        table = table.filter(table.ip.isin(wanted)) if wanted else table.limit(0)
    rows = engine.rows(table.select(*ASSET_COLUMNS))
    if services is not None:
        keep = set(services)
        rows = [r for r in rows if (r["ip"], r["port"], r["protocol"]) in keep]
    return rows


def _may_run(engine: AnalyticsEngine, assets: ir.Table, cve_ids: list[str]) -> ir.BooleanValue:
    """A superset of the assets whose identities may be a product the CVEs name: by the
    vendor:product of their CPE, or by a banner name that may resolve to it (the exact
    resolution follows in Python). Re-matching one CVE then reads a few assets, not all."""
    m = engine.table("cve_cpe_matches")
    named = m.filter(m.cve_id.isin(cve_ids) & m.vulnerable).select("part", "vendor", "product")
    products: set[tuple[str, str, str]] = set()
    for row in engine.rows(named.distinct()):
        products |= siblings(row["part"], row["vendor"], row["product"])
    pairs = sorted({f"{vendor}:{product}" for _, vendor, product in products}) or [""]
    names = sorted(names_for(products)) or [""]
    vendor_product = assets.cpe.re_extract(r"^cpe:2\.3:[^:]*:([^:]*:[^:]*)", 1)
    by_cpe = assets.cpe.notnull() & vendor_product.isin(pairs)
    product, vendor = _normalised(assets.product), _normalised(assets.vendor)
    by_name = product.isin(names) | (vendor + " " + product).isin(names)
    return by_cpe | by_name.fill_null(False)


def _normalised(column: ir.StringColumn) -> ir.StringColumn:
    """``aliases.normalise_name`` as an engine expression."""
    return column.lower().re_replace(r"[\s_\-/]+", " ").strip()


def raw_key(asset: dict[str, Any]) -> tuple[Any, ...]:
    return (asset["product"], asset["vendor"], asset["version"], asset["cpe"])


def identity_table(assets: list[dict[str, Any]]) -> tuple[pa.Table, list[Identity]]:
    """The distinct identities of ``assets`` as an engine table (column ``ident`` = index)."""
    found: dict[Identity, int] = {}
    for asset in assets:
        for ident in identities(*raw_key(asset)):
            found.setdefault(ident, len(found))
    ordered = list(found)
    columns: dict[str, list[Any]] = {"ident": list(range(len(ordered)))}
    for name in _IDENT_FIELDS:
        columns[f"i_{name}"] = [getattr(i.cpe, name) for i in ordered]
    columns["i_exact_key"] = [i.version.exact_key if i.version else None for i in ordered]
    columns["i_range_key"] = [i.version.range_key if i.version else None for i in ordered]
    columns["i_scheme"] = [i.scheme for i in ordered]
    schema = pa.schema(
        [("ident", pa.int64())] + [(k, pa.string()) for k in columns if k != "ident"]
    )
    return pa.table(columns, schema=schema), ordered


def candidates_expr(matches: ir.Table, idents: ir.Table, cve_ids: list[str] | None) -> ir.Table:
    """Vulnerable cpeMatch rows × identities that pass the attribute and version rules."""
    m = matches.filter(matches.vulnerable)
    if cve_ids is not None:
        m = m.filter(m.cve_id.isin(cve_ids))
    j = m.join(
        idents,
        [m.part == idents.i_part, m.vendor == idents.i_vendor, m.product == idents.i_product],
    )
    rules = [_attribute_ok(j[name], j[f"i_{name}"]) for name in PLAIN_ATTRIBUTES]
    return j.filter(*rules, _version_ok(j)).select(*CANDIDATE_COLUMNS)  # one filter, one plan


def _attribute_ok(crit: ir.StringColumn, mine: ir.StringColumn) -> ir.BooleanColumn:
    wildcard = crit.contains("*") & (crit != ANY) | crit.contains("?")
    return (crit == ANY) | (crit == mine) | ((crit == NA) & (mine == ANY)) | wildcard


def _version_ok(j: ir.Table) -> ir.BooleanColumn:
    no_range = j.range_scheme.isnull()
    key = j.i_range_key
    start_ok = (
        j.start_key.isnull()
        | (j.version_start_including.notnull() & (key >= j.start_key))
        | (j.version_start_excluding.notnull() & (key > j.start_key))
    )
    end_ok = (
        j.end_key.isnull()
        | (j.version_end_including.notnull() & (key <= j.end_key))
        | (j.version_end_excluding.notnull() & (key < j.end_key))
    )
    in_range = (j.version == ANY) & (j.range_scheme == j.i_scheme) & start_ok & end_ok
    any_version = (j.version == ANY) & no_range
    na = (j.version == NA) & (j.i_version == NA)
    exact = no_range & j.version_key.notnull() & (j.version_key == j.i_exact_key)
    other = (
        no_range
        & j.version_key.isnull()
        & ~j.version.isin([ANY, NA])
        & ((j.version == j.i_version) | j.version.contains("*") | j.version.contains("?"))
    )
    return any_version | na | exact | other | in_range


def match_assets(
    engine: AnalyticsEngine,
    *,
    cve_ids: list[str] | None = None,
    services: Iterable[Service] | None = None,
    since: datetime | None = None,
) -> MatchResult:
    """Every (asset, CVE) the feeds in the lake say is vulnerable."""
    assets = load_assets(engine, services=services, since=since, cve_ids=cve_ids)
    table, ordered = identity_table(assets)
    if not ordered:
        return MatchResult([], 0, 0)
    idents = ibis.memtable(table)
    rows = engine.rows(candidates_expr(engine.table("cve_cpe_matches"), idents, cve_ids))
    by_ident: dict[int, list[tuple[dict[str, Any], str]]] = defaultdict(list)
    for row in rows:
        ident = ordered[row["ident"]]
        if needs_judgement(row["criteria"]):
            reason = judge(full_row(row), ident)
        else:
            reason = accepted_reason(row, ident)
        if reason is not None:
            by_ident[row["ident"]].append((row, reason))
    configs = _and_configurations(engine, rows, by_ident)
    return MatchResult(_hits(assets, ordered, by_ident, configs), len(ordered), len(rows))


def _and_configurations(
    engine: AnalyticsEngine,
    rows: list[dict[str, Any]],
    by_ident: dict[int, list[tuple[dict[str, Any], str]]],
) -> Configs:
    """All cpeMatch rows of the multi-node configurations some candidate belongs to,
    by (CVE, configuration) and node."""
    wanted = sorted(
        {r["cve_id"] for found in by_ident.values() for r, _ in found if _multi_node(r)}
    )
    if not wanted:
        return {}
    table = engine.table("cve_cpe_matches")
    picked = table.filter(table.cve_id.isin(wanted) & table.config_operator.notnull())
    grouped: dict[tuple[str, int], dict[int, list[dict[str, Any]]]] = {}
    for row in engine.rows(picked):
        nodes = grouped.setdefault((row["cve_id"], row["config"]), defaultdict(list))
        nodes[row["node"]].append(row)
    return grouped


def _multi_node(row: dict[str, Any]) -> bool:
    return row["config_operator"] is not None


def _hits(
    assets: list[dict[str, Any]],
    ordered: list[Identity],
    by_ident: dict[int, list[tuple[dict[str, Any], str]]],
    configs: Configs,
) -> list[tuple[dict[str, Any], Matched]]:
    index = {ident: n for n, ident in enumerate(ordered)}
    profiles: dict[tuple[Any, ...], Matched] = {}
    groups = []
    for asset in assets:
        profile = (*raw_key(asset), asset["os_cpe"], asset["hw_cpe"])
        if profile not in profiles:  # assets that describe the same thing match alike
            profiles[profile] = _profile_hits(asset, index, by_ident, configs)
        if profiles[profile]:
            groups.append((asset, profiles[profile]))
    return groups


def _profile_hits(
    asset: dict[str, Any],
    index: dict[Identity, int],
    by_ident: dict[int, list[tuple[dict[str, Any], str]]],
    configs: Configs,
) -> Matched:
    """(CVE, the matched configurations) for what ``asset`` describes, by CVE id."""
    own = identities(*raw_key(asset))
    found: dict[str, list[dict[str, Any]]] = {}
    for ident in own:
        for row, reason in by_ident.get(index[ident], ()):
            platform = _platform(row, asset, own, configs)
            if platform is not None:
                evidence = _evidence(row, reason, ident, platform)
                found.setdefault(row["cve_id"], []).append(evidence)
    return sorted(found.items())


def _platform(
    row: dict[str, Any],
    asset: dict[str, Any],
    own: tuple[Identity, ...],
    configs: Configs,
) -> list[dict[str, str]] | None:
    """For an AND configuration, how each other node is satisfied; None if one is not."""
    if not _multi_node(row):
        return []
    nodes = configs.get((row["cve_id"], row["config"]), {})
    mine = list(own) + list(platform_cpes(asset["os_cpe"], asset["hw_cpe"]))
    satisfied = []
    results = []
    for node_id, members in sorted(nodes.items()):
        if node_id == row["node"]:
            results.append(True)
            continue
        how = _node_satisfied(members, mine)
        results.append(how is not None)
        if how:
            satisfied.append(how)
    operator_and = row["config_operator"] == "AND"
    ok = all(results) if operator_and else any(results)
    if row["config_negate"]:
        ok = not ok
    return satisfied if ok else None


def _node_satisfied(members: list[dict[str, Any]], mine: list[Identity]) -> dict[str, str] | None:
    """How a node is satisfied by the asset's CPE names (node operator and negate honoured)."""
    each = [_member_match(member, mine) for member in members]
    if members[0]["node_operator"] == "AND":
        found = each[0] if all(each) else None
    else:
        found = next((how for how in each if how), None)
    if members[0]["node_negate"]:
        return None if found else {"criteria": "NOT " + members[0]["criteria"], "why": "absent"}
    return found


def _member_match(member: dict[str, Any], mine: list[Identity]) -> dict[str, str] | None:
    for ident in mine:
        reason = judge(member, ident)
        if reason is not None:
            return {"criteria": member["criteria"], "asset_cpe": str(ident.cpe), "why": reason}
    return None


def _evidence(
    row: dict[str, Any], reason: str, ident: Identity, platform: list[dict[str, str]]
) -> dict[str, Any]:
    return {
        "configuration": row["config"],
        "operator": row["config_operator"] or "OR",
        "criteria": row["criteria"],
        "range": row_range(row),
        "asset_cpe": str(ident.cpe),
        "why": reason,
        "platform": platform,
    }


def unassessed(engine: AnalyticsEngine) -> list[dict[str, Any]]:
    """Assets whose product has vulnerable cpeMatch rows but whose version cannot be
    compared (unknown or unparseable): reported, never called vulnerable."""
    assets = load_assets(engine)
    _, ordered = identity_table(assets)
    problems = [n for n, ident in enumerate(ordered) if ident.problem]
    if not problems:
        return []
    m = engine.table("cve_cpe_matches")
    products = sorted({f"{ordered[n].cpe.vendor}:{ordered[n].cpe.product}" for n in problems})
    named = m.filter(m.vulnerable & (m.vendor + ":" + m.product).isin(products))
    counts = {
        r["name"]: r["cves"]
        for r in engine.rows(
            named.group_by(name=named.vendor + ":" + named.product).aggregate(
                cves=named.cve_id.nunique()
            )
        )
    }
    return _unassessed_rows(assets, counts)


def _unassessed_rows(assets: list[dict[str, Any]], counts: dict[str, int]) -> list[dict[str, Any]]:
    rows = []
    for asset in assets:
        for ident in identities(*raw_key(asset)):
            cves = counts.get(f"{ident.cpe.vendor}:{ident.cpe.product}", 0)
            if ident.problem and cves:
                subject = service_subject(asset["ip"], asset["port"], asset["protocol"])
                rows.append(
                    {
                        "subject": subject,
                        "org_uscc": asset["org_uscc"],
                        "product": asset["product"],
                        "version": asset["version"],
                        "cpe": str(ident.cpe),
                        "problem": ident.problem,
                        "cves": cves,
                    }
                )
    return rows
