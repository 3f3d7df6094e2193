"""Business-time arithmetic over a customer service calendar.

An instant is business time when, in the calendar's time zone, it falls on a day that is not a
holiday and the local clock shows a work period of that weekday (breaks excluded). Time is real
elapsed time, so daylight saving changes count as they happen: a period that spans the
spring-forward gap is shorter that day (the skipped wall-clock minutes never occur), a period that
spans the fall-back hour is longer (the repeated hour occurs twice, and each real minute counts
once). ``None`` as calendar means 24x7 without holidays.

The arithmetic walks UTC days, each cut into the stretches of constant UTC offset, and within a
stretch intersects the local wall-clock range with the work periods; it never steps minute by
minute. A day's business intervals are cached, so repeated SLA computations are cheap.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

from xrm.metadata.calendar import CalendarMetadata

__all__ = ["add_business_minutes", "business_minutes_between"]

_UTC = dt.UTC
_DAY = dt.timedelta(days=1)
_MINUTE = dt.timedelta(minutes=1)
_SECOND = dt.timedelta(seconds=1)
_MIDNIGHT = dt.time()
# A UTC day is sampled this often for offset changes; no time zone changes its offset twice
# within six hours.
_SAMPLE = dt.timedelta(hours=6)

Interval = tuple[dt.datetime, dt.datetime]  # naive UTC, [start, end)


@dataclass(frozen=True)
class _Schedule:
    """A calendar prepared for arithmetic: zone, working minutes per weekday, closed dates."""

    zone: zoneinfo.ZoneInfo
    weekly: tuple[tuple[tuple[int, int], ...], ...]
    holidays: tuple[tuple[dt.date, dt.date], ...]

    @property
    def always(self) -> bool:
        """Every instant is business time (24x7 without holidays)."""
        return not self.holidays and all(periods == ((0, 24 * 60),) for periods in self.weekly)

    def closed(self, day: dt.date) -> bool:
        return any(first <= day <= last for first, last in self.holidays)


@functools.lru_cache(maxsize=64)
def _schedule(calendar: CalendarMetadata) -> _Schedule:
    holidays = tuple(sorted((holiday.date, holiday.last) for holiday in calendar.holidays))
    return _Schedule(zoneinfo.ZoneInfo(calendar.time_zone), calendar.weekly_periods(), holidays)


def _offset(zone: zoneinfo.ZoneInfo, instant: dt.datetime) -> dt.timedelta:
    offset = instant.replace(tzinfo=_UTC).astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _transition(zone: zoneinfo.ZoneInfo, low: dt.datetime, high: dt.datetime) -> dt.datetime:
    """The first whole second in (low, high] whose offset differs from the offset at ``low``."""
    before = _offset(zone, low)
    while high - low > _SECOND:
        middle = low + ((high - low) // 2 // _SECOND) * _SECOND
        if _offset(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high


def _offset_stretches(
    zone: zoneinfo.ZoneInfo, begin: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime, dt.timedelta]]:
    """The UTC day from ``begin`` cut where the zone's offset changes: (start, end, offset)."""
    end = begin + _DAY
    # transitions fall on whole seconds, so the last second's offset holds up to the day's end
    points = [begin + k * _SAMPLE for k in range(4)] + [end - _SECOND]
    offsets = [_offset(zone, point) for point in points]
    stretches = []
    start = begin
    for index in range(len(points) - 1):
        if offsets[index] != offsets[index + 1]:
            change = _transition(zone, points[index], points[index + 1])
            stretches.append((start, change, offsets[index]))
            start = change
    stretches.append((start, end, offsets[-1]))
    return stretches


@functools.lru_cache(maxsize=4096)
def _day_intervals(schedule: _Schedule, day: dt.date) -> tuple[Interval, ...]:
    """Business intervals of the UTC ``day``, in order, as naive UTC datetimes."""
    result: list[Interval] = []
    for start, end, offset in _offset_stretches(schedule.zone, dt.datetime.combine(day, _MIDNIGHT)):
        local_start, local_end = start + offset, end + offset
        local_day = local_start.date()
        while (midnight := dt.datetime.combine(local_day, _MIDNIGHT)) < local_end:
            if not schedule.closed(local_day):
                for first, last in schedule.weekly[local_day.weekday()]:
                    low = max(local_start, midnight + first * _MINUTE)
                    high = min(local_end, midnight + last * _MINUTE)
                    if low < high:
                        result.append((low - offset, high - offset))
            local_day += _DAY
    return tuple(result)


def _forward(schedule: _Schedule, origin: dt.datetime) -> Iterator[Interval]:
    """Business intervals from ``origin`` onwards (the first one clipped), day after day."""
    day = origin.date()
    while True:
        for start, end in _day_intervals(schedule, day):
            if end > origin:
                yield max(start, origin), end
        day += _DAY


def _backward(schedule: _Schedule, origin: dt.datetime) -> Iterator[Interval]:
    """Business intervals before ``origin`` (the first one clipped), latest first."""
    day = origin.date()
    while True:
        for start, end in reversed(_day_intervals(schedule, day)):
            if start < origin:
                yield start, min(end, origin)
        day -= _DAY


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    """A datetime as naive UTC; a naive one is taken to be UTC already (as stored)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(_UTC).replace(tzinfo=None)


def add_business_minutes(calendar: CalendarMetadata | None, start: dt.datetime, minutes: int) -> dt.datetime:
    """The earliest moment by which ``minutes`` business minutes have passed since ``start``.

    Aware datetimes in, aware UTC out (None as calendar: 24x7). A negative ``minutes`` counts
    back: the latest moment that many business minutes before ``start``. Adding 0 gives ``start``
    even outside work hours; a total that ends with a period gives that period's end.
    """
    origin = _naive_utc(start)
    remaining = abs(minutes) * _MINUTE
    if calendar is None or minutes == 0 or _schedule(calendar).always:
        moment = origin + (remaining if minutes >= 0 else -remaining)
        return moment.replace(tzinfo=_UTC)
    schedule = _schedule(calendar)
    if minutes > 0:
        for low, high in _forward(schedule, origin):
            if high - low >= remaining:
                return (low + remaining).replace(tzinfo=_UTC)
            remaining -= high - low
    else:
        for low, high in _backward(schedule, origin):
            if high - low >= remaining:
                return (high - remaining).replace(tzinfo=_UTC)
            remaining -= high - low
    raise AssertionError("unreachable: business intervals never run out")  # pragma: no cover


def business_minutes_between(calendar: CalendarMetadata | None, start: dt.datetime, end: dt.datetime) -> int:
    """Whole business minutes from ``start`` to ``end``; negative when ``end`` is earlier.

    Seconds left over are dropped (towards zero), so ``between(a, b) == -between(b, a)`` and
    ``between(start, add(start, n)) == n``.
    """
    low, high = _naive_utc(start), _naive_utc(end)
    if high < low:
        return -business_minutes_between(calendar, end, start)
    if calendar is None or _schedule(calendar).always:
        return (high - low) // _MINUTE
    total = dt.timedelta()
    for first, last in _forward(_schedule(calendar), low):
        if first >= high:
            break
        total += min(last, high) - first
    return total // _MINUTE
