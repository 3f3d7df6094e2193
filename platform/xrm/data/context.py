"""What a plugin sees while it runs: :class:`ExecutionContext`."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from xrm.data.entity import Entity, EntityReference
from xrm.metadata.components import Stage

if TYPE_CHECKING:
    from xrm.data.service import OrganizationService

__all__ = ["ExecutionContext", "MAX_DEPTH"]

MAX_DEPTH = 8


@dataclass
class ExecutionContext:
    """The state of one message as it moves through the pipeline stages.

    ``target`` may be changed by pre-validation and pre-operation steps (for create and update it
    is the :class:`Entity` being written). ``shared_variables`` flow across the stages of one
    operation. ``service`` is bound to the same transaction and calling user; calls made through
    it run one level deeper.
    """

    message: str
    entity: str | None
    target: Entity | EntityReference | None
    user_id: uuid.UUID | None
    initiating_user_id: uuid.UUID | None
    depth: int
    service: OrganizationService
    stage: Stage = Stage.PRE_VALIDATION
    input_parameters: dict[str, Any] = field(default_factory=dict)
    output_parameters: dict[str, Any] = field(default_factory=dict)
    pre_images: dict[str, Entity] = field(default_factory=dict)
    post_images: dict[str, Entity] = field(default_factory=dict)
    shared_variables: dict[str, Any] = field(default_factory=dict)
    configuration: dict[str, Any] = field(default_factory=dict)
    step_name: str | None = None
    trace: logging.Logger = field(default_factory=lambda: logging.getLogger("xrm.plugin"))

    @property
    def primary_id(self) -> uuid.UUID | None:
        target = self.target
        return target.id if target is not None else None
