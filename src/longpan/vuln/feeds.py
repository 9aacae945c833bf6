"""Keeping CVE feeds in the lake: ``cves`` + ``cve_cpe_matches`` (NVD) and ``kev`` (CISA).

NVD imports are incremental by lastModified: a record newer than the stored one
replaces it (its cpeMatch rows too), an older or equal one is ignored. Both datasets
are written in one lake commit, audited; nothing is written when nothing changed. The
result names the CVEs that are new or changed, which are then re-matched alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from longpan.store.datasets import CVE_CPE_MATCHES, CVES, KEV
from longpan.store.db import audit, transaction
from longpan.store.lake import PendingWrite, Snapshot
from longpan.store.workspace import Workspace
from longpan.vuln.cpe import ANY, ATTRIBUTES, NA, parse_cpe
from longpan.vuln.kev import read_kev
from longpan.vuln.nvd import CveRecord, iter_records
from longpan.vuln.versions import Version, parse_version

_START = ("versionStartIncluding", "versionStartExcluding")
_END = ("versionEndIncluding", "versionEndExcluding")


@dataclass
class FeedImport:
    """What an import changed; ``changed`` are the CVE ids to re-match."""

    source: str
    read: int = 0
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    ignored: int = 0  # older or identical to what the lake holds
    snapshot: str | None = None

    @property
    def changed(self) -> list[str]:
        return sorted(self.new + self.updated)


def newest_records(records: Iterable[CveRecord]) -> dict[str, CveRecord]:
    """One record per CVE id: the one with the latest lastModified."""
    newest: dict[str, CveRecord] = {}
    for record in records:
        kept = newest.get(record.cve_id)
        if kept is None or record.last_modified > kept.last_modified:
            newest[record.cve_id] = record
    return newest


def import_nvd(ws: Workspace, paths: list[Path], *, actor: str = "system:cli") -> FeedImport:
    """Read NVD JSON from ``paths`` and store what is new or newer in the lake."""
    records = list(iter_records(paths))  # parses everything before writing anything
    return store_records(ws, records, ", ".join(str(p) for p in paths), actor=actor)


def store_records(
    ws: Workspace, records: list[CveRecord], source: str, *, actor: str = "system:cli"
) -> FeedImport:
    """Store the records newer than the lake's (one commit, audited); report the changes."""
    result = FeedImport(source, read=len(records))
    incoming = newest_records(records)
    stored = _stored_last_modified(ws)
    changed = {}
    for cve_id, record in incoming.items():
        previous = stored.get(cve_id)
        if previous is not None and record.last_modified <= previous:
            continue
        changed[cve_id] = record
        (result.updated if previous is not None else result.new).append(cve_id)
    result.ignored = len(records) - len(changed)
    if changed:
        result.snapshot = _commit_cves(ws, changed, result, actor)
    return result


def _stored_last_modified(ws: Workspace) -> dict[str, datetime]:
    if ws.lake.check_current(CVES) is None:
        return {}
    table = ws.lake.read(CVES).select(["cve_id", "last_modified"])
    return dict(zip(table["cve_id"].to_pylist(), table["last_modified"].to_pylist(), strict=True))


def _commit_cves(
    ws: Workspace, changed: dict[str, CveRecord], result: FeedImport, actor: str
) -> str:
    ids = pa.array(sorted(changed))
    cves = _merged(ws.lake.read(CVES), cve_table(changed.values()), ids)
    matches = _merged(ws.lake.read(CVE_CPE_MATCHES), match_table(changed.values()), ids)
    sha = f"nvd:{len(changed)}:{max(r.last_modified for r in changed.values()).isoformat()}"
    writes = [
        PendingWrite(CVES, cves, sha, [result.source]),
        PendingWrite(CVE_CPE_MATCHES, matches, sha, [result.source]),
    ]
    details = {"new": len(result.new), "updated": len(result.updated), "ignored": result.ignored}
    return _commit(ws, writes, "vuln.nvd_imported", result.source, details, actor)


def _merged(old: pa.Table, new: pa.Table, replaced: pa.Array) -> pa.Table:
    """The stored rows of CVEs not replaced, then the new rows."""
    if old.num_rows == 0:
        return new
    kept = old.filter(pc.invert(pc.is_in(old["cve_id"], value_set=replaced)))
    return pa.concat_tables([kept.select(new.column_names).cast(new.schema), new])


def _commit(
    ws: Workspace,
    writes: list[PendingWrite],
    action: str,
    source: str,
    details: dict[str, Any],
    actor: str,
) -> str:
    snapshots: dict[str, Snapshot] = {}
    try:
        with transaction(ws.sessions) as session:
            snapshots = ws.lake.commit(writes)
            snap_id = next(iter(snapshots.values())).id
            audit(
                session,
                actor=actor,
                action=action,
                object_type="feed",
                object_id=source,
                clock=ws.clock,
                details={**details, "snapshot": snap_id},
            )
    except BaseException:
        ws.lake.uncommit(snapshots)
        raise
    return snap_id


