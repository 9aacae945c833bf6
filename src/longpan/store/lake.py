"""The lake: Parquet datasets under ``$LONGPAN_HOME/lake/<dataset>/<snapshot>/``.

Each dataset has a schema declared in code (store/datasets.py). Snapshots are
append-only and each one is a complete view of its dataset:

* ``state`` datasets (registries: filings, entities, IP filings…) — a snapshot is the
  dataset as delivered; the newest one is the truth.
* ``log`` datasets (observations: WHOIS, DNS, crawls) — a snapshot is the previous one
  plus the new rows, a new row replacing an old one with the same key; history is kept.

``_catalog.json`` lists the snapshots of every dataset. A commit writes the new
snapshot folders first (invisible until listed) and then replaces the catalog in one
``os.replace``, so a commit across several datasets lands whole or not at all.

A write is either an Arrow table (``PendingWrite``) or a Parquet file already in the
dataset's schema (``StagedWrite``, written under ``staging_dir()`` while a big input
was checked), which is moved into the snapshot. A log snapshot from a staged file is
two files: the previous rows not superseded, then the new rows.

A dataset that declares ``order_by`` has the rows of each delivery written in that
order (ties broken by the following columns, so the order is total when they end with
the key). Row groups then cover narrow ranges of the first column, and the engines skip
every row group whose min/max statistics exclude a filter value: looking up one
registered domain in 20 M passive-DNS rows reads one row group instead of all. Big
files are sorted by DuckDB in runs (store/ordering.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from longpan.core.clock import Clock, utc_now
from longpan.core.errors import ConfigError, InputError, NotFoundError
from longpan.store import ordering

CATALOG = "_catalog.json"
KEY_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    nullable: bool = True
    derived: bool = False  # computed at ingest, not supplied by users
    doc: str = ""


@dataclass(frozen=True)
class Dataset:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    mode: Literal["state", "log"]
    observed_at: str | None = None  # column whose maximum is the data's as-of time
    doc: str = ""
    order_by: tuple[str, ...] = ()  # rows of each delivery are written in this order
    # rows per row group of an ordered file (the unit an engine skips or reads whole);
    # None: ordering.ORDERED_ROW_GROUP, read when a file is written (``group_rows``), so
    # the module's default stays one setting for every dataset that does not choose
    row_group: int | None = None

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in self.columns])

    @property
    def group_rows(self) -> int:
        """Rows per row group of this dataset's ordered files."""
        return self.row_group or ordering.ORDERED_ROW_GROUP

    @property
    def fingerprint(self) -> str:
        """Changes whenever a declared column (derived ones included) is added or changed."""
        text = ";".join(f"{c.name}:{c.type}:{c.nullable}" for c in self.columns)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def exchange_columns(self) -> tuple[str, ...]:
        """The columns a delivery supplies (declared order; derived ones left out)."""
        return tuple(c.name for c in self.columns if not c.derived)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


@dataclass(frozen=True)
class Snapshot:
    id: str
    created_at: str
    rows: int
    source_sha256: str
    sources: list[str] = field(default_factory=list)
    schema: str = ""  # fingerprint of the declared schema it was written with


@dataclass(frozen=True)
class PendingWrite:
    """One dataset's new rows, validated and ready to commit."""

    dataset: Dataset
    table: pa.Table
    source_sha256: str
    sources: list[str]


@dataclass(frozen=True)
class StagedWrite:
    """One dataset's new rows, validated and already written to a Parquet file.

    The file holds the dataset's columns in order, then any extra columns as strings,
    with a unique key; it is moved into the snapshot (so it should be on the lake's
    file system: see ``Lake.staging_dir``).
    """

    dataset: Dataset
    path: Path
    rows: int
    source_sha256: str
    sources: list[str]


