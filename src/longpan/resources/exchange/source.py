"""Read an exchange-format file as Arrow batches with the line of every row, streaming.

Parquet comes by record batches (rows counted from 1). CSV comes through pyarrow's
streaming reader, every cell a string and an empty cell "", with lines from the first
pass (``csvscan``); files pyarrow cannot be trusted with go through the csv module, a
block of rows at a time. Blank CSV rows are dropped, as the per-row reader drops them.
Whole-file problems raise the same InputError as ``reader.py``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from longpan.resources.exchange.columns import WHITESPACE
from longpan.resources.exchange.csvscan import CsvLayout, scan_csv
from longpan.resources.exchange.reader import (
    check_header,
    csv_records,
    empty_parquet,
    unreadable_parquet,
)

BATCH_ROWS = 1 << 16
CSV_BLOCK = 8 << 20


@dataclass(frozen=True)
class RawBatch:
    batch: pa.RecordBatch  # the cells as read, one column per header name
    lines: npt.NDArray[np.int64]


@dataclass(frozen=True)
class Source:
    header: list[str]
    batches: Generator[RawBatch, None, None]

    def close(self) -> None:
        """Stop reading (closes the file if the batches were not all read)."""
        self.batches.close()


def open_source(path: Path) -> Source:
    if path.suffix.lower() == ".csv":
        layout = scan_csv(path)
        if layout.simple:
            return Source(layout.header, _arrow_csv(path, layout))
        return _python_csv(path)
    return _parquet(path)


def _parquet(path: Path) -> Source:
    if path.stat().st_size == 0:
        raise empty_parquet(path)
    _probe_parquet(path)
    with _open_parquet(path) as parquet:
        header = list(parquet.schema_arrow.names)
    check_header(path, header)
    return Source(header, _parquet_batches(path))


def _probe_parquet(path: Path) -> None:
    """Open the file as the per-row reader does (same error), without reading its data."""
    with pa.memory_map(str(path)) as mapped:
        try:
            pq.read_table(pa.BufferReader(mapped.read_buffer()), columns=[])
        except (pa.ArrowException, OSError) as exc:
            raise unreadable_parquet(path, exc) from None


@contextmanager
def _open_parquet(path: Path) -> Iterator[pq.ParquetFile]:
    try:
        parquet = pq.ParquetFile(path, buffer_size=1 << 20, pre_buffer=False)
    except (pa.ArrowException, OSError) as exc:
        raise unreadable_parquet(path, exc) from None
    try:
        yield parquet
    finally:
        parquet.close()


def _parquet_batches(path: Path) -> Generator[RawBatch, None, None]:
    first = 1
    with _open_parquet(path) as parquet:
        batches = parquet.iter_batches(batch_size=BATCH_ROWS)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except (pa.ArrowException, OSError) as exc:
                raise unreadable_parquet(path, exc) from None
            yield RawBatch(batch, np.arange(first, first + batch.num_rows, dtype=np.int64))
            first += batch.num_rows


def _arrow_csv(path: Path, layout: CsvLayout) -> Generator[RawBatch, None, None]:
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(
            column_names=layout.header, skip_rows=1, block_size=CSV_BLOCK
        ),
        parse_options=pacsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(layout.header, pa.string()), strings_can_be_null=False
        ),
    )
    done = 0
    with reader:
        for batch in reader:
            yield _without_blank_rows(RawBatch(batch, layout.lines(done, batch.num_rows)))
            done += batch.num_rows
    if done != layout.records:  # pragma: no cover - the first pass and pyarrow disagree
        raise RuntimeError(f"{path}: {done} CSV records read, {layout.records} expected")


def _without_blank_rows(raw: RawBatch) -> RawBatch:
    """Drop the rows whose every cell is blank (they are not rows, as in reader.py)."""
    blank: npt.NDArray[np.bool_] | None = None
    for column in raw.batch.columns:
        empty = pc.equal(pc.utf8_trim(column, WHITESPACE), "")
        here = np.asarray(empty.to_numpy(zero_copy_only=False), dtype=np.bool_)
        blank = here if blank is None else blank & here
        if not blank.any():
            return raw
    if blank is None:
        return raw
    keep = ~blank
    return RawBatch(raw.batch.filter(pa.array(keep)), raw.lines[keep])


def _python_csv(path: Path) -> Source:
    with open(path, encoding="utf-8-sig", newline="") as text:
        header, _ = csv_records(path, text)
    return Source(header, _python_batches(path, header))


def _python_batches(path: Path, header: list[str]) -> Generator[RawBatch, None, None]:
    with open(path, encoding="utf-8-sig", newline="") as text:
        _, records = csv_records(path, text)
        while block := list(islice(records, BATCH_ROWS)):
            lines = np.array([line for line, _ in block], dtype=np.int64)
            cells = zip(*(record for _, record in block), strict=True)
            columns = [pa.array(list(column), pa.string()) for column in cells]
            yield RawBatch(pa.RecordBatch.from_arrays(columns, names=header), lines)
