"""Working days in mainland China: weekends, public holidays and official make-up working days.

``holidays.China`` knows the State Council's announced calendar (holidays plus the weekend
days worked in exchange, 调休). For years it has no announcement for it still returns the
fixed holidays, or nothing at all; either way the answer falls back to plain weekends and
never raises.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

import holidays

REVIEW_WORKING_DAYS = 3  # the guide: reviewers answer within 1-3 working days


@lru_cache(maxsize=32)
def _calendar(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(days off on weekdays and weekends, weekend days that are worked) for one year."""
    china = holidays.country_holidays("CN", years=year)
    # ``weekend_workdays`` also carries a few make-up days of other years: keep this year's.
    days_off = frozenset(d for d in china if d.year == year)
    worked = frozenset(d for d in china.weekend_workdays if d.year == year)
    return days_off, worked


#: China Standard Time: dates of submissions and deadlines are the platform's dates.
CHINA = timezone(timedelta(hours=8))


def china_date(moment: datetime) -> date:
    """The calendar date in China at a (timezone-aware) moment."""
    return moment.astimezone(CHINA).date()


def is_working_day(d: date) -> bool:
    """Whether ``d`` is a working day in mainland China."""
    days_off, worked = _calendar(d.year)
    if d in worked:
        return True
    return d.weekday() < 5 and d not in days_off


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself never counts; n=0: start)."""
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    while n:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """The number of working days in (start, end]; 0 when ``end`` is not after ``start``."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count


def due_date(submitted: date) -> date:
    """The day a review submitted on ``submitted`` is due: three working days later."""
    return add_working_days(submitted, REVIEW_WORKING_DAYS)
