"""The read gateway: the single place where the GraphQL layer reads entity rows.

Every statement is a :class:`~xrm.query.QueryExpression` compiled by :func:`xrm.query.compile_query`
(resolvers never write SELECTs on entity tables themselves), so the security layer has exactly one
hook: ``ReadGateway.predicate`` (from ``GraphQLContext.read_predicate``) is passed to every
compilation, for the root entity, every link-entity and every subquery alike. Filters the query
model cannot express (``not``, filters across lookups, ``some``/``none``/``every``) arrive as extra
row filters on the root (``where``): each is itself built from compiled queries (``ids_subquery``).

A gateway holds one connection (opened on first use) for the whole resolution of a root field, so
nested levels read the same snapshot where the database isolation gives one; close it when done.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, FromClause, RowMapping, Select, and_, func, select

from xrm.data import SYSTEM_USER_ID, Environment
from xrm.query import Aggregate, CompiledQuery, Predicate, QueryContext, QueryExpression, compile_query

__all__ = ["ReadGateway", "Rows"]

Rows = list[RowMapping]
RANK = "xrm_rank"


class ReadGateway:
    """Compiles and runs the reads of one root field, acting as ``user_id`` under ``predicate``."""

    def __init__(
        self, environment: Environment, *, user_id: uuid.UUID | None = None, predicate: Predicate | None = None
    ) -> None:
        self.environment = environment
        self.user_id = user_id
        self.predicate = predicate
        self._connection: Connection | None = None
        # the service acts as the system user when no user is given; so do eq_userid conditions
        self._context = QueryContext(user_id=user_id or SYSTEM_USER_ID, now=environment.clock())

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = self.environment.engine.connect()
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> ReadGateway:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- compiling -----------------------------------------------------------------------------

    def _predicate(self, entity: str, where: Sequence[ColumnElement[bool]]) -> Predicate | None:
        security = self.predicate
        if not where:
            return security
        root = self.environment.tables.tables[entity]

        def predicate(name: str, table: FromClause) -> ColumnElement[bool] | None:
            parts = []
            if security is not None and (clause := security(name, table)) is not None:
                parts.append(clause)
            if table is root:  # the root is the unaliased table; links are always aliased
                parts.extend(where)
            return and_(*parts) if parts else None

        return predicate

    def compile(self, query: QueryExpression, where: Sequence[ColumnElement[bool]] = ()) -> CompiledQuery:
        """``query`` compiled with the security predicate, ``where`` added to the root's filter."""
        model, tables = self.environment.model, self.environment.tables
        return compile_query(model, tables, query, self._context, predicate=self._predicate(query.entity, where))

    def ids_subquery(
        self, query: QueryExpression, label: str, where: Sequence[ColumnElement[bool]] = ()
    ) -> Select[Any]:
        """A one-column SELECT of ``label`` over the rows of ``query``, usable in ``column IN (...)``."""
        statement = self.compile(query, where).statement
        column = statement.selected_columns[label]
        return statement.with_only_columns(column, maintain_column_froms=False).order_by(None).correlate(None)

    # --- running -------------------------------------------------------------------------------

    def rows(self, compiled: CompiledQuery) -> Rows:
        return list(self.connection.execute(compiled.statement).mappings())

    def read(self, query: QueryExpression, where: Sequence[ColumnElement[bool]] = ()) -> tuple[CompiledQuery, Rows]:
        compiled = self.compile(query, where)
        return compiled, self.rows(compiled)

    def partitioned(
        self, query: QueryExpression, partition: str, per_partition: int, where: Sequence[ColumnElement[bool]] = ()
    ) -> tuple[CompiledQuery, Rows]:
        """The first ``per_partition`` rows of each value of column ``partition``, in one statement.

        ``query`` keeps its order, filters and cursor; its page limit is dropped, each partition is
        ranked with ``row_number()`` over the query's sort keys instead (nulls lowest, as the
        query layer orders), and rows come back by partition, then rank.
        """
        compiled = self.compile(query, where)
        statement = compiled.statement.order_by(None).limit(None)
        partition_column = statement.selected_columns[partition]
        order = [
            key.expression.desc().nulls_last() if key.descending else key.expression.asc().nulls_first()
            for key in compiled.keys
        ]
        rank = func.row_number().over(partition_by=partition_column.element, order_by=order).label(RANK)
        ranked = statement.add_columns(rank).subquery("xrm_ranked")
        outer = select(ranked).where(ranked.c[RANK] <= per_partition).order_by(ranked.c[partition], ranked.c[RANK])
        return compiled, list(self.connection.execute(outer).mappings())

    def count(self, query: QueryExpression, where: Sequence[ColumnElement[bool]] = ()) -> int:
        """How many rows ``query`` (without paging) matches."""
        # count(primary id), not count(*): an ungrouped count(*) alone would lose its FROM in the query layer
        primary_id = self.environment.model.entity(query.entity).primary_id
        counting = replace(
            query, columns=None, orders=(), page_size=None, cursor=None, top=None,
            aggregates=(Aggregate("total", "count_column", primary_id),),
        )  # fmt: skip
        compiled = self.compile(counting, where)
        return int(self.connection.execute(compiled.statement).scalar_one() or 0)
