"""Audit history: who changed what, when, for entities (and attributes) marked audited."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select

from xrm.data.environment import Environment
from xrm.metadata import CompiledEntity
from xrm.schema.platform_tables import audit_table

__all__ = ["AuditRecord", "record", "read_history"]

_INSERT = insert(audit_table)
_SKIP = frozenset({"modifiedon", "versionnumber", "modifiedby"})


@dataclass(frozen=True)
class AuditRecord:
    operation: str
    user_id: uuid.UUID | None
    created_on: dt.datetime
    changes: dict[str, Any]


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _audited_columns(entity: CompiledEntity) -> set[str]:
    columns = set()
    for attr in entity.attributes.values():
        if attr.metadata.audited and attr.type != "calculated" and attr.name not in _SKIP:
            columns.add(attr.name)
            if attr.is_polymorphic:
                columns.add(f"{attr.name}type")
    return columns


def record(
    env: Environment,
    connection: Connection,
    entity: CompiledEntity,
    record_id: uuid.UUID,
    operation: str,
    user_id: uuid.UUID | None,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
) -> None:
    """Write one audit row if the entity is audited; updates keep only the values that changed."""
    if not entity.definition.audited:
        return
    if operation in ("create", "update", "delete"):
        columns = _audited_columns(entity)
        before, after = old or {}, new or {}
        changes = {
            name: [_plain(before.get(name)), _plain(after.get(name))]
            for name in sorted(columns & (set(before) | set(after)))
            if before.get(name) != after.get(name)
        }
        if operation == "update" and not changes:
            return
    else:
        changes = {key: [_plain((old or {}).get(key)), _plain(value)] for key, value in (new or {}).items()}
    connection.execute(
        _INSERT,
        {
            "auditid": uuid.uuid4(), "entity": entity.logical_name, "recordid": record_id, "operation": operation,
            "userid": user_id, "createdon": env.clock(), "changes": changes,
        },
    )  # fmt: skip


def read_history(
    connection: Connection, entity: str, record_id: uuid.UUID, *, hidden: frozenset[str] = frozenset()
) -> list[AuditRecord]:
    """The audit rows of one record, oldest first.

    The old and new values of ``hidden`` attributes (field security) read as null: the history
    still shows that they changed, not what they held.
    """
    rows = connection.execute(
        select(audit_table)
        .where(audit_table.c.entity == entity, audit_table.c.recordid == record_id)
        .order_by(audit_table.c.createdon, audit_table.c.auditid)
    ).mappings()
    masked = hidden | {f"{name}type" for name in hidden}  # a polymorphic lookup's type column too
    return [AuditRecord(r["operation"], r["userid"], r["createdon"], _masked(r["changes"], masked)) for r in rows]


def _masked(changes: dict[str, Any], masked: frozenset[str]) -> dict[str, Any]:
    if not masked or not changes:
        return changes
    return {name: [None, None] if name in masked else values for name, values in changes.items()}
