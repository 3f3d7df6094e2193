"""A service level agreement for one entity: KPIs, items, conditions, actions (``slas/<name>.yaml``).

Skeleton: the sla work fills in the model and :func:`check_sla`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from xrm.errors import MetadataIssue
from xrm.metadata._base import LogicalName, MetadataModel
from xrm.metadata.source import Locator

if TYPE_CHECKING:
    from xrm.metadata.model import Model

__all__ = ["SlaMetadata", "check_sla"]


class SlaMetadata(MetadataModel):
    """A service level agreement for one entity: KPIs, items, conditions, actions."""

    name: LogicalName
    id: uuid.UUID | None = None
    entity: LogicalName
    display_name: str | None = None
    description: str | None = None


def check_sla(model: Model, component: SlaMetadata, locator: Locator) -> list[MetadataIssue]:
    """Problems of the component against the compiled ``model`` (unknown entities, attributes...)."""
    issues: list[MetadataIssue] = []
    if component.entity not in model.entities:
        issues.append(locator.issue(("entity",), f"unknown entity '{component.entity}'"))
    return issues
