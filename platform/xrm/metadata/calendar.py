"""Customer service calendars (``calendars/<name>.yaml``): work hours, breaks, holidays, time zone.

Skeleton: the calendar work fills in the model and :func:`check_calendar`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from xrm.errors import MetadataIssue
from xrm.metadata._base import LogicalName, MetadataModel
from xrm.metadata.source import Locator

if TYPE_CHECKING:
    from xrm.metadata.model import Model

__all__ = ["CalendarMetadata", "check_calendar"]


class CalendarMetadata(MetadataModel):
    """A business-hours calendar that SLAs and workflows count business time in."""

    name: LogicalName
    id: uuid.UUID | None = None
    display_name: str | None = None
    description: str | None = None


def check_calendar(model: Model, calendar: CalendarMetadata, locator: Locator) -> list[MetadataIssue]:
    """Problems of ``calendar`` against the compiled ``model`` (references to other components)."""
    return []
