"""SQL that SQLite and PostgreSQL spell differently, chosen when the statement is compiled.

The query layer builds one statement for whichever engine runs it, so :func:`per_dialect` holds
both spellings of an expression and renders the one of the dialect compiling it (PostgreSQL's
for any other dialect). How the calculated-attribute compiler represents values:

- SQLite: a date is ``'YYYY-MM-DD'`` text and a date-time ``'YYYY-MM-DD HH:MM:SS.ffffff'`` text in
  UTC, as SQLAlchemy stores them (so text order is time order); decimals are REAL; booleans 0/1.
- PostgreSQL: a date is ``date``, a date-time ``timestamptz`` worked on as UTC wall-clock time
  (``timezone('UTC', x)``) whatever the session time zone; decimals and the integers that
  arithmetic computes are ``numeric``, so no ``bigint`` overflow stops a statement.

A date-time's "day number" counts days since 1970-01-01 (UTC), its "hour number" hours.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Double,
    Integer,
    Numeric,
    String,
    case,
    cast,
    extract,
    func,
    literal,
    not_,
    null,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ColumnClause, Null
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import NullType, TypeEngine

from xrm.metadata.expressions import ExprType
from xrm.metadata.expressions.functions import to_text

__all__ = [
    "NOT_CONSTANT",
    "Value",
    "per_dialect",
    "sql_type",
    "constant",
    "int4",
    "numeric",
    "exact",
    "as_real",
    "op",
    "to_datetime",
    "day_number",
    "part",
    "from_day_number",
    "text_of",
    "FIRST_DAY",
    "LAST_DAY",
    "shared",
    "places_of",
    "joined_places",
    "needs_text",
]

SQL = ColumnElement[Any]
FIRST_DAY = -719162  # day number of 0001-01-01
LAST_DAY = 2932896  # day number of 9999-12-31
_EPOCH_JULIAN = 2440587.5  # SQLite's julianday('1970-01-01')
_INT4 = (-(2**31), 2**31 - 1)


class _NotConstant:
    def __repr__(self) -> str:
        return "NOT_CONSTANT"


NOT_CONSTANT: Any = _NotConstant()
"""``Value.constant`` of a value that depends on the row."""


@dataclass(frozen=True)
class Value:
    """A compiled (sub)expression.

    ``type`` is the type the evaluator's value has at run time (a date stays a date where the
    checker widens it to a date-time); ``scale`` the decimal places of a decimal when every row
    has the same (Python's ``Decimal`` keeps them, and they show in ``concat``), else ``places``
    computes them per row for SQLite, whose decimals are floats (PostgreSQL's ``numeric`` keeps
    them itself); ``text`` builds the exact text form when the type does not tell it (``if`` and
    ``coalesce`` of mixed types); ``constant`` is the Python value when the expression reads no
    attribute.
    """

    sql: SQL
    type: ExprType
    scale: int | None = None
    text: Callable[[], SQL] | None = None
    constant: Any = NOT_CONSTANT
    places: SQL | None = None

    @property
    def is_constant(self) -> bool:
        return self.constant is not NOT_CONSTANT

    @property
    def is_null(self) -> bool:
        return self.constant is None


class _PerDialect(FunctionElement[Any]):
    """Two spellings of one expression; see :func:`per_dialect`."""

    inherit_cache = True
    name = "xrm_per_dialect"
    _traverse_internals = [*FunctionElement._traverse_internals, ("type", InternalTraversal.dp_type)]

    def __init__(self, sqlite: SQL, postgresql: SQL, type_: TypeEngine[Any]) -> None:
        super().__init__(sqlite, postgresql)
        self.type = type_


@compiles(_PerDialect)
def _compile_per_dialect(element: _PerDialect, compiler: SQLCompiler, **kw: Any) -> str:
    sqlite, postgresql = element.clauses.clauses
    chosen = sqlite if compiler.dialect.name == "sqlite" else postgresql
    return f"({compiler.process(chosen, **kw)})"


def _is_heavy(value: Value) -> bool:
    return not (value.is_constant or isinstance(value.sql, ColumnClause | BindParameter | Null))


def shared(values: Sequence[Value], build: Callable[[list[Value]], Value]) -> Value:
    """``build(values)``, where a computed value used several times is computed once.

    SQL has no ``let``: ``(SELECT f(v.a0, v.a0) FROM (SELECT <expression> AS a0) AS v)`` is one,
    on both engines, so nested date functions or chains of calculated attributes do not repeat
    their arguments' SQL (which would grow exponentially with the nesting).
    """
    heavy = [index for index, value in enumerate(values) if _is_heavy(value)]
    if not heavy:
        return build(list(values))
    columns = [values[index].sql.label(f"a{index}") for index in heavy]
    columns += [values[i].text().label(f"t{i}") for i in heavy if values[i].text is not None]  # type: ignore[misc]
    columns += [values[i].places.label(f"p{i}") for i in heavy if values[i].places is not None]  # type: ignore[union-attr]
    bound = select(*columns).correlate_except(None).subquery()
    refs = list(values)
    for index in heavy:
        value = values[index]
        column_text = None if value.text is None else _column_reader(bound.c[f"t{index}"])
        places = None if value.places is None else bound.c[f"p{index}"]
        refs[index] = Value(bound.c[f"a{index}"], value.type, value.scale, column_text, places=places)
    result = build(refs)

    def scalar(sql: SQL) -> SQL:
        return select(sql).select_from(bound).correlate_except(bound).scalar_subquery()

    built_text = result.text
    text = None if built_text is None else (lambda: scalar(built_text()))
    result_places = None if result.places is None else scalar(result.places)
    return Value(scalar(result.sql), result.type, result.scale, text, result.constant, result_places)


def places_of(value: Value) -> SQL | None:
    """A number's places for SQLite's text of it (0 for an integer), or None if unknown."""
    if value.type is ExprType.INTEGER:
        return literal(0, Integer())
    if value.scale is not None:
        return literal(value.scale, Integer())
    return value.places


def needs_text(values: Sequence[Value]) -> bool:
    """Whether values of mixed types need their own text: a number's places are kept otherwise."""
    kinds = {value.type for value in values if not value.is_null}
    return any(value.text is not None for value in values) or (
        len(kinds) > 1 and not kinds <= {ExprType.INTEGER, ExprType.DECIMAL}
    )


def joined_places(values: Sequence[Value], choose: Callable[[list[SQL]], SQL]) -> tuple[int | None, SQL | None]:
    """The places of a value that is one of ``values``: fixed, or chosen per row by ``choose``."""
    present = [value for value in values if not value.is_null]
    scales = {value.scale if value.type is not ExprType.INTEGER else 0 for value in present}
    if len(scales) == 1 and None not in scales:
        return scales.pop(), None
    each = [places_of(value) for value in values]
    if any(places is None for places in each):
        return None, None
    return None, choose(each)  # type: ignore[arg-type]


def _column_reader(column: SQL) -> Callable[[], SQL]:
    return lambda: column


def per_dialect(sqlite: SQL, postgresql: SQL, type_: TypeEngine[Any]) -> SQL:
    """``sqlite`` on SQLite, ``postgresql`` elsewhere; ``type_`` is what Python reads back."""
    if sqlite is postgresql:
        return sqlite
    return _PerDialect(sqlite, postgresql, type_)


def sql_type(kind: ExprType) -> TypeEngine[Any]:
    """The SQLAlchemy type of a value of ``kind`` (how it is bound and read back)."""
    types: dict[ExprType, TypeEngine[Any]] = {
        ExprType.STRING: String(),
        ExprType.INTEGER: BigInteger(),
        ExprType.DECIMAL: Numeric(),
        ExprType.FLOAT: Double(),
        ExprType.BOOLEAN: Boolean(),
        ExprType.DATE: Date(),
        ExprType.DATETIME: DateTime(timezone=True),
    }
    return types.get(kind, NullType())


def _literal_type(value: Any, kind: ExprType) -> TypeEngine[Any]:
    if isinstance(value, bool) or not isinstance(value, int):
        return sql_type(kind)
    if _INT4[0] <= value <= _INT4[1]:
        return Integer()
    return BigInteger() if -(2**63) <= value < 2**63 else Numeric()


def constant(value: Any, kind: ExprType) -> Value:
    """A constant: the evaluator's value of an expression that reads no attribute."""
    if value is None:
        return Value(null() if kind is ExprType.NULL else literal(None, sql_type(kind)), kind, constant=None)
    if isinstance(value, datetime):
        value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    scale = None
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        scale = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    elif isinstance(value, int) and not isinstance(value, bool):
        scale = 0
    return Value(literal(value, _literal_type(value, kind)), kind, scale, constant=value)


def op(left: SQL, operator: str, right: SQL, type_: TypeEngine[Any]) -> SQL:
    """``left operator right`` as written (no type-driven rewriting), parenthesised as needed."""
    return left.op(operator, return_type=type_)(right)


def numeric(sql: SQL) -> SQL:
    """PostgreSQL: as ``numeric`` (exact integers of any size)."""
    return cast(sql, Numeric())


def exact(value: Value) -> SQL:
    """PostgreSQL: a number as ``numeric``; a float through its shortest text, which has the
    digits of Python's ``repr`` (what the evaluator rounds), where a cast keeps only 15."""
    if value.type is ExprType.FLOAT:
        return cast(cast(value.sql, String()), Numeric())
    return numeric(value.sql)


def as_real(sql: SQL) -> SQL:
    """SQLite: as a floating-point number, so that ``/`` does not divide integers."""
    return cast(sql, Double())


def int4(value: Value) -> SQL:
    """PostgreSQL: an ``integer`` argument (``make_interval``, ``make_date``...).

    Only used where a guard already keeps the value in range; a constant out of range becomes 0
    instead, so that constant folding at plan time does not raise an error the guard prevents.
    """
    if value.is_constant:
        number = value.constant if isinstance(value.constant, int) else 0
        return literal(number if _INT4[0] <= number <= _INT4[1] else 0, Integer())
    return cast(value.sql, Integer())


def _utc(sql: SQL) -> SQL:
    """PostgreSQL: a ``timestamptz`` as UTC wall-clock ``timestamp``."""
    return func.timezone("UTC", sql)


def to_datetime(value: Value) -> Value:
    """A date as the date-time of its midnight UTC (what the evaluator compares it as)."""
    if value.type is not ExprType.DATE:
        return value
    if value.is_constant:
        day = value.constant
        return constant(None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC), ExprType.DATETIME)
    sqlite = op(value.sql, "||", literal(" 00:00:00.000000"), String())
    postgresql = func.timezone("UTC", cast(value.sql, DateTime()))
    return Value(per_dialect(sqlite, postgresql, DateTime(timezone=True)), ExprType.DATETIME)