class Lake:
    def __init__(self, root: Path, clock: Clock = utc_now) -> None:
        self.root = Path(root)
        self._clock = clock

    # -- reading ---------------------------------------------------------------------
    def _catalog(self) -> dict[str, list[dict[str, Any]]]:
        path = self.root / CATALOG
        if not path.exists():
            return {}
        data: dict[str, list[dict[str, Any]]] = json.loads(path.read_text("utf-8"))["datasets"]
        return data

    def snapshots(self, name: str) -> list[Snapshot]:
        return [Snapshot(**s) for s in self._catalog().get(name, [])]

    def current(self, name: str) -> Snapshot | None:
        snaps = self.snapshots(name)
        return snaps[-1] if snaps else None

    def current_snapshots(self) -> dict[str, str]:
        """Dataset name → id of its newest snapshot, for evidence and run records."""
        return {name: snaps[-1]["id"] for name, snaps in sorted(self._catalog().items()) if snaps}

    def snapshot_dir(self, name: str, snapshot_id: str) -> Path:
        return self.root / name / snapshot_id

    def files(self, name: str, snapshot_id: str | None = None) -> list[Path]:
        snap_id = snapshot_id or (self.current(name) or _missing(name)).id
        return sorted(self.snapshot_dir(name, snap_id).glob("*.parquet"))

    def read(self, dataset: Dataset) -> pa.Table:
        """The newest snapshot of ``dataset``, or an empty table with its schema."""
        if self.current(dataset.name) is None:
            return dataset.schema.empty_table()
        return pq.read_table(self.files(dataset.name))

    def has_source(self, dataset: Dataset, sha256: str) -> bool:
        """Has this exact input already been ingested (making a re-ingest a no-op)?"""
        snaps = [s for s in self.snapshots(dataset.name) if s.schema == dataset.fingerprint]
        if dataset.mode == "state":
            return bool(snaps) and snaps[-1].source_sha256 == sha256
        return any(s.source_sha256 == sha256 for s in snaps)

    def check_current(self, dataset: Dataset) -> Snapshot | None:
        """The newest snapshot, refused if written under an older declared schema."""
        snap = self.current(dataset.name)
        if snap is not None and snap.schema != dataset.fingerprint:
            raise ConfigError(
                f"dataset {dataset.name} in the lake was written by an older version of "
                f"Longpan (its columns have changed since); ingest its source files again "
                f"({', '.join(snap.sources) or 'longpan ingest DIR'}) to rebuild it"
            )
        return snap

    # -- writing ---------------------------------------------------------------------
    def staging_dir(self) -> Path:
        """A new, empty folder for files to commit later (removed by the caller)."""
        folder = self.root / ".staging" / uuid.uuid4().hex
        folder.mkdir(parents=True)
        return folder

    def commit(self, writes: Iterable[PendingWrite | StagedWrite]) -> dict[str, Snapshot]:
        """Write every pending dataset as a new snapshot, all or nothing."""
        catalog = self._catalog()
        written: list[Path] = []
        result: dict[str, Snapshot] = {}
        snapshot_id = self._new_snapshot_id(catalog)
        try:
            for write in writes:
                if isinstance(write, StagedWrite):
                    folder, rows = self._write_staged(write, snapshot_id)
                else:
                    folder, rows = self._write_table(write, snapshot_id)
                written.append(folder)
                snap = Snapshot(
                    snapshot_id,
                    self._clock().isoformat(),
                    rows,
                    write.source_sha256,
                    write.sources,
                    write.dataset.fingerprint,
                )
                catalog.setdefault(write.dataset.name, []).append(asdict(snap))
                result[write.dataset.name] = snap
            self._replace_catalog(catalog)
        except BaseException:
            for path in written:
                shutil.rmtree(path, ignore_errors=True)
            raise
        return result

    def uncommit(self, snapshots: Mapping[str, Snapshot]) -> None:
        """Take back snapshots just committed (when the database part of a change failed)."""
        if not snapshots:
            return
        catalog = self._catalog()
        for name, snap in snapshots.items():
            catalog[name] = [s for s in catalog.get(name, []) if s["id"] != snap.id]
            if not catalog[name]:
                del catalog[name]
        self._replace_catalog(catalog)
        for name, snap in snapshots.items():
            shutil.rmtree(self.snapshot_dir(name, snap.id), ignore_errors=True)

    def _new_snapshot_id(self, catalog: Mapping[str, list[dict[str, Any]]]) -> str:
        stamp = self._clock().strftime("%Y%m%dT%H%M%S%fZ")
        taken = {s["id"] for snaps in catalog.values() for s in snaps}
        candidate, n = stamp, 1
        while candidate in taken:
            candidate, n = f"{stamp}-{n}", n + 1
        return candidate

    def _write_table(self, write: PendingWrite, snapshot_id: str) -> tuple[Path, int]:
        table = ordered(write.dataset, conform(write.dataset, write.table))
        if write.dataset.mode == "log" and self._mergeable(write.dataset):
            table = merge_log(write.dataset, self.read(write.dataset), table)
        tmp = self._new_folder(write.dataset.name, snapshot_id)
        group = write.dataset.group_rows if write.dataset.order_by else None
        pq.write_table(table, tmp / "part-00000.parquet", group, compression="zstd")
        return self._publish(tmp, write.dataset.name, snapshot_id), table.num_rows

    def _write_staged(self, write: StagedWrite, snapshot_id: str) -> tuple[Path, int]:
        name = write.dataset.name
        mergeable = write.dataset.mode == "log" and self._mergeable(write.dataset)
        previous = self.files(name) if mergeable else []
        tmp = self._new_folder(name, snapshot_id)
        spill = self.staging_dir()
        try:
            if not previous:
                schema = pq.read_schema(write.path)
                _copy_as(write.dataset, write.path, tmp / "part-00000.parquet", schema, spill)
                return self._publish(tmp, name, snapshot_id), write.rows
            schema = pa.unify_schemas([pq.read_schema(previous[0]), pq.read_schema(write.path)])
            kept = _keep_unsuperseded(write.dataset, previous, write.path, tmp, spill, schema)
            _copy_as(write.dataset, write.path, tmp / "part-00001.parquet", schema, spill)
        finally:
            shutil.rmtree(spill, ignore_errors=True)
        return self._publish(tmp, name, snapshot_id), kept + write.rows

    def _mergeable(self, dataset: Dataset) -> bool:
        """A log dataset accumulates onto its newest snapshot, unless that was written
        under an older declared schema (then the new delivery starts it afresh)."""
        snap = self.current(dataset.name)
        return snap is not None and snap.schema == dataset.fingerprint

    def _new_folder(self, name: str, snapshot_id: str) -> Path:
        tmp = self.snapshot_dir(name, snapshot_id).with_name(f".tmp-{snapshot_id}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        return tmp

    def _publish(self, tmp: Path, name: str, snapshot_id: str) -> Path:
        final = self.snapshot_dir(name, snapshot_id)
        os.replace(tmp, final)
        return final

    def _replace_catalog(self, catalog: dict[str, list[dict[str, Any]]]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{CATALOG}.tmp"
        body = {"format": 1, "updated_at": self._clock().isoformat(), "datasets": catalog}
        tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1), "utf-8")
        os.replace(tmp, self.root / CATALOG)


