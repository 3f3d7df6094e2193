"""Calculated attributes as SQL: a checked expression compiled to one column expression.

The SQL gives what :mod:`xrm.data.calculated` computes in Python after the read, so a calculated
attribute can be filtered, ordered, grouped and aggregated on the database:

- An expression's own attributes are the row's columns; a calculated one is inlined (compiled
  on the same row, its result converted as the service converts it: an integer outside 32 bits
  is null, money is rounded half-even to 4 places...).
- ``lookup.attribute`` is a correlated scalar subquery on the parent (one per target of a
  polymorphic lookup, chosen by the lookup's type column), filtered by the query's security
  predicate like a link-entity. A parent's calculated attribute is null, as the evaluators only
  read a parent's stored attributes.
- Parts of an expression that read no attribute are evaluated in Python, with the query's ``now``.
- Null propagates as in the evaluator; ``and``/``or`` are SQL's three-valued logic; ``if`` takes
  ``else`` on null; text compares ignoring case (``lower()``, and code-point order on PostgreSQL);
  ``/`` gives a decimal (null when dividing by zero); integer arithmetic is exact (``numeric`` on
  PostgreSQL).

Known differences: SQLite computes decimals in binary floating point (it stores them so), so a
quotient agrees to about 15 digits, and a sum or product is rounded to the places Python's
``Decimal`` keeps; ``upper``/``lower`` and case-insensitive comparison on SQLite change ASCII
letters only; the text ``concat`` makes of a decimal quotient, or of a float needing 16-17 digits,
may be written with other digits than Python's.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    DateTime,
    Double,
    FromClause,
    Integer,
    MetaData,
    Numeric,
    String,
    and_,
    case,
    cast,
    collate,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.types import TypeEngine

from xrm.metadata import CompiledAttribute, CompiledEntity, Model
from xrm.metadata.expressions import (
    Expression,
    ExpressionError,
    ExprType,
    attribute_type,
    check_expression,
    entity_resolver,
    evaluate,
    parse_expression,
)
from xrm.metadata.expressions.nodes import Binary, Call, Conditional, IsNull, Reference, Unary, common_type
from xrm.query._calculated_functions import compile_call
from xrm.query._dialects import (
    Value,
    as_real,
    constant,
    exact,
    joined_places,
    needs_text,
    numeric,
    op,
    per_dialect,
    places_of,
    shared,
    sql_type,
    text_of,
    to_datetime,
)
from xrm.query.expression import QueryContext, QueryError

__all__ = ["CalculatedColumns", "CalculatedColumn", "ParentPredicate", "HiddenAttributes"]

SQL = ColumnElement[Any]
ParentPredicate = Callable[[str, FromClause], ColumnElement[bool] | None]
"""The query's security predicate (``predicate(entity, table_or_alias)``), applied to parents too."""
HiddenAttributes = Callable[[str], frozenset[str]]
"""Field security (``hidden(entity)``): attributes that read as null, in expressions too."""

_MAX_NESTING = 8  # calculated attributes inlined into one another (metadata allows chains of 5)
_KINDS = {"string": "text", "integer": "number", "decimal": "number", "money": "number", "float": "number"}
_KINDS |= {"boolean": "boolean", "datetime": "datetime"}
_RESULT_TYPES = {"string": ExprType.STRING, "integer": ExprType.INTEGER, "decimal": ExprType.DECIMAL}
_RESULT_TYPES |= {"money": ExprType.DECIMAL, "float": ExprType.FLOAT, "boolean": ExprType.BOOLEAN}
_RESULT_TYPES |= {"datetime": ExprType.DATETIME}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_INT32 = (-(2**31), 2**31 - 1)
_SQLITE_PLACES = 10  # SQLite: a quotient is kept to 10 places, as Numeric(28, 10) columns are


@dataclass(frozen=True)
class CalculatedColumn:
    """A calculated attribute as SQL: the expression, and the kind of value it gives."""

    expression: SQL
    kind: str  # text number boolean datetime


