"""The ``indicators`` lake dataset: the newest version of every indicator, resolved.

STIX objects are versioned by ``modified``: a newer version replaces every row of the
older one (its pattern may have changed), an older or equal one changes nothing, and a
revoked newest version keeps its rows with ``revoked = true`` so that the indicator is
never matched again and an older copy arriving later cannot bring it back. That
replacement is why ``indicators`` is a *state* dataset (each import writes the whole
resolved set) rather than a log merged by key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from longpan.resources.exchange.netlogs import base_domain, name_hash
from longpan.store.datasets import INDICATORS
from longpan.store.db import audit, transaction
from longpan.store.lake import PendingWrite, Snapshot
from longpan.store.workspace import Workspace
from longpan.threat.patterns import Observable, ip_bounds
from longpan.threat.stix import Content, IndicatorVersion


@dataclass
class ImportResult:
    """What an import changed; ``new_ids`` are the versions to retro-hunt."""

    indicators: int = 0
    other_objects: int = 0
    added: int = 0
    updated: int = 0
    revoked: int = 0
    unchanged: int = 0
    older_ignored: int = 0
    unmatchable: int = 0  # versions with nothing matchable (all unsupported)
    new_ids: list[str] = field(default_factory=list)
    snapshot: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "new_ids"} | {
            "new": len(self.new_ids)
        }


def newest_versions(versions: Iterable[IndicatorVersion]) -> dict[str, IndicatorVersion]:
    """Per id, the newest version; at equal ``modified`` a revoked copy wins."""
    newest: dict[str, IndicatorVersion] = {}
    for version in versions:
        kept = newest.get(version.id)
        if kept is None or (version.modified, version.revoked) > (kept.modified, kept.revoked):
            newest[version.id] = version
    return newest


def current_versions(ws: Workspace) -> dict[str, tuple[datetime, bool]]:
    """indicator id → (modified, revoked) of what the lake holds now."""
    ws.lake.check_current(INDICATORS)
    table = ws.lake.read(INDICATORS).select(["indicator_id", "modified", "revoked"])
    return {r["indicator_id"]: (r["modified"], r["revoked"]) for r in table.to_pylist()}


def import_content(
    ws: Workspace, content: Content, *, source: str, actor: str = "system:cli"
) -> ImportResult:
    """Merge ``content`` into the lake's indicators (all or nothing) and audit it."""
    result = ImportResult(len(content.indicators), content.other_objects)
    current = current_versions(ws)
    chosen = _changes(newest_versions(content.indicators), current, result)
    if not chosen:
        return result
    now = ws.clock().replace(tzinfo=None)
    table = _merged(ws, chosen, now)
    snapshots: dict[str, Snapshot] = {}
    try:
        with transaction(ws.sessions) as session:
            snapshots = ws.lake.commit([PendingWrite(INDICATORS, table, "", [source])])
            result.snapshot = snapshots[INDICATORS.name].id
            audit(
                session,
                actor=actor,
                action="threat.indicators_imported",
                object_type="lake_dataset",
                object_id=INDICATORS.name,
                details={"source": source, **result.as_dict()},
                clock=ws.clock,
            )
    except BaseException:
        ws.lake.uncommit(snapshots)
        raise
    return result


def _changes(
    newest: dict[str, IndicatorVersion],
    current: dict[str, tuple[datetime, bool]],
    result: ImportResult,
) -> list[IndicatorVersion]:
    chosen: list[IndicatorVersion] = []
    for ident, version in sorted(newest.items()):
        held = current.get(ident)
        if held is not None and (version.modified, version.revoked) <= held:
            if (version.modified, version.revoked) == held:
                result.unchanged += 1
            else:
                result.older_ignored += 1
            continue
        chosen.append(version)
        if version.revoked:
            result.revoked += 1
            continue
        result.updated += held is not None
        result.added += held is None
        result.unmatchable += not version.observables
        if version.observables:
            result.new_ids.append(ident)
    return chosen


def _merged(ws: Workspace, chosen: list[IndicatorVersion], now: datetime) -> pa.Table:
    replaced = pa.array(sorted({v.id for v in chosen}), pa.string())
    kept = ws.lake.read(INDICATORS)
    if kept.num_rows:
        kept = kept.select(INDICATORS.schema.names)
        kept = kept.filter(pc.invert(pc.is_in(kept["indicator_id"], replaced)))
    rows = [row for version in chosen for row in indicator_rows(version, now)]
    fresh = pa.Table.from_pylist(rows, schema=INDICATORS.schema)
    return pa.concat_tables([kept.cast(INDICATORS.schema), fresh]) if kept.num_rows else fresh


def indicator_rows(version: IndicatorVersion, added_at: datetime) -> list[dict[str, Any]]:
    """The lake rows of one version: one per observable (one 'none' row if it has none)."""
    common = {
        "indicator_id": version.id,
        "modified": version.modified,
        "revoked": version.revoked,
        "valid_from": version.valid_from,
        "valid_until": version.valid_until,
        "name": version.name,
        "pattern": version.pattern,
        "unsupported": list(version.unsupported),
        "labels": list(version.labels),
        "confidence": version.confidence,
        "kill_chain": list(version.kill_chain),
        "source": version.source,
        "added_at": added_at,
    }
    observables = version.observables or (Observable("none", ""),)
    return [common | observable_columns(o) for o in observables]


def observable_columns(observable: Observable) -> dict[str, Any]:
    """kind, value and the join keys of one observable."""
    columns: dict[str, Any] = {"kind": observable.kind, "value": observable.value}
    base = base_domain(observable.value) if observable.kind == "domain" else None
    columns["base_domain"] = base
    columns["base_hash"] = None if base is None else name_hash(base)
    start, end = ip_bounds(observable.value) if observable.kind == "ip" else (None, None)
    return columns | {"start_key": start, "end_key": end}
