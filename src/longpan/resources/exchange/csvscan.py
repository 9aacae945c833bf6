"""Pass one over a CSV file: encoding, emptiness, header, and the line of every record.

The file is read once, in chunks that end at a line break, with the checks of the
per-row reader (``reader.decode_utf8``): UTF-8 or the line and column of the first bad
byte, and not empty. The pass also decides whether pyarrow's CSV reader may be used: no
line break inside quotes (every record is then one physical line), quotes only where
the csv module accepts them, no line longer than its field limit, a non-empty first
line. If so, pyarrow's records map to lines through ``skipped``, the lines it returns
no record for (empty lines and blank lines of the wrong width); a non-blank line of the
wrong width is raised here, as the per-row reader would. Otherwise the caller reads the
file with the csv module.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt

from longpan.core.errors import InputError
from longpan.resources.exchange.reader import (
    BOM,
    check_header,
    check_width,
    empty_file,
    guess_encoding,
    not_utf8,
)

CHUNK = 16 << 20
_NL, _CR, _QUOTE, _COMMA = 10, 13, 34, 44
_FIELD_ENDS = np.array([_COMMA, _NL, _CR], np.uint8)


@dataclass
class CsvLayout:
    header: list[str]
    simple: bool  # pyarrow may read it, and ``skipped`` gives the lines
    skipped: npt.NDArray[np.int64]  # lines after the header that hold no record
    records: int  # how many records pyarrow returns

    def lines(self, first: int, count: int) -> npt.NDArray[np.int64]:
        """Lines of records ``first`` .. ``first + count - 1`` (0 = first after the header).

        Record r is on line r + 2 plus the skipped lines before it: with ``shifted[j]``
        = ``skipped[j] - j``, that count is the number of ``shifted`` values <= r + 2.
        """
        target = np.arange(first, first + count, dtype=np.int64) + 2
        return target + np.searchsorted(self.shifted, target, side="right")

    @cached_property
    def shifted(self) -> npt.NDArray[np.int64]:
        return self.skipped - np.arange(len(self.skipped))


def chunks(path: Path) -> Iterator[bytes]:
    """The file's bytes in pieces of about CHUNK that end at a line break."""
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            if not chunk.endswith(b"\n"):
                chunk += f.readline()
            yield chunk


@dataclass
class _Scan:
    path: Path
    line: int = 0  # physical lines (any line end) before the chunk
    newlines: int = 0  # b"\n" before the chunk (how the encoding error counts)
    quotes: int = 0  # '"' before the chunk
    simple: bool = True
    content: bool = False
    header: list[str] | None = None
    skipped: list[npt.NDArray[np.int64]] = field(default_factory=list)
    records: int = 0
    width_error: InputError | None = None


def scan_csv(path: Path) -> CsvLayout:
    scan = _Scan(path)
    for index, chunk in enumerate(chunks(path)):
        body = chunk[len(BOM) :] if index == 0 and chunk.startswith(BOM) else chunk
        _decode(scan, body)
        if scan.simple:
            _lines(scan, body, first=index == 0)
        scan.line += _line_ends(body)
        scan.newlines += body.count(b"\n")
    if not scan.content:
        raise empty_file(path)
    if scan.quotes % 2:
        scan.simple = False
    return _layout(scan)


def _layout(scan: _Scan) -> CsvLayout:
    if scan.header is not None and scan.simple:
        check_header(scan.path, scan.header)
        if scan.width_error is not None:
            raise scan.width_error
    skipped = np.concatenate(scan.skipped) if scan.skipped else np.zeros(0, np.int64)
    return CsvLayout(scan.header or [], scan.simple, skipped, scan.records)


def _decode(scan: _Scan, body: bytes) -> None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = scan.newlines + body.count(b"\n", 0, exc.start) + 1
        start = body.rfind(b"\n", 0, exc.start) + 1
        column = len(body[start : exc.start].decode("utf-8", errors="replace")) + 1
        raise not_utf8(scan.path, line, column, guess_encoding(chunks(scan.path))) from None
    scan.content = scan.content or bool(text.strip())