class CalculatedColumns:
    """Compiles the calculated attributes of one query (with its context and security predicate)."""

    def __init__(
        self,
        model: Model,
        tables: MetaData,
        context: QueryContext,
        predicate: ParentPredicate | None = None,
        hidden: HiddenAttributes | None = None,
    ) -> None:
        self.model = model
        self.tables = tables
        self.context = context
        self.predicate = predicate
        self._hidden = hidden
        self._hidden_by_entity: dict[str, frozenset[str]] = {}
        self._parsed: dict[tuple[str, str], Expression] = {}

    def hidden(self, entity: str) -> frozenset[str]:
        """The attributes of ``entity`` the caller may not read."""
        if self._hidden is None:
            return frozenset()
        if entity not in self._hidden_by_entity:
            self._hidden_by_entity[entity] = self._hidden(entity)
        return self._hidden_by_entity[entity]

    def column(
        self, entity: CompiledEntity, table: FromClause, name: str, hidden: frozenset[str] | None = None
    ) -> CalculatedColumn:
        """Calculated attribute ``name`` of ``entity`` on the rows of ``table`` (the table or an alias);
        ``hidden`` (default: field security's for ``entity``) read as null."""
        result_type: str = entity.attributes[name].metadata.result_type  # type: ignore[union-attr]
        hidden = self.hidden(entity.logical_name) if hidden is None else hidden
        if name in hidden:
            return CalculatedColumn(cast(null(), _column_type(result_type, 10)), _KINDS[result_type])
        value = _Compiler(self, entity, table, hidden, ()).attribute(name)
        if result_type == "datetime":
            value = to_datetime(value)
        sql = value.sql
        scale = value.scale
        if value.type is ExprType.DECIMAL and (scale is None or scale > 15):
            # SQLite reads a decimal back with fixed places: keep exactly those, so cursors resume
            sql = per_dialect(func.round(sql, _SQLITE_PLACES), sql, Numeric())
            scale = _SQLITE_PLACES
        return CalculatedColumn(type_coerce(sql, _column_type(result_type, scale)), _KINDS[result_type])

    def expression(self, entity: CompiledEntity, table: FromClause, expression: Expression) -> Value:
        """Any expression on ``entity``'s rows as SQL (raises :class:`ExpressionError` if it does not check)."""
        check_expression(expression, entity_resolver(self.model, entity))
        return _Compiler(self, entity, table, frozenset(), ()).compile(expression)

    def parsed(self, entity: CompiledEntity, name: str) -> Expression:
        key = (entity.logical_name, name)
        if key not in self._parsed:
            text: str = entity.attributes[name].metadata.expression  # type: ignore[union-attr]
            label = f"{entity.logical_name}.{name}"
            try:
                expression = parse_expression(text)
                result_type: str = entity.attributes[name].metadata.result_type  # type: ignore[union-attr]
                check_expression(expression, entity_resolver(self.model, entity), result_type=result_type)
            except ExpressionError as error:
                raise QueryError(
                    f"{label} is a calculated attribute whose expression does not check: {error}"
                ) from None
            self._parsed[key] = expression
        return self._parsed[key]


def _column_type(result_type: str, scale: int | None) -> TypeEngine[Any]:
    if result_type in ("decimal", "money"):
        return Numeric(38, 4 if result_type == "money" else scale)
    if result_type == "integer":
        return Integer()
    if result_type == "float":
        return Double()
    if result_type == "boolean":
        return Boolean()
    return DateTime(timezone=True) if result_type == "datetime" else String()


def _value_type(value: Any, static: ExprType) -> ExprType:
    """The type of a Python value as the evaluator made it (``static`` for null)."""
    if isinstance(value, bool):
        return ExprType.BOOLEAN
    for kind, expr_type in ((int, ExprType.INTEGER), (Decimal, ExprType.DECIMAL), (float, ExprType.FLOAT)):
        if isinstance(value, kind):
            return expr_type
    if isinstance(value, str):
        return ExprType.STRING
    if isinstance(value, datetime):
        return ExprType.DATETIME
    return static if value is None else ExprType.DATE


