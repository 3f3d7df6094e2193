"""Success, warning and failure actions of an SLA item: set fields, create a task, notify."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from xrm.data import Entity, EntityReference, OrganizationService
from xrm.metadata.sla import SlaActionMetadata, SlaActivityMetadata

__all__ = ["run_actions"]

log = logging.getLogger(__name__)


def run_actions(service: OrganizationService, actions: Iterable[SlaActionMetadata], record: EntityReference) -> None:
    """Run ``actions`` on ``record`` through ``service`` (in its transaction).

    Activities are created regarding the record and owned by its owner (when it has one), as a
    Dynamics SLA flow assigns follow-ups to the case owner. Fields are not set on a closed
    (read-only) record: the change is logged and skipped rather than failing the operation.
    """
    actions = tuple(actions)
    if not actions:
        return
    entity = service.environment.model.entity(record.logical_name)
    columns = [name for name in ("statecode", "ownerid") if name in entity.attributes]
    current = service.retrieve(record.logical_name, record.id, columns)
    for action in actions:
        if action.set_fields is not None:
            if _is_closed(service, current):
                log.warning(
                    "SLA action skipped: %s %s is closed, fields %s not set",
                    record.logical_name, record.id, sorted(action.set_fields),
                )  # fmt: skip
                continue
            service.update(Entity(record.logical_name, dict(action.set_fields), id=record.id))
        elif action.create_task is not None:
            _create_activity(service, action.create_task, "task", record, current.get("ownerid"))
        elif action.notify is not None:
            _create_activity(service, action.notify, "email", record, current.get("ownerid"))


def _create_activity(
    service: OrganizationService,
    activity: SlaActivityMetadata,
    default_entity: str,
    record: EntityReference,
    owner: EntityReference | None,
) -> None:
    values: dict[str, object] = {"subject": activity.subject, "regardingobjectid": record}
    if activity.description is not None:
        values["description"] = activity.description
    if owner is not None:
        values["ownerid"] = owner
    service.create(Entity(activity.entity or default_entity, values))


def _is_closed(service: OrganizationService, record: Entity) -> bool:
    states = service.environment.model.entity(record.logical_name).states
    if states is None:
        return False
    state = next((s for s in states.states if s.value == record.get("statecode")), None)
    return state is not None and state.is_closed
