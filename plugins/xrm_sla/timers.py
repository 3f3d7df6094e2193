"""The time-driven check: KPI instances whose warning or failure time has passed."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import update

from xrm.data import Entity, Environment, OrganizationService
from xrm.data.scope import transaction
from xrm.errors import XrmError
from xrm.query import ConditionExpression, FilterExpression, OrderExpression, QueryExpression
from xrm_sla.model import KPI_INSTANCE_ENTITY, KpiStatus, as_utc
from xrm_sla.tracking import KpiTracker

__all__ = ["check_sla_timers", "BATCH_SIZE"]

log = logging.getLogger(__name__)

BATCH_SIZE = 200


def _due_query(now: dt.datetime) -> QueryExpression:
    warn = FilterExpression(
        "and",
        (
            ConditionExpression("status", "eq", (KpiStatus.IN_PROGRESS,)),
            ConditionExpression("warningtimereached", "null"),
            ConditionExpression("warningtime", "le", (now,)),
        ),
    )
    fail = FilterExpression(
        "and",
        (
            ConditionExpression("status", "in", (KpiStatus.IN_PROGRESS, KpiStatus.NEARING_NONCOMPLIANCE)),
            ConditionExpression("failuretime", "le", (now,)),
        ),
    )
    return QueryExpression(
        KPI_INSTANCE_ENTITY,
        columns=("slaname",),
        criteria=FilterExpression("or", filters=(warn, fail)),
        orders=(OrderExpression("failuretime"),),
        top=BATCH_SIZE,
    )


def check_sla_timers(environment: Environment, now: dt.datetime | None = None) -> int:
    """Escalate every KPI instance due at ``now`` (the environment's clock by default); returns how
    many moved. Each instance moves in a transaction of its own, as the system: its status change
    and its warning / failure actions commit together, and one failing action (logged) does not
    hold back the others. Call it periodically (the server's job worker does)."""
    if KPI_INSTANCE_ENTITY not in environment.model.entities or not environment.model.slas:
        return 0
    moment = as_utc(now or environment.clock())
    due = environment.service().retrieve_multiple(_due_query(moment))
    moved = 0
    for candidate in due:
        assert candidate.id is not None
        try:
            with transaction(environment.engine, None) as scope:
                service = OrganizationService(environment, None, scope=scope)
                instance = service.retrieve(KPI_INSTANCE_ENTITY, candidate.id)
                if _claim(service, instance):
                    moved += _escalate(service, instance, moment)
        except XrmError:
            log.exception("SLA KPI instance %s could not be escalated", candidate.id)
    return moved


def _claim(service: OrganizationService, instance: Entity) -> bool:
    """Lock the instance row unless another worker changed it since it was read: the row-locking
    UPDATE waits for a concurrent escalation to commit, then matches nothing (PostgreSQL)."""
    table = service.environment.table(KPI_INSTANCE_ENTITY)
    version = instance.get("versionnumber")
    key = table.c[f"{KPI_INSTANCE_ENTITY}id"]
    statement = update(table).where(key == instance.id, table.c.versionnumber == version).values(versionnumber=version)
    return service.connection.execute(statement).rowcount == 1


def _escalate(service: OrganizationService, instance: Entity, now: dt.datetime) -> int:
    regarding = instance.get("regarding")
    model = service.environment.model
    if regarding is None or regarding.logical_name not in model.entities:
        return 0
    tracker = KpiTracker(service, model.entity(regarding.logical_name), now)
    return 1 if tracker.escalate(instance) else 0
