"""KPI instances of one record: created when an SLA item applies, paused, resumed, succeeded,
canceled, and moved to nearing noncompliance / noncompliant when their time passes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import update

from xrm.data import Entity, EntityReference, OrganizationService
from xrm.data.business_time import add_business_minutes, business_minutes_between
from xrm.data.records import to_columns
from xrm.errors import AttributeProblem, ValidationError
from xrm.metadata import CompiledEntity
from xrm.metadata.sla import SlaActionMetadata, SlaItemMetadata, SlaKpiMetadata, SlaMetadata
from xrm.query import ConditionExpression, FilterExpression, QueryExpression
from xrm_sla.actions import run_actions
from xrm_sla.conditions import ConditionEvaluator
from xrm_sla.model import (
    KPI_INSTANCE_ENTITY,
    OPEN_STATUSES,
    KpiStatus,
    as_utc,
    calendar_of,
    default_sla,
    item_of,
    kpi_fields,
    sla_attribute,
    sla_named,
    slas_of,
)

__all__ = ["KpiTracker"]

_KINDS = ("applicable_when", "success_conditions")
Pending = list[tuple[tuple[SlaActionMetadata, ...], EntityReference]]


class KpiTracker:
    """Keeps the KPI instances of records of one entity in line with its SLA, at ``service``'s clock.

    Actions run after every instance change of the record is written, so the record updates they
    make (which run this tracker again, one level deeper) find the instances already settled.
    """

    def __init__(self, service: OrganizationService, entity: CompiledEntity, now: dt.datetime | None = None) -> None:
        self.service = service
        self.model = service.environment.model
        self.entity = entity
        self.now = as_utc(now or service.environment.clock())
        self.pending: Pending = []
        self.conditions = ConditionEvaluator(service.environment, service.connection, entity, self.now)

    # --- a record changed -------------------------------------------------------------------------

    def refresh(self, record_id: uuid.UUID, *, sla_given: bool = False) -> None:
        """Apply the record's SLA: create, pause, resume, succeed or cancel its KPI instances."""
        fields = kpi_fields(self.model, self.entity.logical_name)
        record = self._record(record_id, fields)
        reference = EntityReference(self.entity.logical_name, record_id)
        sla, record_changes = self._applied_sla(record, sla_given)
        instances = self._instances([record.get(name) for name in sorted(fields)])
        own_fields = {kpi.kpi_field for kpi in sla.kpis} if sla else set()
        for name in sorted(fields - own_fields):  # fields of another SLA than the record's now
            instance = instances.get(_id(record.get(name)))
            if instance is not None and instance.get("status") in OPEN_STATUSES:
                self._cancel(instance)
        if sla is not None:
            groups = {_key(sla.name, item, kind): getattr(item, kind) for item in sla.items for kind in _KINDS}
            self.conditions.evaluate(record_id, {key: group for key, group in groups.items() if group is not None})
            closed = self._is_closed(record)
            for kpi in sla.kpis:
                instance = instances.get(_id(record.get(kpi.kpi_field)))
                created = self._track(sla, kpi, record, reference, instance, closed)
                if created is not None:
                    record_changes[kpi.kpi_field] = created
        if record_changes:
            self._store(record_id, record_changes)
        self.run_pending()

    def _track(
        self,
        sla: SlaMetadata,
        kpi: SlaKpiMetadata,
        record: Entity,
        reference: EntityReference,
        instance: Entity | None,
        closed: bool,
    ) -> EntityReference | None:
        """Bring one KPI's instance in line; returns a new instance to store in the KPI field."""
        status = instance.get("status") if instance is not None else None
        settled = instance is not None and status not in (*OPEN_STATUSES, KpiStatus.CANCELED)
        item = None if closed or settled else self._applicable_item(sla, kpi, reference.id)
        if instance is not None and status in OPEN_STATUSES and not closed:
            if (instance.get("slaname"), instance.get("slaitemname")) != (sla.name, item.name if item else None):
                self._cancel(instance)  # another item applies now (e.g. the priority changed)
                status = KpiStatus.CANCELED
        created = None
        if (instance is None or status == KpiStatus.CANCELED) and item is not None:
            start = record.get(kpi.applicable_from)
            if start is None:
                return None  # Dataverse starts the KPI once its 'applicable from' date has a value
            instance = self._create(sla, kpi, item, record, reference, as_utc(start))
            created = instance.to_reference()
        if instance is not None:
            self._advance(sla, instance, record, reference, closed)
        return created

    def _advance(
        self, sla: SlaMetadata, instance: Entity, record: Entity, reference: EntityReference, closed: bool
    ) -> None:
        item = item_of(self.model, instance)
        status = instance.get("status")
        if item is None or status not in (*OPEN_STATUSES, KpiStatus.NONCOMPLIANT):
            return
        if instance.get("succeededon") is None and self._holds(
            str(instance.get("slaname")), item, "success_conditions", reference.id
        ):
            self._succeed(instance, item, reference)
        elif status == KpiStatus.NONCOMPLIANT:
            return
        elif closed:
            self._cancel(instance)
        elif record.get("statuscode") in sla.pause_statuses and item.allow_pause:
            if status != KpiStatus.PAUSED:
                self._pause(instance, item)
        elif status == KpiStatus.PAUSED:
            self._resume(instance, item)

    # --- time passes ------------------------------------------------------------------------------

    def escalate(self, instance: Entity) -> bool:
        """Move a due instance to nearing noncompliance or noncompliant, running the item's warning
        and failure actions once each; False when it was not due."""
        item = item_of(self.model, instance)
        status = instance.get("status")
        if item is None or status not in (KpiStatus.IN_PROGRESS, KpiStatus.NEARING_NONCOMPLIANCE):
            return False
        reference = instance.get("regarding")
        assert isinstance(reference, EntityReference)
        changes: dict[str, Any] = {}
        actions: list[SlaActionMetadata] = []
        warned = instance.get("warningtimereached") is not None
        if not warned and _due(instance.get("warningtime"), self.now):
            changes.update(status=KpiStatus.NEARING_NONCOMPLIANCE, warningtimereached=self.now)
            actions += item.actions.warning
        if _due(instance.get("failuretime"), self.now):
            elapsed = self._elapsed(instance, item, self.now)
            changes.update(status=KpiStatus.NONCOMPLIANT, elapsedminutes=elapsed)
            actions += item.actions.failure
        if not changes:
            return False
        self._write(instance, changes)
        self.pending.append((tuple(actions), reference))
        self.run_pending()
        return True

    # --- transitions ------------------------------------------------------------------------------

    def _create(
        self,
        sla: SlaMetadata,
        kpi: SlaKpiMetadata,
        item: SlaItemMetadata,
        record: Entity,
        reference: EntityReference,
        start: dt.datetime,
    ) -> Entity:
        calendar = calendar_of(self.model, item)
        label = f"{kpi.display_name or kpi.name} - {record.get(self.entity.primary_name) or reference.id}"
        values = {
            "name": label[:200], "regarding": reference, "status": KpiStatus.IN_PROGRESS,
            "slaname": sla.name, "kpiname": kpi.name, "slaitemname": item.name, "applicablefromvalue": start,
            "warningtime": add_business_minutes(calendar, start, item.warn_after),
            "failuretime": add_business_minutes(calendar, start, item.fail_after),
            "elapsedminutes": 0, "pausedminutes": 0,
        }  # fmt: skip
        if isinstance(record.get("ownerid"), EntityReference):
            values["ownerid"] = record["ownerid"]
        instance = Entity(KPI_INSTANCE_ENTITY, values)
        instance.id = self.service.create(instance.copy())
        return instance

    def _succeed(self, instance: Entity, item: SlaItemMetadata, reference: EntityReference) -> None:
        """Met: succeeded and stopped; a KPI met after failing stays noncompliant (as in Dataverse)."""
        if instance.get("status") == KpiStatus.NONCOMPLIANT:
            self._write(instance, {"succeededon": self.now})
            return
        until = instance.get("pausedon") or self.now
        changes = {"status": KpiStatus.SUCCEEDED, "succeededon": self.now, "pausedon": None}
        changes["elapsedminutes"] = self._elapsed(instance, item, as_utc(until))
        self._write(instance, changes)
        self.pending.append((item.actions.success, reference))

    def _cancel(self, instance: Entity) -> None:
        item = item_of(self.model, instance)
        changes: dict[str, Any] = {"status": KpiStatus.CANCELED, "pausedon": None}
        if item is not None and instance.get("status") != KpiStatus.PAUSED:
            changes["elapsedminutes"] = self._elapsed(instance, item, self.now)
        self._write(instance, changes)

    def _pause(self, instance: Entity, item: SlaItemMetadata) -> None:
        elapsed = self._elapsed(instance, item, self.now)
        self._write(instance, {"status": KpiStatus.PAUSED, "pausedon": self.now, "elapsedminutes": elapsed})

    def _resume(self, instance: Entity, item: SlaItemMetadata) -> None:
        """Back to in progress (or nearing noncompliance): the times move by the paused business time."""
        calendar = calendar_of(self.model, item)
        paused_since = as_utc(instance["pausedon"])
        paused = (instance.get("pausedminutes") or 0) + max(
            business_minutes_between(calendar, paused_since, self.now), 0
        )
        start = as_utc(instance["applicablefromvalue"])
        warned = instance.get("warningtimereached") is not None
        changes: dict[str, Any] = {
            "status": KpiStatus.NEARING_NONCOMPLIANCE if warned else KpiStatus.IN_PROGRESS,
            "pausedon": None,
            "pausedminutes": paused,
            "failuretime": add_business_minutes(calendar, start, item.fail_after + paused),
        }
        if not warned:
            changes["warningtime"] = add_business_minutes(calendar, start, item.warn_after + paused)
        self._write(instance, changes)

    def run_pending(self) -> None:
        pending, self.pending = self.pending, []
        for actions, reference in pending:
            run_actions(self.service, actions, reference)

    # --- reading ----------------------------------------------------------------------------------

    def _record(self, record_id: uuid.UUID, fields: frozenset[str]) -> Entity:
        wanted = {"statecode", "statuscode", "ownerid", self.entity.primary_name, *fields}
        wanted |= {kpi.applicable_from for sla in self._slas() for kpi in sla.kpis}
        if (attribute := sla_attribute(self.entity)) is not None:
            wanted.add(attribute)
        columns = sorted(name for name in wanted if name in self.entity.attributes)
        return self.service.retrieve(self.entity.logical_name, record_id, columns)

    def _slas(self) -> list[SlaMetadata]:
        return slas_of(self.model, self.entity.logical_name)

    def _applied_sla(self, record: Entity, sla_given: bool) -> tuple[SlaMetadata | None, dict[str, Any]]:
        """The SLA the record names, else the entity's default (then written to the record)."""
        attribute = sla_attribute(self.entity)
        chosen = record.get(attribute) if attribute else None
        if chosen:
            sla = sla_named(self.model, str(chosen))
            if sla is not None and sla.entity == self.entity.logical_name:
                return sla, {}
            if sla_given and attribute is not None:
                problem = f"there is no SLA '{chosen}' for {self.entity.logical_name}"
                raise ValidationError(self.entity.logical_name, [AttributeProblem(attribute, problem)])
            return None, {}
        sla = default_sla(self.model, self.entity.logical_name)
        if sla is None or attribute is None or self._is_closed(record):
            return sla, {}
        return sla, {attribute: sla.name}

    def _instances(self, references: list[Any]) -> dict[uuid.UUID | None, Entity]:
        ids = [ref.id for ref in references if isinstance(ref, EntityReference)]
        if not ids:
            return {}
        condition = ConditionExpression(f"{KPI_INSTANCE_ENTITY}id", "in", tuple(ids))
        query = QueryExpression(KPI_INSTANCE_ENTITY, criteria=FilterExpression("and", (condition,)))
        found = self.service.retrieve_multiple(query)
        return {record.id: record for record in found}

    def _applicable_item(self, sla: SlaMetadata, kpi: SlaKpiMetadata, record_id: uuid.UUID) -> SlaItemMetadata | None:
        """The first item of the KPI whose conditions the record meets (items are tried in order)."""
        for item in sla.items:
            if item.kpi == kpi.name and self._holds(sla.name, item, "applicable_when", record_id):
                return item
        return None

    def _holds(self, sla: str, item: SlaItemMetadata, kind: str, record_id: uuid.UUID) -> bool:
        """Whether the stored record meets the item's ``applicable_when`` or ``success_conditions``."""
        return self.conditions.holds(record_id, _key(sla, item, kind), getattr(item, kind))

    def _is_closed(self, record: Entity) -> bool:
        states = self.entity.states
        if states is None:
            return False
        state = next((s for s in states.states if s.value == record.get("statecode")), None)
        return state is not None and state.is_closed

    def _elapsed(self, instance: Entity, item: SlaItemMetadata, until: dt.datetime) -> int:
        """Business minutes the KPI has run (paused time excluded) up to ``until``."""
        start = as_utc(instance["applicablefromvalue"])
        total = business_minutes_between(calendar_of(self.model, item), start, until)
        return max(total - (instance.get("pausedminutes") or 0), 0)

    def _store(self, record_id: uuid.UUID, changes: dict[str, Any]) -> None:
        """Bookkeeping on the record (its KPI lookups, the applied SLA), written as rollup values
        are: without a message of its own, so no plugin, audit or version change follows."""
        table = self.service.environment.table(self.entity.logical_name)
        key = table.c[self.entity.primary_id]
        values = to_columns(self.entity, changes)
        self.service.connection.execute(update(table).where(key == record_id).values(values))

    def _write(self, instance: Entity, changes: dict[str, Any]) -> None:
        self.service.update(Entity(KPI_INSTANCE_ENTITY, changes, id=instance.id))
        instance.update(changes)


def _key(sla: str, item: SlaItemMetadata, kind: str) -> str:
    return f"{sla}.{item.name}.{kind}"


def _id(value: Any) -> uuid.UUID | None:
    return value.id if isinstance(value, EntityReference) else None


def _due(moment: Any, now: dt.datetime) -> bool:
    return isinstance(moment, dt.datetime) and as_utc(moment) <= now
