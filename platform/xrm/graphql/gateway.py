"""The read gateway: the single place where the GraphQL layer reads entity rows.

Every statement is a :class:`~xrm.query.QueryExpression` compiled by :func:`xrm.query.compile_query`
(resolvers never write SELECTs on entity tables themselves), so the security layer has exactly one
hook: ``ReadGateway.predicate`` (from ``GraphQLContext.read_predicate``) is passed to every
compilation, for the root entity, every link-entity and every subquery alike. Filters the query
model cannot express (``not``, filters across lookups, ``some``/``none``/``every``) arrive as extra
row filters on the root (``where``): each is itself built from compiled queries (``ids_subquery``).
Field security has its hook there too: ``ReadGateway.hidden`` (from ``GraphQLContext.hidden_attributes``)
makes the secured attributes the caller may not read compile to null wherever a statement uses them.

A gateway holds one connection (opened on first use) for the whole resolution of a root field, so
nested levels read the same snapshot where the database isolation gives one; close it when done.
With a ``timeout`` the database itself stops the reads once it has passed (PostgreSQL's
``statement_timeout`` for the gateway's transaction, SQLite's progress handler), so a request the
server gave up on does not keep working; the error has code ``TIMEOUT``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, Executable, FromClause, RowMapping, Select, and_, func, select
from sqlalchemy.exc import OperationalError

from xrm.data import SYSTEM_USER_ID, Environment
from xrm.errors import XrmError
from xrm.query import Aggregate, CompiledQuery, Hidden, Predicate, QueryContext, QueryExpression, compile_query

__all__ = ["ReadGateway", "ReadTimeoutError", "Rows"]

Rows = list[RowMapping]
RANK = "xrm_rank"


class ReadTimeoutError(XrmError):
    """The reads ran past the request timeout and the database stopped them."""

    code = "TIMEOUT"


class ReadGateway:
    """Compiles and runs the reads of one root field, acting as ``user_id`` under ``predicate``."""

    def __init__(
        self,
        environment: Environment,
        *,
        user_id: uuid.UUID | None = None,
        predicate: Predicate | None = None,
        timeout: float | None = None,
        hidden: Hidden | None = None,
    ) -> None:
        self.environment = environment
        self.user_id = user_id
        self.predicate = predicate
        self.hidden = hidden
        self.timeout = timeout
        self._deadline = time.monotonic() + timeout if timeout else None
        self._connection: Connection | None = None
        # the service acts as the system user when no user is given; so do eq_userid conditions
        self._context = QueryContext(user_id=user_id or SYSTEM_USER_ID, now=environment.clock())

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = self.environment.engine.connect()
            if self._deadline is not None:
                self._limit(self._connection, self._deadline)
        return self._connection

    @staticmethod
    def _limit(connection: Connection, deadline: float) -> None:
        if connection.dialect.name == "postgresql":
            remaining = max(1, int((deadline - time.monotonic()) * 1000))
            connection.exec_driver_sql(f"SET LOCAL statement_timeout = {remaining}")  # ends with the transaction
        elif connection.dialect.name == "sqlite":
            raw: Any = connection.connection.driver_connection
            raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._deadline is not None and connection.dialect.name == "sqlite":
            raw: Any = connection.connection.driver_connection
            raw.set_progress_handler(None, 0)
        connection.close()

    @contextmanager
    def _timed(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as error:
            if self._deadline is not None and time.monotonic() >= self._deadline:
                raise ReadTimeoutError(f"the reads ran longer than {self.timeout:g}s and were stopped") from error
            raise

    def execute(self, statement: Executable) -> Rows:
        """The rows of ``statement`` as mappings (stopped by the database past the deadline)."""
        with self._timed():
            return list(self.connection.execute(statement).mappings())

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
        predicate = self._predicate(query.entity, where)
        return compile_query(model, tables, query, self._context, predicate=predicate, hidden=self.hidden)

    def hides(self, entity: str, attribute: str) -> bool:
        """Whether the caller may not read ``entity.attribute`` (it reads as null)."""
        return self.hidden is not None and attribute in self.hidden(entity)

    def ids_subquery(
        self, query: QueryExpression, label: str, where: Sequence[ColumnElement[bool]] = ()
    ) -> Select[Any]:
        """A one-column SELECT of ``label`` over the rows of ``query``, usable in ``column IN (...)``."""
        statement = self.compile(query, where).statement
        column = statement.selected_columns[label]
        return statement.with_only_columns(column, maintain_column_froms=False).order_by(None).correlate(None)

    # --- running -------------------------------------------------------------------------------

    def rows(self, compiled: CompiledQuery) -> Rows:
        return self.execute(compiled.statement)

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
        return compiled, self.execute(outer)

    def count(self, query: QueryExpression, where: Sequence[ColumnElement[bool]] = ()) -> int:
        """How many rows ``query`` (without paging) matches."""
        # count(primary id), not count(*): an ungrouped count(*) alone would lose its FROM in the query layer
        primary_id = self.environment.model.entity(query.entity).primary_id
        counting = replace(
            query, columns=None, orders=(), page_size=None, cursor=None, top=None,
            aggregates=(Aggregate("total", "count_column", primary_id),),
        )  # fmt: skip
        (row,) = self.execute(self.compile(counting, where).statement)
        return int(row["total"] or 0)
