"""Validate one exchange-format file in batches, streaming its good rows to Parquet.

The batch path gives what the per-row path (``validate.validate`` on ``read_file``)
gives: the same good rows with the same canonical values, in the same order, and the
same error for every bad row. Per batch of rows:

1. every field column goes through ``cells.parse_field`` (vectorised check, then the
   Python parser once per distinct value of the cells left);
2. the rows whose cells are all good go through the table's batch rules; the rows
   those do not clear get the row rules;
3. derived columns come from the table's batch derive, extra columns are kept as text;
4. keys are checked against every earlier row of the file (``keys.py``);
5. the good rows are appended to the output file; every bad row gets its error from
   the per-row code (``validate.check_row``), so the wording is the reference's.

Steps 1-3 need no other batch and run in a worker thread, a couple of batches ahead of
steps 4-5 (and of reading), so that two cores share the work.

Memory stays bounded by the batch size, the key index (12 bytes per distinct key) and
the errors kept (the first ``MAX_ERRORS``; the count is exact, and with ``--skip-bad``
every bad row goes to a rejects file as it is found).
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from longpan.core.errors import InputError
from longpan.resources.exchange.cells import extra_values, parse_field
from longpan.resources.exchange.columns import RawColumn
from longpan.resources.exchange.keys import Hashes, KeyHasher, KeyIndex, verify
from longpan.resources.exchange.memo import Mask
from longpan.resources.exchange.rules import Columns
from longpan.resources.exchange.source import RawBatch, Source, open_source
from longpan.resources.exchange.tables import TableSpec
from longpan.resources.exchange.validate import (
    CellError,
    check_columns,
    check_row,
    duplicate_key,
    extra_columns,
    output_schema,
    row_error,
)
from longpan.store.lake import key_strings

MAX_ERRORS = 1000
ROW_GROUP = 1 << 18
ATTEMPTS = 3
DEPTH = 2  # batches checked ahead
T = TypeVar("T")
U = TypeVar("U")


@dataclass
class Staged:
    """One file checked: its good rows in ``output``, its bad rows counted and described."""

    spec: TableSpec
    path: Path
    output: Path  # Parquet in the dataset's schema, extra columns as text
    rows: int = 0
    errors: list[InputError] = field(default_factory=list)  # the first MAX_ERRORS
    error_count: int = 0
    rejects: Path | None = None  # CSV of the bad rows, when asked for


def stage_file(
    spec: TableSpec, path: Path, folder: Path, *, keep_rejects: bool = False, seed: int = 0
) -> Staged:
    """Check ``path`` and write its good rows (and bad rows, if kept) under ``folder``."""
    for attempt in range(ATTEMPTS):
        check = _FileCheck(spec, path, folder, keep_rejects, seed + attempt)
        if check.run():
            return check.staged
        check.discard()  # two keys shared a 64-bit hash: check again with another seed
    raise RuntimeError(f"{path}: key hashes kept colliding in {ATTEMPTS} attempts")


class _FileCheck:
    def __init__(
        self, spec: TableSpec, path: Path, folder: Path, keep_rejects: bool, seed: int
    ) -> None:
        self.spec = spec
        self.path = path
        self.staged = Staged(spec, path, folder / f"{spec.name}.staged.parquet")
        self.rejects_path = folder / f"{spec.name}.rejects.csv"
        self.keep_rejects = keep_rejects
        self.hasher = KeyHasher(seed)
        self.index = KeyIndex()
        self.suspects: list[tuple[Hashes, Hashes]] = []
        self._rejects: IO[str] | None = None
        self._rejects_csv: Any = None

    def run(self) -> bool:
        """Check every batch; True unless the duplicate check must be redone."""
        source = open_source(self.path)
        self.header = source.header
        self.extras = extra_columns(self.spec, source.header)
        self.schema = output_schema(self.spec, self.extras)
        self.positions = {name: i for i, name in enumerate(source.header, start=1)}
        try:
            self._check_columns(source)
            with _Output(self.staged.output, self.schema) as output, _Ahead() as ahead:
                for checked in ahead(self._prepare, source.batches):
                    output.write(self._finish(checked))
            self.staged.rows = output.rows
            return verify(self.spec.dataset, self.staged.output, self.suspects, self.hasher)
        finally:
            source.close()
            if self._rejects is not None:
                self._rejects.close()

    def _check_columns(self, source: Source) -> None:
        """Missing columns, after any problem reading the file (the per-row order)."""
        try:
            check_columns(self.spec, self.path, source.header)
        except InputError:
            for _ in source.batches:
                pass
            raise

    def discard(self) -> None:
        self.staged.output.unlink(missing_ok=True)
        self.rejects_path.unlink(missing_ok=True)

    # -- one batch ---------------------------------------------------------------------
    def _prepare(self, raw: RawBatch) -> _Checked:
        """Cells, rules, derived and extra columns: what needs no other batch."""
        cells = {name: RawColumn(raw.batch.column(name)) for name in self.header}
        values, cell_bad = self._fields(cells)
        good = np.flatnonzero(~cell_bad)
        cols = {name: array.take(good) for name, array in values.items()}
        rule_bad = self._rule_failures(cols)
        bad_rows = np.sort(np.concatenate([np.flatnonzero(cell_bad), good[rule_bad]]))
        good = good[~rule_bad]
        cols = {name: array.filter(pa.array(~rule_bad)) for name, array in cols.items()}
        if len(good):
            cols.update(self._derived(cols))
        for name in self.extras:
            cols[name] = extra_values(cells[name]).take(good)
        return _Checked(raw, bad_rows, good, self._table(cols, len(good)))

    def _finish(self, checked: _Checked) -> pa.Table:
        """Keys against the earlier batches, errors in line order; the rows to write."""
        good, table = checked.good, checked.table
        suspects, first_lines = self._keys(table, checked.raw.lines[good])
        duplicates = table.filter(pa.array(suspects))
        dups = (good[suspects], duplicates, first_lines[suspects])
        self._report(checked.raw, checked.bad_rows, *dups)
        return table.filter(pa.array(~suspects))

    def _fields(self, cells: dict[str, RawColumn]) -> tuple[Columns, Mask]:
        values: Columns = {}
        bad = np.zeros(len(next(iter(cells.values())).raw), np.bool_)
        for spec_field in self.spec.fields:
            target = self.spec.dataset.column(spec_field.name).type
            values[spec_field.name], field_bad = parse_field(
                spec_field, cells[spec_field.name], target
            )
            bad |= field_bad
        return values, bad

    def _rule_failures(self, cols: Columns) -> Mask:
        count = len(next(iter(cols.values()))) if cols else 0
        failed = np.zeros(count, np.bool_)
        if not self.spec.rules or not count:
            return failed
        sure = self.spec.rules_batch(cols) if self.spec.rules_batch else np.zeros(count, np.bool_)
        unsure = np.flatnonzero(~sure)
        if len(unsure):
            rows = pa.table({name: cols[name].take(unsure) for name in cols}).to_pylist()
            for at, row in zip(unsure, rows, strict=True):
                failed[at] = any(rule(row) is not None for rule in self.spec.rules)
        return failed

    def _derived(self, cols: Columns) -> Columns:
        if self.spec.derive_batch is not None:
            return self.spec.derive_batch(cols)
        if self.spec.derive is None:
            return {}
        derive = self.spec.derive
        rows = [derive(row) for row in pa.table(cols).to_pylist()]
        names = {name for row in rows for name in row}
        kinds = {name: self.schema.field(name).type for name in names}
        return {name: pa.array([row.get(name) for row in rows], kinds[name]) for name in names}

    def _table(self, cols: Columns, count: int) -> pa.Table:
        arrays = [
            cols[f.name].cast(f.type) if f.name in cols else pa.nulls(count, f.type)
            for f in self.schema
        ]
        return pa.Table.from_arrays(arrays, schema=self.schema)

    def _keys(self, table: pa.Table, lines: np.ndarray) -> tuple[Mask, np.ndarray]:
        keys = key_strings(self.spec.dataset, table)
        hashes = self.hasher.first(keys)
        suspects, first_lines = self.index.check(hashes, lines)
        if suspects.any():
            picked = pa.array(suspects)
            self.suspects.append((hashes[suspects], self.hasher.second(keys.filter(picked))))
        return suspects, first_lines

    # -- errors ------------------------------------------------------------------------
    def _report(
        self,
        raw: RawBatch,
        bad_rows: np.ndarray,
        dup_rows: np.ndarray,
        duplicates: pa.Table,
        first_lines: np.ndarray,
    ) -> None:
        total = len(bad_rows) + len(dup_rows)
        wanted = self.keep_rejects or self.staged.error_count < MAX_ERRORS
        self.staged.error_count += total
        if not total or not wanted:
            return
        order = np.argsort(np.concatenate([bad_rows, dup_rows]), kind="stable")
        rows = np.concatenate([bad_rows, dup_rows])[order]
        raws = raw.batch.take(pa.array(rows)).to_pylist()
        dup_values = duplicates.select(list(self.spec.dataset.key)).to_pylist()
        for at, position in enumerate(order):
            cells = raws[at]
            if position < len(bad_rows):
                exc = self._row_failure(cells)
            else:
                which = position - len(bad_rows)
                exc = duplicate_key(self.spec, dup_values[which], int(first_lines[which]))
            self._record(int(raw.lines[rows[at]]), cells, exc)

    def _row_failure(self, cells: dict[str, Any]) -> CellError:
        try:
            check_row(self.spec, cells, self.extras)
        except CellError as exc:
            return exc
        raise RuntimeError(f"{self.path}: the batch check refused a row the row check accepts")

    def _record(self, line: int, cells: dict[str, Any], exc: CellError) -> None:
        error = row_error(self.path, self.positions, line, exc)
        if len(self.staged.errors) < MAX_ERRORS:
            self.staged.errors.append(error)
        if self.keep_rejects:
            self._reject(line, cells, error)

    def _reject(self, line: int, cells: dict[str, Any], error: InputError) -> None:
        if self._rejects is None:
            self._rejects = open(self.rejects_path, "w", encoding="utf-8", newline="")  # noqa: SIM115
            self._rejects_csv = csv.writer(self._rejects)
            self._rejects_csv.writerow(["_file", "_line", "_column", "_error", *self.header])
            self.staged.rejects = self.rejects_path
        row = [self.path.name, line, error.column, error.message]
        self._rejects_csv.writerow([*row, *(cells.get(h, "") for h in self.header)])


@dataclass(frozen=True)
class _Checked:
    """One batch after the checks that need no other batch."""

    raw: RawBatch
    bad_rows: npt.NDArray[np.int64]  # rows with a bad cell or a broken rule
    good: npt.NDArray[np.int64]  # the other rows
    table: pa.Table  # their canonical values, in the output's schema


class _Ahead:
    """Run a step on the next batches in a worker thread while this one is finished.

    Arrow and numpy release the GIL, so reading, checking and writing overlap on two
    cores. At most ``DEPTH`` batches wait, which bounds the memory.
    """

    def __enter__(self) -> Callable[[Callable[[T], U], Iterable[T]], Iterator[U]]:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")
        return self._run

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, step: Callable[[T], U], items: Iterable[T]) -> Iterator[U]:
        waiting: deque[Future[U]] = deque()
        for item in items:
            waiting.append(self._pool.submit(step, item))
            if len(waiting) > DEPTH:
                yield waiting.popleft().result()
        while waiting:
            yield waiting.popleft().result()


class _Output:
    """The good rows, written in row groups of about ROW_GROUP rows."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self.rows = 0

    def __enter__(self) -> _Output:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pending and exc[0] is None:
            self._flush()
        self._writer.close()

    def write(self, table: pa.Table) -> None:
        self._pending.append(table)
        self._pending_rows += table.num_rows
        self.rows += table.num_rows
        if self._pending_rows >= ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        self._writer.write_table(pa.concat_tables(self._pending), row_group_size=ROW_GROUP)
        self._pending, self._pending_rows = [], 0
