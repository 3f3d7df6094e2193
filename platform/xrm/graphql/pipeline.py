"""Plugin steps on the root reads: ``retrieve_multiple`` and ``retrieve``, as the service runs them.

The gateway reads without the organization service, so the root fields run the read messages'
pipeline themselves (:meth:`~xrm.data.OrganizationService.run_read`, acting as the caller), with
the gateway's read as the main operation:

- ``<entities>``, ``view`` and ``<entities>Aggregate`` run ``retrieve_multiple`` once per field.
  Pre-stage steps get the root :class:`~xrm.query.QueryExpression` the arguments compiled to
  (``context.input_parameters["query"]``) and may change or replace it: the page (and
  ``totalCount``) is read with the query they leave. Filters the query model cannot express
  (``not``, filters across relationships) stay row filters of the root, outside that query.
- ``<entity>(id)``, ``node`` and ``nodes`` run ``retrieve`` once per record; the steps see the
  target and the columns the selection reads (the record is read with those columns).
- Post-stage steps get the rows read as an :class:`~xrm.data.EntityCollection` (or the
  :class:`~xrm.data.Entity`) holding the attributes fetched. Values they change and records they
  remove show in the response; records they add do not (there is no row behind them).
- A step's error fails the field with its code (``PLUGIN_ERROR`` for a plugin's own exception).

Lookups and connections nested below a root field are read in batches and fire nothing, as in
Dataverse, where RetrieveMultiple fires once per query and not per link-entity. With no step
registered for the message and entity (``Pipeline.has_steps``) none of this runs: the reader is
called directly.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from xrm.data import Entity, EntityCollection, EntityReference, ExecutionContext, OrganizationService
from xrm.data.messages import RetrieveMultipleRequest, RetrieveRequest
from xrm.data.records import from_row, to_columns
from xrm.errors import InvalidOperationError, NotFoundError
from xrm.metadata import CompiledEntity
from xrm.query import CompiledQuery, QueryExpression

__all__ = ["PageReader", "RecordReader", "RootPage", "RootSteps"]

Row = Mapping[str, Any]


@dataclass
class RootPage:
    """What a root field read: the query (as the steps left it), its compiled form and the rows."""

    query: QueryExpression
    compiled: CompiledQuery | None = None
    rows: list[Row] = field(default_factory=list)
    more: bool = False
    total: int | None = None


PageReader = Callable[[QueryExpression], RootPage]
"""Reads the page of a root query (with its ``total`` when the field asks for it)."""

RecordReader = Callable[[uuid.UUID], Row | None]
"""Reads one root record by id (None when it does not exist or the caller may not read it)."""


class _Missing(NotFoundError):
    """The record to retrieve is not there: the field is null and post-stage steps do not run."""


class RootSteps:
    """Runs the read steps of one caller's root fields through ``service``."""

    def __init__(self, service: OrganizationService) -> None:
        self.service = service
        self.environment = service.environment

    def active(self, message: str, entity: str) -> bool:
        """Whether any step is registered for ``message`` on ``entity``."""
        return self.environment.pipeline.has_steps(message, entity)

    def retrieve_multiple(self, query: QueryExpression, read: PageReader) -> RootPage:
        """The page of ``query`` read by ``read`` inside the ``retrieve_multiple`` pipeline."""
        if not self.active("retrieve_multiple", query.entity):
            return read(query)
        entity = self.environment.model.entity(query.entity)
        pages: list[RootPage] = []
        sources: list[tuple[Entity, Row, tuple[str, ...]]] = []

        def core(context: ExecutionContext) -> EntityCollection:
            actual = context.input_parameters.get("query")
            if not isinstance(actual, QueryExpression) or actual.entity != query.entity:
                raise InvalidOperationError(
                    f"a retrieve_multiple step must leave a query of {query.entity} in the 'query' input"
                )
            page = read(actual)
            pages.append(page)
            collection = EntityCollection([], page.more, total_count=page.total)
            for row in page.rows:
                record = _entity_of(entity, actual, page.compiled, row)
                sources.append((record, row, tuple(record)))
                collection.entities.append(record)
            return collection

        response = self.service.run_read(RetrieveMultipleRequest(query), core)
        collection = response.results.get("entities")
        if not isinstance(collection, EntityCollection):
            raise InvalidOperationError("a retrieve_multiple step must leave an EntityCollection in 'entities'")
        page = pages[0]
        page.rows = _rows_of(entity, page.query, collection, sources)
        page.more, page.total = collection.more_records, collection.total_count
        return page

    def retrieve(
        self, entity_name: str, record_id: uuid.UUID, columns: tuple[str, ...], read: RecordReader
    ) -> Row | None:
        """The record read by ``read`` inside the ``retrieve`` pipeline (None when there is none)."""
        if not self.active("retrieve", entity_name):
            return read(record_id)
        entity = self.environment.model.entity(entity_name)
        sources: list[tuple[Entity, Row, tuple[str, ...]]] = []

        def core(context: ExecutionContext) -> Entity:
            target = context.target
            if (
                not isinstance(target, EntityReference | Entity)
                or target.logical_name != entity_name
                or target.id is None
            ):
                raise InvalidOperationError(f"a retrieve step must leave a {entity_name} record as the target")
            row = read(target.id)
            if row is None:
                raise _Missing(f"{entity_name} {target.id} was not found")
            record = from_row(entity, row, [c for c in columns if c in entity.attributes])
            sources.append((record, row, tuple(record)))
            return record

        request = RetrieveRequest(EntityReference(entity_name, record_id), columns)
        try:
            response = self.service.run_read(request, core)
        except _Missing:
            return None
        record = response.results.get("entity")
        if not isinstance(record, Entity):  # a step took the record away
            return None
        rows = _rows_of(entity, None, EntityCollection([record]), sources)
        return rows[0] if rows else None


def _entity_of(entity: CompiledEntity, query: QueryExpression, compiled: CompiledQuery | None, row: Row) -> Entity:
    """A root row as the service would return it (link-entity columns as ``alias.attribute``)."""
    labels = compiled.columns if compiled is not None else ()
    if query.is_aggregate or query.distinct:
        return Entity(entity.logical_name, {label: row.get(label) for label in labels})
    record = from_row(entity, row, [label for label in labels if label in entity.attributes])
    for label in labels:
        if "." in label:
            record[label] = row.get(label)
    return record


def _rows_of(
    entity: CompiledEntity,
    query: QueryExpression | None,
    collection: EntityCollection,
    sources: list[tuple[Entity, Row, tuple[str, ...]]],
) -> list[Row]:
    """The rows behind the records post-stage steps left, with the values they left.

    A record is matched to its row by identity, else by id (a step may replace the objects).
    """
    by_object = {id(record): (row, names) for record, row, names in sources}
    by_id = {record.id: (row, names) for record, row, names in sources if record.id is not None}
    plain = query is not None and (query.is_aggregate or query.distinct)
    rows: list[Row] = []
    for record in collection.entities:
        source = by_object.get(id(record)) or (by_id.get(record.id) if record.id is not None else None)
        if source is None:
            continue
        row, names = source
        merged = dict(row)
        for name in dict.fromkeys((*names, *record)):
            value = record.get(name)  # an attribute a step removed reads as null
            if plain or name not in entity.attributes:
                merged[name] = value
            else:
                merged.update(to_columns(entity, {name: value}))
        rows.append(merged)
    return rows
