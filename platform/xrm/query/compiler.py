"""QueryExpression -> one SQLAlchemy ``Select``. Compiles only: the caller executes the statement.

Every result is in a total order (the query's orders, then the root's primary id, then the
primary id of each link-entity that can repeat a root row), so keyset paging visits every row
once; see :mod:`xrm.query._paging` for NULL ordering and the cursor format. With ``page_size``
the statement fetches one row more than the page so :meth:`CompiledQuery.page` can tell whether
there are more records.

Security plugs in through ``predicate``: called once for the root entity and once for every
link-entity (and N:N intersect table) with the table or alias the statement uses, it returns a
row filter or ``None``. The root's goes into WHERE; a link's into its join condition, so an
outer link to a row the caller may not read comes back as null columns, as in Dataverse.

Field security plugs in through ``hidden``: ``hidden(entity)`` names the attributes the caller may
not read, and each of them compiles to a NULL of its type wherever it appears (columns, conditions,
join keys, orders, group-bys, aggregates), so the statement behaves as if the values were null
and a filter or a sort on a hidden attribute cannot probe them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ColumnElement, FromClause, MetaData, Select, and_, select

from xrm.metadata import Model
from xrm.query._aggregation import grouped_subquery
from xrm.query._calculated import CalculatedColumns
from xrm.query._conditions import ConditionCompiler, Resolver
from xrm.query._paging import SortKey, after, decode_cursor, encode_cursor, fingerprint, order_clauses
from xrm.query._scope import MAX_LINK_ENTITIES, Field, Hidden, Scope, Source, resolve_scope
from xrm.query.expression import OrderExpression, QueryContext, QueryError, QueryExpression

__all__ = [
    "MAX_LINK_ENTITIES",
    "MAX_PAGE_SIZE",
    "Hidden",
    "Predicate",
    "QueryPage",
    "CompiledQuery",
    "compile_query",
]

MAX_PAGE_SIZE = 5000  # Dataverse's limit

Predicate = Callable[[str, FromClause], ColumnElement[bool] | None]
"""``predicate(entity, table_or_alias)`` -> an extra row filter for that table, or ``None``."""


@dataclass(frozen=True)
class QueryPage:
    """One page of rows; ``cursor`` resumes after the last one when ``more_records``."""

    rows: list[Any]
    more_records: bool
    cursor: str | None


@dataclass(frozen=True)
class CompiledQuery:
    """The statement, the labels of its visible columns, and how to resume after a row.

    Rows may carry extra sort-key columns labelled ``_key<n>``; ``columns`` lists the others
    (link-entity columns as ``alias.attribute``).
    """

    statement: Select[Any]
    columns: tuple[str, ...]
    keys: tuple[SortKey, ...]
    fingerprint: str
    page_size: int | None = None

    @property
    def key_labels(self) -> tuple[str, ...]:
        return tuple(key.label for key in self.keys)

    def next_cursor(self, row: Any) -> str:
        """The cursor of the page that starts after ``row`` (a result ``Row`` or a mapping)."""
        if not self.keys:
            raise QueryError("this query returns a single row; there is nothing to page through")
        mapping = getattr(row, "_mapping", row)
        return encode_cursor(self.fingerprint, [mapping[key.label] for key in self.keys])

    def page(self, rows: Sequence[Any]) -> QueryPage:
        """The page out of the rows the statement returned (it fetches one extra to detect more)."""
        rows = list(rows)
        if self.page_size is None or len(rows) <= self.page_size:
            return QueryPage(rows, False, None)
        kept = rows[: self.page_size]
        return QueryPage(kept, True, self.next_cursor(kept[-1]))


def _check_paging(query: QueryExpression) -> None:
    for name in ("page_size", "top"):
        value = getattr(query, name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE
        ):
            raise QueryError(f"'{name}' must be a whole number from 1 to {MAX_PAGE_SIZE}, got {value!r}")
    if query.top is not None and (query.page_size is not None or query.cursor is not None):
        raise QueryError("'top' cannot be combined with paging ('page_size', 'cursor')")
    if query.cursor is not None and query.page_size is None:
        raise QueryError("a 'cursor' needs the 'page_size' of the pages it resumes")


def _join(scope: Scope, conditions: ConditionCompiler, predicate: Predicate | None) -> FromClause:
    """The root joined with every link-entity: key equality, link criteria and predicate in ON."""
    joined: FromClause = scope.root.table
    available: dict[str, Source] = {}
    for linked in scope.links:
        source, link = linked.source, linked.link
        assert source.alias is not None
        available[source.alias] = source

        def resolve(attribute: str, alias: str | None, _source: Source = source) -> Field:
            if alias is None:
                return _source.field(attribute)
            if alias not in available:
                raise QueryError(f"link '{_source.alias}': its criteria name '{alias}', which is not joined before it")
            return available[alias].field(attribute)

        # through fields, so a hidden join key reads as null and joins nothing
        mine, theirs = source.field(link.from_attribute), linked.parent.field(link.to_attribute)
        parts = [mine.stored("joins") == theirs.stored("joins")]
        parts += [
            clause
            for clause in (conditions.filter(link.criteria, resolve), _guard(predicate, source))
            if clause is not None
        ]
        joined = joined.join(source.table, and_(*parts), isouter=link.join == "outer")
    return joined


def _guard(predicate: Predicate | None, source: Source) -> ColumnElement[bool] | None:
    return None if predicate is None else predicate(source.name, source.table)


def _where(
    scope: Scope, query: QueryExpression, conditions: ConditionCompiler, predicate: Predicate | None
) -> ColumnElement[bool] | None:
    resolve: Resolver = lambda attribute, alias: scope.source(alias).field(attribute)  # noqa: E731
    parts = [
        clause
        for clause in (conditions.filter(query.criteria, resolve), _guard(predicate, scope.root))
        if clause is not None
    ]
    return and_(*parts) if parts else None


def _record_columns(scope: Scope, query: QueryExpression, *, with_id: bool) -> dict[str, ColumnElement[Any]]:
    """Visible columns by label: the root's (plus its primary id), then each link-entity's."""
    outputs = dict(scope.root.output_columns(query.columns))
    if with_id:
        for column in scope.root.primary_key:
            outputs.setdefault(column.name, column)
    for linked in scope.links:
        outputs.update(linked.source.output_columns(linked.link.columns))
    return outputs


def _order_field(scope: Scope, order: OrderExpression) -> tuple[Field, ColumnElement[Any]]:
    found = scope.source(order.entity_alias).field(order.attribute)
    column = found.stored("ordering")
    if found.kind == "multichoice":
        raise QueryError(f"{found.label}: cannot order by a multichoice attribute")
    return found, column


def _label_of(outputs: dict[str, ColumnElement[Any]], column: ColumnElement[Any]) -> str | None:
    return next((label for label, candidate in outputs.items() if candidate is column), None)


def _record_keys(scope: Scope, query: QueryExpression, outputs: dict[str, ColumnElement[Any]]) -> list[SortKey]:
    """Orders, then tiebreakers: the root's primary id and that of every row-repeating link-entity."""
    keys: list[SortKey] = []
    hidden = (f"_key{index}" for index in itertools.count())
    for order in query.orders:
        found, column = _order_field(scope, order)
        keys.append(SortKey(_label_of(outputs, column) or next(hidden), column, order.descending, found.label))
    tiebreakers = list(scope.root.primary_key)
    for linked in scope.links:
        if linked.multiplies_rows:
            tiebreakers += linked.source.primary_key
    for column in tiebreakers:
        if all(key.expression is not column for key in keys):
            keys.append(
                SortKey(
                    _label_of(outputs, column) or next(hidden),
                    column,
                    False,
                    f"{column.table.name}.{column.name}",
                )
            )
    return keys


