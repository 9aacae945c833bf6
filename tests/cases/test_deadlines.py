"""Deadlines in working days: public holidays skipped, make-up working days (调休) counted."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from longpan.cases.deadlines import add_working_days, is_working_day, local_today
from longpan.core.errors import InputError


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
