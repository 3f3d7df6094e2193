"""Runs look-ahead plans: one statement per plan node, whatever the number of records.

- A page of records is one statement (plus one ``COUNT`` if ``totalCount`` is asked for).
- A lookup below a page is one statement per target entity: ``pk IN (the ids the page holds)``.
- A connection below a page is one statement for all parents: the child rows with
  ``lookup IN (parent ids)`` (or joined through the intersect table), ranked per parent with
  ``row_number()`` so each parent gets its own first ``n`` (plus one ``COUNT ... GROUP BY``).
- Deeper levels recurse over the whole batch of the level above.

Only the root read runs the plugin steps of ``retrieve_multiple`` / ``retrieve`` (see
:mod:`xrm.graphql.pipeline`): the batched levels below it are part of the same query.

So a page of 100 records with three levels of nested relationships runs the same number of
statements as a page of 10. Id lists are split in chunks of :data:`CHUNK` (only levels beyond that
many records take more statements). The records are plain dicts keyed by GraphQL field name;
connections below a record are stored under their response key (aliases may ask for different
pages of the same relationship).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement

from xrm.graphql.bindings import RelationLink, SchemaIndex
from xrm.graphql.calculated import CalculatedAttributes
from xrm.graphql.filters import PARENT_ALIAS, Criteria, FilterCompiler
from xrm.graphql.gateway import ReadGateway, Rows
from xrm.graphql.paging import Orderings, Paging, page_info, paging_of, retarget_cursor, reverse_orders, with_tiebreaker
from xrm.graphql.pipeline import PageReader, RootPage, RootSteps
from xrm.graphql.relay import TYPE_KEY, encode_global_id
from xrm.graphql.selection import ConnectionPlan, LookupPlan, RecordPlan
from xrm.query import (
    Aggregate,
    CompiledQuery,
    ConditionExpression,
    FilterExpression,
    GroupBy,
    LinkEntity,
    QueryExpression,
)

__all__ = ["CHUNK", "Loader", "strip_columns"]

CHUNK = 5000
Record = dict[str, Any]


def _chunks(values: list[Any]) -> Iterator[tuple[Any, ...]]:
    for start in range(0, len(values), CHUNK):
        yield tuple(values[start : start + CHUNK])


def _with(criteria: FilterExpression | None, *conditions: ConditionExpression) -> FilterExpression:
    return FilterExpression("and", conditions, (criteria,) if criteria is not None else ())


def strip_columns(links: tuple[LinkEntity, ...]) -> tuple[LinkEntity, ...]:
    """``links`` without their columns (to count or aggregate over the joins)."""
    return tuple(replace(link, columns=(), links=strip_columns(link.links)) for link in links)


class Loader:
    """Loads the records of plans through one gateway; root reads run the ``steps`` when given."""

    def __init__(
        self,
        index: SchemaIndex,
        gateway: ReadGateway,
        calculators: dict[str, CalculatedAttributes],
        steps: RootSteps | None = None,
    ) -> None:
        self.index = index
        self.gateway = gateway
        self.steps = steps
        self.settings = index.settings
        self.filters = FilterCompiler(index, gateway)
        self._calculators = calculators

    # --- records -------------------------------------------------------------------------------

    def calculator(self, entity: str) -> CalculatedAttributes:
        if entity not in self._calculators:
            self._calculators[entity] = CalculatedAttributes(self.index.model.entities[entity])
        return self._calculators[entity]

    def columns(self, plan: RecordPlan) -> tuple[str, ...]:
        """Stored attributes a plan reads (calculated attributes add what their expressions use)."""
        if not plan.calculated:
            return plan.columns()
        own, _ = self.calculator(plan.binding.logical_name).dependencies(list(plan.calculated.values()))
        return plan.columns(own)

    def records(self, plan: RecordPlan, rows: Rows) -> list[Record]:
        """Records (dicts keyed by field) of ``rows``, with their lookups and connections loaded."""
        binding = plan.binding
        primary_id, logical_name = binding.entity.primary_id, binding.logical_name
        records: list[Record] = []
        for row in rows:
            record: Record = {TYPE_KEY: binding.type_name}
            for field_name, attribute in plan.values.items():
                record[field_name] = row[attribute]
            if plan.global_id:
                record["id"] = encode_global_id(logical_name, row[primary_id])
            records.append(record)
        if plan.calculated and rows:
            names = list(dict.fromkeys(plan.calculated.values()))
            values = self.calculator(logical_name).values(self.gateway, names, rows)
            for record, computed in zip(records, values, strict=True):
                record.update({field_name: computed[name] for field_name, name in plan.calculated.items()})
        for field_name, lookup in plan.records.items():
            self._follow(plan, field_name, lookup, rows, records)
        for key, connection in plan.connections.items():
            self._nested(key, connection, rows, records)
        return records

    def by_ids(self, plan: RecordPlan, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Record]:
        """The records with ``ids`` that exist (and the caller may read), by id."""
        entity = plan.binding.entity
        found: dict[uuid.UUID, Record] = {}
        for chunk in _chunks(sorted(set(ids), key=str)):
            _, rows = self.gateway.read(self._by_ids_query(plan, chunk))
            records = self.records(plan, rows)
            found.update({row[entity.primary_id]: record for row, record in zip(rows, records, strict=True)})
        return found

    def _by_ids_query(self, plan: RecordPlan, ids: tuple[uuid.UUID, ...]) -> QueryExpression:
        entity = plan.binding.entity
        condition = ConditionExpression(entity.primary_id, "in", ids)
        return QueryExpression(entity.logical_name, columns=self.columns(plan), criteria=_with(None, condition))

    def retrieve(self, plan: RecordPlan, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Record]:
        """Root records by id: as :meth:`by_ids`, but one ``retrieve`` message per record when the
        entity has steps for it."""
        entity = plan.binding.entity
        if self.steps is None or not self.steps.active("retrieve", entity.logical_name):
            return self.by_ids(plan, ids)
        columns = self.columns(plan)

        def read(record_id: uuid.UUID) -> Any:
            _, rows = self.gateway.read(self._by_ids_query(plan, (record_id,)))
            return rows[0] if rows else None

        found: dict[uuid.UUID, Record] = {}
        for record_id in dict.fromkeys(ids):
            row = self.steps.retrieve(entity.logical_name, record_id, columns, read)
            if row is not None:
                found[record_id] = self.records(plan, [row])[0]  # type: ignore[list-item]
        return found

    def page(self, query: QueryExpression, where: Sequence[ColumnElement[bool]] = ()) -> RootPage:
        """The rows of ``query`` (one page when it has a page size), no steps."""
        compiled = self.gateway.compile(query, where)
        fetched = compiled.page(self.gateway.rows(compiled))
        return RootPage(query, compiled, list(fetched.rows), fetched.more_records)

    def root(
        self, query: QueryExpression, where: Sequence[ColumnElement[bool]] = (), read: PageReader | None = None
    ) -> RootPage:
        """A root field's read of ``query`` (by ``read``, else :meth:`page`), through the
        ``retrieve_multiple`` steps: the page comes from the query the steps left."""
        reader = read or (lambda actual: self.page(actual, where))
        if self.steps is None:
            return reader(query)
        return self.steps.retrieve_multiple(query, reader)

    def _follow(self, plan: RecordPlan, field_name: str, lookup: LookupPlan, rows: Rows, records: list[Record]) -> None:
        attribute = plan.binding.entity.attributes[lookup.attribute]
        single = None if attribute.is_polymorphic else next(iter(lookup.targets), None)
        references: list[tuple[str | None, Any]] = []
        wanted: dict[str, set[Any]] = defaultdict(set)
        for row in rows:
            value = row[lookup.attribute]
            target = None if value is None else row[f"{lookup.attribute}type"] if single is None else single
            references.append((target, value))
            if target in lookup.targets:
                wanted[target].add(value)
        found = {target: self.by_ids(lookup.targets[target], ids) for target, ids in wanted.items()}
        for record, (target, value) in zip(records, references, strict=True):
            record[field_name] = found.get(target or "", {}).get(value)

    # --- connections ---------------------------------------------------------------------------

    def _orderings(
        self,
        connection: ConnectionPlan,
        criteria: FilterExpression | None,
        paging: Paging,
        links: tuple[LinkEntity, ...] = (),
        extra: tuple[str, ...] = (),
    ) -> Orderings:
        entity = self.index.binding(connection.entity).entity
        orders, order_links = self.filters.orders(connection.entity, connection.arguments.get("orderBy"))
        orders = with_tiebreaker(orders, entity.primary_id)
        columns = tuple(sorted(set(self.columns(connection.node)) | set(extra)))
        query = QueryExpression(
            connection.entity, columns=columns, criteria=criteria, links=(*links, *order_links),
            orders=tuple(orders), page_size=max(paging.size, 1),
        )  # fmt: skip
        if not paging.backward:
            return Orderings(replace(query, cursor=paging.cursor), "", "")
        backward = replace(query, orders=tuple(reverse_orders(orders)))
        forward_key, backward_key = self.gateway.compile(query).fingerprint, self.gateway.compile(backward).fingerprint
        cursor = retarget_cursor(paging.cursor, forward_key, backward_key) if paging.cursor else None
        return Orderings(replace(backward, cursor=cursor), forward_key, backward_key)

    def _shape(
        self,
        connection: ConnectionPlan,
        pages: list[tuple[Orderings, CompiledQuery, Any]],
        records: list[Record],
        more: bool,
        paging: Paging,
    ) -> dict[str, Any]:
        """A connection dict from its page rows (with the ordering and compiled query of each)."""
        result: dict[str, Any] = {}
        cursors: list[str | None] = [None] * len(records)
        if connection.cursors or connection.page_info & {"startCursor", "endCursor"}:
            cursors = [orderings.client_cursor(compiled, row) for orderings, compiled, row in pages]
        if connection.edges:
            result["edges"] = [
                {"cursor": cursor, "node": record} for cursor, record in zip(cursors, records, strict=True)
            ]
        if connection.nodes:
            result["nodes"] = records
        if connection.page_info:
            result["pageInfo"] = page_info(cursors, paging, more)
        return result

    def connection(self, connection: ConnectionPlan) -> dict[str, Any]:
        """A root connection: one page of ``connection.entity`` (and its count if asked).

        Page and count are read inside the ``retrieve_multiple`` steps (see :meth:`root`), so a
        step that changes the query changes both.
        """
        paging = paging_of(connection.arguments, self.settings)
        criteria = self.filters.criteria(connection.entity, connection.arguments.get("filter"))
        orderings = self._orderings(connection, criteria.criteria, paging)
        checked = self.gateway.compile(orderings.query, criteria.where)  # checks orderBy and cursor, always
        wants_rows = bool(paging.size and (connection.edges or connection.nodes or connection.page_info))

        def read(query: QueryExpression) -> RootPage:
            compiled = checked if query == orderings.query else self.gateway.compile(query, criteria.where)
            page = RootPage(query, compiled)
            if wants_rows:
                fetched = compiled.page(self.gateway.rows(compiled))
                page.rows, page.more = list(fetched.rows), fetched.more_records
                if paging.backward:
                    page.rows.reverse()
            if connection.total_count:
                # the links a step added restrict the count too; the order links do not change it
                added = tuple(link for link in query.links if link not in orderings.query.links)
                count = QueryExpression(query.entity, criteria=query.criteria, links=strip_columns(added))
                page.total = self.gateway.count(count, criteria.where)
            return page

        page = self.root(orderings.query, read=read)
        rows: Rows = page.rows  # type: ignore[assignment]
        records = self.records(connection.node, rows)
        pages = [(orderings, page.compiled or checked, row) for row in rows]
        result = self._shape(connection, pages, records, page.more, paging)
        if connection.total_count:
            result["totalCount"] = page.total or 0
        return result

    def _scope(
        self, link: RelationLink, parents: tuple[Any, ...], criteria: FilterExpression | None
    ) -> tuple[FilterExpression | None, tuple[LinkEntity, ...], str]:
        """Criteria and links restricting children to ``parents``, and the label of the parent id."""
        if not link.many_to_many:
            assert link.lookup is not None
            return _with(criteria, ConditionExpression(link.lookup, "in", parents)), (), link.lookup
        assert link.intersect and link.parent_column and link.child_column
        child = self.index.binding(link.child).entity
        through = LinkEntity(
            link.intersect, link.child_column, child.primary_id, alias=PARENT_ALIAS, columns=(link.parent_column,),
            criteria=_with(None, ConditionExpression(link.parent_column, "in", parents)),
        )  # fmt: skip
        return criteria, (through,), f"{PARENT_ALIAS}.{link.parent_column}"

    def _nested(self, key: str, connection: ConnectionPlan, rows: Rows, records: list[Record]) -> None:
        link = connection.link
        assert link is not None
        parent_id = self.index.binding(link.parent).entity.primary_id
        parents = list(dict.fromkeys(row[parent_id] for row in rows))
        paging = paging_of(connection.arguments, self.settings)
        criteria = self.filters.criteria(link.child, connection.arguments.get("filter"))
        groups: dict[Any, list[tuple[Orderings, CompiledQuery, Any]]] = defaultdict(list)
        if parents and paging.size and (connection.edges or connection.nodes or connection.page_info):
            for chunk in _chunks(parents):
                scoped, links, label = self._scope(link, chunk, criteria.criteria)
                extra = (label,) if not link.many_to_many else ()
                orderings = self._orderings(connection, scoped, paging, links, extra)
                compiled, fetched = self.gateway.partitioned(orderings.query, label, paging.size + 1, criteria.where)
                for row in fetched:
                    groups[row[label]].append((orderings, compiled, row))
        more = {parent: len(group) > paging.size for parent, group in groups.items()}
        for group in groups.values():
            del group[paging.size :]
            if paging.backward:
                group.reverse()
        flat = [entry for parent in parents for entry in groups.get(parent, ())]
        children = iter(self.records(connection.node, [row for _, _, row in flat]))
        child_records = {parent: [next(children) for _ in groups.get(parent, ())] for parent in parents}
        counts = self._counts(link, parents, criteria) if connection.total_count else {}
        for row, record in zip(rows, records, strict=True):
            parent = row[parent_id]
            result = self._shape(
                connection, groups.get(parent, []), child_records.get(parent, []), more.get(parent, False), paging
            )
            if connection.total_count:
                result["totalCount"] = counts.get(parent, 0)
            record[key] = result

    def _counts(self, link: RelationLink, parents: list[Any], criteria: Criteria) -> dict[Any, int]:
        counts: dict[Any, int] = {}
        for chunk in _chunks(parents):
            scoped, links, _ = self._scope(link, chunk, criteria.criteria)
            if link.many_to_many:
                group = GroupBy(str(link.parent_column), "parent", entity_alias=PARENT_ALIAS)
                links = tuple(replace(through, columns=()) for through in links)
            else:
                group = GroupBy(str(link.lookup), "parent")
            query = QueryExpression(
                link.child, criteria=scoped, links=links, group_by=(group,), aggregates=(Aggregate("total", "count"),)
            )
            _, rows = self.gateway.read(query, criteria.where)
            counts.update({row["parent"]: int(row["total"]) for row in rows})
        return counts
