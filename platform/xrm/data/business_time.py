"""Business-time arithmetic over a customer service calendar.

Placeholder: counts every minute (24x7) until the calendar work implements work hours, breaks,
holidays and time zones. The signatures are the contract SLAs and workflows use.
"""

from __future__ import annotations

import datetime as dt

from xrm.metadata.calendar import CalendarMetadata

__all__ = ["add_business_minutes", "business_minutes_between"]


def add_business_minutes(calendar: CalendarMetadata | None, start: dt.datetime, minutes: int) -> dt.datetime:
    """The moment ``minutes`` business minutes after ``start`` (aware datetimes; None: 24x7)."""
    return start + dt.timedelta(minutes=minutes)


def business_minutes_between(calendar: CalendarMetadata | None, start: dt.datetime, end: dt.datetime) -> int:
    """Whole business minutes from ``start`` to ``end`` (negative when ``end`` is earlier; None: 24x7)."""
    return int((end - start).total_seconds() // 60)
