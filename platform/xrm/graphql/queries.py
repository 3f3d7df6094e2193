"""The query root: per entity ``<entity>(id)`` and ``<entities>(filter, orderBy, paging)``; ``node``,
``nodes``, ``view``; the aggregates (:mod:`xrm.graphql.aggregates`) and the metadata part
(:mod:`xrm.graphql.definitions`).

Each root resolver reads its whole selection first (:class:`~xrm.graphql.selection.Planner`) and
loads every level below it in batches (:class:`~xrm.graphql.loader.Loader`) through one read
gateway; the fields below only read the dicts that built. The root read itself runs the plugin
steps of ``retrieve_multiple`` / ``retrieve`` (:mod:`xrm.graphql.pipeline`); the levels below do not.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLString,
)
from xrm.graphql.bindings import SchemaIndex
from xrm.graphql.calculated import CalculatedAttributes
from xrm.graphql.context import GraphQLContext
from xrm.graphql.definitions import view_column_type
from xrm.graphql.errors import InputError
from xrm.graphql.gateway import ReadGateway
from xrm.graphql.loader import Loader, strip_columns
from xrm.graphql.objects import connection_arguments
from xrm.graphql.paging import page_info, paging_of
from xrm.graphql.pipeline import RootPage, RootSteps
from xrm.graphql.relay import decode_global_id, node_interface, page_info_type
from xrm.graphql.scalars import JSONScalar, UUIDScalar, to_json
from xrm.graphql.selection import ConnectionPlan, Planner
from xrm.graphql.typemap import TypeMap
from xrm.query import QueryExpression, query_from_view

__all__ = ["Reads", "query_fields"]


class Reads:
    """What the read resolvers of one schema share: the index and the parsed calculated expressions."""

    def __init__(self, index: SchemaIndex) -> None:
        self.index = index
        self.calculators: dict[str, CalculatedAttributes] = {}

    @contextmanager
    def loader(self, info: GraphQLResolveInfo) -> Iterator[tuple[Loader, Planner]]:
        """A loader over a fresh gateway for the caller of ``info``, closed afterwards."""
        context: GraphQLContext = info.context
        gateway = ReadGateway(
            context.environment,
            user_id=context.user_id,
            predicate=context.row_filter(),
            timeout=self.index.settings.request_timeout,
            hidden=context.hidden_attributes(),
        )
        try:
            loader = Loader(self.index, gateway, self.calculators, RootSteps(context.service))
            yield loader, Planner(self.index, info)
        finally:
            gateway.close()

    def one(
        self, info: GraphQLResolveInfo, entity: str, record_id: uuid.UUID, *, steps: bool = False
    ) -> dict[str, Any] | None:
        """The record ``entity``/``record_id`` shaped for the selection of ``info`` (None if unreadable).

        With ``steps`` (the root field ``<entity>(id)``) the read runs the ``retrieve`` steps; a
        mutation's payload re-reads the record it wrote without them (its own message ran its steps).
        """
        with self.loader(info) as (loader, planner):
            plan = planner.record(self.index.binding(entity), list(info.field_nodes))
            found = loader.retrieve(plan, [record_id]) if steps else loader.by_ids(plan, [record_id])
            return found.get(record_id)

    def nodes(self, info: GraphQLResolveInfo, global_ids: list[str]) -> list[dict[str, Any] | None]:
        references = [decode_global_id(global_id) for global_id in global_ids]
        wanted: dict[str, set[uuid.UUID]] = {}
        for entity, record_id in references:
            if entity in self.index.entities:
                wanted.setdefault(entity, set()).add(record_id)
        with self.loader(info) as (loader, planner):
            plans = planner.abstract(sorted(wanted), list(info.field_nodes))
            found = {entity: loader.retrieve(plans[entity], ids) for entity, ids in wanted.items()}
        return [found.get(entity, {}).get(record_id) for entity, record_id in references]


def _entity_fields(types: TypeMap, reads: Reads, entity: str) -> dict[str, GraphQLField]:
    binding = types.index.binding(entity)
    names = binding.names

    def single(_root: Any, info: GraphQLResolveInfo, id: uuid.UUID) -> dict[str, Any] | None:  # noqa: A002
        return reads.one(info, entity, id, steps=True)

    def many(_root: Any, info: GraphQLResolveInfo, **arguments: Any) -> dict[str, Any]:
        with reads.loader(info) as (loader, planner):
            return loader.connection(planner.connection(entity, None, list(info.field_nodes), arguments))

    return {
        names.single: GraphQLField(
            types.objects[entity], {"id": GraphQLArgument(GraphQLNonNull(UUIDScalar))}, resolve=single,
            description=f"One {entity} by its id ({binding.entity.primary_id}); null if there is none.",
        ),
        names.list: GraphQLField(
            GraphQLNonNull(types.connections[entity]), connection_arguments(types, entity), resolve=many,
            description=f"A page of {entity} records.", extensions={"xrm": "connection"},
        ),
    }  # fmt: skip


def _view_page(
    reads: Reads, info: GraphQLResolveInfo, entity: str, name: str, arguments: dict[str, Any]
) -> dict[str, Any]:
    component = reads.index.model.views.get((entity, name))
    if component is None:
        raise InputError(f"{entity} has no view '{name}'")
    view = component.metadata
    with reads.loader(info) as (loader, planner):
        plan = planner.connection(entity, None, list(info.field_nodes), arguments, ("ViewConnection", "ViewEdge"))
        paging = paging_of(arguments, reads.index.settings)
        if paging.backward:
            raise InputError("a view pages forward only ('first'/'after')")
        base = query_from_view(view, page_size=max(paging.size, 1))  # type: ignore[arg-type]
        entity_meta = reads.index.model.entities[entity]
        calculated = [c for c in base.columns or () if entity_meta.attributes[c].type == "calculated"]
        stored = tuple(c for c in base.columns or () if c not in calculated)
        columns = tuple(
            dict.fromkeys((*stored, *loader.columns(plan.node), *_dependencies(loader, entity, calculated)))
        )
        query = replace(base, columns=columns, cursor=paging.cursor)

        def read(actual: QueryExpression) -> RootPage:
            page = loader.page(actual) if paging.size else RootPage(actual)
            if plan.total_count:
                page.total = loader.gateway.count(replace(actual, links=strip_columns(actual.links)))
            return page

        page = loader.root(query, read=read)
        result = _view_result(loader, plan, view, calculated, page.compiled, list(page.rows), page.more, paging)
        if plan.total_count:
            result["totalCount"] = page.total or 0
        return result


def _dependencies(loader: Loader, entity: str, calculated: list[str]) -> set[str]:
    return loader.calculator(entity).dependencies(calculated)[0] if calculated else set()


def _view_result(
    loader: Loader,
    plan: ConnectionPlan,
    view: Any,
    calculated: list[str],
    compiled: Any,
    rows: list[Any],
    more: bool,
    paging: Any,
) -> dict[str, Any]:
    records = loader.records(plan.node, rows)
    keys = [f"{c.entity}.{c.name}" if c.entity else c.name for c in view.columns]
    computed = (
        loader.calculator(view.entity).values(loader.gateway, calculated, rows) if calculated else [{}] * len(rows)
    )
    cursors = [compiled.next_cursor(row) for row in rows]
    values = [
        {key: to_json(extra.get(key, row.get(key))) for key in keys} for row, extra in zip(rows, computed, strict=True)
    ]
    return {
        "edges": [{"cursor": c, "node": r, "values": v} for c, r, v in zip(cursors, records, values, strict=True)],
        "nodes": records,
        "pageInfo": page_info(list(cursors), paging, more),
        "columns": [
            {"name": c.name, "entity": c.entity, "width": c.width, "key": key}
            for c, key in zip(view.columns, keys, strict=True)
        ],
    }


def _generic_fields(types: TypeMap, reads: Reads, entity_names: GraphQLEnumType) -> dict[str, GraphQLField]:
    view_edge = GraphQLObjectType(
        "ViewEdge",
        lambda: {
            "cursor": GraphQLField(GraphQLNonNull(GraphQLString)),
            "node": GraphQLField(GraphQLNonNull(node_interface)),
            "values": GraphQLField(GraphQLNonNull(JSONScalar), description="The view's columns by key."),
        },
    )
    view_connection = GraphQLObjectType(
        "ViewConnection",
        lambda: {
            "edges": GraphQLField(GraphQLNonNull(GraphQLList(GraphQLNonNull(view_edge)))),
            "nodes": GraphQLField(GraphQLNonNull(GraphQLList(GraphQLNonNull(node_interface)))),
            "pageInfo": GraphQLField(GraphQLNonNull(page_info_type)),
            "totalCount": GraphQLField(GraphQLNonNull(GraphQLInt)),
            "columns": GraphQLField(GraphQLNonNull(GraphQLList(GraphQLNonNull(view_column_type)))),
        },
        description="A page of a saved view: nodes of its entity, and its columns (linked ones too) per edge.",
    )

    def node(_root: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: A002
        return reads.nodes(info, [id])[0]

    def nodes(_root: Any, info: GraphQLResolveInfo, ids: list[str]) -> list[dict[str, Any] | None]:
        return reads.nodes(info, ids)

    def view(_root: Any, info: GraphQLResolveInfo, entity: str, name: str, **arguments: Any) -> dict[str, Any]:
        return _view_page(reads, info, entity, name, arguments)

    return {
        "node": GraphQLField(node_interface, {"id": GraphQLArgument(GraphQLNonNull(GraphQLID))}, resolve=node),
        "nodes": GraphQLField(
            GraphQLNonNull(GraphQLList(node_interface)),
            {"ids": GraphQLArgument(GraphQLNonNull(GraphQLList(GraphQLNonNull(GraphQLID))))},
            resolve=nodes, extensions={"xrm": "nodes"},
        ),
        "view": GraphQLField(
            GraphQLNonNull(view_connection),
            {"entity": GraphQLArgument(GraphQLNonNull(entity_names)), "name": GraphQLArgument(GraphQLNonNull(GraphQLString)),
             "first": GraphQLArgument(GraphQLInt), "after": GraphQLArgument(GraphQLString)},
            resolve=view, description="Runs a saved view (see `views` for the names).", extensions={"xrm": "connection"},
        ),
    }  # fmt: skip


def query_fields(types: TypeMap, reads: Reads, entity_names: GraphQLEnumType) -> dict[str, GraphQLField]:
    """The fields of the query root, but for aggregates and metadata."""
    fields = _generic_fields(types, reads, entity_names)
    for entity in sorted(types.index.entities):
        fields.update(_entity_fields(types, reads, entity))
    return fields
