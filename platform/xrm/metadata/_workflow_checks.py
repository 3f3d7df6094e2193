"""The checks of a workflow against the compiled model (see :func:`xrm.metadata.workflow.check_workflow`)."""

from __future__ import annotations

from typing import Any

from xrm.errors import MetadataIssue
from xrm.metadata.model import CompiledEntity, Model
from xrm.metadata.source import Locator
from xrm.metadata.validation import check_filter, check_links
from xrm.metadata.workflow import (
    AddToQueueAction,
    AssignAction,
    CreateRecordAction,
    FindValue,
    FromValue,
    NotifyAction,
    ReferenceValue,
    RouteAction,
    RunActionAction,
    SetFieldsAction,
    SetStateAction,
    WaitAction,
    WorkflowMetadata,
    WorkflowTrigger,
)

__all__ = ["check_workflow_component"]

Path_ = tuple[str | int, ...]


def check_workflow_component(model: Model, component: WorkflowMetadata, locator: Locator) -> list[MetadataIssue]:
    """See :func:`xrm.metadata.workflow.check_workflow`."""
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
    if trigger.event is WorkflowTrigger.STATUS_CHANGE:
        if entity.states is None:
            issues.append(locator.issue(("trigger", "event"), f"'{entity.logical_name}' has no state model"))
        else:
            known = {status.value for state in entity.states.states for status in state.statuses}
            for key in ("from_status", "to_status"):
                for i, value in enumerate(getattr(trigger, key)):
                    if value not in known:
                        message = f"{value} is not a status reason of '{entity.logical_name}'"
                        issues.append(locator.issue(("trigger", key, i), message))
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


def _value(
    model: Model, source: CompiledEntity, value: Any, path: Path_, locator: Locator, records: tuple[str, ...] = ()
) -> list[MetadataIssue]:
    """Problems of one value; ``records``: it must be a reference to one of these entities."""
    named = value.find if isinstance(value, FindValue) else value.ref if isinstance(value, ReferenceValue) else None
    if records and named is not None and named in model.entities and named not in records:
        key = "find" if isinstance(value, FindValue) else "ref"
        return [locator.issue((*path, key), f"expected a {' or '.join(records)} record, not a '{named}'")]
    if records and value is not None and not isinstance(value, FromValue | FindValue | ReferenceValue):
        return [locator.issue(path, f"expected a {' or '.join(records)} record: use 'find', 'ref' or 'from'")]
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
            issues += _value(model, entity, action.owner, (*here, "owner"), locator, ("systemuser", "team"))
        elif isinstance(action, AddToQueueAction | RouteAction):
            name = "add_to_queue" if isinstance(action, AddToQueueAction) else "route_to"
            issues += _bound_action(model, entity, name, True, (*here, "type"), locator)
            for key, kind in (("queue", "queue"), ("user", "systemuser"), ("team", "team")):
                if getattr(action, key, None) is not None:
                    issues += _value(model, entity, getattr(action, key), (*here, key), locator, (kind,))
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