class _Compiler:
    """Compiles expressions on the rows of one table (or alias) of one entity."""

    def __init__(
        self,
        owner: CalculatedColumns,
        entity: CompiledEntity,
        table: FromClause,
        hidden: frozenset[str],
        chain: tuple[str, ...],
    ) -> None:
        self.owner = owner
        self.entity = entity
        self.table = table
        self.hidden = hidden
        self.chain = chain
        self._reads: dict[int, bool] = {}

    # --- attributes ----------------------------------------------------------------------------

    def attribute(self, name: str) -> Value:
        """Calculated attribute ``name``'s value, converted to its result type as the service does."""
        if name in self.chain or len(self.chain) >= _MAX_NESTING:
            path = " -> ".join((*self.chain, name))
            raise QueryError(f"{self.entity.logical_name}.{name}: calculated attributes nest too deep: {path}")
        result_type: str = self.entity.attributes[name].metadata.result_type  # type: ignore[union-attr]
        if name in self.hidden:
            return constant(None, _RESULT_TYPES[result_type])
        expression = self.owner.parsed(self.entity, name)
        inner = _Compiler(self.owner, self.entity, self.table, self.hidden, (*self.chain, name)).compile(expression)
        return _as_result_type(result_type, inner)

    def compile(self, node: Expression) -> Value:
        if not self._reads_attributes(node):
            return self._fold(node)
        if isinstance(node, Reference):
            return self._reference(node)
        if isinstance(node, Unary):
            return self._unary(node)
        if isinstance(node, Binary):
            return self._binary(node)
        if isinstance(node, IsNull):
            operand = self.compile(node.operand)
            return Value(operand.sql.is_not(None) if node.negated else operand.sql.is_(None), ExprType.BOOLEAN)
        if isinstance(node, Conditional):
            return self._conditional(node)
        if isinstance(node, Call):
            return compile_call(node.name, [self.compile(argument) for argument in node.arguments])
        raise QueryError(f"cannot compile {type(node).__name__} to SQL")

    def _reads_attributes(self, node: Expression) -> bool:
        key = id(node)
        if key not in self._reads:
            self._reads[key] = isinstance(node, Reference) or any(map(self._reads_attributes, node.children()))
        return self._reads[key]

    def _fold(self, node: Expression) -> Value:
        """A part that reads no attribute: the evaluator's own value, as a literal."""
        static = check_expression(node, lambda lookup, name: None)
        value = evaluate(node, {}, now=self.owner.context.now)
        return constant(value, _value_type(value, static))

    def _reference(self, node: Reference) -> Value:
        if node.lookup is not None:
            return self._parent(node)
        attribute = self.entity.attributes[node.attribute]
        if attribute.type == "calculated":
            return self.attribute(node.attribute)
        if attribute.name in self.hidden:
            return constant(None, attribute_type(self.owner.model, attribute))
        return _stored(self.owner.model, attribute, self.table.c[attribute.name])

    def _parent(self, node: Reference) -> Value:
        """``lookup.attribute``: a scalar subquery per target, picked by the type column when polymorphic."""
        model, lookup = self.owner.model, self.entity.attributes[node.lookup or ""]
        branches: list[tuple[str, Value]] = []
        for target in lookup.targets:
            parent = model.entities[target]
            attribute = parent.attributes[node.attribute]
            hidden = attribute.name in self.owner.hidden(target)
            if hidden or attribute.type == "calculated":  # the evaluators read a parent's stored attributes only
                branches.append((target, constant(None, attribute_type(model, attribute))))
                continue
            alias = self.owner.tables.tables[target].alias()
            found = _stored(model, attribute, alias.c[attribute.name])
            conditions = [alias.c[parent.primary_id] == self.table.c[lookup.name]]
            if self.owner.predicate is not None and (guard := self.owner.predicate(target, alias)) is not None:
                conditions.append(guard)
            subquery = select(found.sql).where(*conditions).correlate(self.table).scalar_subquery()
            branches.append((target, Value(subquery, found.type, found.scale)))
        kinds = {value.type for _, value in branches}
        kind = kinds.pop() if len(kinds) == 1 else ExprType.NULL
        if all(value.is_null for _, value in branches):
            return constant(None, kind)
        scales = {value.scale for _, value in branches}
        scale = scales.pop() if len(scales) == 1 else None
        if not lookup.is_polymorphic:
            return Value(branches[0][1].sql, kind, scale)
        kind_column = self.table.c[f"{lookup.name}type"]
        choices = [(kind_column == target, value.sql) for target, value in branches if not value.is_null]
        return Value(case(*choices, else_=null()), kind, scale)

    # --- operators -----------------------------------------------------------------------------

    def _unary(self, node: Unary) -> Value:
        operand = self.compile(node.operand)
        if node.operator == "not":
            return Value(not_(operand.sql), ExprType.BOOLEAN)
        if operand.type is ExprType.INTEGER:
            return Value(per_dialect(-operand.sql, -numeric(operand.sql), Numeric()), ExprType.INTEGER, 0)
        return Value(-operand.sql, operand.type, operand.scale, places=operand.places)

    def _binary(self, node: Binary) -> Value:
        if node.operator in ("and", "or"):
            join = and_ if node.operator == "and" else or_
            return Value(join(self.compile(node.left).sql, self.compile(node.right).sql), ExprType.BOOLEAN)
        left, right = self.compile(node.left), self.compile(node.right)
        if node.operator in _COMPARE:
            if left.is_null or right.is_null:
                return constant(None, ExprType.BOOLEAN)
            return Value(_compare(node.operator, left, right), ExprType.BOOLEAN)
        return _arithmetic(node.operator, left, right)

    def _conditional(self, node: Conditional) -> Value:
        condition = self.compile(node.condition)
        when_true, when_false = self.compile(node.when_true), self.compile(node.when_false)
        kind = common_type(when_true.type, when_false.type) or when_true.type
        if condition.is_constant:
            return when_true if condition.constant is True else when_false
        branches = [to_datetime(v) if kind is ExprType.DATETIME else v for v in (when_true, when_false)]
        sql = type_coerce(case((condition.sql, branches[0].sql), else_=branches[1].sql), sql_type(kind))
        scale, places = joined_places(
            (when_true, when_false), lambda parts: case((condition.sql, parts[0]), else_=parts[1])
        )
        text = None
        if needs_text((when_true, when_false)):
            text = lambda: case((condition.sql, text_of(when_true)), else_=text_of(when_false))  # noqa: E731
        return Value(sql, kind, scale, text, places=places)


