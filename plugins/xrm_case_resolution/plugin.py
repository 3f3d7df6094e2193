"""The plugin class: closing a case with a resolution activity, and reactivating it."""

from __future__ import annotations

import uuid
from typing import Any

from xrm.data import Entity, EntityReference, ExecutionContext
from xrm.errors import InvalidOperationError
from xrm.query import ConditionExpression, FilterExpression, QueryExpression

__all__ = ["CaseResolutionPlugin"]

DEFAULTS: dict[str, Any] = {
    "resolution_entity": "incidentresolution",
    "case_lookup": "incidentid",
    "duration_attribute": "actualdurationminutes",
    "resolved_state": "resolved",
    "canceled_state": "canceled",
}


class CaseResolutionPlugin:
    """Bound (post-operation) to ``resolve_case``, ``cancel_case`` and ``reactivate_case``.
    Configuration (all optional): ``resolution_entity`` and its ``case_lookup``, the activities'
    ``duration_attribute``, and the names of the case's ``resolved_state`` and ``canceled_state``."""

    def __init__(self, configuration: dict[str, Any]) -> None:
        self.configuration = {**DEFAULTS, **(configuration or {})}

    def execute(self, context: ExecutionContext) -> None:
        target = context.target
        if not isinstance(target, EntityReference):
            raise InvalidOperationError(f"{context.message} needs a target case")
        if context.message == "resolve_case":
            self._close(context, target, self.configuration["resolved_state"], "Case resolved")
        elif context.message == "cancel_case":
            self._close(context, target, self.configuration["canceled_state"], "Case canceled")
        elif context.message == "reactivate_case":
            self._reactivate(context, target)

    def _close(self, context: ExecutionContext, case: EntityReference, state_name: str, default_subject: str) -> None:
        service, params, config = context.service, context.input_parameters, self.configuration
        entity = service.environment.model.entity(case.logical_name)
        state = next((s for s in _states(entity) if s.name == state_name), None)
        if state is None:
            raise InvalidOperationError(f"{case.logical_name} has no state named {state_name!r}")
        status = params.get("status")
        if status is None:
            status = state.default_status
        allowed = [s.value for s in state.statuses]
        if status not in allowed:
            raise InvalidOperationError(
                f"{context.message}: status {status} is not a {state.label} status reason of {case.logical_name}"
                f" (allowed: {', '.join(str(v) for v in allowed)})"
            )
        current = service.retrieve(case.logical_name, case.id, ["statecode"])
        if current["statecode"] != 0:
            raise InvalidOperationError(f"{case.logical_name} {case.id} is not active: reactivate it first")
        activities = self._activities(context, case)
        open_ones = [(name, row) for name, row, is_open in activities if is_open]
        if open_ones and not params.get("cancel_open_activities"):
            raise InvalidOperationError(
                f"{context.message}: the {case.logical_name} has {len(open_ones)} open activit"
                f"{'y' if len(open_ones) == 1 else 'ies'} ("
                + ", ".join(f"{name} {row.get('subject') or row.id}" for name, row in open_ones)
                + "): close them or pass cancel_open_activities"
            )
        duration = config["duration_attribute"]
        # the time spent: completed activities' actual durations (canceled ones were not done)
        total = sum(
            row.get(duration) or 0
            for name, row, is_open in activities
            if not is_open and not _canceled(context, name, row)
        )
        for name, row in open_ones:
            assert row.id is not None  # retrieved rows carry their id
            self._cancel_activity(context, name, row.id)
        resolution_entity = config["resolution_entity"]
        values: dict[str, Any] = {
            "subject": params.get("subject") or default_subject,
            config["case_lookup"]: EntityReference(case.logical_name, case.id),
            "timespent": total,
            "resolutiontypecode": status,
            "actualend": service.environment.clock(),
        }
        if params.get("billable_minutes") is not None:
            values["billabletime"] = params["billable_minutes"]
        if params.get("description") is not None:
            values["description"] = params["description"]
        resolution_id = service.create(Entity(resolution_entity, values))
        resolution = service.environment.model.entity(resolution_entity)
        completed = next(s for s in _states(resolution) if s.value != 0 and s.name == "completed")
        service.set_state(resolution_entity, resolution_id, completed.value)
        service.set_state(case.logical_name, case.id, state.value, status)
        context.output_parameters["incidentresolutionid"] = EntityReference(resolution_entity, resolution_id)

    def _activities(self, context: ExecutionContext, case: EntityReference) -> list[tuple[str, Entity, bool]]:
        """Every activity regarding the case: (entity, row, is open)."""
        service = context.service
        duration = self.configuration["duration_attribute"]
        found: list[tuple[str, Entity, bool]] = []
        for entity in service.environment.model.entities.values():
            if not entity.is_activity or "regardingobjectid" not in entity.attributes:
                continue
            columns = ["statecode"] + [a for a in ("subject", duration) if a in entity.attributes]
            criteria = FilterExpression(conditions=(ConditionExpression("regardingobjectid", "eq", (case.id,)),))
            query = QueryExpression(entity.logical_name, columns=tuple(columns), criteria=criteria)
            closed = {s.value for s in _states(entity) if s.is_closed}
            for row in service.retrieve_multiple(query):
                found.append((entity.logical_name, row, row["statecode"] not in closed))
        return found

    @staticmethod
    def _cancel_activity(context: ExecutionContext, logical_name: str, record_id: uuid.UUID) -> None:
        entity = context.service.environment.model.entity(logical_name)
        canceled = next((s for s in _states(entity) if s.name == "canceled"), None)
        if canceled is None:
            raise InvalidOperationError(
                f"{logical_name} {record_id} is open and has no canceled state to close it with"
            )
        context.service.set_state(logical_name, record_id, canceled.value)

    def _reactivate(self, context: ExecutionContext, case: EntityReference) -> None:
        service, config = context.service, self.configuration
        current = service.retrieve(case.logical_name, case.id, ["statecode"])
        if current["statecode"] == 0:
            raise InvalidOperationError(f"{case.logical_name} {case.id} is already active")
        service.set_state(case.logical_name, case.id, 0)
        resolution_entity = config["resolution_entity"]
        resolution = service.environment.model.entity(resolution_entity)
        canceled = next(s for s in _states(resolution) if s.name == "canceled")
        completed = next(s for s in _states(resolution) if s.name == "completed")
        criteria = FilterExpression(
            conditions=(
                ConditionExpression(config["case_lookup"], "eq", (case.id,)),
                ConditionExpression("statecode", "eq", (completed.value,)),
            )
        )
        query = QueryExpression(resolution_entity, columns=("statecode",), criteria=criteria)
        for row in service.retrieve_multiple(query):
            service.set_state(resolution_entity, row.id, canceled.value)


def _canceled(context: ExecutionContext, logical_name: str, row: Entity) -> bool:
    entity = context.service.environment.model.entity(logical_name)
    return any(s.value == row["statecode"] and s.name == "canceled" for s in _states(entity))


def _states(entity: Any) -> tuple[Any, ...]:
    """The states of an entity with a state model (every activity and the case have one)."""
    if entity.states is None:
        raise InvalidOperationError(f"{entity.logical_name} has no states")
    return tuple(entity.states.states)
