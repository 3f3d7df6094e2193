"""Aggregate queries: group-by columns (with date parts) and aggregate functions.

Date grouping returns a whole number, the same on SQLite and PostgreSQL:

- ``year`` (2024), ``quarter`` (1-4), ``month`` (1-12), ``day`` (day of the month, 1-31);
- ``week``: week of the year, weeks starting on Monday, week 1 being the one that holds
  January 1st (1-54; SQL Server's ``DATEPART(week)`` with Monday as first day). It is computed
  from the day of the year and the weekday, which both engines extract alike.

Date-and-time values are grouped by their UTC calendar day whatever the session time zone: on
PostgreSQL the timestamp is converted with ``timezone('UTC', ...)`` first; SQLite stores UTC.

The statement groups in two steps, one SQL statement: a row subquery computes every group key
and aggregate argument once, and the grouping query groups by those plain columns (so no engine
has to match a parametrised expression in the select list with the same one in GROUP BY).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Double,
    FromClause,
    Integer,
    Subquery,
    cast,
    distinct,
    extract,
    func,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from xrm.query._scope import Scope
from xrm.query.expression import Aggregate, GroupBy, QueryError, QueryExpression

__all__ = ["grouped_subquery", "date_part"]

_SUMMABLE = {"number"}
_ORDERED = {"number", "choice", "date", "datetime", "text"}


class utc_timestamp(FunctionElement[Any]):  # noqa: N801 - named like SQLAlchemy's func elements
    """A timestamp as UTC wall-clock time: ``timezone('UTC', x)`` on PostgreSQL, ``x`` elsewhere."""

    inherit_cache = True
    name = "utc_timestamp"


@compiles(utc_timestamp)
def _utc_default(element: utc_timestamp, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(next(iter(element.clauses)), **kw)


@compiles(utc_timestamp, "postgresql")
def _utc_postgresql(element: utc_timestamp, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(func.timezone("UTC", next(iter(element.clauses))), **kw)


def date_part(column: ColumnElement[Any], grouping: str, timestamp: bool) -> ColumnElement[int]:
    """``column``'s year, quarter, month, week or day as a whole number (see the module docstring)."""
    value = utc_timestamp(column) if timestamp else column

    def part(name: str) -> ColumnElement[int]:
        return cast(extract(name, value), Integer)

    if grouping == "quarter":
        return (part("month") + 2) // 3
    if grouping == "week":
        day_of_year = part("doy")
        monday_based = (part("dow") + 6) % 7  # 0 = Monday
        january_first = (monday_based - day_of_year + 372) % 7  # weekday of Jan 1; 372 = 53 * 7 + 1
        return (day_of_year - 1 + january_first) // 7 + 1
    return part(grouping)


def _group_key(scope: Scope, group: GroupBy) -> ColumnElement[Any]:
    field = scope.source(group.entity_alias).field(group.attribute)
    column = field.stored("grouping")
    if field.kind == "multichoice":
        raise QueryError(f"{field.label}: cannot group by a multichoice attribute")
    if group.date_grouping is None:
        return column
    if field.kind not in ("date", "datetime"):
        raise QueryError(f"{field.label}: date grouping '{group.date_grouping}' needs a date attribute")
    return date_part(column, group.date_grouping, field.kind == "datetime")


def _argument(scope: Scope, aggregate: Aggregate) -> ColumnElement[Any] | None:
    if aggregate.function == "count":
        if aggregate.attribute is not None:
            raise QueryError(f"aggregate '{aggregate.alias}': 'count' counts rows; use 'count_column' for an attribute")
        return None
    if aggregate.attribute is None:
        raise QueryError(f"aggregate '{aggregate.alias}': '{aggregate.function}' needs an attribute")
    field = scope.source(aggregate.entity_alias).field(aggregate.attribute)
    column = field.stored("aggregates")
    allowed = {"sum": _SUMMABLE, "avg": _SUMMABLE, "min": _ORDERED, "max": _ORDERED}.get(aggregate.function)
    if allowed is not None and field.kind not in allowed:
        raise QueryError(f"{field.label}: '{aggregate.function}' does not apply to a {field.kind} attribute")
    if aggregate.function == "count_distinct" and field.kind == "multichoice":
        raise QueryError(f"{field.label}: 'count_distinct' does not apply to a multichoice attribute")
    return column


def _aggregate(function: str, argument: ColumnElement[Any] | None) -> ColumnElement[Any]:
    if argument is None:
        return func.count()
    if function == "count_column":
        return func.count(argument)
    if function == "count_distinct":
        return func.count(distinct(argument))
    if function == "avg":  # a float on both engines (PostgreSQL would give numeric for integers)
        return cast(func.avg(argument), Double)
    if function == "sum" and isinstance(argument.type, Integer):  # PostgreSQL sums bigint as numeric
        return cast(func.sum(argument), BigInteger)
    return func.sum(argument) if function == "sum" else func.min(argument) if function == "min" else func.max(argument)


def _check_shape(query: QueryExpression, scope: Scope) -> None:
    if query.columns:
        raise QueryError("an aggregate query returns its group-by and aggregate aliases; leave 'columns' empty")
    if any(linked.link.columns for linked in scope.links):
        raise QueryError("an aggregate query cannot select link-entity columns; group by them instead")
    if query.distinct:
        raise QueryError("'distinct' does not apply to an aggregate query; use 'count_distinct'")
    aliases = [group.alias for group in query.group_by] + [aggregate.alias for aggregate in query.aggregates]
    for alias in aliases:
        if not alias.isidentifier() or alias.startswith("_") or alias != alias.lower():
            raise QueryError(f"alias '{alias}' must be lower case letters, digits and '_', not starting with '_'")
    if len(set(aliases)) != len(aliases):
        raise QueryError("group-by and aggregate aliases must be unique")


def grouped_subquery(
    scope: Scope, query: QueryExpression, joined: FromClause, where: ColumnElement[bool] | None
) -> tuple[Subquery, list[str]]:
    """The grouped rows as a subquery with one column per alias, and the group-by aliases."""
    _check_shape(query, scope)
    keys = [_group_key(scope, group).label(f"g{index}") for index, group in enumerate(query.group_by)]
    arguments = [_argument(scope, aggregate) for aggregate in query.aggregates]
    labelled = [argument.label(f"a{index}") for index, argument in enumerate(arguments) if argument is not None]
    row_columns = keys + labelled or [scope.root.primary_key[0].label("r")]
    inner = select(*row_columns).select_from(joined)
    rows = (inner if where is None else inner.where(where)).subquery("xrm_rows")
    outputs = [rows.c[f"g{index}"].label(group.alias) for index, group in enumerate(query.group_by)]
    for index, (aggregate, argument) in enumerate(zip(query.aggregates, arguments, strict=True)):
        column = None if argument is None else rows.c[f"a{index}"]
        outputs.append(_aggregate(aggregate.function, column).label(aggregate.alias))
    grouped = select(*outputs).select_from(rows).group_by(*(rows.c[f"g{index}"] for index in range(len(keys))))
    return grouped.subquery("xrm_grouped"), [group.alias for group in query.group_by]
