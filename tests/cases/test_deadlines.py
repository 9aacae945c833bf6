"""Deadlines in working days: public holidays skipped, make-up working days (调休) counted."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from longpan.cases.deadlines import (
    WorkdayCalendar,
    add_working_days,
    is_working_day,
    load_calendar,
    local_today,
)
from longpan.core.errors import ConfigError, InputError


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2024, 9, 29), True),  # Sunday, make-up working day before National Day
        (date(2024, 10, 1), False),  # National Day
        (date(2024, 10, 7), False),  # last day of the Golden Week
        (date(2024, 10, 12), True),  # Saturday, make-up working day after it
        (date(2024, 10, 13), False),  # an ordinary Sunday
        (date(2024, 2, 4), True),  # Sunday, make-up day before Spring Festival 2024
        (date(2024, 2, 10), False),  # 春节 2024
        (date(2024, 2, 18), True),  # Sunday, make-up day after it
        (date(2025, 1, 26), True),  # Sunday, make-up day before Spring Festival 2025
        (date(2025, 1, 29), False),  # 春节 2025
        (date(2025, 2, 8), True),  # Saturday, make-up day after it
    ],
)
def test_holidays_and_make_up_days(day: date, working: bool) -> None:
    assert is_working_day(day) is working


def test_across_national_day_2024() -> None:
    # Fri 27 Sep + 1 → Sun 29 Sep (make-up day); + 2 → Mon 30 Sep; then 1–7 Oct are off.
    assert add_working_days(date(2024, 9, 27), 1) == date(2024, 9, 29)
    assert add_working_days(date(2024, 9, 27), 2) == date(2024, 9, 30)
    assert add_working_days(date(2024, 9, 27), 3) == date(2024, 10, 8)
    # 30 Sep + 5: 8, 9, 10, 11 Oct and Saturday 12 Oct (make-up day).
    assert add_working_days(date(2024, 9, 30), 5) == date(2024, 10, 12)
    # A naive weekday count would have said Mon 7 Oct.
    assert add_working_days(date(2024, 9, 30), 5) != date(2024, 10, 7)


def test_across_spring_festival() -> None:
    # 2024: Fri 2 Feb + 1 → Sun 4 Feb (make-up); 9 Feb is the last day before 10–17 Feb off.
    assert add_working_days(date(2024, 2, 2), 1) == date(2024, 2, 4)
    assert add_working_days(date(2024, 2, 8), 1) == date(2024, 2, 9)
    assert add_working_days(date(2024, 2, 8), 2) == date(2024, 2, 18)  # Sunday make-up day
    # 2025: 28 Jan – 4 Feb off; Sun 26 Jan and Sat 8 Feb are make-up days.
    assert add_working_days(date(2025, 1, 24), 1) == date(2025, 1, 26)
    assert add_working_days(date(2025, 1, 27), 1) == date(2025, 2, 5)
    assert add_working_days(date(2025, 2, 5), 3) == date(2025, 2, 8)


def test_ten_working_days_over_national_day_2025() -> None:
    # 2025: 1–8 Oct off, Sun 28 Sep and Sat 11 Oct are make-up days.
    assert add_working_days(date(2025, 9, 26), 10) == date(2025, 10, 16)


def test_outside_the_calendar_is_refused_clearly() -> None:
    with pytest.raises(InputError, match=r"no data for 2099-12-31.*upgrade the package"):
        add_working_days(date(2099, 12, 30), 3)


def test_days_must_be_positive() -> None:
    with pytest.raises(InputError, match="deadline_days"):
        add_working_days(date(2024, 5, 6), 0)


def test_today_is_the_date_in_china() -> None:
    # 2024-09-30 17:30 UTC is already 1 October in Beijing.
    assert local_today(lambda: datetime(2024, 9, 30, 17, 30, tzinfo=UTC)) == date(2024, 10, 1)


# A regulator's file for a year the package lacks (made-up dates, not the real 2027
# schedule): New Year's Day off, a Spring Festival week off with two make-up days.
CALENDAR_2027 = """date,kind
2027-01-01,holiday
2027-02-05,holiday
2027-02-08,放假
2027-02-09,holiday
2027-02-10,holiday
2027-02-11,holiday
2027-02-06,workday
2027-02-20,调休上班
"""


def _calendar(tmp_path: Path, text: str) -> WorkdayCalendar:
    path = tmp_path / "workdays.csv"
    path.write_text(text, "utf-8")
    calendar = load_calendar(path)
    assert calendar is not None
    return calendar


def test_a_calendar_file_describes_the_years_the_package_lacks(tmp_path: Path) -> None:
    calendar = _calendar(tmp_path, CALENDAR_2027)
    with pytest.raises(InputError, match="LONGPAN_WORKDAY_CALENDAR"):
        add_working_days(date(2026, 12, 28), 5)  # runs into 2027: refused without the file
    # Tue 29, Wed 30, Thu 31 Dec (the package's 2026); Fri 1 Jan off; Mon 4, Tue 5 Jan
    assert add_working_days(date(2026, 12, 28), 5, calendar) == date(2027, 1, 5)
    assert is_working_day(date(2027, 2, 6), calendar)  # a Saturday make-up day
    assert is_working_day(date(2027, 2, 20), calendar)
    assert not is_working_day(date(2027, 2, 8), calendar)  # a Monday off
    assert not is_working_day(date(2027, 2, 13), calendar)  # an ordinary Saturday
    # Thu 4 Feb; Fri 5 off; Sat 6 make-up; Mon 8 – Thu 11 off; Fri 12
    assert add_working_days(date(2027, 2, 3), 3, calendar) == date(2027, 2, 12)


def test_a_year_in_the_file_overrides_the_package(tmp_path: Path) -> None:
    # 2025-10-09 is a working day for the package; the file says otherwise (and, since
    # it lists 2025, the package's 2025 holidays no longer apply: 1 Oct is a Wednesday).
    calendar = _calendar(tmp_path, "date,kind\n2025-10-09,holiday\n")
    assert add_working_days(date(2025, 10, 8), 1) == date(2025, 10, 9)
    assert add_working_days(date(2025, 10, 8), 1, calendar) == date(2025, 10, 10)
    assert is_working_day(date(2025, 10, 1), calendar)
    assert is_working_day(date(2026, 10, 1), calendar) is False  # other years: the package


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("day,kind\n2027-01-01,holiday\n", "line 1: the header"),
        ("date,kind\n2027-01-01,holiday\n2027-13-01,holiday\n", r"line 3, column date"),
        ("date,kind\n2027-01-01,vacation\n", r"line 2, column kind: 'vacation'"),
        ("date,kind\n2027-01-01\n", "line 2: expected 2 columns"),
    ],
)
def test_a_bad_calendar_file_names_the_line(tmp_path: Path, text: str, where: str) -> None:
    with pytest.raises(ConfigError, match=where):
        _calendar(tmp_path, text)


def test_no_calendar_file_set_or_a_missing_one(tmp_path: Path) -> None:
    assert load_calendar(None) is None
    with pytest.raises(ConfigError, match="cannot read"):
        load_calendar(tmp_path / "missing.csv")
