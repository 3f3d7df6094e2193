"""Record sharing: access rights granted on one record to a user or team, cascading along
relationships per their share / unshare settings, and read access inherited on reparent.

This module records who may do what; the security layer turns it into SQL predicates.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import IntFlag
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from xrm.data.entity import EntityReference
from xrm.data.environment import Environment
from xrm.schema.platform_tables import share_table

__all__ = ["AccessRights", "SharedPrincipal", "set_rights", "shared_principals", "set_inherited"]


class AccessRights(IntFlag):
    """Dataverse's access-right values."""

    NONE = 0
    READ = 1
    WRITE = 2
    APPEND = 4
    APPEND_TO = 16
    CREATE = 32
    DELETE = 65536
    SHARE = 262144
    ASSIGN = 524288


@dataclass(frozen=True)
class SharedPrincipal:
    principal: EntityReference
    rights: AccessRights
    inherited: AccessRights


def _key(entity: str, record_id: uuid.UUID, principal: EntityReference) -> Any:
    c = share_table.c
    return (c.entity == entity) & (c.objectid == record_id) & (c.principalid == principal.id)


def _current(
    connection: Connection, entity: str, record_id: uuid.UUID, principal: EntityReference
) -> tuple[int, int] | None:
    row = connection.execute(
        select(share_table.c.access_rights, share_table.c.inherited_rights).where(_key(entity, record_id, principal))
    ).first()
    return (row[0], row[1]) if row else None


def _store(
    env: Environment,
    connection: Connection,
    entity: str,
    record_id: uuid.UUID,
    principal: EntityReference,
    rights: int,
    inherited: int,
) -> None:
    current = _current(connection, entity, record_id, principal)
    where = _key(entity, record_id, principal)
    if not rights and not inherited:
        if current is not None:
            connection.execute(delete(share_table).where(where))
        return
    values = {"access_rights": rights, "inherited_rights": inherited, "modifiedon": env.clock()}
    if current is None:
        connection.execute(
            insert(share_table).values(
                entity=entity,
                objectid=record_id,
                principalid=principal.id,
                principaltype=principal.logical_name,
                **values,
            )
        )
    else:
        connection.execute(update(share_table).where(where).values(**values))


def set_rights(
    env: Environment,
    connection: Connection,
    target: EntityReference,
    principal: EntityReference,
    rights: int,
    *,
    mode: str,
) -> tuple[int, int]:
    """``mode`` grant (add), modify (replace) or revoke (remove all shared rights); returns (before, after)."""
    before, inherited = _current(connection, target.logical_name, target.id, principal) or (0, 0)
    after = {"grant": before | rights, "modify": rights, "revoke": 0}[mode]
    _store(env, connection, target.logical_name, target.id, principal, after, inherited)
    return before, after


def set_inherited(
    env: Environment,
    connection: Connection,
    target: EntityReference,
    principal: EntityReference,
    rights: int,
    *,
    add: bool,
) -> None:
    """Add or remove rights a principal holds through a parent record (reparent cascade)."""
    direct, inherited = _current(connection, target.logical_name, target.id, principal) or (0, 0)
    _store(
        env,
        connection,
        target.logical_name,
        target.id,
        principal,
        direct,
        (inherited | rights) if add else (inherited & ~rights),
    )


def shared_principals(connection: Connection, target: EntityReference) -> list[SharedPrincipal]:
    rows = connection.execute(
        select(share_table)
        .where(share_table.c.entity == target.logical_name, share_table.c.objectid == target.id)
        .order_by(share_table.c.principaltype, share_table.c.principalid)
    ).mappings()
    return [
        SharedPrincipal(
            EntityReference(r["principaltype"], r["principalid"]),
            AccessRights(r["access_rights"]),
            AccessRights(r["inherited_rights"]),
        )
        for r in rows
    ]
