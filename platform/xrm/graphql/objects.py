"""Output types: one object type per entity, its connection and edge, choice enums and lookup unions.

An entity type implements ``Node`` and has: ``id`` (global id); one field per attribute (choices
as enums, multi-choices as lists of enums, calculated and rollup attributes as plain fields);
for each lookup the related record (an object, or a union for customer/owner/regarding) beside
its raw id; and a connection per 1:N and N:N relationship it is the parent of.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
    GraphQLUnionType,
)
from xrm.graphql.bindings import EntityBinding
from xrm.graphql.relay import node_interface, page_info_type, resolve_record_type
from xrm.graphql.typemap import TypeMap
from xrm.metadata import CompiledAttribute, CompiledEntity

__all__ = ["build_enums", "build_objects", "connection_arguments", "resolve_by_response_key"]


def resolve_by_response_key(source: Any, info: Any, **_: Any) -> Any:
    """Connections are stored under their response key: aliases may ask for different pages."""
    return source.get(info.path.key)


def _describe(attribute: CompiledAttribute) -> str | None:
    meta = attribute.metadata
    parts = [part for part in (meta.display_name, meta.description) if part]
    return ". ".join(parts) if parts else None


def _enum_description(entity: CompiledEntity, attribute: CompiledAttribute) -> str:
    optionset = getattr(attribute.metadata, "optionset", None)
    source = f"option set {optionset}" if optionset else f"{entity.logical_name}.{attribute.name}"
    return f"Options of {source}; each value's description is its label."


def build_enums(types: TypeMap) -> None:
    """One enum per option set (global) or per choice attribute (local options, state, status)."""
    names = types.index.names
    for entity in types.index.model.entities.values():
        for attribute in entity.attributes.values():
            if attribute.type not in ("choice", "multichoice") or not attribute.options:
                continue
            name = names.enum(entity, attribute)
            if name in types.enums:
                continue
            values = names.enum_values(attribute.options)
            labels = {option.value: option for option in attribute.options}
            types.enums[name] = GraphQLEnumType(
                name,
                {
                    value_name: GraphQLEnumValue(value, description=labels[value].label)
                    for value, value_name in values.items()
                },
                description=_enum_description(entity, attribute),
            )


def connection_arguments(types: TypeMap, entity: str) -> dict[str, GraphQLArgument]:
    """``filter``, ``orderBy`` and Relay paging arguments of a connection of ``entity``."""
    maximum = types.index.settings.max_page_size
    return {
        "filter": GraphQLArgument(types.filters[entity]),
        "orderBy": GraphQLArgument(GraphQLList(GraphQLNonNull(types.orders[entity]))),
        "first": GraphQLArgument(GraphQLInt, description=f"Page size, forward (at most {maximum})."),
        "after": GraphQLArgument(GraphQLString, description="Cursor of the edge the page starts after."),
        "last": GraphQLArgument(GraphQLInt, description=f"Page size, backward (at most {maximum})."),
        "before": GraphQLArgument(GraphQLString, description="Cursor of the edge the page ends before."),
    }


def _entity_fields(types: TypeMap, binding: EntityBinding) -> dict[str, GraphQLField]:
    entity = binding.entity
    fields: dict[str, GraphQLField] = {"id": GraphQLField(GraphQLNonNull(GraphQLID), description="The global id.")}
    for field_name, attribute_name in sorted({**binding.values, **binding.calculated}.items()):
        attribute = entity.attributes[attribute_name]
        fields[field_name] = GraphQLField(types.value_type(entity, attribute), description=_describe(attribute))
    for field_name, attribute_name in sorted(binding.records.items()):
        attribute = entity.attributes[attribute_name]
        fields[field_name] = GraphQLField(
            types.record_type(entity, attribute),
            description=f"The record {attribute_name} points to.",
            extensions={"xrm": "record"},
        )
    for field_name, link in sorted(binding.relations.items()):
        fields[field_name] = GraphQLField(
            GraphQLNonNull(types.connections[link.child]),
            connection_arguments(types, link.child),
            resolve=resolve_by_response_key,
            description=f"Related {link.child} records ({link.relationship}).",
            extensions={"xrm": "connection"},
        )
    return fields


def _object_type(types: TypeMap, binding: EntityBinding) -> GraphQLObjectType:
    definition = binding.entity.definition
    return GraphQLObjectType(
        binding.type_name,
        lambda: _entity_fields(types, binding),
        interfaces=[node_interface],
        description=" - ".join(part for part in (definition.display_name, definition.description) if part) or None,
        extensions={"xrm_entity": binding.logical_name},
    )


def _connection_types(types: TypeMap, binding: EntityBinding) -> GraphQLObjectType:
    node = types.objects[binding.logical_name]
    edge = GraphQLObjectType(
        binding.names.type("Edge"),
        lambda: {"cursor": GraphQLField(GraphQLNonNull(GraphQLString)), "node": GraphQLField(GraphQLNonNull(node))},
    )
    return GraphQLObjectType(
        binding.names.type("Connection"),
        lambda: {
            "edges": GraphQLField(GraphQLNonNull(GraphQLList(GraphQLNonNull(edge)))),
            "nodes": GraphQLField(
                GraphQLNonNull(GraphQLList(GraphQLNonNull(node))), description="The nodes of the edges."
            ),
            "pageInfo": GraphQLField(GraphQLNonNull(page_info_type)),
            "totalCount": GraphQLField(GraphQLNonNull(GraphQLInt), description="Records matching the filter."),
        },
        description=f"A page of {binding.logical_name} records.",
    )


def _unions(types: TypeMap) -> None:
    names = types.index.names
    for entity in types.index.model.entities.values():
        for attribute in entity.attributes.values():
            union = names.union(attribute)
            if union is None or union in types.unions:
                continue
            targets = names.polymorphic_targets(attribute)
            types.index.unions[union] = targets
            types.unions[union] = GraphQLUnionType(
                union,
                lambda targets=targets: [types.objects[target] for target in targets],  # type: ignore[misc]
                resolve_type=resolve_record_type,
                description=f"A record of one of: {', '.join(targets)}.",
            )


def build_objects(types: TypeMap) -> None:
    """Object, edge and connection types of every entity, and the polymorphic lookup unions."""
    for logical_name, binding in types.index.entities.items():
        types.objects[logical_name] = _object_type(types, binding)
    for logical_name, binding in types.index.entities.items():
        types.connections[logical_name] = _connection_types(types, binding)
    _unions(types)
