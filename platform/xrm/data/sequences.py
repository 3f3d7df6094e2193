"""Sequence counters for auto-numbering: one row per (entity, attribute), incremented in place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam
from sqlalchemy.dialects import postgresql, sqlite

from xrm.schema.platform_tables import sequence_table

__all__ = ["FIRST_VALUE", "next_value", "seed"]

FIRST_VALUE = 1000
_NEXT: dict[str, Any] = {}


def _upsert(connection: Connection):
    return (postgresql if connection.dialect.name == "postgresql" else sqlite).insert(sequence_table)


def next_value(connection: Connection, entity: str, attribute: str) -> int:
    """Take the next number in the caller's transaction: one atomic INSERT .. ON CONFLICT .. RETURNING.

    The counter row stays locked until the transaction ends, so concurrent writers queue; a
    rolled-back transaction gives its number back (a later failure after commit leaves a gap).
    """
    statement = _NEXT.get(connection.dialect.name)
    if statement is None:
        statement = _upsert(connection).values(
            entity=bindparam("entity"), attribute=bindparam("attribute"), next_value=FIRST_VALUE + 1
        )
        statement = statement.on_conflict_do_update(
            index_elements=["entity", "attribute"], set_={"next_value": sequence_table.c.next_value + 1}
        ).returning(sequence_table.c.next_value)
        _NEXT[connection.dialect.name] = statement
    return int(connection.execute(statement, {"entity": entity, "attribute": attribute}).scalar_one()) - 1


def seed(connection: Connection, entity: str, attribute: str, value: int) -> None:
    """Make ``value`` the next number handed out."""
    statement = _upsert(connection).values(entity=entity, attribute=attribute, next_value=value)
    connection.execute(
        statement.on_conflict_do_update(index_elements=["entity", "attribute"], set_={"next_value": value})
    )
