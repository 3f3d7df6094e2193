"""Between :class:`Entity` values and table columns."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from xrm.data.entity import Entity, EntityReference
from xrm.metadata import CompiledEntity

__all__ = ["to_columns", "from_row", "stored_attributes", "select_columns"]


def stored_attributes(entity: CompiledEntity) -> list[str]:
    """Attributes that have a column (calculated ones are evaluated on read)."""
    return [name for name, attr in entity.attributes.items() if attr.type != "calculated"]


def select_columns(entity: CompiledEntity, attributes: Iterable[str] | None) -> list[str]:
    """Column names to read for ``attributes`` (all stored ones when None)."""
    names = stored_attributes(entity) if attributes is None else list(attributes)
    columns: list[str] = []
    for name in names:
        attr = entity.attributes.get(name)
        if attr is None or attr.type == "calculated":
            continue
        columns.append(name)
        if attr.is_polymorphic:
            columns.append(f"{name}type")
    if entity.primary_id not in columns:
        columns.insert(0, entity.primary_id)
    return columns


def to_columns(entity: CompiledEntity, values: Mapping[str, Any]) -> dict[str, Any]:
    """Validated attribute values -> column values (lookups split into id and type)."""
    columns: dict[str, Any] = {}
    for name, value in values.items():
        attr = entity.attributes[name]
        if attr.targets:
            reference = value if isinstance(value, EntityReference) else None
            columns[name] = reference.id if reference else None
            if attr.is_polymorphic:
                columns[f"{name}type"] = reference.logical_name if reference else None
        else:
            columns[name] = value
    return columns


def from_row(entity: CompiledEntity, row: Mapping[str, Any], attributes: Iterable[str] | None = None) -> Entity:
    """A database row -> :class:`Entity` (lookups become :class:`EntityReference`)."""
    record = Entity(entity.logical_name, id=row[entity.primary_id])
    names = stored_attributes(entity) if attributes is None else attributes
    for name in names:
        attr = entity.attributes.get(name)
        if attr is None or name not in row:
            continue
        value = row[name]
        if attr.targets and value is not None:
            target = row.get(f"{name}type") if attr.is_polymorphic else attr.targets[0]
            value = EntityReference(str(target), value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
        record[name] = value
    return record
