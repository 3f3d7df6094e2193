"""``<entities>Aggregate(filter, groupBy)``: counts, sums, averages, minimums and maximums per group.

One statement per call; only the aggregates the selection asks for are computed. A group key of
a date attribute needs a ``dateGrouping`` and is the whole number it gives (year, quarter 1-4,
month 1-12, ISO-like week, day of month; see :mod:`xrm.query._aggregation`). At most
``max_page_size`` groups come back; more is an error (narrow the filter or the grouping).
Calculated attributes group and aggregate by their result type, computed in SQL.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLFloat,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
)
from xrm.graphql.bindings import EntityBinding, value_kind
from xrm.graphql.errors import InputError
from xrm.graphql.inputs import date_grouping
from xrm.graphql.queries import Reads
from xrm.graphql.selection import Planner
from xrm.graphql.typemap import SCALARS, TypeMap
from xrm.query import Aggregate, GroupBy, QueryExpression

__all__ = ["aggregate_fields"]

_NUMBERS = ("int", "bigint", "decimal", "float")
_GROUPABLE = ("string", "int", "bigint", "float", "decimal", "boolean", "uuid", "choice", "date", "datetime")


def _fields_of(types: TypeMap, binding: EntityBinding, kinds: tuple[str, ...]) -> dict[str, str]:
    entity = binding.entity
    return {
        field_name: attribute
        for field_name, attribute in sorted({**binding.values, **binding.calculated}.items())
        if types.kind(entity.attributes[attribute]) in kinds and entity.attributes[attribute].type != "memo"
    }


def _object(name: str, fields: dict[str, GraphQLOutputType]) -> GraphQLObjectType | None:
    if not fields:
        return None
    return GraphQLObjectType(name, lambda: {key: GraphQLField(value) for key, value in fields.items()})


def _plain(output: GraphQLOutputType) -> GraphQLOutputType:
    return getattr(output, "of_type", output)  # a primary id is UUID!, nullable here


def _value_types(types: TypeMap, binding: EntityBinding) -> dict[str, dict[str, GraphQLOutputType]]:
    """The fields of the group key, sums, averages and extremes types."""
    entity = binding.entity

    def kind(attribute: str) -> str:
        return types.kind(entity.attributes[attribute])

    def value(attribute: str) -> GraphQLOutputType:
        return _plain(types.value_type(entity, entity.attributes[attribute]))

    groups = _fields_of(types, binding, _GROUPABLE)
    numbers = _fields_of(types, binding, _NUMBERS)
    return {
        "GroupKey": {f: GraphQLInt if kind(a) in ("date", "datetime") else value(a) for f, a in groups.items()},
        "Sums": {f: SCALARS["bigint"] if kind(a) in ("int", "bigint") else value(a) for f, a in numbers.items()},
        "Averages": dict.fromkeys(numbers, GraphQLFloat),
        "Extremes": {f: value(a) for f, a in _fields_of(types, binding, (*_NUMBERS, "date", "datetime")).items()},
    }


def _entity_aggregate(types: TypeMap, reads: Reads, binding: EntityBinding) -> GraphQLField:
    names = binding.names
    shapes = {suffix: _object(names.type(suffix), fields) for suffix, fields in _value_types(types, binding).items()}
    fields: dict[str, GraphQLField] = {
        "count": GraphQLField(GraphQLNonNull(GraphQLInt), description="Records in the group.")
    }
    described = {
        "group": ("GroupKey", "The values the group shares (date parts as numbers)."),
        "sum": ("Sums", None), "avg": ("Averages", None), "min": ("Extremes", None), "max": ("Extremes", None),
    }  # fmt: skip
    for name, (suffix, description) in described.items():
        if shapes[suffix] is not None:
            fields[name] = GraphQLField(shapes[suffix], description=description)  # type: ignore[arg-type]
    aggregate_type = GraphQLObjectType(names.type("Aggregate"), lambda: fields)
    arguments: dict[str, GraphQLArgument] = {"filter": GraphQLArgument(types.filters[binding.logical_name])}
    groups = _fields_of(types, binding, _GROUPABLE)
    if groups:
        group_field = GraphQLEnumType(names.type("GroupField"), {f: GraphQLEnumValue(f) for f in groups})
        group_by = GraphQLInputObjectType(
            names.type("GroupBy"),
            lambda: {
                "field": GraphQLInputField(GraphQLNonNull(group_field)),
                "dateGrouping": GraphQLInputField(date_grouping),
            },
        )
        arguments["groupBy"] = GraphQLArgument(GraphQLList(GraphQLNonNull(group_by)))

    def resolve(_root: Any, info: GraphQLResolveInfo, **kwargs: Any) -> list[dict[str, Any]]:
        return _aggregate(reads, info, binding, groups, kwargs)

    return GraphQLField(
        GraphQLNonNull(GraphQLList(GraphQLNonNull(aggregate_type))),
        arguments,
        resolve=resolve,
        description=f"Aggregates of {binding.logical_name} records, per group of `groupBy`.",
    )


def _group_by(
    reads: Reads, binding: EntityBinding, groups: dict[str, str], items: list[dict[str, Any]]
) -> list[GroupBy]:
    """``groupBy`` items -> group-by columns ``g0``, ``g1``...; a date needs its ``dateGrouping``."""
    group_by = []
    for index, item in enumerate(items):
        attribute, grouping = groups[item["field"]], item.get("dateGrouping")
        is_date = value_kind(reads.index.model, binding.entity.attributes[attribute]) in ("date", "datetime")
        if is_date and grouping is None:
            raise InputError(f"grouping by {item['field']} (a date) needs a dateGrouping")
        group_by.append(GroupBy(attribute, f"g{index}", grouping))
    return group_by


def _wanted(planner: Planner, info: GraphQLResolveInfo, binding: EntityBinding) -> dict[str, list[tuple[str, str]]]:
    """Per function asked for (sum, avg, min, max), the ``(field, attribute)`` pairs selected."""
    aggregate = binding.names.type("Aggregate")
    wanted: dict[str, list[tuple[str, str]]] = {}
    for fields in planner.collect(list(info.field_nodes), aggregate).values():
        function = fields[0].name.value
        if function not in ("sum", "avg", "min", "max") or function in wanted:
            continue
        shape = info.schema.type_map[aggregate].fields[function].type.name  # type: ignore[attr-defined]
        names = [selected[0].name.value for selected in planner.collect(fields, shape).values()]
        attributes = {**binding.values, **binding.calculated}
        wanted[function] = [(name, attributes[name]) for name in names if name in attributes]
    return wanted


def _aggregate(
    reads: Reads, info: GraphQLResolveInfo, binding: EntityBinding, groups: dict[str, str], arguments: dict[str, Any]
) -> list[dict[str, Any]]:
    entity, settings = binding.entity, reads.index.settings
    items = list(arguments.get("groupBy") or ())
    group_by = _group_by(reads, binding, groups, items)
    with reads.loader(info) as (loader, planner):
        wanted = _wanted(planner, info, binding)
        aggregates = [Aggregate("count", "count_column", entity.primary_id)]  # see ReadGateway.count
        for function, pairs in wanted.items():
            aggregates += [Aggregate(f"{function}_{i}", function, attribute) for i, (_, attribute) in enumerate(pairs)]  # type: ignore[arg-type]
        criteria = loader.filters.criteria(binding.logical_name, arguments.get("filter"))
        query = QueryExpression(
            entity.logical_name,
            criteria=criteria.criteria,
            aggregates=tuple(aggregates),
            group_by=tuple(group_by),
            top=settings.max_page_size if group_by else None,
        )
        rows = loader.root(query, criteria.where).rows  # through the retrieve_multiple steps
    if group_by and len(rows) >= settings.max_page_size:
        raise InputError(f"too many groups (at most {settings.max_page_size - 1}); narrow the filter or the grouping")
    results = []
    for row in rows:
        result: dict[str, Any] = {"count": int(row["count"])}
        result["group"] = {item["field"]: row[f"g{index}"] for index, item in enumerate(items)}
        for function, pairs in wanted.items():
            result[function] = {field: row[f"{function}_{i}"] for i, (field, _) in enumerate(pairs)}
        results.append(result)
    return results


def aggregate_fields(types: TypeMap, reads: Reads) -> dict[str, GraphQLField]:
    """``<entities>Aggregate`` for every entity."""
    return {
        binding.names.aggregate: _entity_aggregate(types, reads, binding)
        for _, binding in sorted(types.index.entities.items())
    }
