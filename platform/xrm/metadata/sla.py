"""A service level agreement for one entity: KPIs, items, conditions, actions (``slas/<name>.yaml``).

As in Dynamics 365 Customer Service: a KPI names the lookup of the record that holds its KPI
instance and the date the instance counts from; an SLA item applies to the records matching its
``applicable_when`` conditions, succeeds when its ``success_conditions`` hold, warns and fails after
durations counted in the business hours of its calendar, and may pause while the record is in one
of the SLA's ``pause_statuses``. Conditions use the query condition language of views.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from xrm.errors import MetadataIssue
from xrm.metadata._base import LogicalName, MetadataModel
from xrm.metadata.components import FilterMetadata
from xrm.metadata.source import Locator

if TYPE_CHECKING:
    from xrm.metadata.model import CompiledEntity, Model

__all__ = [
    "KPI_INSTANCE_ENTITY",
    "SlaActivityMetadata",
    "SlaActionMetadata",
    "SlaActionsMetadata",
    "SlaKpiMetadata",
    "SlaItemMetadata",
    "SlaMetadata",
    "check_sla",
]

KPI_INSTANCE_ENTITY = "slakpiinstance"
_Path = tuple[str | int, ...]


class SlaActivityMetadata(MetadataModel):
    """An activity an action creates regarding the record (a follow-up task, a notification email)."""

    subject: str = Field(min_length=1, max_length=200)
    description: str | None = None
    entity: LogicalName | None = Field(default=None, description="activity entity; default task, or email to notify")


class SlaActionMetadata(MetadataModel):
    """One action: exactly one of ``set_fields`` (on the record), ``create_task`` or ``notify``."""

    set_fields: dict[LogicalName, Any] | None = None
    create_task: SlaActivityMetadata | None = None
    notify: SlaActivityMetadata | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SlaActionMetadata:
        given = [k for k in ("set_fields", "create_task", "notify") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"an action is exactly one of set_fields, create_task, notify ({given or 'none'} given)")
        return self


class SlaActionsMetadata(MetadataModel):
    """What runs when the KPI instance succeeds, reaches its warning time, or fails."""

    success: tuple[SlaActionMetadata, ...] = ()
    warning: tuple[SlaActionMetadata, ...] = ()
    failure: tuple[SlaActionMetadata, ...] = ()


class SlaKpiMetadata(MetadataModel):
    """A KPI: the record's lookup holding the KPI instance and the date the instance counts from."""

    name: LogicalName
    kpi_field: LogicalName = Field(description="lookup of the entity to slakpiinstance")
    applicable_from: LogicalName = Field(default="createdon", description="datetime attribute of the entity")
    display_name: str | None = None


class SlaItemMetadata(MetadataModel):
    """When a KPI applies, when it is met, and how long it may take (minutes of business time)."""

    name: LogicalName
    kpi: LogicalName
    display_name: str | None = None
    applicable_when: FilterMetadata | None = Field(default=None, description="none: every record")
    success_conditions: FilterMetadata
    warn_after: int = Field(ge=0, description="business minutes from 'applicable from' to the warning")
    fail_after: int = Field(gt=0, description="business minutes from 'applicable from' to the failure")
    calendar: LogicalName | None = Field(default=None, description="business hours (calendars/); none: 24x7")
    allow_pause: bool = True
    actions: SlaActionsMetadata = SlaActionsMetadata()

    @model_validator(mode="after")
    def _warn_before_fail(self) -> SlaItemMetadata:
        if self.warn_after > self.fail_after:
            raise ValueError(f"warn_after ({self.warn_after}) is after fail_after ({self.fail_after})")
        return self


class SlaMetadata(MetadataModel):
    """A service level agreement for one entity: KPIs, items, conditions, actions."""

    name: LogicalName
    id: uuid.UUID | None = None
    entity: LogicalName
    display_name: str | None = None
    description: str | None = None
    is_default: bool = Field(default=False, description="applies to records that name no SLA")
    pause_statuses: tuple[int, ...] = Field(default=(), description="statuscode values that pause the KPIs")
    kpis: tuple[SlaKpiMetadata, ...] = Field(min_length=1)
    items: tuple[SlaItemMetadata, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> SlaMetadata:
        for kind, names in (("kpi", [k.name for k in self.kpis]), ("item", [i.name for i in self.items])):
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"{kind} names repeat: {repeated}")
        return self

    def kpi(self, name: str) -> SlaKpiMetadata | None:
        return next((kpi for kpi in self.kpis if kpi.name == name), None)


