"""Conditions and filters as SQL boolean expressions.

Semantics worth knowing:

- ``ne``, ``not_in``, ``not_like`` and ``ne_userid`` follow SQL: a row whose attribute is null
  does not match (use an ``or`` with ``null`` to include it).
- ``like``, ``not_like`` and ``begins_with`` ignore case on both engines, as Dataverse does;
  ``begins_with`` escapes ``%`` and ``_`` in its value, ``like`` takes a pattern as given.
- Date operators work on UTC calendar days of ``QueryContext.now``: ``on_or_after D`` is from
  D 00:00, ``on_or_before D`` up to the end of D, ``last_x_days N`` from the start of the day N
  days ago up to now, ``next_x_days N`` from now to the end of the day N days ahead. Date-only
  attributes compare whole days.
- A multichoice attribute is null when it is SQL NULL, JSON ``null`` or an empty list.
- Hierarchy operators take the primary id of an entity with a hierarchical (self-referential)
  relationship and walk it with a recursive CTE; ``UNION`` (not ``UNION ALL``) stops at cycles.
  The walk itself ignores the security predicate (a hidden record still links its descendants);
  the rows returned are filtered by it as usual. A parent lookup hidden by field security reads as
  null, so there is no tree to walk: ``eq_or_*`` match the node itself, ``under``/``above`` nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import CTE, ColumnElement, MetaData, Table, Text, and_, cast, false, or_, select

from xrm.metadata import Model
from xrm.query._scope import Field
from xrm.query._values import coerce_value, start_of_day, to_date, to_utc, to_uuid
from xrm.query.expression import (
    ConditionExpression,
    ConditionOperator,
    FilterExpression,
    QueryContext,
    QueryError,
)

__all__ = ["ConditionCompiler", "Resolver"]

Op = ConditionOperator
Resolver = Callable[[str, "str | None"], Field]
Clause = ColumnElement[bool]

_ORDERED = {"text", "number", "choice", "date", "datetime"}
_EQUATABLE = _ORDERED | {"boolean", "uuid", "lookup"}
_DATES = {"date", "datetime"}
_ALLOWED_KINDS: dict[Op, set[str]] = {
    Op.EQ: _EQUATABLE,
    Op.NE: _EQUATABLE,
    Op.GT: _ORDERED,
    Op.GE: _ORDERED,
    Op.LT: _ORDERED,
    Op.LE: _ORDERED,
    Op.BETWEEN: _ORDERED,
    Op.LIKE: {"text"},
    Op.NOT_LIKE: {"text"},
    Op.BEGINS_WITH: {"text"},
    Op.IN: _EQUATABLE,
    Op.NOT_IN: _EQUATABLE,
    Op.NULL: _EQUATABLE | {"multichoice"},
    Op.NOT_NULL: _EQUATABLE | {"multichoice"},
    Op.LAST_X_DAYS: _DATES,
    Op.NEXT_X_DAYS: _DATES,
    Op.ON_OR_AFTER: _DATES,
    Op.ON_OR_BEFORE: _DATES,
    Op.EQ_USERID: {"lookup"},
    Op.NE_USERID: {"lookup"},
    Op.EQ_BUSINESSID: {"lookup"},
    Op.UNDER: {"uuid"},
    Op.EQ_OR_UNDER: {"uuid"},
    Op.ABOVE: {"uuid"},
    Op.EQ_OR_ABOVE: {"uuid"},
    Op.CONTAIN_VALUES: {"multichoice"},
    Op.NOT_CONTAIN_VALUES: {"multichoice"},
}
_NO_VALUE = {Op.NULL, Op.NOT_NULL, Op.EQ_USERID, Op.NE_USERID, Op.EQ_BUSINESSID}
_LISTS = {Op.IN, Op.NOT_IN, Op.CONTAIN_VALUES, Op.NOT_CONTAIN_VALUES}
_DAY_COUNTS = {Op.LAST_X_DAYS, Op.NEXT_X_DAYS}
_RAW_VALUES = _DAY_COUNTS | {
    Op.CONTAIN_VALUES,
    Op.NOT_CONTAIN_VALUES,
    Op.ON_OR_AFTER,
    Op.ON_OR_BEFORE,
    Op.UNDER,
    Op.EQ_OR_UNDER,
    Op.ABOVE,
    Op.EQ_OR_ABOVE,
}
_HIERARCHY = {Op.UNDER, Op.EQ_OR_UNDER, Op.ABOVE, Op.EQ_OR_ABOVE}
_EMPTY_MULTICHOICE = ("null", "[]")

_SIMPLE: dict[Op, Callable[[Any, Sequence[Any]], Clause]] = {
    Op.EQ: lambda column, values: column == values[0],
    Op.NE: lambda column, values: column != values[0],
    Op.GT: lambda column, values: column > values[0],
    Op.GE: lambda column, values: column >= values[0],
    Op.LT: lambda column, values: column < values[0],
    Op.LE: lambda column, values: column <= values[0],
    Op.BETWEEN: lambda column, values: column.between(values[0], values[1]),
    Op.LIKE: lambda column, values: column.ilike(values[0]),
    Op.NOT_LIKE: lambda column, values: column.not_ilike(values[0]),
    Op.BEGINS_WITH: lambda column, values: column.istartswith(values[0], autoescape=True),
    Op.IN: lambda column, values: column.in_(values),
    Op.NOT_IN: lambda column, values: column.not_in(values),
}


class ConditionCompiler:
    """Compiles the filters of one query; it numbers the hierarchy CTEs it creates."""

    def __init__(self, model: Model, tables: MetaData, context: QueryContext) -> None:
        self.model = model
        self.tables = tables
        self.context = context
        self._ctes = 0

    def filter(self, expression: FilterExpression | None, resolve: Resolver) -> Clause | None:
        """``None`` for an empty filter, else the conditions and nested filters joined by and/or."""
        if expression is None:
            return None
        parts = [self.condition(condition, resolve) for condition in expression.conditions]
        parts += [clause for nested in expression.filters if (clause := self.filter(nested, resolve)) is not None]
        if not parts:
            return None
        return and_(*parts) if expression.type == "and" else or_(*parts)

    def condition(self, condition: ConditionExpression, resolve: Resolver) -> Clause:
        field = resolve(condition.attribute, condition.entity_alias)
        op = ConditionOperator(condition.operator)
        column = field.stored("filters")
        if field.kind not in _ALLOWED_KINDS[op]:
            raise QueryError(f"{field.label}: operator '{op.value}' does not apply to a {field.kind} attribute")
        values = _checked_values(field, op, condition.values)
        if op in _SIMPLE:
            return _SIMPLE[op](column, values)
        if op in (Op.NULL, Op.NOT_NULL):
            return _null(field, column, op is Op.NULL)
        if op in (Op.CONTAIN_VALUES, Op.NOT_CONTAIN_VALUES):
            return _contains(field, column, values, op is Op.CONTAIN_VALUES)
        if op in _HIERARCHY:
            return self._hierarchy(field, op, values[0])
        if op in (Op.EQ_USERID, Op.NE_USERID, Op.EQ_BUSINESSID):
            return self._current(field, column, op)
        return self._dates(field, column, op, values[0])

    # --- operators with context ----------------------------------------------------------------

    def _current(self, field: Field, column: ColumnElement[Any], op: Op) -> Clause:
        target, value = ("businessunit", self.context.business_unit_id)
        if op is not Op.EQ_BUSINESSID:
            target, value = ("systemuser", self.context.user_id)
        if target not in field.targets:
            raise QueryError(f"{field.label}: operator '{op.value}' needs a lookup to {target}")
        if value is None:
            raise QueryError(f"operator '{op.value}' needs a {target} in the query context")
        return column != value if op is Op.NE_USERID else column == value

    def _dates(self, field: Field, column: ColumnElement[Any], op: Op, value: Any) -> Clause:
        now = to_utc(self.context.now)
        today = now.date()
        only_dates = field.kind == "date"
        try:
            if op in _DAY_COUNTS:
                days = _day_count(value)
            else:
                day = to_date(value)
        except ValueError as error:
            raise QueryError(f"{field.label}: {error}") from None
        if op is Op.ON_OR_AFTER:
            return column >= (day if only_dates else start_of_day(day))
        if op is Op.ON_OR_BEFORE:
            return column <= day if only_dates else column < start_of_day(day + timedelta(days=1))
        if op is Op.LAST_X_DAYS:
            first = today - timedelta(days=days)
            return column.between(first, today) if only_dates else and_(column >= start_of_day(first), column <= now)
        last = today + timedelta(days=days)
        if only_dates:
            return column.between(today, last)
        return and_(column >= now, column < start_of_day(last + timedelta(days=1)))

    def _hierarchy(self, field: Field, op: Op, value: Any) -> Clause:
        """Rows below (or above) ``value`` in the entity's hierarchy, found by a recursive CTE."""
        entity = field.source.entity
        relationship = next(
            (
                rel
                for rel in self.model.relationships.values()
                if entity is not None
                and rel.hierarchical
                and rel.referenced_entity == rel.referencing_entity == entity.logical_name
            ),
            None,
        )
        if entity is None or relationship is None or relationship.lookup is None or not field.is_primary_id:
            raise QueryError(
                f"{field.label}: operator '{op.value}' needs the primary id of an entity "
                "with a hierarchical relationship"
            )
        try:
            node = to_uuid(value)
        except ValueError as error:
            raise QueryError(f"{field.label}: {error}") from None
        if relationship.lookup in field.source.hidden:  # field security: every parent link reads as null
            return field.stored("filters") == node if op in (Op.EQ_OR_UNDER, Op.EQ_OR_ABOVE) else false()
        self._ctes += 1
        table = self.tables.tables[entity.logical_name]
        nodes = _walk(table, f"xrm_hierarchy{self._ctes}", entity.primary_id, relationship.lookup, node, op)
        return field.stored("filters").in_(select(nodes.c.node))


