"""Read one exchange-format file (CSV or Parquet) into raw rows with their line numbers.

Whole-file problems (wrong encoding, empty file, unreadable Parquet, bad header) raise
InputError naming the file, line and column. Values are returned as given: CSV cells
as strings (empty string meaning no value), Parquet cells as Python objects.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from longpan.core.errors import InputError

SUFFIXES = (".csv", ".parquet")


@dataclass(frozen=True)
class RawTable:
    path: Path
    header: list[str]
    rows: list[tuple[int, list[Any]]]  # (line number, values in header order)


def read_file(path: Path, data: bytes) -> RawTable:
    if path.suffix.lower() == ".csv":
        return _read_csv(path, data)
    return _read_parquet(path, data)


def decode_utf8(path: Path, data: bytes) -> str:
    """UTF-8 text (a BOM is allowed); GBK and other encodings refused with the place."""
    if not data.strip():
        raise InputError("file is empty; expected a header row", file=str(path), line=1, column="1")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        raise InputError(
            f"file is not UTF-8 ({_guess_encoding(data)}); convert it first, e.g. "
            f"iconv -f GB18030 -t UTF-8 {path.name} > {path.stem}.utf8.csv",
            file=str(path),
            line=line,
            column=str(column),
        ) from None
    if not text.strip():
        raise InputError("file is empty; expected a header row", file=str(path), line=1, column="1")
    return text


def _guess_encoding(data: bytes) -> str:
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return "unknown encoding"
    has_cjk = any("\u4e00" <= ch <= "\u9fff" for ch in text)
    return "looks like GBK/GB18030" if has_cjk else "unknown encoding"


def _read_csv(path: Path, data: bytes) -> RawTable:
    text = decode_utf8(path, data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
        _check_header(path, header)
        rows: list[tuple[int, list[Any]]] = []
        line = reader.line_num + 1
        for record in reader:
            if any(cell.strip() for cell in record):
                _check_width(path, line, header, record)
                rows.append((line, record))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(
            f"malformed CSV: {exc}", file=str(path), line=reader.line_num, column="1"
        ) from None
    return RawTable(path, header, rows)


def _check_header(path: Path, header: list[str]) -> None:
    seen: set[str] = set()
    for index, name in enumerate(header, start=1):
        if not name:
            raise InputError(
                "header has an empty column name", file=str(path), line=1, column=str(index)
            )
        if name in seen:
            raise InputError(
                f"header repeats column {name!r}",
                file=str(path),
                line=1,
                column=f"{index} ({name})",
            )
        seen.add(name)


def _check_width(path: Path, line: int, header: list[str], record: list[str]) -> None:
    if len(record) != len(header):
        column = min(len(record), len(header)) + 1
        raise InputError(
            f"row has {len(record)} fields but the header has {len(header)}",
            file=str(path),
            line=line,
            column=str(column),
        )


def _read_parquet(path: Path, data: bytes) -> RawTable:
    if not data:
        raise InputError(
            "file is empty; expected a Parquet file", file=str(path), line=1, column="1"
        )
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise InputError(
            f"not a readable Parquet file (truncated or corrupted: {exc})",
            file=str(path),
            line=1,
            column="1",
        ) from None
    header = list(table.column_names)
    _check_header(path, header)
    columns = [table.column(name).to_pylist() for name in header]
    rows = [(index + 1, list(values)) for index, values in enumerate(zip(*columns, strict=True))]
    return RawTable(path, header, rows)


def iter_cells(raw: RawTable) -> Iterator[tuple[int, dict[str, Any]]]:
    for line, values in raw.rows:
        yield line, dict(zip(raw.header, values, strict=True))