def _line_ends(body: bytes) -> int:
    """Line ends as the csv module counts them: \\r\\n, \\n and a lone \\r."""
    return body.count(b"\n") + body.count(b"\r") - body.count(b"\r\n")


def _lines(scan: _Scan, body: bytes, *, first: bool) -> None:
    data = np.frombuffer(body, np.uint8)
    ends, starts, stops = _spans(data)
    quotes = np.flatnonzero(data == _QUOTE)
    if not _quotes_ok(scan, data, quotes, ends):
        scan.simple = False
        return
    if np.any(stops - starts > csv.field_size_limit()):
        scan.simple = False
        return
    fields = _fields(scan, data, quotes, ends, len(starts))
    numbers = scan.line + 1 + np.arange(len(starts), dtype=np.int64)
    blank = stops == starts
    if first:
        if not len(blank) or blank[0]:  # no header line: the csv module decides
            scan.simple = False
            return
        scan.header = _cells(body[starts[0] : stops[0]])
        fields, numbers, blank = fields[1:], numbers[1:], blank[1:]
        starts, stops = starts[1:], stops[1:]
    width = len(scan.header or [])
    odd = np.flatnonzero(~blank & (fields != width))
    skip = [numbers[blank]]
    for i in odd:
        if _is_blank(scan, body[starts[i] : stops[i]], int(numbers[i]), width):
            skip.append(numbers[i : i + 1])
    scan.skipped.extend(skip)
    scan.records += len(numbers) - sum(len(s) for s in skip)
    scan.quotes += len(quotes)


def _spans(data: npt.NDArray[np.uint8]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(position of each line end's last byte, start and stop of each line's content)."""
    newline, cr = data == _NL, data == _CR
    lone_cr = cr & ~np.append(newline[1:], False)
    ends = np.flatnonzero(newline | lone_cr)
    starts = np.concatenate([[0], ends + 1])
    crlf = newline[ends] & np.append(False, cr[:-1])[ends]
    stops = np.append(ends - crlf, len(data))
    if starts[-1] == len(data):  # the chunk ends with a line end: no partial line
        starts, stops = starts[:-1], stops[:-1]
    return ends, starts, stops


def _quotes_ok(scan: _Scan, data: np.ndarray, quotes: np.ndarray, ends: np.ndarray) -> bool:
    """Quotes open at a field start and close before a field end, none spans a line."""
    if not len(quotes):
        return scan.quotes % 2 == 0 or not len(ends)
    opening = (scan.quotes + np.arange(len(quotes))) % 2 == 0
    before = np.where(quotes > 0, data[np.maximum(quotes - 1, 0)], _NL)  # chunks start lines
    after = np.where(quotes + 1 < len(data), data[np.minimum(quotes + 1, len(data) - 1)], _NL)
    opens_ok = np.isin(before, _FIELD_ENDS) | (before == _QUOTE)
    closes_ok = np.isin(after, _FIELD_ENDS) | (after == _QUOTE)
    if not np.all(np.where(opening, opens_ok, closes_ok)):
        return False
    inside = (scan.quotes + np.searchsorted(quotes, ends)) % 2 == 1
    return not inside.any()


def _fields(
    scan: _Scan, data: np.ndarray, quotes: np.ndarray, ends: np.ndarray, count: int
) -> np.ndarray:
    """Fields of each line: 1 + the commas outside quotes."""
    commas = np.flatnonzero(data == _COMMA)
    if len(quotes):
        commas = commas[(scan.quotes + np.searchsorted(quotes, commas)) % 2 == 0]
    line_of = np.searchsorted(ends, commas)
    return np.bincount(line_of, minlength=count)[:count] + 1


def _cells(line: bytes) -> list[str]:
    return [cell.strip() for cell in next(csv.reader([line.decode("utf-8")], strict=True))]


def _is_blank(scan: _Scan, line: bytes, number: int, width: int) -> bool:
    """A line of the wrong width: blank (no record), or the first width error is kept."""
    record = next(csv.reader([line.decode("utf-8")], strict=True))
    if not any(cell.strip() for cell in record):
        return True
    if scan.width_error is None:
        try:
            check_width(scan.path, number, ["?"] * width, record)
        except InputError as exc:
            scan.width_error = exc
    return False
