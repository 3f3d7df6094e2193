"""Typed mutations of the custom actions solutions declare (``actions/<name>.yaml``).

Each declared action gets ``<action>(target: UUID!, input: <Action>Input): <Action>Result``:
``target`` only when the action is bound (the record's id when its entity is fixed by the metadata,
a ``RecordReference`` when it is bound through ``targets_with``), ``input`` only
when it has parameters (non-null when one is required), and ``Boolean`` (true) instead of a
result type when it declares no outputs. A reference parameter or output is the record's id.
The generic ``executeAction`` still runs any action, declared or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLString,
)
from xrm.data import EntityReference
from xrm.graphql.bindings import SchemaIndex
from xrm.graphql.naming import ActionNames
from xrm.graphql.scalars import DateTimeScalar, DecimalScalar, JSONScalar, UUIDScalar
from xrm.metadata import ActionMetadata

__all__ = ["action_mutations"]

_SCALARS: dict[str, GraphQLScalarType] = {
    "string": GraphQLString,
    "integer": GraphQLInt,
    "decimal": DecimalScalar,
    "float": GraphQLFloat,
    "boolean": GraphQLBoolean,
    "datetime": DateTimeScalar,
    "uuid": UUIDScalar,
    "reference": UUIDScalar,
    "json": JSONScalar,
}


def _input_type(action: ActionMetadata, names: ActionNames) -> GraphQLInputObjectType:
    fields = {}
    for name, parameter in sorted(action.parameters.items()):
        scalar = _SCALARS[parameter.type]
        fields[names.parameters[name]] = GraphQLInputField(
            GraphQLNonNull(scalar) if parameter.required else scalar, description=parameter.description
        )
    return GraphQLInputObjectType(names.input, fields, description=f"The parameters of {action.name}.")


def _result_type(action: ActionMetadata, names: ActionNames) -> GraphQLOutputType:
    if not action.outputs:
        return GraphQLNonNull(GraphQLBoolean)
    fields = {
        names.outputs[name]: GraphQLField(_SCALARS[output.type], description=output.description)
        for name, output in sorted(action.outputs.items())
    }
    return GraphQLObjectType(names.result, fields, description=f"The outputs of {action.name}.")


def _action_field(action: ActionMetadata, names: ActionNames, record: GraphQLInputObjectType) -> GraphQLField:
    arguments: dict[str, GraphQLArgument] = {}
    if action.entity is not None:
        arguments["target"] = GraphQLArgument(
            GraphQLNonNull(UUIDScalar), description=f"The id of the {action.entity} to run on."
        )
    elif action.targets_with is not None:
        arguments["target"] = GraphQLArgument(
            GraphQLNonNull(record), description=f"The record to run on (of an entity with {action.targets_with})."
        )
    if action.parameters:
        input_type = _input_type(action, names)
        required = any(parameter.required for parameter in action.parameters.values())
        arguments["input"] = GraphQLArgument(GraphQLNonNull(input_type) if required else input_type)
    parameter_of = {field: name for name, field in names.parameters.items()}

    def resolve(_root: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        given: Mapping[str, Any] = arguments.get("input") or {}
        parameters = {parameter_of[key]: value for key, value in given.items()}
        target: Any = arguments.get("target")
        reference: EntityReference | None
        if isinstance(target, Mapping):  # a RecordReference (an action bound through targets_with)
            reference = EntityReference(target["entity"], target["id"])
        else:
            reference = EntityReference(action.entity, target) if action.entity and target is not None else None
        results = info.context.service.execute_action(action.name, parameters, reference)
        if not action.outputs:
            return True
        return {
            names.outputs[name]: value.id if isinstance(value, EntityReference) else value
            for name, value in results.items()
            if name in names.outputs
        }

    description = action.description or action.display_name or f"Run the custom action {action.name}."
    return GraphQLField(_result_type(action, names), arguments, resolve=resolve, description=description)


def action_mutations(index: SchemaIndex, record: GraphQLInputObjectType) -> dict[str, GraphQLField]:
    """One typed mutation per declared action, by its GraphQL name; ``record`` is the
    ``RecordReference`` input that targets an action bound through ``targets_with``."""
    fields = {}
    for name, names in sorted(index.names.actions.items()):
        metadata = index.model.actions[name].metadata
        assert isinstance(metadata, ActionMetadata)
        fields[names.mutation] = _action_field(metadata, names, record)
    return fields
