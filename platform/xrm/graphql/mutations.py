"""The mutation root: every organization-service message, through the caller's service.

Per entity: ``create<Type>(input)``, ``update<Type>(id, input, expectedVersion)`` and
``delete<Type>(id)``. For any entity: ``assign``, ``setState``, ``associate``, ``disassociate``,
``merge``, ``grantAccess``/``modifyAccess``/``revokeAccess``,
``addUserToRecordTeam``/``removeUserFromRecordTeam`` (record access teams), ``executeMultiple`` (see
:mod:`xrm.graphql.batch`) and ``executeAction(name, target, parameters)``: the generic door to the
custom actions solutions register (untyped: both are JSON). Actions a solution declares also get a
typed mutation of their own (see :mod:`xrm.graphql.actions`).

Mutations that change a record return it, read back through the read gateway with the
selection's look-ahead (null if the caller may not read it); errors carry their codes (see
:mod:`xrm.graphql.errors`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLString,
)
from xrm.data import Entity, EntityReference
from xrm.data.sharing import AccessRights
from xrm.graphql.actions import action_mutations
from xrm.graphql.batch import json_values, reference, request_input, result_type, to_request, to_result
from xrm.graphql.bindings import EntityBinding
from xrm.graphql.errors import InputError
from xrm.graphql.naming import camel
from xrm.graphql.queries import Reads
from xrm.graphql.relay import node_interface
from xrm.graphql.scalars import BigIntScalar, JSONScalar, UUIDScalar
from xrm.graphql.typemap import TypeMap

__all__ = ["mutation_fields"]

Resolver = Callable[..., Any]


def _service(info: GraphQLResolveInfo) -> Any:
    return info.context.service


def _field(output: GraphQLOutputType, arguments: dict[str, Any], resolve: Resolver, description: str) -> GraphQLField:
    return GraphQLField(
        output, {name: GraphQLArgument(of) for name, of in arguments.items()}, resolve=resolve, description=description
    )


def _input_values(reads: Reads, binding: EntityBinding, data: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
    """A create/update input -> (attribute values, the record id given for the primary id)."""
    entity = binding.entity
    values: dict[str, Any] = {}
    record_id = None
    for field_name, value in data.items():
        attribute = entity.attributes[binding.values[field_name]]
        targets = reads.index.targets(entity.logical_name, attribute.name) if attribute.targets else ()
        if attribute.name == entity.primary_id:
            record_id = value
        elif not targets or value is None:
            values[attribute.name] = value
        elif isinstance(value, Mapping):  # a polymorphic reference: the oneOf input gives exactly one target
            by_field = {camel(target): target for target in targets}
            ((key, target_id),) = [(key, item) for key, item in value.items() if item is not None]
            values[attribute.name] = EntityReference(by_field[key], target_id)
        else:
            values[attribute.name] = EntityReference(targets[0], value)
    return values, record_id


def _entity_mutations(types: TypeMap, reads: Reads, binding: EntityBinding) -> dict[str, GraphQLField]:
    logical_name, names = binding.logical_name, reads.index.names
    record = types.objects[logical_name]
    record_id = GraphQLNonNull(UUIDScalar)

    def create(_root: Any, info: GraphQLResolveInfo, input: Mapping[str, Any]) -> Any:  # noqa: A002
        values, chosen_id = _input_values(reads, binding, input)
        created = _service(info).create(Entity(logical_name, values, id=chosen_id))
        return reads.one(info, logical_name, created)

    def update(_root: Any, info: GraphQLResolveInfo, id: uuid.UUID, input: Mapping[str, Any], **options: Any) -> Any:  # noqa: A002
        values, _ = _input_values(reads, binding, input)
        _service(info).update(Entity(logical_name, values, id=id), expected_version=options.get("expectedVersion"))
        return reads.one(info, logical_name, id)

    def delete(_root: Any, info: GraphQLResolveInfo, id: uuid.UUID) -> uuid.UUID:  # noqa: A002
        _service(info).delete(logical_name, id)
        return id

    update_arguments = {
        "id": GraphQLArgument(record_id),
        "input": GraphQLArgument(GraphQLNonNull(types.updates[logical_name])),
        "expectedVersion": GraphQLArgument(BigIntScalar, description="Fail with CONFLICT if versionnumber differs."),
    }
    return {
        names.mutations[("create", logical_name)]: _field(
            record,
            {"input": GraphQLNonNull(types.creates[logical_name])},
            create,
            f"Create a {logical_name}; returns it as the caller may read it.",
        ),
        names.mutations[("update", logical_name)]: GraphQLField(
            record,
            update_arguments,
            resolve=update,
            description=f"Change the given attributes of a {logical_name} (null clears one).",
        ),
        names.mutations[("delete", logical_name)]: _field(
            record_id, {"id": record_id}, delete, f"Delete a {logical_name}; returns its id."
        ),
    }


def _record_resolvers(reads: Reads) -> dict[str, Resolver]:
    """Resolvers of the generic messages that change one record and return it."""

    def changed(info: GraphQLResolveInfo, target: Mapping[str, Any]) -> Any:
        return reads.one(info, target["entity"], target["id"])

    def assign(_r: Any, info: GraphQLResolveInfo, target: Mapping[str, Any], owner: Mapping[str, Any]) -> Any:
        _service(info).assign(target["entity"], target["id"], reference(owner))
        return changed(info, target)

    def set_state(
        _r: Any, info: GraphQLResolveInfo, target: Mapping[str, Any], state: int, status: int | None = None
    ) -> Any:
        _service(info).set_state(target["entity"], target["id"], state, status)
        return changed(info, target)

    def linker(method: str) -> Resolver:
        def link(
            _r: Any, info: GraphQLResolveInfo, target: Mapping[str, Any], relationship: str, related: list[Any]
        ) -> Any:
            getattr(_service(info), method)(
                target["entity"], target["id"], relationship, [reference(r) for r in related]
            )
            return changed(info, target)

        return link

    def sharer(method: str) -> Resolver:
        def share(
            _r: Any, info: GraphQLResolveInfo, target: Mapping[str, Any], principal: Any, rights: Any = None
        ) -> Any:
            arguments = [target["entity"], target["id"], reference(principal)]
            if rights is not None:
                arguments.append(sum(set(rights)))
            getattr(_service(info), method)(*arguments)
            return changed(info, target)

        return share

    def record_team(method: str) -> Resolver:
        def change(_r: Any, info: GraphQLResolveInfo, target: Mapping[str, Any], user: uuid.UUID, template: str) -> Any:
            getattr(_service(info), method)(target["entity"], target["id"], user, template)
            return changed(info, target)

        return change

    def merge(
        _r: Any, info: GraphQLResolveInfo, entity: str, target: uuid.UUID, subordinate: uuid.UUID, **options: Any
    ) -> Any:
        _service(info).merge(
            entity,
            target,
            subordinate,
            update_content=json_values(reads.index, entity, options.get("updateContent") or {}),
            subordinate_state=options.get("subordinateState"),
            subordinate_status=options.get("subordinateStatus"),
        )
        return reads.one(info, entity, target)

    return {
        "assign": assign, "setState": set_state, "associate": linker("associate"),
        "disassociate": linker("disassociate"), "merge": merge, "grantAccess": sharer("grant_access"),
        "modifyAccess": sharer("modify_access"), "revokeAccess": sharer("revoke_access"),
        "addUserToRecordTeam": record_team("add_user_to_record_team"),
        "removeUserFromRecordTeam": record_team("remove_user_from_record_team"),
    }  # fmt: skip


def _record_reference(entity_names: GraphQLEnumType) -> GraphQLInputObjectType:
    return GraphQLInputObjectType(
        "RecordReference",
        lambda: {
            "entity": GraphQLInputField(GraphQLNonNull(entity_names)),
            "id": GraphQLInputField(GraphQLNonNull(UUIDScalar)),
        },
    )


def _generic_mutations(
    reads: Reads, entity_names: GraphQLEnumType, record: GraphQLInputObjectType
) -> dict[str, GraphQLField]:
    ref, text, records = (
        GraphQLNonNull(record),
        GraphQLNonNull(GraphQLString),
        GraphQLNonNull(GraphQLList(GraphQLNonNull(record))),
    )
    rights = GraphQLEnumType(
        "AccessRight", {str(right.name): GraphQLEnumValue(int(right)) for right in AccessRights if right}
    )
    resolvers = _record_resolvers(reads)

    def execute_multiple(_r: Any, info: GraphQLResolveInfo, requests: list[Any], **options: Any) -> dict[str, Any]:
        response = _service(info).execute_multiple(
            [to_request(reads.index, request) for request in requests],
            continue_on_error=bool(options.get("continueOnError")),
            transactional=bool(options.get("transactional")),
        )
        return to_result(reads.index, response)

    def execute_action(_r: Any, info: GraphQLResolveInfo, name: str, target: Any = None, parameters: Any = None) -> Any:
        if parameters is not None and not isinstance(parameters, Mapping):
            raise InputError("the parameters of an action must be a JSON object")
        return _service(info).execute_action(name, dict(parameters or {}), reference(target) if target else None)

    link = {"target": ref, "relationship": text, "related": records}
    share = {"target": ref, "principal": ref, "rights": GraphQLNonNull(GraphQLList(GraphQLNonNull(rights)))}
    merge = {
        "entity": GraphQLNonNull(entity_names), "target": GraphQLNonNull(UUIDScalar),
        "subordinate": GraphQLNonNull(UUIDScalar), "updateContent": JSONScalar, "subordinateState": GraphQLInt,
        "subordinateStatus": GraphQLInt,
    }  # fmt: skip
    state = {"target": ref, "state": GraphQLNonNull(GraphQLInt), "status": GraphQLInt}
    record_team = {"target": ref, "user": GraphQLNonNull(UUIDScalar), "template": text}
    node = node_interface
    return {
        "assign": _field(node, {"target": ref, "owner": ref}, resolvers["assign"], "Give a record (and, per cascade, its children) to a user or team."),
        "setState": _field(node, state, resolvers["setState"], "Change statecode/statuscode (values as in entityDefinitions' states)."),
        "associate": _field(node, link, resolvers["associate"], "Link records through a relationship."),
        "disassociate": _field(node, link, resolvers["disassociate"], "Unlink records."),
        "merge": _field(node, merge, resolvers["merge"], "Merge the subordinate into the target; returns the target."),
        "grantAccess": _field(node, share, resolvers["grantAccess"], "Share a record: add rights for a user or team."),
        "modifyAccess": _field(node, share, resolvers["modifyAccess"], "Replace the rights a user or team has."),
        "revokeAccess": _field(node, {"target": ref, "principal": ref}, resolvers["revokeAccess"], "Stop sharing a record."),
        "addUserToRecordTeam": _field(
            node, record_team, resolvers["addUserToRecordTeam"],
            "Add a user to the record's access team for a team template (created and shared on first use).",
        ),
        "removeUserFromRecordTeam": _field(
            node, record_team, resolvers["removeUserFromRecordTeam"],
            "Take a user off the record's access team for a team template (the team and its share stay).",
        ),
        "executeMultiple": _field(
            GraphQLNonNull(result_type()),
            {"requests": GraphQLNonNull(GraphQLList(GraphQLNonNull(request_input(entity_names, record)))),
             "continueOnError": GraphQLBoolean, "transactional": GraphQLBoolean},
            execute_multiple, "Run up to 1000 requests; transactional: all or nothing.",
        ),
        "executeAction": _field(
            JSONScalar, {"name": text, "target": record, "parameters": JSONScalar}, execute_action,
            "Run a custom action a solution registers; returns its output parameters.",
        ),
    }  # fmt: skip


def mutation_fields(types: TypeMap, reads: Reads, entity_names: GraphQLEnumType) -> dict[str, GraphQLField]:
    """Every field of the mutation root."""
    record = _record_reference(entity_names)
    fields = _generic_mutations(reads, entity_names, record)
    for _, binding in sorted(types.index.entities.items()):
        fields.update(_entity_mutations(types, reads, binding))
    fields.update(action_mutations(types.index, record))
    return fields
