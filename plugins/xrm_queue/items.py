"""Queue items and queues as the platform sees them: lookups in SQL that ignore the caller's
record security (as Dataverse's own checks do), and the private queue rule."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from xrm.data import EntityReference, Environment
from xrm.errors import AccessDeniedError, NotFoundError

__all__ = ["ACTIVE", "INACTIVE", "PRIVATE", "active_item", "record_name", "require_queue_access"]

ACTIVE, INACTIVE = 0, 1  # queueitem statecode
PRIVATE = 1  # queue queueviewtype


def active_item(env: Environment, connection: Connection, record: EntityReference) -> Any | None:
    """The record's active queue item (``queueitemid``, ``queueid``, ``workerid``) or None."""
    table = env.table("queueitem")
    statement = select(table.c.queueitemid, table.c.queueid, table.c.workerid).where(
        table.c.objectid == record.id,
        table.c.objectidtype == record.logical_name,
        table.c.statecode == ACTIVE,
    )
    return connection.execute(statement.order_by(table.c.createdon)).first()


def record_name(env: Environment, connection: Connection, record: EntityReference) -> str | None:
    """The primary name of the record (a queue item's default title)."""
    entity = env.model.entity(record.logical_name)
    table = env.table(record.logical_name)
    statement = select(table.c[entity.primary_name]).where(table.c[entity.primary_id] == record.id)
    value = connection.execute(statement).scalar_one_or_none()
    return None if value is None else str(value)[:300]


def _is_member(env: Environment, connection: Connection, queue: Any, user_id: uuid.UUID) -> bool:
    if queue.ownerid == user_id:
        return True
    membership = env.tables.tables["queuemembership"]
    member: ColumnElement[bool] = exists().where(
        membership.c.queueid == queue.queueid, membership.c.systemuserid == user_id
    )
    if queue.owneridtype == "team":  # the members of an owner team work its private queues too
        teams = env.tables.tables["teammembership"]
        member = or_(member, exists().where(teams.c.teamid == queue.ownerid, teams.c.systemuserid == user_id))
    return bool(connection.execute(select(member)).scalar())


def require_queue_access(
    env: Environment, connection: Connection, queue_id: uuid.UUID, users: dict[str, uuid.UUID | None]
) -> None:
    """A private queue is worked by its members and its owner only: every user in ``users``
    (role -> id; None is the system, always allowed) must be one, else ACCESS_DENIED."""
    table = env.table("queue")
    statement = select(
        table.c.queueid, table.c.name, table.c.queueviewtype, table.c.ownerid, table.c.owneridtype
    ).where(table.c.queueid == queue_id)
    queue = connection.execute(statement).first()
    if queue is None:
        raise NotFoundError(f"queue {queue_id} does not exist")
    if queue.queueviewtype != PRIVATE:
        return
    for role, user_id in users.items():
        if user_id is not None and not _is_member(env, connection, queue, user_id):
            raise AccessDeniedError(f"queue '{queue.name}' is private: the {role} ({user_id}) is not a member of it")
