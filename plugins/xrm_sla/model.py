"""The SLA metadata of an entity as the plugin reads it: applied SLA, items, calendars, statuses."""

from __future__ import annotations

import datetime as dt
from enum import IntEnum

from xrm.data import Entity
from xrm.metadata import CompiledEntity, Model
from xrm.metadata.calendar import CalendarMetadata, resolve_calendar
from xrm.metadata.sla import KPI_INSTANCE_ENTITY, SlaItemMetadata, SlaMetadata

__all__ = [
    "KPI_INSTANCE_ENTITY",
    "OPEN_STATUSES",
    "KpiStatus",
    "as_utc",
    "calendar_of",
    "default_sla",
    "item_of",
    "kpi_fields",
    "sla_attribute",
    "sla_named",
    "slas_of",
]


class KpiStatus(IntEnum):
    """The ``status`` of an SLA KPI instance (Dataverse's values)."""

    IN_PROGRESS = 0
    NONCOMPLIANT = 1
    NEARING_NONCOMPLIANCE = 2
    PAUSED = 3
    SUCCEEDED = 4
    CANCELED = 5


OPEN_STATUSES = frozenset({KpiStatus.IN_PROGRESS, KpiStatus.NEARING_NONCOMPLIANCE, KpiStatus.PAUSED})


def slas_of(model: Model, entity: str) -> list[SlaMetadata]:
    """The SLAs defined for ``entity``, in install order."""
    found: list[SlaMetadata] = []
    for component in model.slas.values():
        meta = component.metadata
        if isinstance(meta, SlaMetadata) and meta.entity == entity:
            found.append(meta)
    return found


def sla_named(model: Model, name: str) -> SlaMetadata | None:
    component = model.slas.get(name)
    return component.metadata if component is not None and isinstance(component.metadata, SlaMetadata) else None


def default_sla(model: Model, entity: str) -> SlaMetadata | None:
    return next((sla for sla in slas_of(model, entity) if sla.is_default), None)


def sla_attribute(entity: CompiledEntity) -> str | None:
    """The string attribute naming the record's SLA: ``slaname`` (``<prefix>_slaname`` on custom entities)."""
    for name, attribute in entity.attributes.items():
        if attribute.type == "string" and (name == "slaname" or name.endswith("_slaname")):
            return name
    return None


def kpi_fields(model: Model, entity: str) -> frozenset[str]:
    """Every lookup of ``entity`` that some SLA keeps a KPI instance in."""
    return frozenset(kpi.kpi_field for sla in slas_of(model, entity) for kpi in sla.kpis)


def item_of(model: Model, instance: Entity) -> SlaItemMetadata | None:
    """The SLA item a KPI instance tracks (None once its SLA or item is gone)."""
    sla = sla_named(model, str(instance.get("slaname") or ""))
    if sla is None:
        return None
    return next((item for item in sla.items if item.name == instance.get("slaitemname")), None)


def calendar_of(model: Model, item: SlaItemMetadata | None) -> CalendarMetadata | None:
    """The business hours of an item; None (24x7) without a calendar."""
    if item is None or item.calendar is None:
        return None
    return resolve_calendar(model, item.calendar)


def as_utc(value: dt.datetime) -> dt.datetime:
    """Stored datetimes are UTC; some drivers give them back naive."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
