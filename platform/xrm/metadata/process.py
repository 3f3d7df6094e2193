"""A business process flow: ordered stages with data steps, optional branches (``processes/<name>.yaml``).

Skeleton: the process work fills in the model and :func:`check_process`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from xrm.errors import MetadataIssue
from xrm.metadata._base import LogicalName, MetadataModel
from xrm.metadata.source import Locator

if TYPE_CHECKING:
    from xrm.metadata.model import Model

__all__ = ["BusinessProcessFlowMetadata", "check_process"]


class BusinessProcessFlowMetadata(MetadataModel):
    """A business process flow: ordered stages with data steps, optional branches."""

    name: LogicalName
    id: uuid.UUID | None = None
    entity: LogicalName
    display_name: str | None = None
    description: str | None = None


def check_process(model: Model, component: BusinessProcessFlowMetadata, locator: Locator) -> list[MetadataIssue]:
    """Problems of the component against the compiled ``model`` (unknown entities, attributes...)."""
    issues: list[MetadataIssue] = []
    if component.entity not in model.entities:
        issues.append(locator.issue(("entity",), f"unknown entity '{component.entity}'"))
    return issues
