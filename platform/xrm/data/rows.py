"""Row-level reads and writes on entity tables, within the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from xrm.data.entity import EntityReference
from xrm.data.environment import Environment
from xrm.errors import AttributeProblem, NotFoundError

__all__ = [
    "fetch_row",
    "require_row",
    "insert_row",
    "update_row",
    "delete_row",
    "missing_references",
    "business_unit_of",
    "ids_where",
]


def fetch_row(env: Environment, connection: Connection, entity: str, record_id: uuid.UUID) -> Mapping[str, Any] | None:
    table = env.table(entity)
    pk = table.c[env.model.entity(entity).primary_id]
    return connection.execute(select(table).where(pk == record_id)).mappings().first()


def require_row(env: Environment, connection: Connection, entity: str, record_id: uuid.UUID) -> Mapping[str, Any]:
    row = fetch_row(env, connection, entity, record_id)
    if row is None:
        raise NotFoundError(f"{entity} with id {record_id} does not exist")
    return row


def insert_row(env: Environment, connection: Connection, entity: str, columns: Mapping[str, Any]) -> None:
    connection.execute(insert(env.table(entity)).values(**columns))


def update_row(
    env: Environment, connection: Connection, entity: str, record_id: uuid.UUID, columns: Mapping[str, Any]
) -> int:
    table = env.table(entity)
    pk = table.c[env.model.entity(entity).primary_id]
    return connection.execute(update(table).where(pk == record_id).values(**columns)).rowcount


def delete_row(env: Environment, connection: Connection, entity: str, record_id: uuid.UUID) -> None:
    table = env.table(entity)
    connection.execute(delete(table).where(table.c[env.model.entity(entity).primary_id] == record_id))


def missing_references(env: Environment, connection: Connection, values: Mapping[str, Any]) -> list[AttributeProblem]:
    """Lookup values that point at records which do not exist (one query per target entity)."""
    wanted: dict[str, dict[uuid.UUID, list[str]]] = {}
    for name, value in values.items():
        if isinstance(value, EntityReference):
            wanted.setdefault(value.logical_name, {}).setdefault(value.id, []).append(name)
    problems = []
    for target, ids in wanted.items():
        table = env.table(target)
        pk = table.c[env.model.entity(target).primary_id]
        found = set(connection.execute(select(pk).where(pk.in_(list(ids)))).scalars())
        for record_id, names in ids.items():
            if record_id not in found:
                problems += [AttributeProblem(n, f"{target} with id {record_id} does not exist") for n in names]
    return sorted(problems, key=lambda p: p.attribute)


def business_unit_of(env: Environment, connection: Connection, owner: EntityReference | None) -> uuid.UUID | None:
    """The business unit of a user or team (the owning business unit of the records it owns)."""
    if owner is None or owner.logical_name not in env.model.entities:
        return None
    table = env.table(owner.logical_name)
    if "businessunitid" not in table.c:
        return None
    pk = table.c[env.model.entity(owner.logical_name).primary_id]
    return connection.execute(select(table.c.businessunitid).where(pk == owner.id)).scalar_one_or_none()


def ids_where(
    env: Environment,
    connection: Connection,
    entity: str,
    column: str,
    value: Any,
    type_column: str | None = None,
    type_value: str | None = None,
) -> list[uuid.UUID]:
    table = env.table(entity)
    pk = table.c[env.model.entity(entity).primary_id]
    statement = select(pk).where(table.c[column] == value)
    if type_column is not None:
        statement = statement.where(table.c[type_column] == type_value)
    return list(connection.execute(statement.order_by(pk)).scalars())