def _stored(model: Model, attribute: CompiledAttribute, column: SQL) -> Value:
    """A stored attribute's column as the evaluator sees it."""
    kind = attribute_type(model, attribute)
    if isinstance(column.type, JSON):  # a multi-choice: JSON null reads back as None too
        return Value(func.nullif(cast(column, String()), "null"), kind)
    scale = column.type.scale if isinstance(column.type, Numeric) and kind is ExprType.DECIMAL else None
    return Value(column, kind, 0 if kind is ExprType.INTEGER else scale)


def _compare(symbol: str, left: Value, right: Value) -> SQL:
    compare = _COMPARE[symbol]
    if left.type is not right.type and ExprType.DATE in (left.type, right.type):
        left, right = to_datetime(left), to_datetime(right)
    if left.type is not ExprType.STRING:
        return compare(left.sql, right.sql)
    lower_left, lower_right = func.lower(left.sql), func.lower(right.sql)
    if symbol in ("=", "!=", "<>"):
        return compare(lower_left, lower_right)
    # the evaluator orders case-folded text by code point: PostgreSQL's "C" collation
    postgresql = compare(collate(lower_left, "C"), collate(lower_right, "C"))
    return per_dialect(compare(lower_left, lower_right), postgresql, Boolean())


def _arithmetic(symbol: str, left: Value, right: Value) -> Value:
    if ExprType.FLOAT in (left.type, right.type):
        kind = ExprType.FLOAT
    elif ExprType.DECIMAL in (left.type, right.type) or symbol == "/":
        kind = ExprType.DECIMAL
    else:
        kind = ExprType.INTEGER
    if left.is_null or right.is_null:
        return constant(None, kind)
    if symbol == "/":
        divisor = func.nullif(right.sql, 0)
        postgresql_left = left.sql if kind is ExprType.FLOAT else numeric(left.sql)
        sql = per_dialect(
            op(as_real(left.sql), "/", divisor, Double()), op(postgresql_left, "/", divisor, Numeric()), sql_type(kind)
        )
        return Value(sql, kind)
    if kind is ExprType.INTEGER:
        sql = per_dialect(
            op(left.sql, symbol, right.sql, Integer()), op(numeric(left.sql), symbol, right.sql, Numeric()), Numeric()
        )
        return Value(sql, kind, 0)
    raw = op(left.sql, symbol, right.sql, sql_type(kind))
    if kind is ExprType.FLOAT:
        return Value(raw, kind)
    mine, theirs = places_of(left), places_of(right)
    if mine is None or theirs is None:
        return Value(raw, kind)
    static = (
        left.type is ExprType.INTEGER or left.scale is not None,
        right.type is ExprType.INTEGER or right.scale is not None,
    )
    if all(static):
        scale = (left.scale or 0) + (right.scale or 0) if symbol == "*" else max(left.scale or 0, right.scale or 0)
        if scale > 15:
            return Value(raw, kind, scale)
        # SQLite: the float nearest to the decimal Python computes exactly (which has ``scale`` places)
        return Value(per_dialect(func.round(raw, scale), raw, Numeric()), kind, scale)
    places = op(mine, "+", theirs, Integer()) if symbol == "*" else case((mine > theirs, mine), else_=theirs)
    return Value(per_dialect(func.round(raw, places), raw, Numeric()), kind, places=places)