def _walk(table: Table, name: str, key: str, parent: str, value: Any, op: Op) -> CTE:
    """A recursive CTE of the ids below (``under``) or above ``value``, with ``value`` for ``eq_or_*``."""
    anchor, step = table.alias(f"{name}_anchor"), table.alias(f"{name}_step")
    include_self = op in (Op.EQ_OR_UNDER, Op.EQ_OR_ABOVE)
    if op in (Op.UNDER, Op.EQ_OR_UNDER):
        match = anchor.c[key] == value if include_self else anchor.c[parent] == value
        nodes = select(anchor.c[key].label("node")).where(match).cte(name, recursive=True)
        return nodes.union(select(step.c[key]).where(step.c[parent] == nodes.c.node))
    start = anchor.c[key] if include_self else anchor.c[parent]
    nodes = select(start.label("node")).where(anchor.c[key] == value, start.is_not(None)).cte(name, recursive=True)
    return nodes.union(select(step.c[parent]).where(step.c[key] == nodes.c.node, step.c[parent].is_not(None)))


def _day_count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a whole number of days (0 or more), got {value!r}")
    return value


def _checked_values(field: Field, op: Op, values: tuple[Any, ...]) -> tuple[Any, ...]:
    """The values, counted for ``op`` and converted to the attribute's type where the operator compares."""
    if op in _NO_VALUE:
        expected = "no value"
        ok = not values
    elif op in _LISTS:
        expected, ok = "one or more values", bool(values)
    elif op is Op.BETWEEN:
        expected, ok = "two values", len(values) == 2
    else:
        expected, ok = "one value", len(values) == 1
    if not ok:
        raise QueryError(f"{field.label}: operator '{op.value}' takes {expected}, got {len(values)}")
    if op in _RAW_VALUES:
        return values
    return tuple(coerce_value(field, value) for value in values)


def _contains(field: Field, column: ColumnElement[Any], values: Sequence[Any], contains: bool) -> Clause:
    """Multi-choice values are stored as the platform writes them: a sorted JSON list of whole
    numbers, ``[1, 3]``. A value is present when it stands alone, first, inside or last, which
    LIKE on the stored text matches exactly on every engine (``1`` never matches ``10``)."""
    text = cast(column, Text)
    present = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise QueryError(f"{field.label}: option values are whole numbers, got {value!r}")
        number = value
        present += [
            text == f"[{number}]",
            text.like(f"[{number}, %"),
            text.like(f"%, {number}, %"),
            text.like(f"%, {number}]"),
        ]
    clause = or_(*present)
    return clause if contains else or_(column.is_(None), ~clause)


def _null(field: Field, column: ColumnElement[Any], is_null: bool) -> Clause:
    if field.kind != "multichoice":
        return column.is_(None) if is_null else column.is_not(None)
    text = cast(column, Text)
    if is_null:
        return or_(column.is_(None), text.in_(_EMPTY_MULTICHOICE))
    return and_(column.is_not(None), text.not_in(_EMPTY_MULTICHOICE))
