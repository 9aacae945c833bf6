"""Row order of lake files: what makes row-group statistics useful.

A dataset that declares ``order_by`` has each delivery written in that order, in row
groups of its ``row_group`` rows (``ORDERED_ROW_GROUP`` unless it says otherwise), so
each row group covers a narrow range of the first column and engines skip the row
groups a filter value cannot be in.

Big deliveries are sorted by DuckDB within ``SORT_MEMORY`` (spilling to a folder the
caller gives), in runs of at most ``SORT_RUN_ROWS`` rows written as separate files, each
ordered. One global sort of 200 M passive-DNS rows spilled over 30 GB and ran for the
better part of an hour; runs keep time and spill linear in the rows, and a lookup still
reads only one row group per run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

SORT_MEMORY = "2GB"  # DuckDB's memory limit while ordering a delivery (it spills beyond)
ORDERED_ROW_GROUP = 1 << 17  # rows per row group of an ordered file: the unit engines skip
SORT_RUN_ROWS = 1 << 25  # rows sorted together (33.5 M); a bigger delivery is written in runs


def ordered_table(table: pa.Table, order_by: tuple[str, ...]) -> pa.Table:
    """``table`` sorted by ``order_by`` (nulls last); unchanged when it is empty."""
    if not order_by or table.num_rows < 2:
        return table
    return table.sort_by([(c, "ascending", "at_end") for c in order_by])


def as_schema(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The columns of ``schema`` in its order; columns ``table`` lacks are nulls."""
    arrays = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def write_sorted(
    source: Path,
    target: Path,
    schema: pa.Schema,
    order_by: tuple[str, ...],
    spill: Path,
    row_group: int,
) -> list[Path]:
    """Write ``source``'s rows in ``schema``, ordered by ``order_by``, in row groups of
    ``row_group`` rows; the files written.

    One file, ``target``, when the rows fit in one run; else one file per run,
    ``<stem>-000.parquet``, ``<stem>-001.parquet``… (names sort in run order).
    """
    parquet = pq.ParquetFile(source)
    runs = _Runs(parquet.iter_batches(batch_size=row_group), SORT_RUN_ROWS)
    if parquet.metadata.num_rows <= SORT_RUN_ROWS:
        _sort_run(runs.next_run(parquet.schema_arrow), target, schema, order_by, spill, row_group)
        return [target]
    written: list[Path] = []
    while runs.more():
        name = target.with_name(f"{target.stem}-{len(written):03d}.parquet")
        _sort_run(runs.next_run(parquet.schema_arrow), name, schema, order_by, spill, row_group)
        written.append(name)
    return written


class _Runs:
    """Cuts a stream of record batches into runs of about ``limit`` rows (whole batches)."""

    def __init__(self, batches: Iterator[pa.RecordBatch], limit: int) -> None:
        self._batches = batches
        self._limit = limit
        self._pending = next(batches, None)

    def more(self) -> bool:
        return self._pending is not None

    def next_run(self, schema: pa.Schema) -> pa.RecordBatchReader:
        """The next run as a reader; it must be read to the end before the next call."""

        def take() -> Iterator[pa.RecordBatch]:
            taken = 0
            while self._pending is not None and taken < self._limit:
                batch, self._pending = self._pending, next(self._batches, None)
                taken += batch.num_rows
                yield batch

        return pa.RecordBatchReader.from_batches(schema, take())


def _sort_run(
    rows: pa.RecordBatchReader,
    target: Path,
    schema: pa.Schema,
    order_by: tuple[str, ...],
    spill: Path,
    row_group: int,
) -> None:
    """DuckDB sorts the run (spilling beyond SORT_MEMORY); pyarrow writes its batches."""
    order = ", ".join(f'"{c}" ASC NULLS LAST' for c in order_by)
    config: dict[str, str | bool | int | float | list[str]] = {
        "temp_directory": str(spill),
        "memory_limit": SORT_MEMORY,
    }
    with duckdb.connect(config=config) as con:
        con.execute("SET enable_progress_bar = false")
        con.register("run_rows", rows)
        query = f"SELECT * FROM run_rows ORDER BY {order}"
        reader = con.sql(query).to_arrow_reader(row_group)
        with pq.ParquetWriter(target, schema, compression="zstd") as out:
            for batch in reader:
                table = as_schema(pa.Table.from_batches([batch]), schema)
                out.write_table(table, row_group_size=row_group)