def _missing(name: str) -> Snapshot:
    raise NotFoundError(f"dataset {name!r} has no snapshot in the lake yet (run: longpan ingest)")


def conform(dataset: Dataset, table: pa.Table) -> pa.Table:
    """Order and cast ``table`` to the declared schema, extra columns kept as strings."""
    declared = dataset.schema
    missing = [f.name for f in declared if f.name not in table.column_names]
    if missing:
        raise InputError(f"dataset {dataset.name}: missing columns {', '.join(missing)}")
    arrays, fields = [], []
    for f in declared:
        col = table.column(f.name)
        try:
            col = col.cast(f.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InputError(
                f"dataset {dataset.name}: column {f.name} is not {f.type}: {exc}"
            ) from None
        if not f.nullable and col.null_count:
            raise InputError(f"dataset {dataset.name}: column {f.name} has empty values")
        arrays.append(col)
        fields.append(f)
    for name in table.column_names:
        if name not in declared.names:
            arrays.append(table.column(name).cast(pa.string()))
            fields.append(pa.field(name, pa.string()))
    result = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    _check_unique_key(dataset, result)
    return result


def key_strings(dataset: Dataset, table: pa.Table) -> pa.Array:
    """One string per row joining the key columns (for duplicate checks and merges)."""
    parts = [pc.cast(table.column(k), pa.string()).fill_null("") for k in dataset.key]
    joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, KEY_SEPARATOR)
    return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined


