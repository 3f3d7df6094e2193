"""The actions of a workflow, each done through the organization service (so the platform's
validation, security of the acting user and plugin steps apply to them as to any other change)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xrm.data import Entity, EntityReference, OrganizationService
from xrm.errors import InvalidOperationError
from xrm.metadata.workflow import (
    AddToQueueAction,
    AssignAction,
    CreateRecordAction,
    FromValue,
    NotifyAction,
    RouteAction,
    RunActionAction,
    SetFieldsAction,
    SetStateAction,
    StopAction,
    WorkflowMetadata,
)
from xrm_workflow.evaluation import resolve_value, resolve_values

__all__ = ["WorkflowRun", "perform"]


@dataclass
class WorkflowRun:
    """One run of a workflow on one record: the service it acts through and the record as it is now."""

    service: OrganizationService
    workflow: WorkflowMetadata
    reference: EntityReference
    record: Entity = field(init=False)
    created: list[EntityReference] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.record = self.service.retrieve(self.reference.logical_name, self.reference.id)

    def reference_for(self, what: str, value: Any) -> EntityReference:
        resolved = resolve_value(self.service, self.record, value)
        if not isinstance(resolved, EntityReference):
            raise InvalidOperationError(
                f"workflow '{self.workflow.name}': the {what} for {self.reference.logical_name} "
                f"{self.reference.id} is not a record ({resolved!r})"
            )
        return resolved


def perform(run: WorkflowRun, action: Any) -> bool:
    """Do one action (not a wait); False when the workflow stops here."""
    service, reference = run.service, run.reference
    if isinstance(action, StopAction):
        return False
    if isinstance(action, SetFieldsAction):
        target = reference if action.record is None else run.reference_for(f"'{action.record}'", _from(action.record))
        values = resolve_values(service, run.record, action.fields)
        service.update(Entity(target.logical_name, values, id=target.id))
    elif isinstance(action, CreateRecordAction):
        values = resolve_values(service, run.record, action.fields)
        created = EntityReference(action.entity, service.create(Entity(action.entity, values)))
        run.created.append(created)
        if action.link_back is not None:
            service.update(Entity(reference.logical_name, {action.link_back: created}, id=reference.id))
    elif isinstance(action, NotifyAction):
        values = {**resolve_values(service, run.record, action.fields), "regardingobjectid": reference}
        run.created.append(EntityReference(action.activity, service.create(Entity(action.activity, values))))
    elif isinstance(action, AssignAction):
        service.assign(reference.logical_name, reference.id, run.reference_for("owner", action.owner))
    elif isinstance(action, AddToQueueAction):
        service.execute_action("add_to_queue", {"queue": run.reference_for("queue", action.queue)}, reference)
    elif isinstance(action, RouteAction):
        key = next(k for k in ("queue", "user", "team") if getattr(action, k) is not None)
        service.execute_action("route_to", {key: run.reference_for(key, getattr(action, key))}, reference)
    elif isinstance(action, SetStateAction):
        service.set_state(reference.logical_name, reference.id, action.state, action.status)
    elif isinstance(action, RunActionAction):
        parameters = resolve_values(service, run.record, action.parameters)
        service.execute_action(action.action, parameters, reference if action.bound else None)
    else:
        raise InvalidOperationError(f"workflow '{run.workflow.name}': cannot perform {type(action).__name__}")
    run.refresh()
    return True


def _from(attribute: str) -> FromValue:
    return FromValue.model_validate({"from": attribute})