def check_sla(model: Model, component: SlaMetadata, locator: Locator) -> list[MetadataIssue]:
    """Problems of the component against the compiled ``model`` (unknown entities, attributes...)."""
    entity = model.entities.get(component.entity)
    if entity is None:
        return [locator.issue(("entity",), f"unknown entity '{component.entity}'")]
    issues: list[MetadataIssue] = []
    if not entity.definition.sla_enabled:
        issues.append(locator.issue(("entity",), f"'{component.entity}' is not sla_enabled"))
    statuses = entity.states.all_statuses if entity.states is not None else {}
    for index, status in enumerate(component.pause_statuses):
        if status not in statuses:
            issues.append(
                locator.issue(("pause_statuses", index), f"{status} is not a status of '{entity.logical_name}'")
            )
    for index, kpi in enumerate(component.kpis):
        issues += _check_kpi(entity, kpi, ("kpis", index), locator)
    for index, item in enumerate(component.items):
        issues += _check_item(model, component, entity, item, ("items", index), locator)
    if component.is_default:
        for other in model.slas.values():
            meta = other.metadata
            if isinstance(meta, SlaMetadata) and meta.is_default and meta.entity == component.entity:
                if meta.name != component.name:
                    message = f"'{meta.name}' is already the default SLA of '{component.entity}'"
                    issues.append(locator.issue(("is_default",), message))
    return issues


def _check_kpi(entity: CompiledEntity, kpi: SlaKpiMetadata, path: _Path, locator: Locator) -> list[MetadataIssue]:
    issues: list[MetadataIssue] = []
    field = entity.attributes.get(kpi.kpi_field)
    if field is None:
        message = f"'{entity.logical_name}' has no attribute '{kpi.kpi_field}'"
        issues.append(locator.issue((*path, "kpi_field"), message))
    elif field.type != "lookup" or field.targets != (KPI_INSTANCE_ENTITY,):
        message = f"'{entity.logical_name}.{kpi.kpi_field}' is not a lookup to {KPI_INSTANCE_ENTITY}"
        issues.append(locator.issue((*path, "kpi_field"), message))
    start = entity.attributes.get(kpi.applicable_from)
    if start is None:
        message = f"'{entity.logical_name}' has no attribute '{kpi.applicable_from}'"
        issues.append(locator.issue((*path, "applicable_from"), message))
    elif start.type != "datetime":
        message = f"'{entity.logical_name}.{kpi.applicable_from}' is not a datetime attribute"
        issues.append(locator.issue((*path, "applicable_from"), message))
    return issues


def _check_item(
    model: Model, sla: SlaMetadata, entity: CompiledEntity, item: SlaItemMetadata, path: _Path, locator: Locator
) -> list[MetadataIssue]:
    issues: list[MetadataIssue] = []
    if sla.kpi(item.kpi) is None:
        issues.append(locator.issue((*path, "kpi"), f"unknown kpi '{item.kpi}' (not in this SLA's kpis)"))
    if item.calendar is not None and item.calendar not in model.calendars:
        issues.append(locator.issue((*path, "calendar"), f"unknown calendar '{item.calendar}'"))
    elif item.calendar is not None and getattr(model.calendars[item.calendar].metadata, "holiday_schedule", False):
        message = f"'{item.calendar}' is a holiday schedule, not a calendar with work hours"
        issues.append(locator.issue((*path, "calendar"), message))
    for key in ("applicable_when", "success_conditions"):
        group = getattr(item, key)
        if group is not None:
            issues += _check_conditions(entity, group, (*path, key), locator)
    for kind in ("success", "warning", "failure"):
        for index, action in enumerate(getattr(item.actions, kind)):
            here = (*path, "actions", kind, index)
            for name in action.set_fields or {}:
                if name not in entity.attributes:
                    message = f"'{entity.logical_name}' has no attribute '{name}'"
                    issues.append(locator.issue((*here, "set_fields", name), message))
            for key in ("create_task", "notify"):
                activity: SlaActivityMetadata | None = getattr(action, key)
                if activity is None:
                    continue
                if not entity.definition.has_activities:
                    message = f"'{entity.logical_name}' has no activities (has_activities) to create"
                    issues.append(locator.issue((*here, key), message))
                if activity.entity is not None:
                    target = model.entities.get(activity.entity)
                    if target is None or not target.is_activity:
                        message = f"'{activity.entity}' is not an activity entity"
                        issues.append(locator.issue((*here, key, "entity"), message))
    return issues


def _check_conditions(
    entity: CompiledEntity, group: FilterMetadata, path: _Path, locator: Locator
) -> list[MetadataIssue]:
    """Conditions name attributes of the SLA's own entity (no link-entities)."""
    issues: list[MetadataIssue] = []
    for index, condition in enumerate(group.conditions):
        here = (*path, "conditions", index)
        if condition.entity is not None:
            issues.append(locator.issue((*here, "entity"), "SLA conditions apply to the record itself (no 'entity')"))
        elif condition.attribute not in entity.attributes:
            message = f"'{entity.logical_name}' has no attribute '{condition.attribute}'"
            issues.append(locator.issue((*here, "attribute"), message))
    for index, nested in enumerate(group.filters):
        issues += _check_conditions(entity, nested, (*path, "filters", index), locator)
    return issues