def _check_unique_key(dataset: Dataset, table: pa.Table) -> None:
    keys = key_strings(dataset, table)
    if len(pc.unique(keys)) != len(keys):
        raise InputError(f"dataset {dataset.name}: duplicate key ({', '.join(dataset.key)})")


def _keep_unsuperseded(
    dataset: Dataset,
    previous: list[Path],
    new: Path,
    folder: Path,
    spill: Path,
    schema: pa.Schema,
) -> int:
    """Write the previous rows whose key is not among ``new``'s to part-00000; count them.

    The same rows as ``merge_log`` keeps, in the same order, without holding either side
    in memory: DuckDB finds the superseded rows (by the same joined key string), pyarrow
    copies the others.
    """
    superseded = _superseded_rows(dataset, previous, new, spill)
    kept = 0
    with pq.ParquetWriter(folder / "part-00000.parquet", schema, compression="zstd") as out:
        for path in previous:
            source = pq.ParquetFile(path)
            keep = np.ones(source.metadata.num_rows, np.bool_)
            keep[superseded.get(str(path), np.zeros(0, np.int64))] = False
            start, group = 0, dataset.group_rows
            for batch in source.iter_batches(batch_size=group):
                wanted = pa.array(keep[start : start + batch.num_rows])
                start += batch.num_rows
                table = pa.Table.from_batches([batch]).filter(wanted)
                # row groups as in an ordered file: the kept rows stay narrow runs
                out.write_table(ordering.as_schema(table, schema), row_group_size=group)
                kept += table.num_rows
    return kept


def _superseded_rows(
    dataset: Dataset, previous: list[Path], new: Path, spill: Path
) -> dict[str, np.ndarray]:
    """File → row numbers (sorted) of the previous rows that a new row replaces."""
    joined = ", ".join(f"coalesce(CAST(\"{k}\" AS VARCHAR), '')" for k in dataset.key)
    key = f"concat_ws(chr(31), {joined})"
    query = (
        f"SELECT filename, file_row_number FROM read_parquet($old, filename = true, "
        f"file_row_number = true) WHERE {key} IN (SELECT {key} FROM read_parquet($new)) "
        f"ORDER BY filename, file_row_number"
    )
    with duckdb.connect(config={"temp_directory": str(spill)}) as con:
        found = con.execute(
            query, {"old": [str(p) for p in previous], "new": str(new)}
        ).fetchnumpy()
    names, rows = np.asarray(found["filename"]), np.asarray(found["file_row_number"])
    return {str(name): rows[names == name].astype(np.int64) for name in np.unique(names)}


def _copy_as(dataset: Dataset, source: Path, target: Path, schema: pa.Schema, spill: Path) -> None:
    """Move ``source`` to ``target`` in ``schema`` and in the dataset's order (rewritten
    only if its schema differs or it must be ordered)."""
    if dataset.order_by:
        ordering.write_sorted(source, target, schema, dataset.order_by, spill, dataset.group_rows)
        return
    if pq.read_schema(source).equals(schema):
        shutil.move(source, target)
        return
    with pq.ParquetWriter(target, schema, compression="zstd") as out:
        for batch in pq.ParquetFile(source).iter_batches():
            out.write_table(ordering.as_schema(pa.Table.from_batches([batch]), schema))


def ordered(dataset: Dataset, table: pa.Table) -> pa.Table:
    """``table`` in the dataset's declared row order (unchanged if it declares none)."""
    return ordering.ordered_table(table, dataset.order_by)


def merge_log(dataset: Dataset, previous: pa.Table, new: pa.Table) -> pa.Table:
    """Previous rows not superseded by a new row with the same key, then the new rows."""
    if previous.num_rows == 0:
        return new
    keep = pc.invert(pc.is_in(key_strings(dataset, previous), value_set=key_strings(dataset, new)))
    return pa.concat_tables([previous.filter(keep), new], promote_options="permissive")
