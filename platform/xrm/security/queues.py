"""Private queues as SQL: the queue items a user may reach at all, whatever the role grants."""

from __future__ import annotations

from sqlalchemy import ColumnElement, FromClause, exists, select

from xrm.data import Environment
from xrm.security.principal import Principal

__all__ = ["PRIVATE_QUEUE", "queue_item_filter"]

PRIVATE_QUEUE = 1  # queue.queueviewtype


def queue_item_filter(environment: Environment, principal: Principal, table: FromClause) -> ColumnElement[bool]:
    """Items of public queues, and of private queues the user owns (directly or through a team)
    or is a member of (``queuemembership``), as Dataverse shows private queues to members only."""
    tables = environment.tables.tables
    queue, members = tables["queue"], tables["queuemembership"]
    closed = select(queue.c.queueid).where(
        queue.c.queueviewtype == PRIVATE_QUEUE,
        queue.c.ownerid.not_in(principal.principal_ids),
        ~exists().where(members.c.queueid == queue.c.queueid, members.c.systemuserid == principal.user_id),
    )
    return table.c.queueid.not_in(closed)
