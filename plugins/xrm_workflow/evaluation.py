"""Conditions and values of a workflow, evaluated against the triggering record.

Conditions run as a query (``record id = X AND filter``, with the workflow's link-entities for
conditions on parent records) through the query compiler, so operators mean exactly what they
mean in views.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from typing import Any

from xrm.data import Entity, EntityReference, OrganizationService
from xrm.metadata.components import ConditionOperator, FilterMetadata, LinkEntityMetadata, ViewMetadata
from xrm.metadata.workflow import FindValue, FromValue, RecordValue, ReferenceValue
from xrm.query import ConditionExpression, FilterExpression, QueryExpression, query_from_view

__all__ = ["matching_query", "record_matches", "resolve_value", "resolve_values", "render_text"]

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def matching_query(
    service: OrganizationService,
    entity: str,
    flt: FilterMetadata | None,
    links: tuple[LinkEntityMetadata, ...] = (),
    record_id: uuid.UUID | None = None,
) -> QueryExpression:
    """The ids of the records of ``entity`` (only ``record_id`` when given) for which ``flt`` holds."""
    primary_id = service.environment.model.entity(entity).primary_id
    view = ViewMetadata.model_validate(
        {"name": "workflow", "entity": entity, "columns": [primary_id], "filter": flt, "links": links}
    )
    query = query_from_view(view)
    if record_id is None:
        return query
    only = ConditionExpression(primary_id, ConditionOperator.EQ, (record_id,))
    nested = (query.criteria,) if query.criteria is not None else ()
    return replace(query, criteria=FilterExpression("and", (only,), nested))


def record_matches(
    service: OrganizationService,
    reference: EntityReference,
    flt: FilterMetadata | None,
    links: tuple[LinkEntityMetadata, ...] = (),
) -> bool:
    """Whether ``flt`` holds for the record (always when there is no filter)."""
    if flt is None:
        return True
    query = matching_query(service, reference.logical_name, flt, links, reference.id)
    return len(service.retrieve_multiple(query)) > 0


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, EntityReference):
        return value.name or str(value.id)
    return str(value)


def render_text(template: str, record: Entity) -> str:
    """``{attribute}`` placeholders replaced by the record's values (empty when null)."""
    return _PLACEHOLDER.sub(lambda match: _text(record.get(match.group(1))), template)


def resolve_value(service: OrganizationService, record: Entity, value: Any) -> Any:
    """A configured value made concrete for ``record``: copied, found, referenced or rendered."""
    if isinstance(value, FromValue):
        return record.get(value.from_attribute)
    if isinstance(value, RecordValue):
        return record.to_reference()
    if isinstance(value, ReferenceValue):
        return EntityReference(value.ref, value.id)
    if isinstance(value, FindValue):
        return _find(service, record, value)
    if isinstance(value, str):
        return render_text(value, record)
    return value


def resolve_values(service: OrganizationService, record: Entity, values: dict[str, Any]) -> dict[str, Any]:
    return {name: resolve_value(service, record, value) for name, value in values.items()}


def _find(service: OrganizationService, record: Entity, value: FindValue) -> EntityReference | None:
    entity = service.environment.model.entity(value.find)
    conditions = tuple(
        ConditionExpression(name, ConditionOperator.EQ, (resolve_value(service, record, wanted),))
        for name, wanted in value.where.items()
    )
    query = QueryExpression(
        entity=value.find,
        columns=(entity.primary_id,),
        criteria=FilterExpression("and", conditions),
        top=1,
    )
    found = service.retrieve_multiple(query)
    return found.entities[0].to_reference() if len(found) else None
