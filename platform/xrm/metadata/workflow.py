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
    from xrm.metadata.model import Model

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
    """Problems of the component against the compiled ``model`` (unknown entities, attributes,
    states, custom actions, references of the wrong entity...)."""
    from xrm.metadata._workflow_checks import check_workflow_component

    return check_workflow_component(model, component, locator)
