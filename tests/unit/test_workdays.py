"""Working days: the due date an applicant is promised and reviewers are reminded of."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules.workdays import add_working_days, due_date, is_working_day, working_days_between

# Checked with holidays 0.109: weekends worked in exchange for longer holidays (调休).
MAKE_UP_2026 = [
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
]


@pytest.mark.parametrize("day", MAKE_UP_2026)
def test_make_up_weekend_days_are_working_days(day: date) -> None:
    assert day.weekday() >= 5
    assert is_working_day(day)


@pytest.mark.parametrize("day", [date(2026, 10, d) for d in range(1, 8)])
def test_national_day_week_is_off(day: date) -> None:
    assert not is_working_day(day)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 3, 9), True),  # an ordinary Monday
        (date(2026, 3, 7), False),  # an ordinary Saturday
        (date(2026, 2, 17), False),  # Spring Festival, a Tuesday
        (date(2026, 2, 23), False),  # Monday off in exchange for Saturday 28 Feb
        (date(2027, 1, 1), False),  # New Year's Day, known before 2027 is announced
    ],
)
def test_ordinary_days_and_holidays(day: date, working: bool) -> None:
    assert is_working_day(day) is working


def test_due_date_skips_the_weekend() -> None:
    assert due_date(date(2026, 11, 27)) == date(2026, 12, 2)  # Friday -> Wednesday


def test_due_date_skips_national_day() -> None:
    # Submitted Wednesday 30 Sep: 1-7 Oct are off, Thursday 8 Oct is the first working day.
    assert due_date(date(2026, 9, 30)) == date(2026, 10, 10)  # Saturday 10 Oct is worked


def test_due_date_across_the_year_end() -> None:
    due = due_date(date(2026, 12, 29))
    assert due.year == 2027
    assert is_working_day(due)
    assert working_days_between(date(2026, 12, 29), due) == 3


@pytest.mark.parametrize("year", [1, 1899, 2099, 2500, 9998])
def test_any_year_gives_an_answer(year: int) -> None:
    start = date(year, 12, 28)
    due = due_date(start)
    assert due > start
    # Without a published calendar, weekends are still days off.
    saturday = start + timedelta(days=5 - start.weekday())
    assert saturday.weekday() == 5
    assert not is_working_day(saturday + timedelta(days=7))


def test_start_itself_never_counts() -> None:
    monday = date(2026, 3, 9)
    assert add_working_days(monday, 1) == date(2026, 3, 10)
    assert add_working_days(monday, 0) == monday
    with pytest.raises(ValueError, match="negative"):
        add_working_days(monday, -1)


def test_working_days_between_is_zero_unless_end_is_later() -> None:
    monday = date(2026, 3, 9)
    assert working_days_between(monday, monday) == 0
    assert working_days_between(monday, monday - timedelta(days=3)) == 0
    assert working_days_between(date(2026, 3, 6), monday) == 1  # Friday -> Monday


@settings(max_examples=200, deadline=None)
@given(start=st.dates(date(2000, 1, 1), date(2100, 12, 31)), n=st.integers(1, 30))
def test_add_working_days_properties(start: date, n: int) -> None:
    result = add_working_days(start, n)
    assert result > start
    assert is_working_day(result)
    assert working_days_between(start, result) == n
    # Nothing earlier would do: the day before has one working day fewer.
    assert working_days_between(start, result - timedelta(days=1)) == n - 1
