"""The plugin class: SLA KPIs of records on create, update and set_state; the countdown on reads."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select

from xrm.data import Entity, EntityCollection, ExecutionContext
from xrm.data.business_time import business_minutes_between
from xrm.metadata import Model
from xrm_sla.model import (
    KPI_INSTANCE_ENTITY,
    KpiStatus,
    as_utc,
    calendar_of,
    item_of,
    kpi_fields,
    sla_attribute,
    slas_of,
)
from xrm_sla.tracking import KpiTracker

__all__ = ["SlaPlugin", "countdown_minutes"]

_RECORD_MESSAGES = frozenset({"create", "update", "set_state"})
_COUNTDOWN_NEEDS = ("status", "failuretime", "pausedon", "slaname", "slaitemname")


class SlaPlugin:
    """Bound (post-operation, as the system) to create, update and set_state of every entity, it
    tracks the SLA KPIs of records of ``sla_enabled`` entities; any other entity returns at once.
    Bound to retrieve / retrieve_multiple of ``slakpiinstance`` (post-operation) it fills
    ``countdownminutes``: business minutes left to the failure time, negative once overdue.
    """

    def __init__(self, configuration: dict[str, Any] | None = None) -> None:
        self.configuration = dict(configuration or {})

    def execute(self, context: ExecutionContext) -> None:
        if context.message in ("retrieve", "retrieve_multiple"):
            if context.entity == KPI_INSTANCE_ENTITY:
                self._countdown(context)
            return
        if context.message not in _RECORD_MESSAGES or context.entity is None:
            return
        model = context.service.environment.model
        entity = model.entities.get(context.entity)
        record_id = context.primary_id
        if entity is None or not entity.definition.sla_enabled or record_id is None:
            return
        if not slas_of(model, entity.logical_name):
            return
        changed = set(context.target) if isinstance(context.target, Entity) else set()
        if context.message == "update" and changed and changed <= kpi_fields(model, entity.logical_name):
            return  # only KPI lookups changed (cleared when their instance was deleted)
        attribute = sla_attribute(entity)
        given = context.message in ("create", "update") and attribute is not None and attribute in changed
        KpiTracker(context.service, entity).refresh(record_id, sla_given=given)

    def _countdown(self, context: ExecutionContext) -> None:
        output = context.output_parameters
        records: list[Entity] = []
        if isinstance(output.get("entity"), Entity):
            records.append(output["entity"])
        elif isinstance(output.get("entities"), EntityCollection):
            records.extend(output["entities"].entities)
        wanted = [r for r in records if "countdownminutes" in r and r.id is not None]
        if not wanted:
            return
        environment = context.service.environment
        missing = [r.id for r in wanted if r.id is not None and any(name not in r for name in _COUNTDOWN_NEEDS)]
        stored = _stored_values(context, missing) if missing else {}
        now = as_utc(environment.clock())
        for record in wanted:
            values = dict(stored.get(record.id, {}))
            values.update((name, record[name]) for name in _COUNTDOWN_NEEDS if name in record)
            record["countdownminutes"] = countdown_minutes(environment.model, values, now)


def countdown_minutes(model: Model, instance: dict[str, Any] | Entity, now: dt.datetime) -> int | None:
    """Business minutes left to the failure time (negative when overdue); frozen while paused;
    None once the KPI succeeded or was canceled."""
    status = instance.get("status")
    failure = instance.get("failuretime")
    if status in (KpiStatus.SUCCEEDED, KpiStatus.CANCELED, None) or not isinstance(failure, dt.datetime):
        return None
    item = item_of(model, Entity(KPI_INSTANCE_ENTITY, dict(instance)))
    calendar = calendar_of(model, item)
    paused = instance.get("pausedon")
    since = as_utc(paused) if status == KpiStatus.PAUSED and isinstance(paused, dt.datetime) else now
    return business_minutes_between(calendar, since, as_utc(failure))


def _stored_values(context: ExecutionContext, ids: list[uuid.UUID]) -> dict[uuid.UUID | None, dict[str, Any]]:
    """The columns the countdown needs, for records a read left them out of (one statement)."""
    table = context.service.environment.table(KPI_INSTANCE_ENTITY)
    key = table.c[f"{KPI_INSTANCE_ENTITY}id"]
    statement = select(key, *(table.c[name] for name in _COUNTDOWN_NEEDS)).where(key.in_(ids))
    rows = context.service.connection.execute(statement).mappings()
    return {row[key.name]: {name: row[name] for name in _COUNTDOWN_NEEDS} for row in rows}