def _record_statement(
    scope: Scope, query: QueryExpression, joined: FromClause, where: ColumnElement[bool] | None
) -> tuple[Select[Any], tuple[str, ...], list[SortKey]]:
    outputs = _record_columns(scope, query, with_id=True)
    keys = _record_keys(scope, query, outputs)
    selected = [column.label(label) for label, column in outputs.items()]
    selected += [key.expression.label(key.label) for key in keys if key.label not in outputs]
    statement = select(*selected).select_from(joined)
    return (statement if where is None else statement.where(where)), tuple(outputs), keys


def _over(
    subquery: Any, labels: list[str], orders: list[tuple[str, bool]], tiebreakers: list[str]
) -> tuple[Select[Any], list[SortKey]]:
    """A select of every column of ``subquery``, in a total order on its labels."""
    keys = [SortKey(label, subquery.c[label], descending, label) for label, descending in orders]
    keys += [SortKey(label, subquery.c[label], False, label) for label in tiebreakers if label not in dict(orders)]
    return select(*(subquery.c[label] for label in labels)), keys


def _distinct_statement(
    scope: Scope, query: QueryExpression, joined: FromClause, where: ColumnElement[bool] | None
) -> tuple[Select[Any], tuple[str, ...], list[SortKey]]:
    if query.columns is None:
        raise QueryError("a distinct query needs explicit 'columns'")
    outputs = _record_columns(scope, query, with_id=False)
    for label, column in outputs.items():
        if isinstance(column.type, JSON):
            raise QueryError(f"'{label}' is a multichoice attribute; it cannot be part of a distinct query")
    inner = select(*(column.label(label) for label, column in outputs.items())).distinct().select_from(joined)
    subquery = (inner if where is None else inner.where(where)).subquery("xrm_distinct")
    statement, keys = _over(subquery, list(outputs), _distinct_orders(scope, query, outputs), list(outputs))
    return statement, tuple(outputs), keys


