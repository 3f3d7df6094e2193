"""The activities of a record and of everything that rolls up to it, as one statement."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import MetaData, Select, and_, literal, null, or_, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from xrm.metadata import CompiledAttribute, CompiledEntity, Model
from xrm.metadata.entity import ActivityRollup

__all__ = ["ACTIVITY_COLUMNS", "activity_entities", "activity_query", "rollup_parents", "MAX_EXTENDED_DEPTH"]

ACTIVITY_COLUMNS = (
    "subject",
    "statecode",
    "statuscode",
    "actualdurationminutes",
    "scheduledstart",
    "scheduledend",
    "createdon",
)
MAX_EXTENDED_DEPTH = 4


def _regarding(entity: CompiledEntity) -> CompiledAttribute | None:
    return next((a for a in entity.attributes.values() if a.type == "regarding"), None)


def activity_entities(model: Model) -> list[tuple[CompiledEntity, CompiledAttribute]]:
    """Every activity entity with its regarding attribute."""
    found = []
    for entity in model.entities.values():
        regarding = _regarding(entity) if entity.is_activity else None
        if regarding is not None:
            found.append((entity, regarding))
    return found


def _child_sets(
    model: Model, tables: MetaData, entity: str, ids: Any, depth: int, extended_only: bool
) -> list[tuple[str, Any]]:
    """(entity, id-subquery) pairs of the records whose activities roll up to ``entity`` rows in ``ids``."""
    found: list[tuple[str, Any]] = []
    for rel in model.relationships.values():
        if rel.kind != "one_to_many" or rel.referenced_entity != entity or rel.lookup is None:
            continue
        if rel.activity_rollup is ActivityRollup.NONE or (
            extended_only and rel.activity_rollup is not ActivityRollup.EXTENDED
        ):
            continue
        child = model.entity(rel.referencing_entity)
        if child.is_activity:
            continue
        table = tables.tables[child.logical_name]
        lookup = child.attributes[rel.lookup]
        where: list[ColumnElement[bool]] = [table.c[lookup.name].in_(ids)]
        if lookup.is_polymorphic:
            where.append(table.c[f"{lookup.name}type"] == entity)
        subquery = select(table.c[child.primary_id]).where(*where)
        found.append((child.logical_name, subquery))
        if rel.activity_rollup is ActivityRollup.EXTENDED and depth < MAX_EXTENDED_DEPTH:
            found += _child_sets(model, tables, child.logical_name, subquery, depth + 1, extended_only=True)
    return found


def activity_query(
    model: Model,
    tables: MetaData,
    entity: str,
    record_id: uuid.UUID,
    read_filter: Callable[[str, Any], ColumnElement[bool] | None] | None = None,
) -> Select[Any]:
    """Activities regarding the record or anything rolling up to it: UNION ALL over activity entities.

    Columns: ``activityid``, ``activitytypecode`` (the entity), ``regardingobjectid``,
    ``regardingobjectidtype`` and :data:`ACTIVITY_COLUMNS` (null where an activity type lacks one).
    ``read_filter(entity, table)`` (the caller's record security) restricts every activity table.
    """
    sources = [(entity, [record_id]), *_child_sets(model, tables, entity, [record_id], 0, extended_only=False)]
    parts = []
    for activity, regarding in activity_entities(model):
        table = tables.tables[activity.logical_name]
        matches: list[ColumnElement[bool]] = []
        for target, ids in sources:
            if target in regarding.targets:
                matches.append(and_(table.c[f"{regarding.name}type"] == target, table.c[regarding.name].in_(ids)))
        if not matches:
            continue
        columns = [
            table.c[activity.primary_id].label("activityid"),
            literal(activity.logical_name).label("activitytypecode"),
            table.c[regarding.name].label("regardingobjectid"),
            table.c[f"{regarding.name}type"].label("regardingobjectidtype"),
            *[(table.c[name] if name in table.c else null()).label(name) for name in ACTIVITY_COLUMNS],
        ]
        statement = select(*columns).where(or_(*matches))
        if read_filter is not None and (allowed := read_filter(activity.logical_name, table)) is not None:
            statement = statement.where(allowed)
        parts.append(statement)
    if not parts:
        empty = select(*[null().label(n) for n in ("activityid", "activitytypecode")]).where(literal(False))
        return cast("Select[Any]", empty)
    combined: Select[Any] = union_all(*parts).subquery("activities").select() if len(parts) > 1 else parts[0]
    return combined


def rollup_parents(
    model: Model, connection: Any, tables: MetaData, entity: str, record_id: uuid.UUID, depth: int = 0
) -> set[tuple[str, uuid.UUID]]:
    """The record and every record its activities roll up to (walking rollup relationships upward)."""
    found = {(entity, record_id)}
    if depth >= MAX_EXTENDED_DEPTH:
        return found
    source = model.entities.get(entity)
    if source is None:
        return found
    table = tables.tables[entity]
    for rel in model.relationships.values():
        if rel.kind != "one_to_many" or rel.referencing_entity != entity or rel.lookup is None:
            continue
        if rel.activity_rollup is ActivityRollup.NONE:
            continue
        lookup = source.attributes[rel.lookup]
        columns = [table.c[lookup.name]] + ([table.c[f"{lookup.name}type"]] if lookup.is_polymorphic else [])
        row = connection.execute(select(*columns).where(table.c[source.primary_id] == record_id)).first()
        if row is None or row[0] is None or (lookup.is_polymorphic and row[1] != rel.referenced_entity):
            continue
        found |= rollup_parents(model, connection, tables, rel.referenced_entity, row[0], depth + 1)
    return found
