"""The compiled model as SQLAlchemy Core tables: one per entity and one per N:N intersect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.types import TypeEngine

from xrm.metadata import CompiledAttribute, CompiledEntity, CompiledRelationship, Model
from xrm.schema.names import constraint_name

__all__ = [
    "ColumnSpec",
    "attribute_columns",
    "build_tables",
    "entity_table",
    "intersect_table",
    "POLYMORPHIC_TYPE_LENGTH",
]

POLYMORPHIC_TYPE_LENGTH = 64


@dataclass(frozen=True)
class ColumnSpec:
    """One database column of an attribute. ``suffix`` tells columns of one attribute apart."""

    name: str
    type: TypeEngine
    suffix: str = ""
    foreign_key: str | None = None  # "table.column"
    primary_key: bool = False
    index: bool = False


def _rollup_type(model: Model, attribute: CompiledAttribute) -> TypeEngine:
    meta: Any = attribute.metadata
    if meta.aggregate.value == "count":
        return BigInteger()
    related = model.entities.get(meta.related_entity)
    source = related.attributes.get(meta.attribute) if related else None
    if meta.aggregate.value == "avg":
        return Numeric(28, 10)
    if source is None:
        return Numeric(28, 10)
    if source.type in ("integer", "bigint"):
        return BigInteger()
    if source.type == "datetime":
        return _scalar_type(source.metadata) or DateTime(timezone=True)
    return Numeric(28, 10)


def _scalar_type(meta) -> TypeEngine | None:
    kind = meta.type
    if kind in ("string", "autonumber"):
        return String(meta.max_length)
    if kind == "memo":
        return Text()
    if kind in ("integer", "choice"):
        return Integer()
    if kind == "bigint":
        return BigInteger()
    if kind == "decimal":
        return Numeric(13 + meta.precision, meta.precision)
    if kind == "money":
        return Numeric(19, 4)
    if kind == "float":
        return Double()
    if kind == "boolean":
        return Boolean()
    if kind == "datetime":
        return Date() if meta.behavior.value == "date_only" else DateTime(timezone=True)
    if kind == "multichoice":
        return JSON(none_as_null=True)
    if kind == "uniqueidentifier":
        return Uuid()
    return None


def attribute_columns(model: Model, entity: CompiledEntity, attribute: CompiledAttribute) -> list[ColumnSpec]:
    """The columns that store ``attribute`` (none for calculated attributes, evaluated on read)."""
    meta = attribute.metadata
    if meta.type == "calculated":
        return []
    if meta.type == "lookup":
        target = model.entities.get(meta.target)
        foreign_key = f"{target.logical_name}.{target.primary_id}" if target else None
        return [ColumnSpec(attribute.name, Uuid(), foreign_key=foreign_key, index=True)]
    if attribute.is_polymorphic:
        return [
            ColumnSpec(attribute.name, Uuid(), index=True),
            ColumnSpec(f"{attribute.name}type", String(POLYMORPHIC_TYPE_LENGTH), suffix="type"),
        ]
    if meta.type == "rollup":
        specs = [ColumnSpec(attribute.name, _rollup_type(model, attribute))]
        if meta.aggregate.value == "avg":  # kept incrementally as a running sum and count
            specs.append(ColumnSpec(f"{attribute.name}_sum", Numeric(28, 10), suffix="sum"))
            specs.append(ColumnSpec(f"{attribute.name}_count", BigInteger(), suffix="count"))
        return specs
    column_type = _scalar_type(meta)
    assert column_type is not None, meta.type
    primary = attribute.name == entity.primary_id
    return [ColumnSpec(attribute.name, column_type, primary_key=primary)]


def entity_table(model: Model, entity: CompiledEntity, metadata: MetaData) -> Table:
    table = Table(entity.logical_name, metadata)
    for attribute in entity.attributes.values():
        for spec in attribute_columns(model, entity, attribute):
            args = []
            if spec.foreign_key:
                referred = spec.foreign_key.split(".")[0]
                args.append(
                    ForeignKey(spec.foreign_key, name=constraint_name("fk", entity.logical_name, spec.name, referred))
                )
            table.append_column(Column(spec.name, spec.type, *args, nullable=not spec.primary_key))
            if spec.index:
                table.append_constraint(Index(constraint_name("ix", entity.logical_name, spec.name), spec.name))
    table.append_constraint(PrimaryKeyConstraint(entity.primary_id, name=constraint_name("pk", entity.logical_name)))
    unique = {attr.name for attr in entity.attributes.values() if attr.type == "autonumber"}
    for name in sorted(unique):
        table.append_constraint(UniqueConstraint(name, name=constraint_name("uq", entity.logical_name, name)))
    for key in entity.keys.values():
        table.append_constraint(
            UniqueConstraint(*key.metadata.attributes, name=constraint_name("uq", entity.logical_name, key.name))
        )
    return table


def intersect_table(model: Model, relationship: CompiledRelationship, metadata: MetaData) -> Table:
    assert relationship.intersect is not None
    name = relationship.intersect
    one, two = model.entity(relationship.referenced_entity), model.entity(relationship.referencing_entity)
    first, second = relationship.intersect_columns
    return Table(
        name,
        metadata,
        Column(
            first,
            Uuid(),
            ForeignKey(f"{one.logical_name}.{one.primary_id}", name=constraint_name("fk", name, first)),
            nullable=False,
        ),
        Column(
            second,
            Uuid(),
            ForeignKey(f"{two.logical_name}.{two.primary_id}", name=constraint_name("fk", name, second)),
            nullable=False,
        ),
        PrimaryKeyConstraint(first, second, name=constraint_name("pk", name)),
        Index(constraint_name("ix", name, second), second),
    )


def build_tables(model: Model) -> MetaData:
    """Every entity and intersect table of ``model`` in a fresh :class:`MetaData`."""
    metadata = MetaData()
    for entity in model.entities.values():
        entity_table(model, entity, metadata)
    for relationship in model.relationships.values():
        if relationship.kind == "many_to_many":
            intersect_table(model, relationship, metadata)
    return metadata
