"""Deadlines in working days (工作日), by the maintained ``chinese_calendar`` package.

It knows the State Council's public holidays AND the make-up working days (调休) on
weekends, e.g. Saturday 2024-09-29 and Saturday 2024-10-12 around National Day 2024.
Its data covers a fixed range of years; a date outside it is refused with a message
instead of silently treating holidays as working days.
"""

from __future__ import annotations

from datetime import date, timedelta, timezone

import chinese_calendar

from longpan.core.clock import Clock
from longpan.core.errors import InputError

# China has one time zone and no daylight saving time: UTC+8 all year.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
MAX_DAYS = 366


def local_today(clock: Clock) -> date:
    """Today's date in China, which is what deadlines count from."""
    return clock().astimezone(CHINA).date()


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        raise InputError(
            f"工作日历不含 {day.year} 年 (the working-day calendar has no data for {day}; "
            f"chinese_calendar {chinese_calendar.__version__} covers "
            f"{_covered_years()}; upgrade the package)",
            column="deadline",
        ) from None


def add_working_days(start: date, days: int) -> date:
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
        if is_working_day(day):
            left -= 1
    return day


def _covered_years() -> str:
    years = sorted({d.year for d in chinese_calendar.holidays})
    return f"{years[0]}–{years[-1]}" if years else "no years"
