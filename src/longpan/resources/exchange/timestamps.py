"""ISO 8601 dates and timestamps of a whole string column, parsed with numpy.

A regular expression checks the shape of each cell; the digits of the cells that have
it are then read at their fixed positions in the Arrow data buffer. Values are checked
as ``date.fromisoformat`` / ``datetime.fromisoformat`` check them (month, day of month
with leap years, hour, minute, second, offset), and offsets are converted to UTC. The
shapes are a strict subset of what Python accepts; any other cell is left to Python.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

Mask = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]

DATE_SHAPE = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}$"
# Years 1000-8999: no offset can take the UTC value out of Python's range.
TIMESTAMP_SHAPE = (
    r"^[1-8][0-9]{3}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?$"
)
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_US = 1_000_000
_DIGIT0, _DOT, _ZULU, _PLUS, _MINUS, _COLON = 48, 46, 90, 43, 45, 58


class _Cells:
    """The bytes of ASCII cells that have the shape, and where each cell starts."""

    def __init__(self, strings: pa.Array) -> None:
        strings = strings.cast(pa.large_string())
        offsets = np.frombuffer(strings.buffers()[1], np.int64)[strings.offset :]
        offsets = offsets[: len(strings) + 1]
        self.data = np.frombuffer(strings.buffers()[2], np.uint8)
        self.starts = offsets[:-1]
        self.sizes = np.diff(offsets)

    def byte(self, at: Ints) -> Ints:
        """The byte at ``at`` (any position past the data reads as 0)."""
        inside = at < len(self.data)
        return np.where(inside, self.data[np.where(inside, at, 0)], 0).astype(np.int64)

    def number(self, at: Ints, digits: int) -> Ints:
        value = np.zeros(len(at), np.int64)
        for k in range(digits):
            value = value * 10 + self.byte(at + k) - _DIGIT0
        return value


def parse_dates(strings: pa.Array) -> tuple[Mask, pa.Array]:
    """(cells that are valid YYYY-MM-DD dates, their value as date32)."""
    shaped = _shaped(strings, DATE_SHAPE)
    if not shaped.any():
        return shaped, pa.nulls(len(strings), pa.date32())
    cells = _Cells(strings.filter(pa.array(shaped)))
    year, month, day = _ymd(cells)
    ok = _valid_date(year, month, day)
    days = np.zeros(len(strings), np.int32)
    days[shaped] = np.where(ok, _days(year, month, day), 0)
    shaped[shaped] = ok
    return shaped, pa.array(days, pa.date32())


def parse_timestamps(strings: pa.Array) -> tuple[Mask, pa.Array]:
    """(cells that are valid timestamps of the shape above, their UTC value in µs)."""
    shaped = _shaped(strings, TIMESTAMP_SHAPE)
    if not shaped.any():
        return shaped, pa.nulls(len(strings), pa.timestamp("us"))
    cells = _Cells(strings.filter(pa.array(shaped)))
    ok, micros = _timestamps(cells)
    values = np.zeros(len(strings), np.int64)
    values[shaped] = np.where(ok, micros, 0)
    shaped[shaped] = ok
    return shaped, pa.array(values, pa.timestamp("us"))


def _shaped(strings: pa.Array, shape: str) -> Mask:
    found = pc.fill_null(pc.match_substring_regex(strings, shape), False)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.bool_).copy()


def _ymd(cells: _Cells) -> tuple[Ints, Ints, Ints]:
    start = cells.starts
    return cells.number(start, 4), cells.number(start + 5, 2), cells.number(start + 8, 2)


def _timestamps(cells: _Cells) -> tuple[Mask, Ints]:
    start, size = cells.starts, cells.sizes
    year, month, day = _ymd(cells)
    timed = size > 10
    hour, minute, second = (np.where(timed, cells.number(start + at, 2), 0) for at in (11, 14, 17))
    zone, offset = _zones(cells, timed)
    fraction = _fractions(cells, timed & (cells.byte(start + 19) == _DOT), size - zone)
    ok = _valid_date(year, month, day) & (hour <= 23) & (minute <= 59) & (second <= 59)
    ok &= offset[1]
    seconds = ((_days(year, month, day) * 24 + hour) * 60 + minute) * 60 + second - offset[0]
    return ok, seconds * _US + fraction


def _zones(cells: _Cells, timed: Mask) -> tuple[Ints, tuple[Ints, Mask]]:
    """(bytes of each zone suffix, (its offset in seconds, whether it is valid))."""
    end = cells.starts + cells.sizes
    zulu = timed & (cells.byte(end - 1) == _ZULU)
    sign = cells.byte(end - 6)
    offset = timed & ~zulu & (cells.sizes >= 25) & np.isin(sign, [_PLUS, _MINUS])
    offset &= cells.byte(end - 3) == _COLON
    hours = np.where(offset, cells.number(end - 5, 2), 0)
    minutes = np.where(offset, cells.number(end - 2, 2), 0)
    seconds = np.where(sign == _MINUS, -1, 1) * (hours * 3600 + minutes * 60)
    size = np.where(zulu, 1, np.where(offset, 6, 0))
    return size, (seconds, (hours <= 23) & (minutes <= 59))


def _fractions(cells: _Cells, present: Mask, stop: Ints) -> Ints:
    """Microseconds of the '.f' to '.ffffff' parts (0 where there is none)."""
    digits = np.where(present, stop - 20, 0)
    value = np.zeros(len(stop), np.int64)
    for k in range(6):
        digit = np.where(k < digits, cells.byte(cells.starts + 20 + k) - _DIGIT0, 0)
        value = value * 10 + digit
    return value


def _days(year: Ints, month: Ints, day: Ints) -> Ints:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return np.asarray(era * 146097 + doe - 719468, dtype=np.int64)


def _valid_date(year: Ints, month: Ints, day: Ints) -> Mask:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    last = _MONTH_DAYS[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)
    return np.asarray((month >= 1) & (month <= 12) & (day >= 1) & (day <= last))
