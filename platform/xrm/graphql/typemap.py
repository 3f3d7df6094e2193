"""The GraphQL types of one schema, by role, shared by the modules that build them.

The types are graphql-core types built directly from the model: fields are thunks, so types that
refer to each other (an account's cases, a case's customer) are built in any order, and fields
without arguments use graphql-core's default resolver (a dict lookup), the cheapest there is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLFloat,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLString,
    GraphQLUnionType,
)
from xrm.graphql.bindings import SchemaIndex, ValueKind, value_kind
from xrm.graphql.scalars import BigIntScalar, DateScalar, DateTimeScalar, DecimalScalar, UUIDScalar
from xrm.metadata import CompiledAttribute, CompiledEntity

__all__ = ["SCALARS", "TypeMap"]

SCALARS: dict[str, GraphQLScalarType] = {
    "string": GraphQLString,
    "int": GraphQLInt,
    "bigint": BigIntScalar,
    "float": GraphQLFloat,
    "decimal": DecimalScalar,
    "boolean": GraphQLBoolean,
    "datetime": DateTimeScalar,
    "date": DateScalar,
    "uuid": UUIDScalar,
}


@dataclass
class TypeMap:
    """Types by role; ``objects``/``connections``/inputs are keyed by logical name."""

    index: SchemaIndex
    enums: dict[str, GraphQLEnumType] = field(default_factory=dict)  # enum type name -> type
    objects: dict[str, GraphQLObjectType] = field(default_factory=dict)
    connections: dict[str, GraphQLObjectType] = field(default_factory=dict)
    unions: dict[str, GraphQLUnionType] = field(default_factory=dict)
    filters: dict[str, GraphQLInputObjectType] = field(default_factory=dict)
    list_filters: dict[str, GraphQLInputObjectType] = field(default_factory=dict)
    orders: dict[str, GraphQLInputObjectType] = field(default_factory=dict)
    creates: dict[str, GraphQLInputObjectType] = field(default_factory=dict)
    updates: dict[str, GraphQLInputObjectType] = field(default_factory=dict)
    shared: dict[str, object] = field(default_factory=dict)  # shared inputs/enums by name

    def kind(self, attribute: CompiledAttribute) -> ValueKind:
        return value_kind(self.index.model, attribute)

    def enum(self, entity: CompiledEntity, attribute: CompiledAttribute) -> GraphQLEnumType:
        return self.enums[self.index.names.enum(entity, attribute)]

    def value_type(self, entity: CompiledEntity, attribute: CompiledAttribute) -> GraphQLOutputType:
        """The output (and input) type of an attribute's value field."""
        kind = self.kind(attribute)
        if kind == "choice":
            return self.enum(entity, attribute)
        if kind == "multichoice":
            return GraphQLList(GraphQLNonNull(self.enum(entity, attribute)))
        scalar = SCALARS[kind]
        return GraphQLNonNull(scalar) if attribute.name == entity.primary_id else scalar

    def record_type(self, entity: CompiledEntity, attribute: CompiledAttribute) -> GraphQLOutputType:
        """The type of a lookup's related-record field: the target's object type, or a union."""
        union = self.index.names.union(attribute)
        if union is not None:
            return self.unions[union]
        (target,) = self.index.names.polymorphic_targets(attribute)
        return self.objects[target]