def day_number(value: Value) -> SQL:
    """Days from 1970-01-01 to the (UTC) day of a date or date-time, as an integer."""
    sqlite = cast(op(func.julianday(func.substr(value.sql, 1, 10)), "-", literal(_EPOCH_JULIAN), Double()), Integer())
    day = value.sql if value.type is ExprType.DATE else cast(_utc(value.sql), Date())
    postgresql = op(day, "-", literal(date(1970, 1, 1), Date()), Integer())
    return per_dialect(sqlite, postgresql, Integer())


_PARTS = {"year": (1, 4), "month": (6, 2), "day": (9, 2), "hour": (12, 2), "minute": (15, 2), "second": (18, 2)}


def part(value: Value, name: str) -> SQL:
    """The UTC year, month, day or hour of a date or date-time, as an integer (a date's hour is 0)."""
    if value.type is ExprType.DATE and name == "hour":
        return literal(0, Integer())
    start, length = _PARTS[name]
    sqlite = cast(func.substr(value.sql, start, length), Integer())
    wall = value.sql if value.type is ExprType.DATE else _utc(value.sql)
    postgresql = cast(extract(name, wall), Integer())
    return per_dialect(sqlite, postgresql, Integer())


def from_day_number(number: SQL) -> SQL:
    """The date of a day number (the caller keeps it within years 1-9999)."""
    sqlite = func.date(op(number, "+", literal(_EPOCH_JULIAN), Double()))
    postgresql = op(literal(date(1970, 1, 1), Date()), "+", cast(number, Integer()), Date())
    return per_dialect(sqlite, postgresql, Date())


