"""An automation rule: trigger, conditions and actions (``workflows/<name>.yaml``).

A workflow (Dataverse's classic workflow / Power Automate flow on Dataverse) runs when its trigger
fires on a record of ``entity`` and its ``filter`` (the query condition language of views, with
``links`` for conditions on parent records) holds. Its ``actions`` run in order; then, with
``rules``, the actions of the first rule whose filter holds (a routing rule set: first match wins).
``sync`` workflows run inside the triggering transaction; ``async`` ones run later in the job worker
and may ``wait``.
"""

from __future__ import annotations

import uuid
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, model_validator

from xrm.errors import MetadataIssue
from xrm.metadata._base import LogicalName, MetadataModel
from xrm.metadata.components import FilterMetadata, LinkEntityMetadata
from xrm.metadata.source import Locator

if TYPE_CHECKING:
    from xrm.metadata.model import CompiledEntity, Model

__all__ = [
    "WorkflowTrigger",
    "WorkflowMode",
    "TriggerMetadata",
    "FromValue",
    "FindValue",
    "RecordValue",
    "ReferenceValue",
    "FieldValue",
    "SetFieldsAction",
    "CreateRecordAction",
    "AssignAction",
    "AddToQueueAction",
    "RouteAction",
    "SetStateAction",
    "NotifyAction",
    "RunActionAction",
    "WaitAction",
    "StopAction",
    "WorkflowAction",
    "WorkflowRuleMetadata",
    "WorkflowMetadata",
    "check_workflow",
]

Path_ = tuple[str | int, ...]