def _as_result_type(result_type: str, value: Value) -> Value:
    """``as_result_type`` of :mod:`xrm.data.calculated` in SQL."""
    kind = _RESULT_TYPES[result_type]
    if value.is_constant:
        return _converted_constant(result_type, value.constant, kind, value.type)
    if result_type in ("integer", "money"):  # they use the value several times
        return shared([value], lambda values: _converted(result_type, values[0]))
    return _converted(result_type, value)


def _converted(result_type: str, value: Value) -> Value:
    kind = _RESULT_TYPES[result_type]
    if result_type == "integer":
        in_range = and_(value.sql >= _INT32[0], value.sql <= _INT32[1])
        sql = per_dialect(
            case((in_range, value.sql), else_=null()),
            case((in_range, cast(value.sql, Integer())), else_=null()),
            Integer(),
        )
        return Value(sql, kind, 0)
    if result_type == "money":
        return _money(value)
    if result_type == "decimal":
        if value.type is ExprType.FLOAT:
            return Value(per_dialect(value.sql, exact(value), Numeric()), kind)
        scale = 0 if value.type is ExprType.INTEGER else value.scale
        return Value(
            per_dialect(value.sql, numeric(value.sql), Numeric()), kind, scale, value.text, places=value.places
        )
    if result_type == "float" and value.type is not ExprType.FLOAT:
        return Value(per_dialect(as_real(value.sql), cast(value.sql, Double()), Double()), kind)
    return value


def _converted_constant(result_type: str, found: Any, kind: ExprType, static: ExprType) -> Value:
    if found is None:
        return constant(None, static if result_type == "datetime" and static.is_temporal else kind)
    if result_type == "integer":
        number = int(found)
        return constant(number if _INT32[0] <= number <= _INT32[1] else None, kind)
    if result_type in ("decimal", "money"):
        amount = Decimal(str(found))
        return constant(amount.quantize(Decimal("0.0001")) if result_type == "money" else amount, kind)
    if result_type == "float":
        return constant(float(found), kind)
    return constant(found, _value_type(found, static))


def _money(value: Value) -> Value:
    """Money: ``Decimal.quantize`` to 4 places, half-even (the default context's rounding)."""
    if value.type is not ExprType.FLOAT and value.scale is not None and value.scale <= 4:
        return Value(per_dialect(value.sql, func.round(numeric(value.sql), 4), Numeric()), ExprType.DECIMAL, 4)
    exact_value = exact(value)
    shifted = op(exact_value, "*", literal(10000), Numeric())
    fraction = func.abs(op(shifted, "-", func.trunc(shifted), Numeric()))
    tie = and_(fraction == literal(Decimal("0.5")), func.mod(func.trunc(shifted), 2) == 0)
    toward_zero = func.round(op(func.trunc(shifted), "/", literal(10000), Numeric()), 4)
    postgresql = case((tie, toward_zero), else_=func.round(exact_value, 4))
    return Value(per_dialect(_sqlite_half_even(value), postgresql, Numeric()), ExprType.DECIMAL, 4)


def _sqlite_half_even(value: Value) -> SQL:
    """SQLite: half-even to 4 places on the whole number of the decimal's own places, when known."""
    scale = value.scale
    if value.type is ExprType.FLOAT or scale is None or scale > 15:
        return func.round(value.sql, 4)
    units = cast(func.round(op(value.sql, "*", literal(10**scale), Double())), Integer())
    divisor = literal(10 ** (scale - 4))
    quotient = op(units, "/", divisor, Integer())
    remainder = func.abs(op(units, "-", op(quotient, "*", divisor, Integer()), Integer()))
    twice = op(literal(2), "*", remainder, Integer())
    up = or_(twice > divisor, and_(twice == divisor, quotient % 2 != 0))
    away = case((units < 0, literal(-1)), else_=literal(1))
    rounded = op(quotient, "+", case((up, away), else_=literal(0)), Integer())
    return op(rounded, "/", literal(10000.0), Double())
