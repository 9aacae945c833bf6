"""Read one exchange-format file (CSV or Parquet) into raw rows with their line numbers.

Whole-file problems (wrong encoding, empty file, unreadable Parquet, bad header) raise
InputError naming the file, line and column. Values are returned as given: CSV cells
as strings (empty string meaning no value), Parquet cells as Python objects.

This is the row-by-row reader: the reference for the streaming reader in ``source.py``,
which shares its checks and its CSV record loop (used there for CSV files whose line
numbers cannot be worked out cheaply).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from longpan.core.errors import InputError

SUFFIXES = (".csv", ".parquet")
BOM = codecs.BOM_UTF8


@dataclass(frozen=True)
class RawTable:
    path: Path
    header: list[str]
    rows: list[tuple[int, list[Any]]]  # (line number, values in header order)


def read_file(path: Path, data: bytes) -> RawTable:
    if path.suffix.lower() == ".csv":
        return _read_csv(path, data)
    return _read_parquet(path, data)


def empty_file(path: Path) -> InputError:
    return InputError("file is empty; expected a header row", file=str(path), line=1, column="1")


def decode_utf8(path: Path, data: bytes) -> str:
    """UTF-8 text (a BOM is allowed); GBK and other encodings refused with the place."""
    if not data.strip():
        raise empty_file(path)
    body = data[len(BOM) :] if data.startswith(BOM) else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        line_start = body.rfind(b"\n", 0, exc.start) + 1
        column = len(body[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        raise not_utf8(path, line, column, guess_encoding([data])) from None
    if not text.strip():
        raise empty_file(path)
    return text


def not_utf8(path: Path, line: int, column: int, guess: str) -> InputError:
    return InputError(
        f"file is not UTF-8 ({guess}); convert it first, e.g. "
        f"iconv -f GB18030 -t UTF-8 {path.name} > {path.stem}.utf8.csv",
        file=str(path),
        line=line,
        column=str(column),
    )


def guess_encoding(chunks: Iterable[bytes]) -> str:
    """What a file that is not UTF-8 probably is, from all of its bytes in order."""
    decoder = codecs.getincrementaldecoder("gb18030")()
    has_cjk = False
    try:
        for chunk in chunks:
            text = decoder.decode(chunk)
            has_cjk = has_cjk or any("\u4e00" <= ch <= "\u9fff" for ch in text)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "unknown encoding"
    return "looks like GBK/GB18030" if has_cjk else "unknown encoding"


def _read_csv(path: Path, data: bytes) -> RawTable:
    text = decode_utf8(path, data)
    header, records = csv_records(path, io.StringIO(text, newline=""))
    return RawTable(path, header, list(records))


def csv_records(
    path: Path, source: Iterable[str]
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The checked header, then (line, cells) of every row that is not blank.

    ``source`` yields the lines of the decoded text with their line ends (a file opened
    with ``newline=""``). A quoted cell that spans lines is counted by its first line.
    """
    reader = csv.reader(source, strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as exc:
        raise _malformed(path, reader.line_num, exc) from None
    check_header(path, header)
    return header, _records(path, reader, header)


def _records(path: Path, reader: Any, header: list[str]) -> Iterator[tuple[int, list[str]]]:
    line = reader.line_num + 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                check_width(path, line, header, record)
                yield line, record
            line = reader.line_num + 1
    except csv.Error as exc:
        raise _malformed(path, reader.line_num, exc) from None


def _malformed(path: Path, line: int, exc: csv.Error) -> InputError:
    return InputError(f"malformed CSV: {exc}", file=str(path), line=line, column="1")


def check_header(path: Path, header: list[str]) -> None:
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


def check_width(path: Path, line: int, header: list[str], record: list[str]) -> None:
    if len(record) != len(header):
        column = min(len(record), len(header)) + 1
        raise InputError(
            f"row has {len(record)} fields but the header has {len(header)}",
            file=str(path),
            line=line,
            column=str(column),
        )


def empty_parquet(path: Path) -> InputError:
    return InputError("file is empty; expected a Parquet file", file=str(path), line=1, column="1")


def unreadable_parquet(path: Path, exc: Exception) -> InputError:
    return InputError(
        f"not a readable Parquet file (truncated or corrupted: {exc})",
        file=str(path),
        line=1,
        column="1",
    )


def _read_parquet(path: Path, data: bytes) -> RawTable:
    if not data:
        raise empty_parquet(path)
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise unreadable_parquet(path, exc) from None
    header = list(table.column_names)
    check_header(path, header)
    columns = [table.column(name).to_pylist() for name in header]
    rows = [(index + 1, list(values)) for index, values in enumerate(zip(*columns, strict=True))]
    return RawTable(path, header, rows)
