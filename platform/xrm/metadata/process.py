"""A business process flow: ordered stages with data steps, optional branches (``processes/<name>.yaml``).

As in Dataverse, a process belongs to one primary entity; each stage lists data steps (attributes
to fill, some required before the user may move on). A stage may sit on a related entity, reached
through a 1:N relationship of the primary entity, and may branch: its ``next`` branches are tried
in order, the first whose condition holds (or that has none) names the next stage; failing those
the next stage is the following one in the list, unless the stage is ``final``. Branches only jump forward, so a path
never loops. Of several processes of an entity, the lowest ``order`` starts on create.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from xrm.errors import MetadataIssue
from xrm.metadata._base import LogicalName, MetadataModel
from xrm.metadata.components import FilterMetadata
from xrm.metadata.source import Locator

if TYPE_CHECKING:
    from xrm.metadata.model import CompiledEntity, Model

__all__ = [
    "MAX_STAGES",
    "MAX_STEPS",
    "ProcessStepMetadata",
    "ProcessBranchMetadata",
    "ProcessStageMetadata",
    "BusinessProcessFlowMetadata",
    "check_process",
]

MAX_STAGES = 30  # Dataverse's limits per process and per stage
MAX_STEPS = 30

Path_ = tuple[str | int, ...]


class ProcessStepMetadata(MetadataModel):
    """A data step: an attribute of the stage's entity, optionally required before moving on."""

    attribute: LogicalName
    required: bool = False
    label: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: object) -> object:
        return {"attribute": data} if isinstance(data, str) else data


class ProcessBranchMetadata(MetadataModel):
    """Go to ``stage`` when ``condition`` holds on the stage's record (always when there is none)."""

    stage: LogicalName
    condition: FilterMetadata | None = None


class ProcessStageMetadata(MetadataModel):
    """One stage; on a related entity, ``relationship`` is the 1:N relationship that links it to
    the process entity (either side may hold the lookup)."""

    name: LogicalName
    label: str | None = None
    entity: LogicalName | None = Field(default=None, description="default: the process entity")
    relationship: LogicalName | None = Field(default=None, description="how a related stage entity is reached")
    steps: tuple[ProcessStepMetadata, ...] = Field(default=(), max_length=MAX_STEPS)
    next: tuple[ProcessBranchMetadata, ...] = Field(default=(), description="branches, tried in order")
    final: bool = Field(default=False, description="when no branch applies, the process ends here")


class BusinessProcessFlowMetadata(MetadataModel):
    """A business process flow: ordered stages with data steps, optional branches."""

    name: LogicalName
    id: uuid.UUID | None = None
    entity: LogicalName
    display_name: str | None = None
    description: str | None = None
    order: int = Field(default=1, description="of an entity's processes, the lowest starts on create")
    stages: tuple[ProcessStageMetadata, ...] = Field(min_length=1, max_length=MAX_STAGES)

    @model_validator(mode="after")
    def _unique_stages(self) -> BusinessProcessFlowMetadata:
        names = [stage.name for stage in self.stages]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"stage name(s) {repeated} appear more than once")
        return self

    def stage(self, name: str) -> ProcessStageMetadata:
        """The stage called ``name`` (KeyError when there is none)."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    def stage_entity(self, stage: ProcessStageMetadata) -> str:
        return stage.entity or self.entity


def check_process(model: Model, component: BusinessProcessFlowMetadata, locator: Locator) -> list[MetadataIssue]:
    """Problems of the process against the compiled ``model``: unknown entities, attributes and
    stages, stages on entities the process entity is not related to, branches that jump back."""
    if component.entity not in model.entities:
        return [locator.issue(("entity",), f"unknown entity '{component.entity}'")]
    issues: list[MetadataIssue] = []
    positions = {stage.name: index for index, stage in enumerate(component.stages)}
    for index, stage in enumerate(component.stages):
        path: Path_ = ("stages", index)
        entity = _stage_entity(model, component, stage, locator, path, issues)
        if index == 0 and component.stage_entity(stage) != component.entity:
            issues.append(
                locator.issue((*path, "entity"), f"the first stage is on the process entity '{component.entity}'")
            )
        if entity is not None:
            for number, step in enumerate(stage.steps):
                if step.attribute not in entity.attributes:
                    message = f"'{entity.logical_name}' has no attribute '{step.attribute}'"
                    issues.append(locator.issue((*path, "steps", number, "attribute"), message))
        for number, branch in enumerate(stage.next):
            here: Path_ = (*path, "next", number)
            target = positions.get(branch.stage)
            if target is None:
                issues.append(locator.issue((*here, "stage"), f"unknown stage '{branch.stage}'"))
            elif target <= index:
                message = f"a branch goes forward only: '{branch.stage}' does not come after '{stage.name}'"
                issues.append(locator.issue((*here, "stage"), message))
            if branch.condition is not None and entity is not None:
                issues += _check_condition(entity, branch.condition, (*here, "condition"), locator)
    return issues


def _stage_entity(
    model: Model,
    process: BusinessProcessFlowMetadata,
    stage: ProcessStageMetadata,
    locator: Locator,
    path: Path_,
    issues: list[MetadataIssue],
) -> CompiledEntity | None:
    """The stage's compiled entity; records why there is none (or why it cannot be reached)."""
    name = process.stage_entity(stage)
    entity = model.entities.get(name)
    if entity is None:
        issues.append(locator.issue((*path, "entity"), f"unknown entity '{name}'"))
        return None
    if name == process.entity:
        if stage.relationship is not None:
            issues.append(locator.issue((*path, "relationship"), "a stage on the process entity needs no relationship"))
        return entity
    if stage.relationship is None:
        message = f"stage on '{name}' needs 'relationship': a 1:N relationship linking it to '{process.entity}'"
        issues.append(locator.issue((*path, "entity"), message))
        return entity
    rel = model.relationships.get(stage.relationship)
    ends = {rel.referenced_entity, rel.referencing_entity} if rel is not None else set()
    if rel is None or rel.kind != "one_to_many" or ends != {name, process.entity}:
        message = f"'{stage.relationship}' is not a 1:N relationship between '{process.entity}' and '{name}'"
        issues.append(locator.issue((*path, "relationship"), message))
    return entity


def _check_condition(
    entity: CompiledEntity, group: FilterMetadata, path: Path_, locator: Locator
) -> list[MetadataIssue]:
    issues: list[MetadataIssue] = []
    for index, condition in enumerate(group.conditions):
        if condition.entity is not None:
            issues.append(
                locator.issue((*path, "conditions", index, "entity"), "a branch condition has no link-entities")
            )
        elif condition.attribute not in entity.attributes:
            message = f"'{entity.logical_name}' has no attribute '{condition.attribute}'"
            issues.append(locator.issue((*path, "conditions", index, "attribute"), message))
    for index, nested in enumerate(group.filters):
        issues += _check_condition(entity, nested, (*path, "filters", index), locator)
    return issues