def _boolean_text(sql: SQL) -> SQL:
    return case((sql, literal("true")), (not_(sql), literal("false")), else_=null())


def _float_text(sql: SQL) -> SQL:
    # Python writes 2.0 as '2.0', PostgreSQL as '2'
    text = cast(sql, String())
    postgresql = case((text.regexp_match("^-?[0-9]+$"), op(text, "||", literal(".0"), String())), else_=text)
    return per_dialect(text, postgresql, String())


def _datetime_text(sql: SQL) -> SQL:
    """ISO 8601 as Python's ``isoformat()`` of an aware UTC date-time writes it."""
    fraction = func.substr(sql, 21, 6)
    sqlite_parts = [
        func.substr(sql, 1, 10),
        literal("T"),
        func.substr(sql, 12, 8),
        case((fraction == "000000", literal("")), else_=op(literal("."), "||", fraction, String())),
        literal("+00:00"),
    ]
    wall = _utc(sql)
    micro = func.to_char(wall, "US")
    postgresql_parts = [
        func.to_char(wall, 'YYYY-MM-DD"T"HH24:MI:SS'),
        case((micro == "000000", literal("")), else_=op(literal("."), "||", micro, String())),
        literal("+00:00"),
    ]
    return per_dialect(_joined(sqlite_parts), _joined(postgresql_parts), String())


def _joined(parts: list[SQL]) -> SQL:
    result = parts[0]
    for item in parts[1:]:
        result = op(result, "||", item, String())
    return result


def text_of(value: Value) -> SQL:
    """The text ``concat`` makes of a value (``to_text``), or NULL for null."""
    if value.is_constant:
        return null() if value.constant is None else literal(to_text(value.constant), String())
    if value.text is not None:
        return value.text()
    if value.type in (ExprType.BOOLEAN, ExprType.FLOAT, ExprType.DATETIME, ExprType.DECIMAL) and _is_heavy(value):
        return shared([value], lambda values: Value(text_of(values[0]), ExprType.STRING)).sql
    sql, kind = value.sql, value.type
    if kind is ExprType.STRING:
        return sql
    if kind is ExprType.BOOLEAN:
        return _boolean_text(sql)
    if kind is ExprType.FLOAT:
        return _float_text(sql)
    if kind is ExprType.DATE:
        return per_dialect(sql, func.to_char(sql, "YYYY-MM-DD"), String())
    if kind is ExprType.DATETIME:
        return _datetime_text(sql)
    places = places_of(value)
    if kind is ExprType.DECIMAL and places is not None:
        # SQLite holds a float: write it with the places Python's Decimal keeps
        written = case((sql.is_(None), null()), else_=func.printf("%.*f", places, sql))
        return per_dialect(written, cast(sql, String()), String())
    return cast(sql, String())
