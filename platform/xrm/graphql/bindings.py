"""How the generated schema maps onto the model: per entity, which GraphQL field reads which attribute.

Built once per schema from the model and the :class:`~xrm.graphql.naming.NameConverter`; the
resolvers, the look-ahead planner, the filter compiler and the mutations all read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from xrm.graphql.naming import EntityNames, NameConverter
from xrm.graphql.settings import GraphQLSettings
from xrm.metadata import CompiledAttribute, CompiledEntity, CompiledRelationship, Model

__all__ = [
    "ValueKind",
    "RelationLink",
    "EntityBinding",
    "SchemaIndex",
    "value_kind",
    "build_index",
    "READ_ONLY_INPUTS",
]

ValueKind = Literal[
    "string", "int", "bigint", "float", "decimal", "boolean", "datetime", "date", "uuid", "choice", "multichoice"
]
# Attributes the platform maintains: never part of create or update inputs.
READ_ONLY_INPUTS = frozenset(
    {"createdon", "modifiedon", "createdby", "modifiedby", "versionnumber", "owningbusinessunit", "statecode"}
)

_SCALAR_KINDS: dict[str, ValueKind] = {
    "string": "string", "memo": "string", "autonumber": "string", "integer": "int", "bigint": "bigint",
    "decimal": "decimal", "money": "decimal", "float": "float", "boolean": "boolean", "choice": "choice",
    "multichoice": "multichoice", "uniqueidentifier": "uuid", "lookup": "uuid", "customer": "uuid",
    "owner": "uuid", "regarding": "uuid",
}  # fmt: skip
_CALCULATED_KINDS: dict[str, ValueKind] = {
    "string": "string", "integer": "int", "decimal": "decimal", "money": "decimal", "float": "float",
    "boolean": "boolean", "datetime": "datetime",
}  # fmt: skip


def _datetime_kind(attribute: CompiledAttribute) -> ValueKind:
    behavior = getattr(attribute.metadata, "behavior", None)
    return "date" if behavior is not None and behavior.value == "date_only" else "datetime"


def value_kind(model: Model, attribute: CompiledAttribute) -> ValueKind:
    """The GraphQL value family of an attribute (rollups and calculated ones by their result)."""
    meta = attribute.metadata
    if meta.type == "datetime":
        return _datetime_kind(attribute)
    if meta.type == "calculated":
        return _CALCULATED_KINDS[meta.result_type]
    if meta.type == "rollup":
        function = meta.aggregate.value
        if function == "count":
            return "int"
        if function == "avg":
            return "decimal"
        related = model.entities.get(meta.related_entity)
        source = related.attributes.get(meta.attribute or "") if related else None
        if source is not None and source.type in ("integer", "bigint"):
            return "bigint"
        if source is not None and source.type == "datetime":
            return _datetime_kind(source)
        return "decimal"
    return _SCALAR_KINDS[meta.type]


@dataclass(frozen=True)
class RelationLink:
    """How a connection field reaches the child records of a parent.

    1:N: children whose ``lookup`` holds the parent's id. N:N: children joined through the
    ``intersect`` table, whose ``parent_column`` holds the parent's id and ``child_column`` the child's.
    """

    field: str
    relationship: str
    parent: str
    child: str
    lookup: str | None = None
    intersect: str | None = None
    parent_column: str | None = None
    child_column: str | None = None

    @property
    def many_to_many(self) -> bool:
        return self.intersect is not None


@dataclass
class EntityBinding:
    """One entity's object type: GraphQL field -> attribute, lookup record, or connection."""

    entity: CompiledEntity
    names: EntityNames
    values: dict[str, str] = field(default_factory=dict)  # stored value fields (raw lookup ids too)
    calculated: dict[str, str] = field(default_factory=dict)
    records: dict[str, str] = field(default_factory=dict)  # related record field -> lookup attribute
    relations: dict[str, RelationLink] = field(default_factory=dict)
    field_of: dict[str, str] = field(default_factory=dict)  # attribute -> its value field

    @property
    def type_name(self) -> str:
        return self.names.base

    @property
    def logical_name(self) -> str:
        return self.entity.logical_name


@dataclass
class SchemaIndex:
    """Everything the resolvers need to know about the schema they serve."""

    model: Model
    names: NameConverter
    settings: GraphQLSettings
    entities: dict[str, EntityBinding] = field(default_factory=dict)
    by_type: dict[str, EntityBinding] = field(default_factory=dict)
    unions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # union name -> target entities

    def binding(self, entity: str) -> EntityBinding:
        return self.entities[entity]

    def targets(self, entity: str, attribute: str) -> tuple[str, ...]:
        """Installed targets of a lookup attribute of ``entity``."""
        return self.names.polymorphic_targets(self.model.entities[entity].attributes[attribute])


def _relation_link(entity: str, relationship: CompiledRelationship, reverse: bool, field_name: str) -> RelationLink:
    if relationship.kind == "one_to_many":
        return RelationLink(
            field_name, relationship.name, entity, relationship.referencing_entity, lookup=relationship.lookup
        )
    first, second = relationship.intersect_columns
    if not reverse:
        return RelationLink(
            field_name, relationship.name, entity, relationship.referencing_entity,
            intersect=relationship.intersect, parent_column=first, child_column=second,
        )  # fmt: skip
    return RelationLink(
        field_name, relationship.name, entity, relationship.referenced_entity,
        intersect=relationship.intersect, parent_column=second, child_column=first,
    )  # fmt: skip


def build_index(model: Model, names: NameConverter, settings: GraphQLSettings) -> SchemaIndex:
    """The bindings of every entity of ``model``."""
    index = SchemaIndex(model, names, settings)
    for logical_name in sorted(model.entities):
        entity = model.entities[logical_name]
        entity_names = names.entity(logical_name)
        binding = EntityBinding(entity, entity_names)
        for attribute_name, field_name in entity_names.values.items():
            target = binding.calculated if entity.attributes[attribute_name].type == "calculated" else binding.values
            target[field_name] = attribute_name
            binding.field_of[attribute_name] = field_name
        binding.records = {field_name: attr for attr, field_name in entity_names.records.items()}
        for relationship, reverse in names.relations_of(logical_name):
            field_name = entity_names.relations[(relationship.name, reverse)]
            binding.relations[field_name] = _relation_link(logical_name, relationship, reverse, field_name)
        index.entities[logical_name] = binding
        index.by_type[binding.type_name] = binding
    return index