class WorkflowTrigger(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    STATUS_CHANGE = "status_change"
    ASSIGN = "assign"
    SCHEDULE = "schedule"
    ON_DEMAND = "on_demand"


class WorkflowMode(str, Enum):
    SYNC = "sync"
    ASYNC = "async"


class TriggerMetadata(MetadataModel):
    """When the workflow starts. ``attributes``: an update starts it only when it changes one of them;
    ``from_status``/``to_status``: a status change between these status reasons (empty: any);
    ``every_minutes``: a schedule runs over every record matching the filter."""

    event: WorkflowTrigger
    attributes: tuple[LogicalName, ...] = ()
    from_status: tuple[int, ...] = ()
    to_status: tuple[int, ...] = ()
    every_minutes: int | None = Field(default=None, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _from_event(cls, data: object) -> object:
        return {"event": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _fits(self) -> TriggerMetadata:
        if self.attributes and self.event is not WorkflowTrigger.UPDATE:
            raise ValueError("'attributes' apply to the update trigger only")
        if (self.from_status or self.to_status) and self.event is not WorkflowTrigger.STATUS_CHANGE:
            raise ValueError("'from_status' and 'to_status' apply to the status_change trigger only")
        if (self.every_minutes is None) != (self.event is not WorkflowTrigger.SCHEDULE):
            raise ValueError("'every_minutes' is required by the schedule trigger and applies to it only")
        return self


# --- values: what an action writes ---------------------------------------------------------------


class FromValue(MetadataModel):
    """The value of an attribute of the triggering record."""

    from_attribute: LogicalName = Field(alias="from")


class FindValue(MetadataModel):
    """A reference to the first record of ``find`` whose attributes equal ``where`` (values may use
    ``{attribute}`` placeholders of the triggering record), e.g. the contact with the sender's address."""

    find: LogicalName
    where: dict[LogicalName, Any] = Field(min_length=1)


class RecordValue(MetadataModel):
    """A reference to the triggering record itself."""

    record: Literal[True]


class ReferenceValue(MetadataModel):
    """A fixed reference to a record."""

    ref: LogicalName
    id: uuid.UUID


# a plain value is a constant; a string may hold ``{attribute}`` placeholders of the triggering record
FieldValue = FromValue | FindValue | RecordValue | ReferenceValue | str | bool | int | float | None


# --- actions -------------------------------------------------------------------------------------


class SetFieldsAction(MetadataModel):
    """Update the triggering record (or, with ``record``, the record its lookup ``record`` points to)."""

    type: Literal["set_fields"]
    record: LogicalName | None = None
    fields: dict[LogicalName, FieldValue] = Field(min_length=1)


class CreateRecordAction(MetadataModel):
    """Create a record of ``entity``; ``link_back`` names an attribute of the triggering record set to it."""

    type: Literal["create_record"]
    entity: LogicalName
    fields: dict[LogicalName, FieldValue] = Field(default_factory=dict)
    link_back: LogicalName | None = None


class AssignAction(MetadataModel):
    type: Literal["assign"]
    owner: FieldValue


class AddToQueueAction(MetadataModel):
    """The ``add_to_queue`` custom action on the record."""

    type: Literal["add_to_queue"]
    queue: FieldValue


class RouteAction(MetadataModel):
    """The ``route_to`` custom action on the record: to exactly one of a queue, a user or a team."""

    type: Literal["route"]
    queue: FieldValue = None
    user: FieldValue = None
    team: FieldValue = None

    @model_validator(mode="after")
    def _one_destination(self) -> RouteAction:
        if sum(value is not None for value in (self.queue, self.user, self.team)) != 1:
            raise ValueError("a route names exactly one of 'queue', 'user' or 'team'")
        return self


class SetStateAction(MetadataModel):
    type: Literal["set_state"]
    state: int
    status: int | None = None


class NotifyAction(MetadataModel):
    """Create an activity (a task by default) regarding the record."""

    type: Literal["notify"]
    activity: LogicalName = "task"
    fields: dict[LogicalName, FieldValue] = Field(min_length=1)


class RunActionAction(MetadataModel):
    """Run a custom action with the record as target (``bound``) and the given parameters."""

    type: Literal["run_action"]
    action: LogicalName
    bound: bool = True
    parameters: dict[LogicalName, FieldValue] = Field(default_factory=dict)


class WaitAction(MetadataModel):
    """Async only: continue when ``until`` holds on the record (checked every ``poll_minutes``) or
    ``minutes`` after the datetime attribute ``after`` (after the wait started when omitted)."""

    type: Literal["wait"]
    until: FilterMetadata | None = None
    minutes: int | None = Field(default=None, ge=0)
    after: LogicalName | None = None
    poll_minutes: int = Field(default=5, ge=1)
    timeout_minutes: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_kind(self) -> WaitAction:
        if (self.until is None) == (self.minutes is None):
            raise ValueError("a wait has exactly one of 'until' (a condition) or 'minutes' (a time)")
        if self.after is not None and self.minutes is None:
            raise ValueError("'after' applies to a timed wait ('minutes')")
        return self


class StopAction(MetadataModel):
    """End the workflow here (later actions and rules do not run)."""

    type: Literal["stop"]


WorkflowAction = Annotated[
    SetFieldsAction
    | CreateRecordAction
    | AssignAction
    | AddToQueueAction
    | RouteAction
    | SetStateAction
    | NotifyAction
    | RunActionAction
    | WaitAction
    | StopAction,
    Field(discriminator="type"),
]


class WorkflowRuleMetadata(MetadataModel):
    """One item of a rule set: when ``filter`` holds (always when omitted) its actions run, and no later rule."""

    name: LogicalName
    filter: FilterMetadata | None = None
    actions: tuple[WorkflowAction, ...] = Field(min_length=1)


class WorkflowMetadata(MetadataModel):
    """An automation rule: trigger, conditions and actions."""

    name: LogicalName
    id: uuid.UUID | None = None
    entity: LogicalName
    display_name: str | None = None
    description: str | None = None
    trigger: TriggerMetadata
    mode: WorkflowMode = WorkflowMode.SYNC
    order: int = 1
    links: tuple[LinkEntityMetadata, ...] = ()
    filter: FilterMetadata | None = None
    actions: tuple[WorkflowAction, ...] = ()
    rules: tuple[WorkflowRuleMetadata, ...] = ()

    @model_validator(mode="after")
    def _fits(self) -> WorkflowMetadata:
        if not self.actions and not self.rules:
            raise ValueError("a workflow needs 'actions' or 'rules'")
        waits = [a for a in self.all_actions() if isinstance(a, WaitAction)]
        if waits and self.mode is not WorkflowMode.ASYNC:
            raise ValueError("'wait' runs only in async workflows (mode: async)")
        if self.trigger.event is WorkflowTrigger.SCHEDULE and self.mode is not WorkflowMode.ASYNC:
            raise ValueError("scheduled workflows run in the job worker (mode: async)")
        return self

    def all_actions(self) -> list[Any]:
        return [*self.actions, *(a for rule in self.rules for a in rule.actions)]


# --- checks against the model --------------------------------------------------------------------


def check_workflow(model: Model, component: WorkflowMetadata, locator: Locator) -> list[MetadataIssue]:
    """Problems of the component against the compiled ``model`` (unknown entities, attributes...)."""
    from xrm.metadata.validation import check_filter, check_links

    entity = model.entities.get(component.entity)
    if entity is None:
        return [locator.issue(("entity",), f"unknown entity '{component.entity}'")]
    issues: list[MetadataIssue] = []
    aliases: dict[str, CompiledEntity] = {}
    issues += check_links(model, entity, component.links, ("links",), locator, aliases)
    if component.filter is not None:
        issues += check_filter(entity, component.filter, ("filter",), locator, aliases)
    trigger = component.trigger
    issues += _fields(entity, [(("trigger", "attributes", i), a) for i, a in enumerate(trigger.attributes)], locator)
    if (trigger.event is WorkflowTrigger.STATUS_CHANGE) and entity.states is None:
        issues.append(locator.issue(("trigger", "event"), f"'{entity.logical_name}' has no state model"))
    if trigger.event is WorkflowTrigger.ASSIGN and "ownerid" not in entity.attributes:
        issues.append(locator.issue(("trigger", "event"), f"'{entity.logical_name}' is organization-owned"))
    issues += _actions(model, entity, component.actions, ("actions",), locator)
    for index, rule in enumerate(component.rules):
        if rule.filter is not None:
            issues += check_filter(entity, rule.filter, ("rules", index, "filter"), locator, aliases)
        issues += _actions(model, entity, rule.actions, ("rules", index, "actions"), locator)
    return issues


def _fields(entity: CompiledEntity, named: list[tuple[Path_, str]], locator: Locator) -> list[MetadataIssue]:
    return [
        locator.issue(path, f"'{entity.logical_name}' has no attribute '{name}'")
        for path, name in named
        if name not in entity.attributes
    ]


def _values(
    model: Model,
    source: CompiledEntity,
    target: CompiledEntity | None,
    values: dict[str, Any],
    path: Path_,
    locator: Locator,
) -> list[MetadataIssue]:
    """``values`` written to ``target`` (None: not attributes, e.g. action parameters), read from ``source``."""
    issues: list[MetadataIssue] = []
    for name, value in values.items():
        here = (*path, name)
        if target is not None and name not in target.attributes:
            issues.append(locator.issue(here, f"'{target.logical_name}' has no attribute '{name}'"))
        issues += _value(model, source, value, here, locator)
    return issues


def _value(model: Model, source: CompiledEntity, value: Any, path: Path_, locator: Locator) -> list[MetadataIssue]:
    if isinstance(value, FromValue) and value.from_attribute not in source.attributes:
        return [locator.issue((*path, "from"), f"'{source.logical_name}' has no attribute '{value.from_attribute}'")]
    if isinstance(value, FindValue):
        found = model.entities.get(value.find)
        if found is None:
            return [locator.issue((*path, "find"), f"unknown entity '{value.find}'")]
        return _fields(found, [((*path, "where", n), n) for n in value.where], locator)
    if isinstance(value, ReferenceValue) and value.ref not in model.entities:
        return [locator.issue((*path, "ref"), f"unknown entity '{value.ref}'")]
    return []


def _actions(
    model: Model, entity: CompiledEntity, actions: tuple[Any, ...], path: Path_, locator: Locator
) -> list[MetadataIssue]:
    from xrm.metadata.validation import check_filter

    issues: list[MetadataIssue] = []
    for index, action in enumerate(actions):
        here = (*path, index)
        if isinstance(action, SetFieldsAction):
            target: CompiledEntity | None = entity
            if action.record is not None:
                lookup = entity.attributes.get(action.record)
                if lookup is None or not getattr(lookup, "targets", None):
                    issues.append(
                        locator.issue(
                            (*here, "record"), f"'{action.record}' is not a lookup of '{entity.logical_name}'"
                        )
                    )
                    continue
                target = model.entities.get(lookup.targets[0]) if len(lookup.targets) == 1 else None
            issues += _values(model, entity, target, action.fields, (*here, "fields"), locator)
        elif isinstance(action, CreateRecordAction | NotifyAction):
            name = action.entity if isinstance(action, CreateRecordAction) else action.activity
            created = model.entities.get(name)
            if created is None:
                key = "entity" if isinstance(action, CreateRecordAction) else "activity"
                issues.append(locator.issue((*here, key), f"unknown entity '{name}'"))
                continue
            if isinstance(action, NotifyAction) and not created.is_activity:
                issues.append(locator.issue((*here, "activity"), f"'{name}' is not an activity entity"))
            issues += _values(model, entity, created, action.fields, (*here, "fields"), locator)
            if isinstance(action, CreateRecordAction) and action.link_back is not None:
                issues += _fields(entity, [((*here, "link_back"), action.link_back)], locator)
        elif isinstance(action, AssignAction):
            issues += _value(model, entity, action.owner, (*here, "owner"), locator)
        elif isinstance(action, AddToQueueAction | RouteAction):
            name = "add_to_queue" if isinstance(action, AddToQueueAction) else "route_to"
            issues += _bound_action(model, entity, name, True, (*here, "type"), locator)
            for key in ("queue", "user", "team"):
                if getattr(action, key, None) is not None:
                    issues += _value(model, entity, getattr(action, key), (*here, key), locator)
        elif isinstance(action, SetStateAction):
            issues += _state(entity, action, here, locator)
        elif isinstance(action, RunActionAction):
            if action.action in model.actions:
                issues += _bound_action(model, entity, action.action, action.bound, (*here, "action"), locator)
                declared = model.actions[action.action].metadata
                for name in action.parameters:
                    if name not in getattr(declared, "parameters", {}):
                        issues.append(
                            locator.issue(
                                (*here, "parameters", name), f"action '{action.action}' has no parameter '{name}'"
                            )
                        )
            issues += _values(model, entity, None, action.parameters, (*here, "parameters"), locator)
        elif isinstance(action, WaitAction):
            if action.until is not None:
                issues += check_filter(entity, action.until, (*here, "until"), locator, {})
            if action.after is not None:
                issues += _fields(entity, [((*here, "after"), action.after)], locator)
    return issues


def _bound_action(
    model: Model, entity: CompiledEntity, name: str, bound: bool, path: Path_, locator: Locator
) -> list[MetadataIssue]:
    """The declared custom action ``name`` runs on a record of ``entity`` (``bound``) or on none."""
    component = model.actions.get(name)
    if component is None:
        return [locator.issue(path, f"no custom action '{name}' is declared (is its solution installed?)")]
    action = component.metadata
    flag = getattr(action, "targets_with", None)
    target = getattr(action, "entity", None)
    if not bound:
        wrong = flag is not None or target is not None
        return [locator.issue(path, f"action '{name}' is bound: it needs the record")] if wrong else []
    if flag is not None and not getattr(entity.definition, flag, False):
        return [
            locator.issue(
                path, f"action '{name}' runs on entities with '{flag}'; '{entity.logical_name}' does not have it"
            )
        ]
    if flag is None and target != entity.logical_name:
        return [locator.issue(path, f"action '{name}' is not bound to '{entity.logical_name}'")]
    return []


def _state(entity: CompiledEntity, action: SetStateAction, path: Path_, locator: Locator) -> list[MetadataIssue]:
    if entity.states is None:
        return [locator.issue((*path, "state"), f"'{entity.logical_name}' has no state model")]
    state = next((s for s in entity.states.states if s.value == action.state), None)
    if state is None:
        return [locator.issue((*path, "state"), f"{action.state} is not a state of '{entity.logical_name}'")]
    if action.status is not None and action.status not in {s.value for s in state.statuses}:
        return [locator.issue((*path, "status"), f"{action.status} is not a status of state '{state.label}'")]
    return []