def cve_table(records: Iterable[CveRecord]) -> pa.Table:
    rows = []
    for r in records:
        row: dict[str, Any] = {
            "cve_id": r.cve_id,
            "published": r.published,
            "last_modified": r.last_modified,
            "status": r.status,
            "description": r.description,
            "cwes": list(r.cwes),
            "source": Path(r.source).name,
        }
        for name in ("cvss31", "cvss40", "cvss30", "cvss2"):
            score = r.scores.get(name)
            row[f"{name}_score"] = score.score if score else None
            row[f"{name}_vector"] = score.vector if score else None
            if name in ("cvss31", "cvss40"):
                row[f"{name}_severity"] = score.severity if score else None
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=CVES.schema)


def match_table(records: Iterable[CveRecord], batch: int = 200_000) -> pa.Table:
    """Every cpeMatch of ``records`` as rows of ``cve_cpe_matches``, derived keys included
    (built in Arrow batches, so a full NVD feed never sits in Python lists at once)."""
    columns: dict[str, list[Any]] = {c.name: [] for c in CVE_CPE_MATCHES.columns}
    tables = []
    for row in _match_rows(records):
        for name, values in columns.items():
            values.append(row.get(name))
        if len(columns["cve_id"]) >= batch:
            tables.append(pa.table(columns, schema=CVE_CPE_MATCHES.schema))
            columns = {name: [] for name in columns}
    tables.append(pa.table(columns, schema=CVE_CPE_MATCHES.schema))
    return pa.concat_tables(tables)


def _match_rows(records: Iterable[CveRecord]) -> Iterator[dict[str, Any]]:
    for record in records:
        for ci, config in enumerate(record.configurations):
            for ni, node in enumerate(config.nodes):
                for mi, match in enumerate(node.matches):
                    yield {
                        "cve_id": record.cve_id,
                        "config": ci,
                        "config_operator": config.operator,
                        "config_negate": config.negate,
                        "node": ni,
                        "node_operator": node.operator,
                        "node_negate": node.negate,
                        "match": mi,
                        "vulnerable": match.vulnerable,
                        "criteria": match.criteria,
                        "match_criteria_id": match.match_criteria_id,
                        **_cached_keys(match.criteria, tuple(sorted(match.bounds.items()))),
                    }


@lru_cache(maxsize=65536)
def _cached_keys(criteria: str, bounds: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    return match_keys(criteria, dict(bounds))  # feeds repeat criteria and bounds a lot


def match_keys(criteria: str, bounds: dict[str, str]) -> dict[str, Any]:
    """The derived columns of one cpeMatch: its attributes, exact key and range keys."""
    cpe = parse_cpe(criteria)
    out: dict[str, Any] = {a: getattr(cpe, a) for a in ATTRIBUTES}
    out["version_start_including"] = bounds.get("versionStartIncluding")
    out["version_start_excluding"] = bounds.get("versionStartExcluding")
    out["version_end_including"] = bounds.get("versionEndIncluding")
    out["version_end_excluding"] = bounds.get("versionEndExcluding")
    exact = parse_version(cpe.version) if cpe.version not in (ANY, NA) else None
    out["version_key"] = exact.exact_key if exact else None
    start = next((parse_version(bounds[b]) for b in _START if b in bounds), None)
    end = next((parse_version(bounds[b]) for b in _END if b in bounds), None)
    out["start_key"] = start.range_key if start else None
    out["end_key"] = end.range_key if end else None
    out["range_scheme"] = _range_scheme(bounds, start, end)
    return out


def _range_scheme(bounds: dict[str, str], start: Version | None, end: Version | None) -> str | None:
    if not bounds:
        return None
    schemes = {v.scheme for v in (start, end) if v is not None}
    parsed = sum(1 for b in (*_START, *_END) if b in bounds)
    if len(schemes) != 1 or (start is not None) + (end is not None) != parsed:
        return "x"  # a bound that does not parse, or bounds of two schemes: never matched
    return schemes.pop()


def import_kev(ws: Workspace, path: Path, *, actor: str = "system:cli") -> FeedImport:
    """Store a KEV catalogue (a full delivery); ``new`` are the entries not held before."""
    version, rows = read_kev(path)
    result = FeedImport(str(path), read=len(rows))
    held = set()
    if ws.lake.check_current(KEV) is not None:
        held = set(ws.lake.read(KEV)["cve_id"].to_pylist())
    listed = {r["cve_id"] for r in rows}
    result.new = sorted(listed - held)
    result.updated = sorted(held - listed)  # dropped from the catalogue: re-match too
    result.ignored = len(rows) - len(result.new)
    current = ws.lake.current(KEV.name)
    if not result.new and current is not None and current.source_sha256 == f"kev:{version}":
        return result
    table = pa.Table.from_pylist(rows, schema=KEV.schema)
    write = PendingWrite(KEV, table, f"kev:{version}", [path.name])
    details = {"entries": len(rows), "new": len(result.new), "catalog_version": version}
    result.snapshot = _commit(ws, [write], "vuln.kev_imported", str(path), details, actor)
    return result
