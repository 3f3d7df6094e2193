"""Typed custom actions: parameters checked and converted, outputs narrowed to the declared ones.

An action a solution declares (``actions/<name>.yaml``) states its parameters, outputs and, when
bound, its entity; an action only registered through plugin steps stays untyped.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Mapping
from typing import Any

from xrm.data.entity import EntityReference
from xrm.data.validation import InvalidValue, parse_number
from xrm.errors import AttributeProblem, PluginExecutionError, ValidationError
from xrm.metadata import ActionMetadata, ActionParameterMetadata

__all__ = ["action_parameters", "action_outputs"]


def _datetime(value: Any) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise InvalidValue(f"'{value}' is not an ISO date-time") from None
    if not isinstance(value, dt.datetime):
        raise InvalidValue(f"expected a date-time, got {type(value).__name__}")
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _uuid(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        raise InvalidValue(f"expected a UUID, got {type(value).__name__}")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidValue(f"'{value}' is not a UUID") from None


def _reference(value: Any, entity: str) -> EntityReference:
    if isinstance(value, Mapping):
        if set(value) - {"logicalName", "id"} or "id" not in value:
            raise InvalidValue("expected {logicalName, id}")
        value = EntityReference(str(value.get("logicalName", entity)), _uuid(value["id"]))
    elif isinstance(value, uuid.UUID | str):
        value = EntityReference(entity, _uuid(value))
    if not isinstance(value, EntityReference):
        raise InvalidValue(f"expected a reference to {entity}")
    if value.logical_name != entity:
        raise InvalidValue(f"expected a reference to {entity}, got one to {value.logical_name}")
    return value


def _convert(parameter: ActionParameterMetadata, value: Any) -> Any:
    kind = parameter.type
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind in ("string", "integer", "boolean"):
        expected = {"string": "text", "integer": "a whole number", "boolean": "true or false"}[kind]
        raise InvalidValue(f"expected {expected}, got {type(value).__name__}")
    if kind == "decimal":
        return parse_number(value)
    if kind == "float":
        return float(parse_number(value))
    if kind == "datetime":
        return _datetime(value)
    if kind == "uuid":
        return _uuid(value)
    if kind == "reference":
        assert parameter.entity is not None  # the metadata model requires it
        return _reference(value, parameter.entity)
    return value  # json: any value


def _convert_all(
    declared: Mapping[str, ActionParameterMetadata], values: Mapping[str, Any], problems: list[AttributeProblem]
) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    for name, value in values.items():
        parameter = declared.get(name)
        if parameter is None:
            problems.append(AttributeProblem(name, "is not a parameter of this action"))
        elif value is not None:
            try:
                converted[name] = _convert(parameter, value)
            except InvalidValue as invalid:
                problems.append(AttributeProblem(name, str(invalid)))
        else:
            converted[name] = None
    return converted


def _target_problem(
    action: ActionMetadata, target: EntityReference | None, flagged: Collection[str]
) -> AttributeProblem | None:
    if action.targets_with is not None:
        if target is None:
            return AttributeProblem("target", f"the action runs on a record of an entity with {action.targets_with}")
        if target.logical_name not in flagged:
            return AttributeProblem("target", f"'{target.logical_name}' does not have {action.targets_with}")
        return None
    if action.entity is not None and target is None:
        return AttributeProblem("target", f"the action is bound to '{action.entity}': give a record")
    if action.entity is None and target is not None:
        return AttributeProblem("target", "the action is not bound to an entity: give no target")
    if target is not None and target.logical_name != action.entity:
        return AttributeProblem("target", f"expected a '{action.entity}', got a '{target.logical_name}'")
    return None


def action_parameters(
    action: ActionMetadata,
    parameters: Mapping[str, Any],
    target: EntityReference | None,
    flagged: Collection[str] = (),
) -> dict[str, Any]:
    """The parameters converted to their declared types; raises :class:`ValidationError` listing
    unknown, missing and mistyped parameters and a missing, unexpected or wrong target.

    ``flagged``: the entities carrying the action's ``targets_with`` flag (its possible targets).
    """
    problems: list[AttributeProblem] = []
    if (problem := _target_problem(action, target, flagged)) is not None:
        problems.append(problem)
    converted = _convert_all(action.parameters, parameters, problems)
    for name, parameter in action.parameters.items():
        if parameter.required and converted.get(name) is None and name not in {p.attribute for p in problems}:
            problems.append(AttributeProblem(name, "is required"))
    if problems:
        raise ValidationError(action.name, problems)
    return converted


def action_outputs(action: ActionMetadata, outputs: Mapping[str, Any]) -> dict[str, Any]:
    """The declared outputs the plugins set, converted to their types; others are dropped.

    A missing output is left out (null to the caller); one of the wrong type is the plugin's fault.
    """
    problems: list[AttributeProblem] = []
    declared = {name: value for name, value in outputs.items() if name in action.outputs}
    converted = _convert_all(action.outputs, declared, problems)
    if problems:
        details = "; ".join(str(problem) for problem in problems)
        raise PluginExecutionError(f"action '{action.name}' set outputs of the wrong type: {details}")
    return converted
