"""Customer service calendars (``calendars/<name>.yaml``): work hours, breaks, holidays, time zone.

A calendar is Dataverse's customer service schedule. Work hours are wall-clock periods in the
calendar's time zone, grouped by the weekdays that share them ("same hours each day" is one entry
listing five days, "vary by day" is one entry per day); a break is a gap inside a period. Holidays
are whole local days off, listed inline and/or taken from a holiday schedule: a calendar with
``holiday_schedule: true`` that lists only holidays and is shared by the calendars naming it in
``holidays_from`` (Dataverse's holiday schedule). ``always_open: true`` is Dataverse's
"24 x 7 support"::

    name: business_hours
    time_zone: Europe/Amsterdam
    work_hours:
      - days: [monday, tuesday, wednesday, thursday, friday]
        start: "08:00"
        end: "17:00"
        breaks:
          - {start: "12:00", end: "13:00"}
    holidays:
      - {name: Christmas, date: "2026-12-25", until: "2026-12-26"}
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zoneinfo
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from xrm.errors import MetadataIssue
from xrm.metadata._base import LogicalName, MetadataModel
from xrm.metadata.source import Locator

if TYPE_CHECKING:
    from xrm.metadata.model import Model

__all__ = [
    "WEEKDAYS",
    "CalendarBreakMetadata",
    "CalendarMetadata",
    "HolidayMetadata",
    "WorkHoursMetadata",
    "check_calendar",
    "clock_minutes",
    "resolve_calendar",
]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MINUTES_PER_DAY = 24 * 60

_CLOCK = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")

# minutes since local midnight, [start, end)
Period = tuple[int, int]


def _check_clock(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 12:30 as the base-60 number 750
        raise ValueError('write times of day as quoted strings, e.g. "12:30" (YAML reads unquoted 12:30 as a number)')
    if isinstance(value, str) and not _CLOCK.match(value):
        raise ValueError(f'\'{value}\' is not a time of day: expected "HH:MM" from "00:00" to "24:00"')
    return value


# "HH:MM" wall-clock time; "24:00" is the end of the day
ClockTime = Annotated[str, BeforeValidator(_check_clock)]


def clock_minutes(clock: str) -> int:
    """Minutes since midnight of an ``"HH:MM"`` time of day."""
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _show(period: Period) -> str:
    return "-".join(f"{minute // 60:02d}:{minute % 60:02d}" for minute in period)


class CalendarBreakMetadata(MetadataModel):
    """A gap inside a work period (lunch): not business time."""

    start: ClockTime
    end: ClockTime
    name: str | None = None


class WorkHoursMetadata(MetadataModel):
    """One work period, with its breaks, on each of ``days``."""

    days: tuple[Weekday, ...] = Field(min_length=1)
    start: ClockTime
    end: ClockTime
    breaks: tuple[CalendarBreakMetadata, ...] = ()

    @field_validator("days")
    @classmethod
    def _days_once(cls, days: tuple[str, ...]) -> tuple[str, ...]:
        twice = sorted({day for day in days if days.count(day) > 1}, key=WEEKDAYS.index)
        if twice:
            raise ValueError(f"{', '.join(twice)} listed more than once")
        return days

    @model_validator(mode="after")
    def _breaks_inside(self) -> WorkHoursMetadata:
        start, end = clock_minutes(self.start), clock_minutes(self.end)
        if start >= end:
            raise ValueError(f"start {self.start} is not before end {self.end}")
        breaks = sorted((clock_minutes(b.start), clock_minutes(b.end)) for b in self.breaks)
        for period in breaks:
            if period[0] >= period[1]:
                raise ValueError(f"break {_show(period)}: its start is not before its end")
            if period[0] <= start or period[1] >= end:
                raise ValueError(f"break {_show(period)} is not inside the work period {self.start}-{self.end}")
        for first, second in zip(breaks, breaks[1:], strict=False):
            if second[0] < first[1]:
                raise ValueError(f"breaks {_show(first)} and {_show(second)} overlap")
        return self

    def periods(self) -> tuple[Period, ...]:
        """The working parts of the period: from start to end without the breaks."""
        result: list[Period] = []
        cursor = clock_minutes(self.start)
        for pause in sorted(self.breaks, key=lambda b: clock_minutes(b.start)):
            result.append((cursor, clock_minutes(pause.start)))
            cursor = clock_minutes(pause.end)
        result.append((cursor, clock_minutes(self.end)))
        return tuple(result)


class HolidayMetadata(MetadataModel):
    """A closure: from ``date`` through ``until`` (inclusive; one day without it), whole local days."""

    name: str
    date: dt.date
    until: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> HolidayMetadata:
        if self.until is not None and self.until < self.date:
            raise ValueError(f"until {self.until} is before date {self.date}")
        return self

    @property
    def last(self) -> dt.date:
        return self.until or self.date


class CalendarMetadata(MetadataModel):
    """A business-hours calendar that SLAs and workflows count business time in."""

    name: LogicalName
    id: uuid.UUID | None = None
    display_name: str | None = None
    description: str | None = None
    # a holiday schedule: only holidays, shared by calendars naming it in holidays_from
    holiday_schedule: bool = False
    # IANA name; work hours and holidays are local to it, daylight saving included
    time_zone: str = "UTC"
    # Dataverse's "24 x 7 support": every minute is business time except on holidays
    always_open: bool = False
    work_hours: tuple[WorkHoursMetadata, ...] = ()
    holidays: tuple[HolidayMetadata, ...] = ()
    holidays_from: LogicalName | None = Field(default=None, description="a holiday schedule whose holidays apply too")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{name}' (expected an IANA name such as Europe/Amsterdam)") from None
        return name

    @field_validator("work_hours")
    @classmethod
    def _no_overlaps(cls, work_hours: tuple[WorkHoursMetadata, ...]) -> tuple[WorkHoursMetadata, ...]:
        for day in WEEKDAYS:
            spans = sorted(
                (clock_minutes(entry.start), clock_minutes(entry.end)) for entry in work_hours if day in entry.days
            )
            for first, second in zip(spans, spans[1:], strict=False):
                if second[0] < first[1]:
                    raise ValueError(f"{day}: work periods {_show(first)} and {_show(second)} overlap")
        return work_hours

    @model_validator(mode="after")
    def _hours_or_always_open(self) -> CalendarMetadata:
        if self.holiday_schedule:
            if self.always_open or self.work_hours or self.holidays_from:
                raise ValueError("a holiday schedule lists holidays only (no work_hours, always_open, holidays_from)")
            return self
        if self.always_open and self.work_hours:
            raise ValueError("a calendar that is always open (24 x 7) has no work_hours")
        if not self.always_open and not self.work_hours:
            raise ValueError("a calendar needs work_hours, or 'always_open: true' for 24 x 7 support")
        return self

    def weekly_periods(self) -> tuple[tuple[Period, ...], ...]:
        """Working minutes of each weekday (Monday first), sorted, breaks left out."""
        if self.always_open:
            return tuple(((0, MINUTES_PER_DAY),) for _ in WEEKDAYS)
        return tuple(
            tuple(sorted(period for entry in self.work_hours if day in entry.days for period in entry.periods()))
            for day in WEEKDAYS
        )


def check_calendar(model: Model, calendar: CalendarMetadata, locator: Locator) -> list[MetadataIssue]:
    """Problems of ``calendar`` against the compiled ``model``: ``holidays_from`` must name a holiday schedule."""
    if calendar.holidays_from is None:
        return []
    other = model.calendars.get(calendar.holidays_from)
    if other is None:
        return [locator.issue(("holidays_from",), f"unknown holiday schedule '{calendar.holidays_from}'")]
    if not (isinstance(other.metadata, CalendarMetadata) and other.metadata.holiday_schedule):
        message = f"'{calendar.holidays_from}' is a calendar, not a holiday schedule (holiday_schedule: true)"
        return [locator.issue(("holidays_from",), message)]
    return []


def resolve_calendar(model: Model, name: str) -> CalendarMetadata | None:
    """The calendar ``name`` ready for business-time arithmetic: its own holidays plus those of
    its holiday schedule. None for an unknown name or a holiday schedule (no work hours)."""
    component = model.calendars.get(name)
    calendar = component.metadata if component is not None else None
    if not isinstance(calendar, CalendarMetadata) or calendar.holiday_schedule:
        return None
    schedule = model.calendars.get(calendar.holidays_from or "")
    if schedule is None or not isinstance(schedule.metadata, CalendarMetadata):
        return calendar
    return calendar.model_copy(update={"holidays": calendar.holidays + schedule.metadata.holidays})
