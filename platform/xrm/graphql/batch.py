"""``executeMultiple``: the ``ServiceRequest`` input, its conversion to service requests, the results.

A ``ServiceRequest`` is a oneOf input (exactly one of ``create``, ``update``, ``delete``,
``assign``, ``setState``, ``associate``, ``disassociate``, ``executeAction``). Attributes are JSON
keyed by logical name, as the service takes them; a lookup is ``{"entity": ..., "id": ...}`` (or,
for a single-target lookup, the id). Each response says its index, the created id, the message's
results, or its error (code, message, attribute problems), as ``extensions`` would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
)
from xrm.data import Entity, EntityReference, ExecuteMultipleResponse
from xrm.data.messages import (
    AssignRequest,
    AssociateRequest,
    CreateRequest,
    DeleteRequest,
    DisassociateRequest,
    ExecuteActionRequest,
    Request,
    SetStateRequest,
    UpdateRequest,
)
from xrm.errors import ValidationError, XrmError
from xrm.graphql.bindings import SchemaIndex
from xrm.graphql.errors import InputError
from xrm.graphql.scalars import BigIntScalar, JSONScalar, UUIDScalar

__all__ = ["reference", "json_values", "request_input", "result_type", "to_request", "to_result"]


def reference(value: Mapping[str, Any]) -> EntityReference:
    """A ``RecordReference`` input as an entity reference."""
    return EntityReference(value["entity"], value["id"])


def json_values(index: SchemaIndex, entity_name: str, data: Any) -> dict[str, Any]:
    """JSON attributes (by logical name) -> service values: ``{"entity", "id"}`` lookups become references."""
    if not isinstance(data, Mapping):
        raise InputError(f"the attributes of {entity_name} must be a JSON object keyed by logical name")
    entity = index.model.entity(entity_name)
    values: dict[str, Any] = {}
    for name, value in data.items():
        attribute = entity.attributes.get(name)
        is_reference = isinstance(value, Mapping) and {"entity", "id"} <= set(value)
        values[name] = reference(value) if attribute is not None and attribute.targets and is_reference else value
    return values


def _input(name: str, fields: dict[str, GraphQLInputType]) -> GraphQLInputObjectType:
    return GraphQLInputObjectType(name, lambda: {key: GraphQLInputField(value) for key, value in fields.items()})


def _object(name: str, fields: dict[str, GraphQLOutputType]) -> GraphQLObjectType:
    return GraphQLObjectType(name, lambda: {key: GraphQLField(value) for key, value in fields.items()})


def request_input(entity_names: GraphQLEnumType, record: GraphQLInputObjectType) -> GraphQLInputObjectType:
    """The ``ServiceRequest`` oneOf input (``record`` is the ``RecordReference`` input)."""
    ref, json, entity = GraphQLNonNull(record), GraphQLNonNull(JSONScalar), GraphQLNonNull(entity_names)
    text, number, record_id = GraphQLNonNull(GraphQLString), GraphQLNonNull(GraphQLInt), GraphQLNonNull(UUIDScalar)
    link = _input(
        "AssociateRequest", {"target": ref, "relationship": text, "related": GraphQLNonNull(GraphQLList(ref))}
    )
    kinds: dict[str, GraphQLInputType] = {
        "create": _input("CreateRequest", {"entity": entity, "id": UUIDScalar, "attributes": json}),
        "update": _input(
            "UpdateRequest", {"entity": entity, "id": record_id, "attributes": json, "expectedVersion": BigIntScalar}
        ),
        "delete": record,
        "assign": _input("AssignRequest", {"target": ref, "owner": ref}),
        "setState": _input("SetStateRequest", {"target": ref, "state": number, "status": GraphQLInt}),
        "associate": link,
        "disassociate": link,
        "executeAction": _input("ActionRequest", {"name": text, "target": record, "parameters": JSONScalar}),
    }
    return GraphQLInputObjectType(
        "ServiceRequest",
        lambda: {key: GraphQLInputField(value) for key, value in kinds.items()},
        is_one_of=True,
        description="One request of executeMultiple; attributes are JSON keyed by logical name.",
    )


def result_type() -> GraphQLObjectType:
    """``ExecuteMultipleResult { isFaulted responses { index id results error { code message problems } } }``."""
    text = GraphQLNonNull(GraphQLString)
    problem = _object("AttributeProblem", {"attribute": text, "field": GraphQLString, "reason": text})
    error = _object(
        "ServiceError",
        {"code": text, "message": text, "problems": GraphQLNonNull(GraphQLList(GraphQLNonNull(problem)))},
    )
    item = _object(
        "ExecuteMultipleItem",
        {"index": GraphQLNonNull(GraphQLInt), "id": UUIDScalar, "results": JSONScalar, "error": error},
    )
    return _object(
        "ExecuteMultipleResult",
        {"isFaulted": GraphQLNonNull(GraphQLBoolean), "responses": GraphQLNonNull(GraphQLList(GraphQLNonNull(item)))},
    )


def to_request(index: SchemaIndex, item: Mapping[str, Any]) -> Request:
    """A ``ServiceRequest`` input as the service request it names."""
    ((kind, body),) = [(key, value) for key, value in item.items() if value is not None]
    if kind in ("create", "update"):
        target = Entity(body["entity"], json_values(index, body["entity"], body["attributes"]), id=body.get("id"))
        return CreateRequest(target) if kind == "create" else UpdateRequest(target, body.get("expectedVersion"))
    builders: dict[str, Callable[[Mapping[str, Any]], Request]] = {
        "delete": lambda b: DeleteRequest(reference(b)),
        "assign": lambda b: AssignRequest(reference(b["target"]), reference(b["owner"])),
        "setState": lambda b: SetStateRequest(reference(b["target"]), b["state"], b.get("status")),
        "associate": lambda b: AssociateRequest(
            reference(b["target"]), b["relationship"], tuple(map(reference, b["related"]))
        ),
        "disassociate": lambda b: DisassociateRequest(
            reference(b["target"]), b["relationship"], tuple(map(reference, b["related"]))
        ),
        "executeAction": lambda b: ExecuteActionRequest(
            b["name"], dict(b.get("parameters") or {}), reference(b["target"]) if b.get("target") else None
        ),
    }
    return builders[kind](body)


def _fault(index: SchemaIndex, error: Exception | None) -> dict[str, Any] | None:
    if error is None:
        return None
    problems = []
    if isinstance(error, ValidationError):
        binding = index.entities.get(error.entity)
        problems = [
            {
                "attribute": p.attribute,
                "field": binding.field_of.get(p.attribute) if binding else None,
                "reason": p.reason,
            }
            for p in error.problems
        ]
    message = error.message if isinstance(error, XrmError) else "internal error"
    return {"code": getattr(error, "code", "INTERNAL"), "message": message, "problems": problems}


def to_result(index: SchemaIndex, response: ExecuteMultipleResponse) -> dict[str, Any]:
    """The ``ExecuteMultipleResult`` of a service response."""
    responses = [
        {
            "index": entry.index,
            "id": getattr(entry.response, "id", None),
            "results": entry.response.results if entry.response else None,
            "error": _fault(index, entry.fault),
        }
        for entry in response.items
    ]
    return {"isFaulted": response.is_faulted, "responses": responses}
