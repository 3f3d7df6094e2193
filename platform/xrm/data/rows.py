"""Row-level reads and writes on entity tables, within the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update

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


# Statements are built once per table and executed with parameters, so SQLAlchemy's compiled
# cache is hit instead of constructing and hashing a new statement for every record.


@lru_cache(maxsize=4096)
def _by_id(table: Table, pk_name: str, kind: str) -> Any:
    pk = table.c[pk_name]
    if kind == "select":
        return select(table).where(pk == bindparam("_id"))
    if kind == "update":
        return update(table).where(pk == bindparam("_id"))
    if kind == "delete":
        return delete(table).where(pk == bindparam("_id"))
    return select(pk).where(pk.in_(bindparam("_ids", expanding=True)))


def _statement(env: Environment, entity: str, kind: str) -> Any:
    return _by_id(env.table(entity), env.model.entity(entity).primary_id, kind)


def fetch_row(env: Environment, connection: Connection, entity: str, record_id: uuid.UUID) -> Mapping[str, Any] | None:
    row = connection.execute(_statement(env, entity, "select"), {"_id": record_id}).mappings().first()
    return cast("Mapping[str, Any] | None", row)


def require_row(env: Environment, connection: Connection, entity: str, record_id: uuid.UUID) -> Mapping[str, Any]:
    row = fetch_row(env, connection, entity, record_id)
    if row is None:
        raise NotFoundError(f"{entity} with id {record_id} does not exist")
    return row


@lru_cache(maxsize=1024)
def _insert(table: Table) -> Any:
    return insert(table)


def insert_row(env: Environment, connection: Connection, entity: str, columns: Mapping[str, Any]) -> None:
    connection.execute(_insert(env.table(entity)), dict(columns))


def update_row(
    env: Environment, connection: Connection, entity: str, record_id: uuid.UUID, columns: Mapping[str, Any]
) -> int:
    return connection.execute(_statement(env, entity, "update"), {**columns, "_id": record_id}).rowcount


def delete_row(env: Environment, connection: Connection, entity: str, record_id: uuid.UUID) -> None:
    connection.execute(_statement(env, entity, "delete"), {"_id": record_id})


def missing_references(env: Environment, connection: Connection, values: Mapping[str, Any]) -> list[AttributeProblem]:
    """Lookup values that point at records which do not exist (one query per target entity)."""
    wanted: dict[str, dict[uuid.UUID, list[str]]] = {}
    for name, value in values.items():
        if isinstance(value, EntityReference):
            wanted.setdefault(value.logical_name, {}).setdefault(value.id, []).append(name)
    problems = []
    for target, ids in wanted.items():
        found = set(connection.execute(_statement(env, target, "ids"), {"_ids": list(ids)}).scalars())
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