def _distinct_orders(
    scope: Scope, query: QueryExpression, outputs: dict[str, ColumnElement[Any]]
) -> list[tuple[str, bool]]:
    """A distinct query sorts on its output labels, so each order must be one of its columns."""
    orders = []
    for order in query.orders:
        found, column = _order_field(scope, order)
        label = _label_of(outputs, column)
        if label is None:
            raise QueryError(f"{found.label}: a distinct query can only order by its columns")
        orders.append((label, order.descending))
    return orders


def _aggregate_statement(
    scope: Scope, query: QueryExpression, joined: FromClause, where: ColumnElement[bool] | None
) -> tuple[Select[Any], tuple[str, ...], list[SortKey]]:
    subquery, group_labels = grouped_subquery(scope, query, joined, where)
    labels = list(subquery.c.keys())
    orders = []
    for order in query.orders:
        if order.entity_alias is not None or order.attribute not in labels:
            raise QueryError(
                f"an aggregate query orders by its aliases ({', '.join(labels)}), not by '{order.attribute}'"
            )
        orders.append((order.attribute, order.descending))
    statement, keys = _over(subquery, labels, orders, group_labels)
    return statement, tuple(labels), keys


def compile_query(
    model: Model,
    tables: MetaData,
    query: QueryExpression,
    context: QueryContext | None = None,
    *,
    predicate: Predicate | None = None,
    hidden: Hidden | None = None,
) -> CompiledQuery:
    """Compile ``query`` over ``tables`` (from :func:`xrm.schema.build_tables`) into one ``Select``.

    Raises :class:`QueryError` (code ``BAD_QUERY``) naming the attribute or part at fault.
    """
    _check_paging(query)
    context = context or QueryContext()
    scope = resolve_scope(model, tables, query, hidden)
    scope.calculate_with(CalculatedColumns(model, tables, context, predicate, hidden))
    conditions = ConditionCompiler(model, tables, context)
    joined = _join(scope, conditions, predicate)
    where = _where(scope, query, conditions, predicate)
    build = _record_statement
    if query.is_aggregate:
        build = _aggregate_statement
    elif query.distinct:
        build = _distinct_statement
    statement, columns, keys = build(scope, query, joined, where)
    query_fingerprint = fingerprint(query.entity, keys)
    if query.cursor is not None:
        if not keys:
            raise QueryError("this query returns a single row; a cursor does not apply")
        statement = statement.where(after(keys, decode_cursor(query.cursor, query_fingerprint, len(keys))))
    statement = statement.order_by(*order_clauses(keys))
    limit = query.top if query.top is not None else None if query.page_size is None else query.page_size + 1
    if limit is not None:
        statement = statement.limit(limit)
    return CompiledQuery(statement, columns, tuple(keys), query_fingerprint, query.page_size)
