"""Date arithmetic of the expression language, in UTC.

``add_*`` keep a date a date (``add_hours`` makes it a datetime); ``add_months`` and ``add_years``
clamp to the end of a shorter month (Jan 31 + 1 month = Feb 28 or 29, Feb 29 + 1 year = Feb 28).
``diff_*(a, b)`` count the unit boundaries crossed from ``a`` to ``b``, as Dataverse's DIFFINDAYS
and friends (SQL Server's DATEDIFF) do: the difference is zero when both fall in the same hour,
day, week (weeks start on Sunday), month or year, and negative when ``b`` is before ``a``.
A date is its midnight UTC; a naive datetime is taken as UTC.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

__all__ = [
    "as_datetime",
    "make_date",
    "make_datetime",
    "add_hours",
    "add_days",
    "add_weeks",
    "add_months",
    "add_years",
    "diff_hours",
    "diff_days",
    "diff_weeks",
    "diff_months",
    "diff_years",
]

_HOUR = timedelta(hours=1)


def as_datetime(value: date) -> datetime:
    """``value`` as an aware UTC datetime (a date becomes its midnight)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _as_date(value: date) -> date:
    return as_datetime(value).date() if isinstance(value, datetime) else value


def make_date(year: int, month: int, day: int) -> date:
    return date(year, month, day)


def make_datetime(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _shift(value: date, delta: timedelta) -> date:
    return as_datetime(value) + delta if isinstance(value, datetime) else value + delta


def add_hours(value: date, hours: int) -> datetime:
    return as_datetime(value) + timedelta(hours=hours)


def add_days(value: date, days: int) -> date:
    return _shift(value, timedelta(days=days))


def add_weeks(value: date, weeks: int) -> date:
    return _shift(value, timedelta(weeks=weeks))


def add_months(value: date, months: int) -> date:
    if isinstance(value, datetime):
        value = as_datetime(value)
    year, month = divmod(value.year * 12 + value.month - 1 + months, 12)
    if not 1 <= year <= 9999:
        raise OverflowError("date out of range")
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


def add_years(value: date, years: int) -> date:
    return add_months(value, 12 * years)


def diff_hours(first: date, second: date) -> int:
    start, end = (as_datetime(v).replace(minute=0, second=0, microsecond=0) for v in (first, second))
    return (end - start) // _HOUR


def diff_days(first: date, second: date) -> int:
    return (_as_date(second) - _as_date(first)).days


def _week_start(value: date) -> date:
    day = _as_date(value)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def diff_weeks(first: date, second: date) -> int:
    return (_week_start(second) - _week_start(first)).days // 7


def diff_months(first: date, second: date) -> int:
    start, end = _as_date(first), _as_date(second)
    return (end.year * 12 + end.month) - (start.year * 12 + start.month)


def diff_years(first: date, second: date) -> int:
    return _as_date(second).year - _as_date(first).year
