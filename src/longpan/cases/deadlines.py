"""Deadlines in working days (工作日), by the maintained ``chinese_calendar`` package.

It knows the State Council's public holidays AND the make-up working days (调休) on
weekends, e.g. Saturday 2024-09-29 and Saturday 2024-10-12 around National Day 2024.
Its data covers a fixed range of years. The State Council publishes each year's
schedule (放假安排) in November or December, often before a package release has it, so
a regulator can describe further years (or correct one) in a CSV file named by
``LONGPAN_WORKDAY_CALENDAR``: ``date,kind`` with ``kind`` ``holiday`` (放假) or
``workday`` (调休上班). A year that file lists is taken from the file alone. A date in
neither is refused with a message instead of silently treating holidays as working days.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from pathlib import Path

import chinese_calendar

from longpan.core.clock import Clock
from longpan.core.errors import ConfigError, InputError

# China has one time zone and no daylight saving time: UTC+8 all year.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
MAX_DAYS = 366


def local_today(clock: Clock) -> date:
    """Today's date in China, which is what deadlines count from."""
    return clock().astimezone(CHINA).date()


KINDS = {"holiday": False, "放假": False, "workday": True, "调休上班": True, "上班": True}


@dataclass(frozen=True)
class WorkdayCalendar:
    """The years a regulator's calendar file describes: its holidays and make-up working
    days (every other weekday of those years is a working day, every other weekend day
    is not)."""

    source: str
    years: frozenset[int]
    holidays: frozenset[date]
    workdays: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        return day in self.workdays or (day.weekday() < 5 and day not in self.holidays)


def load_calendar(path: Path | None) -> WorkdayCalendar | None:
    """The calendar file ``LONGPAN_WORKDAY_CALENDAR`` names (None when none is set)."""
    if path is None:
        return None
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"LONGPAN_WORKDAY_CALENDAR: cannot read {path}: {exc}") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or [c.strip().lower() for c in rows[0]] != ["date", "kind"]:
        raise ConfigError(f"{path}, line 1: the header must be 'date,kind'")
    days: dict[date, bool] = {}
    for number, row in enumerate(rows[1:], start=2):
        if any(cell.strip() for cell in row):
            day, working = _calendar_row(path, number, row)
            days[day] = working
    return WorkdayCalendar(
        str(path),
        frozenset(d.year for d in days),
        frozenset(d for d, working in days.items() if not working),
        frozenset(d for d, working in days.items() if working),
    )


def _calendar_row(path: Path, number: int, row: list[str]) -> tuple[date, bool]:
    where = f"{path}, line {number}"
    if len(row) != 2:
        raise ConfigError(f"{where}: expected 2 columns (date,kind), found {len(row)}")
    try:
        day = date.fromisoformat(row[0].strip())
    except ValueError:
        raise ConfigError(f"{where}, column date: not a date (YYYY-MM-DD): {row[0]!r}") from None
    kind = row[1].strip().lower()
    if kind not in KINDS:
        raise ConfigError(f"{where}, column kind: {row[1]!r} is none of: {', '.join(KINDS)}")
    return day, KINDS[kind]


def is_working_day(day: date, calendar: WorkdayCalendar | None = None) -> bool:
    if calendar is not None and day.year in calendar.years:
        return calendar.is_working_day(day)
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        raise InputError(
            f"工作日历不含 {day.year} 年 (the working-day calendar has no data for {day}; "
            f"chinese_calendar {chinese_calendar.__version__} covers "
            f"{_covered_years()}; upgrade the package, or describe {day.year} in the "
            f"file LONGPAN_WORKDAY_CALENDAR names)",
            column="deadline",
        ) from None


def add_working_days(start: date, days: int, calendar: WorkdayCalendar | None = None) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself is not counted)."""
    if not 1 <= days <= MAX_DAYS:
        raise InputError(
            f"期限须为 1–{MAX_DAYS} 个工作日 (deadline must be 1..{MAX_DAYS} working days, "
            f"got {days})",
            column="deadline_days",
        )
    day, left = start, days
    while left:
        day += timedelta(days=1)
        if is_working_day(day, calendar):
            left -= 1
    return day


def _covered_years() -> str:
    years = sorted({d.year for d in chinese_calendar.holidays})
    return f"{years[0]}–{years[-1]}" if years else "no years"
