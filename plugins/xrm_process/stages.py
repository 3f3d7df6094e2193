"""Stage navigation of a business process flow: the record a stage is on, its missing data steps,
and the stage that follows it (branch conditions run as queries on the stage's record)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from xrm.data import EntityReference, OrganizationService
from xrm.errors import AttributeProblem, InvalidOperationError, ValidationError
from xrm.metadata.components import (
    ConditionMetadata,
    FilterMetadata,
    OrderMetadata,
    ViewColumnMetadata,
    ViewMetadata,
)
from xrm.metadata.process import BusinessProcessFlowMetadata, ProcessStageMetadata
from xrm.query import query_from_view

__all__ = ["StageNavigator", "processes_of"]


def processes_of(service: OrganizationService, entity: str) -> list[BusinessProcessFlowMetadata]:
    """The business process flows of ``entity``, the default (lowest ``order``) first."""
    flows = [
        component.metadata
        for component in service.environment.model.processes.values()
        if isinstance(component.metadata, BusinessProcessFlowMetadata) and component.metadata.entity == entity
    ]
    return sorted(flows, key=lambda flow: (flow.order, flow.name))


@dataclass
class StageNavigator:
    """One process on one primary record, read and queried through ``service`` (the caller's)."""

    service: OrganizationService
    process: BusinessProcessFlowMetadata
    record: EntityReference

    def label(self, stage: ProcessStageMetadata) -> str:
        return stage.label or stage.name

    def missing_steps(self, stage: ProcessStageMetadata, on: EntityReference) -> None:
        """Refuse, naming every required data step of ``stage`` that ``on`` leaves empty."""
        required = [step.attribute for step in stage.steps if step.required]
        if not required:
            return
        values = self.service.retrieve(on.logical_name, on.id, required)
        problems = [
            AttributeProblem(name, f"is required to complete stage '{self.label(stage)}' of '{self._name}'")
            for name in required
            if values.get(name) in (None, "")
        ]
        if problems:
            raise ValidationError(on.logical_name, problems)

    def next_stage(self, stage: ProcessStageMetadata, on: EntityReference) -> ProcessStageMetadata | None:
        """The stage after ``stage``: the first branch whose condition holds on ``on``, else the
        following stage in the list; None when ``stage`` is the last of its path."""
        for branch in stage.next:
            if branch.condition is None or self._holds(branch.condition, on):
                return self.process.stage(branch.stage)
        if stage.final:
            return None
        index = self.process.stages.index(stage)
        return self.process.stages[index + 1] if index + 1 < len(self.process.stages) else None

    def stage_record(self, stage: ProcessStageMetadata, related: uuid.UUID | None = None) -> EntityReference:
        """The record ``stage`` is on: the primary record, or the related record that the stage's
        relationship links to it (``related`` picks one of several; default the latest)."""
        entity = self.process.stage_entity(stage)
        if entity == self.record.logical_name:
            return self.record
        model = self.service.environment.model
        assert stage.relationship is not None  # check_process requires it for a related stage
        rel = model.relationships[stage.relationship]
        lookup = rel.lookup
        assert lookup is not None  # a 1:N relationship, as check_process requires
        if rel.referencing_entity == self.record.logical_name:  # the primary record holds the lookup
            value = self.service.retrieve(self.record.logical_name, self.record.id, [lookup]).get(lookup)
            if not isinstance(value, EntityReference) or value.logical_name != entity:
                reason = f"must point to a {entity} before moving to stage '{self.label(stage)}'"
                raise ValidationError(self.record.logical_name, [AttributeProblem(lookup, reason)])
            if related is not None and related != value.id:
                reason = f"points to another {entity} than {related}"
                raise ValidationError(self.record.logical_name, [AttributeProblem(lookup, reason)])
            return value
        return self._linked(stage, entity, lookup, related)

    def _linked(
        self, stage: ProcessStageMetadata, entity: str, lookup: str, related: uuid.UUID | None
    ) -> EntityReference:
        primary_id = self.service.environment.model.entity(entity).primary_id
        conditions = [ConditionMetadata(attribute=lookup, value=str(self.record.id))]
        if related is not None:
            conditions.append(ConditionMetadata(attribute=primary_id, value=str(related)))
        view = ViewMetadata(
            name="process stage record",
            entity=entity,
            columns=(ViewColumnMetadata(name=primary_id),),
            filter=FilterMetadata(conditions=tuple(conditions)),
            order=(OrderMetadata(attribute="createdon", descending=True),),
        )
        found = self.service.retrieve_multiple(query_from_view(view, page_size=1)).entities
        if not found:
            which = f"{entity} {related}" if related is not None else f"no {entity}"
            reason = (
                f"{which} is linked to {self.record.logical_name} {self.record.id}: "
                f"link one before moving to stage '{self.label(stage)}'"
            )
            raise ValidationError(entity, [AttributeProblem(lookup, reason)])
        assert found[0].id is not None
        return EntityReference(entity, found[0].id)

    def _holds(self, condition: FilterMetadata, on: EntityReference) -> bool:
        primary_id = self.service.environment.model.entity(on.logical_name).primary_id
        view = ViewMetadata(
            name="process branch",
            entity=on.logical_name,
            columns=(ViewColumnMetadata(name=primary_id),),
            filter=FilterMetadata(
                conditions=(ConditionMetadata(attribute=primary_id, value=str(on.id)),), filters=(condition,)
            ),
        )
        return bool(self.service.retrieve_multiple(query_from_view(view, page_size=1)).entities)

    @property
    def _name(self) -> str:
        return self.process.display_name or self.process.name

    def refuse(self, message: str) -> InvalidOperationError:
        return InvalidOperationError(f"{self._name}: {message}")
