"""Business-time arithmetic: hand-checked examples, and properties against a minute-by-minute reference.

The reference asks, for every single UTC minute, what the calendar's local clock shows and whether
that is a work minute of a working day: slow and obviously right. The implementation under test
jumps over whole periods and days.
"""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from xrm.data.business_time import add_business_minutes, business_minutes_between
from xrm.metadata.calendar import WEEKDAYS, CalendarMetadata

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
ZONES = ("Europe/Amsterdam", "America/New_York", "UTC", "Australia/Lord_Howe")  # Lord Howe shifts 30 min


def calendar(**data: object) -> CalendarMetadata:
    return CalendarMetadata.model_validate({"name": "tst_calendar", **data})


AMSTERDAM = calendar(
    time_zone="Europe/Amsterdam",
    work_hours=[
        {"days": list(WEEKDAYS[:5]), "start": "08:00", "end": "17:00", "breaks": [{"start": "12:00", "end": "13:00"}]}
    ],
    holidays=[{"name": "Christmas", "date": dt.date(2026, 12, 25), "until": dt.date(2026, 12, 26)}],
)


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# --- the reference -----------------------------------------------------------------------------


def _clock(text: str) -> int:
    return int(text[:2]) * 60 + int(text[3:])


class Reference:
    """Is this UTC minute business time? Asked one minute at a time."""

    def __init__(self, calendar: CalendarMetadata) -> None:
        self.zone = zoneinfo.ZoneInfo(calendar.time_zone)
        self.closed = set()
        for holiday in calendar.holidays:
            day = holiday.date
            while day <= (holiday.until or holiday.date):
                self.closed.add(day)
                day += dt.timedelta(days=1)
        self.open: dict[int, set[int]] = {weekday: set() for weekday in range(7)}
        for weekday in range(7):
            if calendar.always_open:
                self.open[weekday] = set(range(24 * 60))
            for entry in calendar.work_hours:
                if WEEKDAYS[weekday] in entry.days:
                    pauses = {m for b in entry.breaks for m in range(_clock(b.start), _clock(b.end))}
                    self.open[weekday] |= set(range(_clock(entry.start), _clock(entry.end))) - pauses

    def working(self, minute: dt.datetime) -> bool:
        local = minute.astimezone(self.zone)
        return local.date() not in self.closed and local.hour * 60 + local.minute in self.open[local.weekday()]

    def add(self, start: dt.datetime, minutes: int) -> dt.datetime:
        moment, counted = start, 0
        while counted < minutes:
            counted += self.working(moment)
            moment += MINUTE
        return moment

    def between(self, start: dt.datetime, end: dt.datetime) -> int:
        if end < start:
            return -self.between(end, start)
        return sum(self.working(start + k * MINUTE) for k in range((end - start) // MINUTE))


# --- strategies --------------------------------------------------------------------------------


@cache
def transitions(zone_name: str) -> tuple[dt.datetime, ...]:
    """The first whole UTC hour after each of the zone's daylight saving changes in 2026."""
    zone = zoneinfo.ZoneInfo(zone_name)
    hours = [utc(2026, 1, 1) + dt.timedelta(hours=h) for h in range(365 * 24)]
    return tuple(
        b
        for a, b in zip(hours, hours[1:], strict=False)
        if a.astimezone(zone).utcoffset() != b.astimezone(zone).utcoffset()
    )


@st.composite
def work_day(draw: st.DrawFn) -> list[dict[str, object]]:
    """Work hours of one day: quarter-hour boundaries, as one period with breaks or several periods."""
    marks = sorted(draw(st.lists(st.integers(0, 96), min_size=2, max_size=6, unique=True)))
    clocks = [f"{q * 15 // 60:02d}:{q * 15 % 60:02d}" for q in marks[: len(marks) // 2 * 2]]
    if draw(st.booleans()):
        breaks = [{"start": clocks[i], "end": clocks[i + 1]} for i in range(1, len(clocks) - 1, 2)]
        return [{"start": clocks[0], "end": clocks[-1], "breaks": breaks}]
    return [{"start": clocks[i], "end": clocks[i + 1]} for i in range(0, len(clocks), 2)]


@st.composite
def cases(draw: st.DrawFn) -> tuple[CalendarMetadata, dt.datetime]:
    """A calendar and a start minute near one of its zone's daylight saving changes."""
    zone = draw(st.sampled_from(ZONES))
    anchors = transitions(zone) or (utc(2026, 3, 29, 1), utc(2026, 10, 25, 1))
    start = draw(st.sampled_from(anchors)) + draw(st.integers(-3 * 1440, 1440)) * MINUTE
    local_start = start.astimezone(zoneinfo.ZoneInfo(zone)).date()
    holidays = [
        {"name": f"h{i}", "date": local_start + dt.timedelta(days=draw(st.integers(-1, 8))), "until": None}
        for i in range(draw(st.integers(0, 2)))
    ]
    for holiday in holidays:
        holiday["until"] = holiday["date"] + dt.timedelta(days=draw(st.integers(0, 1)))  # type: ignore[operator]
    if draw(st.integers(0, 9)) == 0:
        return calendar(time_zone=zone, always_open=True, holidays=holidays), start
    templates = draw(st.lists(work_day(), min_size=1, max_size=2))
    # at least four working days a week keeps the reference's walk short
    chosen = draw(st.lists(st.integers(0, len(templates) - 1), min_size=7, max_size=7))
    days = draw(st.sets(st.sampled_from(WEEKDAYS), min_size=4))
    work_hours = [
        {**period, "days": [day for day in WEEKDAYS if day in days and chosen[WEEKDAYS.index(day)] == index]}
        for index, template in enumerate(templates)
        for period in template
    ]
    work_hours = [entry for entry in work_hours if entry["days"]]
    return calendar(time_zone=zone, work_hours=work_hours, holidays=holidays), start


def weekly_minutes(subject: CalendarMetadata) -> int:
    return sum(end - start for periods in subject.weekly_periods() for start, end in periods)


PROPERTIES = settings(max_examples=150, deadline=None)


# --- properties --------------------------------------------------------------------------------


@PROPERTIES
@given(cases(), st.integers(0, 5000))
def test_adding_matches_the_reference(case, minutes):
    subject, start = case
    minutes = min(minutes, 2 * weekly_minutes(subject))  # the reference walks at most ~3 weeks

    assert add_business_minutes(subject, start, minutes) == Reference(subject).add(start, minutes)


@PROPERTIES
@given(cases(), st.integers(-4000, 8000))
def test_counting_between_matches_the_reference(case, offset):
    subject, start = case
    end = start + offset * MINUTE

    assert business_minutes_between(subject, start, end) == Reference(subject).between(start, end)


@settings(max_examples=300, deadline=None)
@given(cases(), st.integers(0, 20000), st.integers(1, 3000))
def test_adding_and_counting_are_inverse_and_monotonic(case, minutes, more):
    subject, start = case
    end = add_business_minutes(subject, start, minutes)
    later = add_business_minutes(subject, start, minutes + more)

    assert business_minutes_between(subject, start, end) == minutes
    assert business_minutes_between(subject, end, start) == -minutes
    assert start <= end < later
    assert business_minutes_between(subject, start, later) == minutes + more
    # counting back from the end lands where no business time is left before the start
    back = add_business_minutes(subject, end, -minutes)
    assert back >= start and business_minutes_between(subject, back, end) == minutes
    assert business_minutes_between(subject, start, back) == 0


# --- hand-checked examples ---------------------------------------------------------------------


def test_a_friday_evening_start_lands_on_monday():
    friday_evening = utc(2026, 11, 27, 15, 30)  # 16:30 in Amsterdam (UTC+1)

    # 30 minutes on Friday, 60 on Monday 08:00-09:00 local
    assert add_business_minutes(AMSTERDAM, friday_evening, 90) == utc(2026, 11, 30, 8)
    assert business_minutes_between(AMSTERDAM, friday_evening, utc(2026, 11, 30, 8)) == 90
    # the lunch break does not count: 08:00-12:00 and 13:00-14:00
    assert add_business_minutes(AMSTERDAM, utc(2026, 11, 30, 7), 5 * 60) == utc(2026, 11, 30, 13)
    # a whole period ends at its end, not at the next period's start
    assert add_business_minutes(AMSTERDAM, utc(2026, 11, 30, 12), 240) == utc(2026, 11, 30, 16)


def test_holidays_are_whole_days_off():
    christmas_eve = utc(2026, 12, 24, 15)  # 16:00 local on Thursday; Friday 25 and Saturday 26 are off

    assert add_business_minutes(AMSTERDAM, christmas_eve, 120) == utc(2026, 12, 28, 8)
    assert business_minutes_between(AMSTERDAM, christmas_eve, utc(2026, 12, 29)) == 60 + 8 * 60


def test_daylight_saving_weeks_keep_local_work_hours():
    # Amsterdam moves to UTC+2 on Sunday 29 March 2026: 08:00 local is 07:00 UTC before, 06:00 after
    friday = utc(2026, 3, 27, 15)  # 16:00 local
    assert add_business_minutes(AMSTERDAM, friday, 120) == utc(2026, 3, 30, 7)
    assert business_minutes_between(AMSTERDAM, utc(2026, 3, 23), utc(2026, 4, 6)) == 2 * 5 * 8 * 60
    # a period across the change: 00:00-06:00 on the change day lasts five real hours
    night = calendar(time_zone="Europe/Amsterdam", work_hours=[{"days": ["sunday"], "start": "00:00", "end": "06:00"}])
    assert business_minutes_between(night, utc(2026, 3, 28, 12), utc(2026, 3, 29, 12)) == 5 * 60
    # ... and six hours plus the repeated one when the clock goes back on 25 October
    assert business_minutes_between(night, utc(2026, 10, 24, 12), utc(2026, 10, 25, 12)) == 7 * 60


def test_no_calendar_and_24x7_count_every_minute():
    always = calendar(always_open=True)
    start = utc(2026, 5, 1, 10, 15)

    for subject in (None, always):
        assert add_business_minutes(subject, start, 100_000) == start + 100_000 * MINUTE
        assert business_minutes_between(subject, start + 90 * dt.timedelta(seconds=1), start) == -1
    assert add_business_minutes(None, start.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo")), 0).tzinfo is UTC


def test_large_totals_jump_over_days():
    began = time.perf_counter()
    end = add_business_minutes(AMSTERDAM, utc(2026, 1, 5, 7), 100_000)
    counted = business_minutes_between(AMSTERDAM, utc(2026, 1, 5, 7), end)

    assert counted == 100_000
    assert time.perf_counter() - began < 1.0
    assert business_minutes_between(AMSTERDAM, end, utc(2026, 1, 5, 7)) == -100_000


def test_naive_datetimes_are_taken_as_utc():
    assert add_business_minutes(AMSTERDAM, dt.datetime(2026, 11, 30, 7), 60) == utc(2026, 11, 30, 8)
