"""The functions of the expression language as SQL, with the evaluator's results on both engines.

See :mod:`xrm.metadata.expressions.functions` and :mod:`~xrm.metadata.expressions.dates` for
what each computes. Null arguments give null (except ``concat`` and ``coalesce``), and so does a
date outside years 1-9999 or one that does not exist: every date is built behind a guard
(``CASE WHEN <in range> THEN ... END``), and a guard's bounds are checked on whole numbers before
any date function sees them, so no argument makes PostgreSQL raise an error.

``round`` goes half away from zero on a decimal's exact digits; ``round(x, n)`` keeps a decimal's
places when it has ``n`` or fewer, as ``Decimal.quantize`` does. Date differences count the UTC
hours, days, weeks (from Sunday), months or years crossed, from whole-number day and hour numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Double,
    Integer,
    Numeric,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
)

from xrm.metadata.expressions import ExprType
from xrm.metadata.expressions.functions import FUNCTIONS
from xrm.metadata.expressions.nodes import common_type
from xrm.query._dialects import (
    FIRST_DAY,
    LAST_DAY,
    Value,
    as_real,
    constant,
    day_number,
    exact,
    from_day_number,
    int4,
    joined_places,
    needs_text,
    numeric,
    op,
    part,
    per_dialect,
    places_of,
    shared,
    sql_type,
    text_of,
    to_datetime,
)

__all__ = ["compile_call", "days_in_month"]

SQL = ColumnElement[Any]
Builder = Callable[[Sequence[Value]], Value]

_WHITESPACE = "".join(chr(code) for code in range(0x3001) if chr(code).isspace())  # what str.strip() removes
_MAX_PLACES = 1000  # round(x, n) beyond this many places changes nothing PostgreSQL can hold
_SINGLE_USE = frozenset({"concat", "trim", "upper", "lower", "len", "abs", "coalesce"})
_WEEK_OFFSET = 7 * 200_000  # keeps day numbers positive before dividing by 7 (both engines truncate)


def compile_call(name: str, arguments: Sequence[Value]) -> Value:
    """The SQL of ``name(arguments)``; a null argument of a function that is not null-safe gives null."""
    if not FUNCTIONS[name].null_safe and any(argument.is_null for argument in arguments):
        return constant(None, _null_result(name, arguments))
    build = _BUILDERS[name]
    if name in _SINGLE_USE:
        return build(arguments)
    return shared(arguments, build)  # the builders below use an argument several times


def _null_result(name: str, arguments: Sequence[Value]) -> ExprType:
    first = arguments[0].type if arguments else ExprType.NULL
    if name in ("trim", "upper", "lower"):
        return ExprType.STRING
    if name == "len" or name.startswith("diff_") or (name == "round" and len(arguments) == 1):
        return ExprType.INTEGER
    if name in ("date", "datetime"):
        return ExprType.DATE if name == "date" else ExprType.DATETIME
    if name == "add_hours" or (name.startswith("add_") and first is ExprType.NULL):
        return ExprType.DATETIME
    return first


def _int(value: int) -> SQL:
    return literal(value, Integer())


def _integer(sql: SQL, operator: str, other: SQL) -> SQL:
    return op(sql, operator, other, Integer())


def _pg_integer(value: Value) -> SQL:
    """A whole number for arithmetic that must not overflow: PostgreSQL ``numeric``."""
    return per_dialect(value.sql, numeric(value.sql), Numeric())


# --- text ----------------------------------------------------------------------------------------


def _concat(arguments: Sequence[Value]) -> Value:
    parts = [func.coalesce(text_of(argument), literal("")) for argument in arguments]
    result: SQL = parts[0]
    for item in parts[1:]:
        result = op(result, "||", item, String())
    return Value(result, ExprType.STRING)


def _trim(arguments: Sequence[Value]) -> Value:
    text = arguments[0].sql
    chars = literal(_WHITESPACE)
    return Value(per_dialect(func.trim(text, chars), func.btrim(text, chars), String()), ExprType.STRING)


def _case(function: Any) -> Builder:
    return lambda arguments: Value(function(arguments[0].sql), ExprType.STRING)


def _len(arguments: Sequence[Value]) -> Value:
    return Value(func.length(arguments[0].sql), ExprType.INTEGER)


# --- numbers -------------------------------------------------------------------------------------


def _power_of_ten(exponent: Value) -> SQL:
    """10 ** exponent (0 to 18) as an integer; SQLite has no portable ``power()``."""
    if exponent.is_constant:
        return _int(10**exponent.constant)
    return case(*((exponent.sql == n, literal(10**n)) for n in range(19)), else_=null())


def _clamped(places: Value) -> Value:
    if places.is_constant:
        return constant(min(max(places.constant, -_MAX_PLACES), _MAX_PLACES), ExprType.INTEGER)
    bounded = func.least(func.greatest(places.sql, -_MAX_PLACES), _MAX_PLACES)
    return Value(per_dialect(places.sql, bounded, Integer()), ExprType.INTEGER)


def _tens(places: Value) -> Value:
    """-places, the power of ten a negative ``places`` rounds to, at most 18 (int64's)."""
    if places.is_constant:
        return constant(min(-places.constant, 18), ExprType.INTEGER)
    return Value(case((places.sql < -18, _int(18)), else_=-places.sql), ExprType.INTEGER)


def _round_whole(value: Value, places: Value) -> SQL:
    """A whole number rounded to tens, hundreds... (``places`` < 0), half away from zero.

    SQLite works on the integer itself (exact to int64); beyond 18 places everything is 0."""
    power = _power_of_ten(_tens(places))
    quotient = _integer(value.sql, "/", power)
    remainder = _integer(value.sql, "-", _integer(quotient, "*", power))
    away = case((value.sql < 0, _int(-1)), else_=_int(1))
    step = case((_integer(_int(2), "*", func.abs(remainder)) >= power, away), else_=_int(0))
    rounded = _integer(_integer(quotient, "+", step), "*", power)
    beyond = places.constant < -18 if places.is_constant else None
    sqlite = _int(0) if beyond else rounded if beyond is False else case((places.sql < -18, _int(0)), else_=rounded)
    return per_dialect(sqlite, func.round(numeric(value.sql), int4(places)), Numeric())


def _round_real(value: Value, places: Value) -> SQL:
    """SQLite: a float rounded half away from zero as Python rounds it, on its ``repr`` digits.

    SQLite's round() adds 0.5 to the binary value, so 0.49999999999999994 would round up. Here the
    number ``q`` of units (10^-n) is estimated, then corrected by one either way by comparing with
    the ties, (2q±1)/(2·10^n): IEEE division gives the float nearest each tie exactly, and a float
    is at or past that float exactly when its shortest decimal is at or past the tie. Beyond 2^53
    units (or 22 places) a float has no digit left to round.
    """
    real = as_real(value.sql)
    magnitude = func.abs(real)
    if places.is_constant:
        digits = max(min(places.constant, 22), -22)
        power: SQL = literal(float(10 ** abs(digits)), Double())
        negative: SQL | bool = digits < 0
    else:
        bounded = case((places.sql > 22, 22), (places.sql < -22, -22), else_=places.sql)
        power = case(*((func.abs(bounded) == k, literal(float(10**k), Double())) for k in range(23)))
        negative = places.sql < 0

    def choose(below: SQL, above: SQL) -> SQL:
        if isinstance(negative, bool):
            return above if negative else below
        return case((negative, above), else_=below)

    def real_op(left: SQL, symbol: str, right: SQL) -> SQL:
        return op(left, symbol, right, Double())

    units = choose(real_op(magnitude, "*", power), real_op(magnitude, "/", power))
    estimate = cast(real_op(units, "+", literal(0.5)), Integer())

    def tie(count: SQL) -> SQL:  # halfway between ``count`` and ``count + 1`` units
        odd = _integer(_integer(_int(2), "*", count), "+", _int(1))
        return choose(
            real_op(odd, "/", real_op(literal(2.0), "*", power)), real_op(real_op(odd, "*", power), "/", literal(2.0))
        )

    lower = _integer(estimate, "-", _int(1))
    count = case(
        (magnitude < tie(lower), lower),
        (magnitude >= tie(estimate), _integer(estimate, "+", _int(1))),
        else_=estimate,
    )
    rounded = choose(real_op(count, "/", power), real_op(count, "*", power))
    signed = case((real < 0, -rounded), else_=rounded)
    return case((units >= literal(2.0**53), real), else_=signed)


def _round(arguments: Sequence[Value]) -> Value:
    value = arguments[0]
    if len(arguments) == 1:
        if value.type is ExprType.INTEGER:
            return value
        sqlite = cast(_round_real(value, constant(0, ExprType.INTEGER)), Integer())
        return Value(per_dialect(sqlite, func.round(exact(value)), Numeric()), ExprType.INTEGER, 0)
    places = _clamped(arguments[1])
    rounded = _round_to(value, places)
    if places.is_constant:
        return rounded
    # CASE, LEAST and GREATEST do not propagate a null number of places: test it first
    missing = arguments[1].sql.is_(None)
    text = None if rounded.text is None else (lambda: case((missing, null()), else_=text_of(rounded)))
    return Value(case((missing, null()), else_=rounded.sql), rounded.type, rounded.scale, text, places=rounded.places)


def _round_to(value: Value, places: Value) -> Value:
    if value.type is ExprType.INTEGER:  # an integer keeps its places: only negative ones round it
        if places.is_constant:
            return value if places.constant >= 0 else Value(_round_whole(value, places), ExprType.INTEGER, 0)
        return Value(case((places.sql < 0, _round_whole(value, places)), else_=value.sql), ExprType.INTEGER, 0)
    if value.type is ExprType.FLOAT:
        postgresql: SQL = cast(func.round(exact(value), int4(places)), Double())
        return Value(per_dialect(_round_real(value, places), postgresql, Double()), ExprType.FLOAT)
    if places.is_constant and value.scale is not None and value.scale <= places.constant:
        return value  # Decimal.quantize keeps a number that has no more places
    # round_number skips Decimal.quantize for a number too small to show: Decimal(0), no places
    zero = _rounds_to_zero(value, places)
    postgresql = func.round(value.sql, func.least(int4(places), func.scale(value.sql)))
    postgresql = case((zero, literal(0, Numeric())), else_=postgresql)
    rounded = per_dialect(_round_real(value, places), postgresql, Numeric())
    kept = places_of(value)
    if kept is not None:
        kept = case((zero, _int(0)), (places.sql < 0, _int(0)), (places.sql < kept, places.sql), else_=kept)
    return Value(rounded, ExprType.DECIMAL, places=kept)


def _rounds_to_zero(value: Value, places: Value) -> SQL:
    """When ``round_number`` gives ``Decimal(0)``: ``places < -(adjusted + 1)`` (a zero's adjusted
    exponent is minus its places)."""
    x, n = value.sql, places.sql
    if places.is_constant:
        bound_pg: SQL = literal(Decimal(1).scaleb(-(places.constant + 1)), Numeric())
        bound_sqlite: SQL = literal(10.0 ** -(places.constant + 1), Double())
    else:
        bound_pg = func.power(literal(Decimal(10), Numeric()), -(n + 1))
        bound_sqlite = op(
            literal(1.0), "/", _power_of_ten(Value(case((n < 0, 0), else_=n + 1), ExprType.INTEGER)), Double()
        )
    kept = places_of(value)
    sqlite_zero = literal(False) if kept is None else n < kept - 1
    sqlite = or_(and_(x == 0, sqlite_zero), and_(x != 0, func.abs(x) < bound_sqlite))
    postgresql = or_(and_(x == 0, n < func.scale(x) - 1), and_(x != 0, func.abs(x) < bound_pg))
    return and_(n >= 0, per_dialect(sqlite, postgresql, Boolean()))


def _abs(arguments: Sequence[Value]) -> Value:
    value = arguments[0]
    return Value(func.abs(value.sql), value.type, value.scale, places=value.places)


def _coalesce(arguments: Sequence[Value]) -> Value:
    present = [argument for argument in arguments if not argument.is_null]
    if not present:
        return constant(None, arguments[0].type)
    kind = present[0].type
    for argument in present[1:]:
        kind = common_type(kind, argument.type) or kind
    if len(present) == 1:
        return present[0]
    mixed_dates = kind is ExprType.DATETIME and any(argument.type is ExprType.DATE for argument in present)
    parts = [to_datetime(argument) if mixed_dates else argument for argument in present]
    present_sql = [argument.sql for argument in present]

    def choose(each: list[SQL]) -> SQL:
        return case(*((sql.is_not(None), places) for sql, places in zip(present_sql, each, strict=True)), else_=null())

    scale, places = joined_places(present, choose)
    text = None
    if needs_text(present):
        text = lambda: func.coalesce(*(text_of(argument) for argument in present))  # noqa: E731
    sql = func.coalesce(*(argument.sql for argument in parts), type_=sql_type(kind))
    return Value(sql, kind, scale, text, places=places)


# --- dates ---------------------------------------------------------------------------------------


def days_in_month(year: SQL, month: SQL) -> SQL:
    """Days in ``month`` (1-12) of ``year``, Gregorian, in whole-number arithmetic."""
    leap = or_(and_(year % 4 == 0, year % 100 != 0), year % 400 == 0)
    return case(
        (month == 2, case((leap, _int(29)), else_=_int(28))),
        (month.in_([4, 6, 9, 11]), _int(30)),
        else_=_int(31),
    )


def _times(value: Value, factor: int) -> Value:
    if factor == 1:
        return value
    if value.is_constant:
        return constant(value.constant * factor, ExprType.INTEGER)
    return Value(op(_pg_integer(value), "*", _int(factor), Numeric()), ExprType.INTEGER)


def _in_range(number: SQL, low: int, high: int) -> SQL:
    return and_(number >= low, number <= high)


def _add_days(arguments: Sequence[Value], factor: int = 1) -> Value:
    start, days = arguments[0], _times(arguments[1], factor)
    target = op(day_number(start), "+", _pg_integer(days), Numeric())
    day = from_day_number(target)
    if start.type is ExprType.DATE:
        return Value(case((_in_range(target, FIRST_DAY, LAST_DAY), day), else_=null()), ExprType.DATE)
    sqlite = op(day, "||", func.substr(start.sql, 11), String())
    postgresql = func.timezone("UTC", func.timezone("UTC", start.sql) + func.make_interval(0, 0, 0, int4(days)))
    shifted = per_dialect(sqlite, postgresql, DateTime(timezone=True))
    return Value(case((_in_range(target, FIRST_DAY, LAST_DAY), shifted), else_=null()), ExprType.DATETIME)


def _add_hours(arguments: Sequence[Value]) -> Value:
    start, hours = to_datetime(arguments[0]), arguments[1]
    base = op(_integer(day_number(start), "*", _int(24)), "+", part(start, "hour"), Integer())
    target = op(base, "+", _pg_integer(hours), Numeric())
    modifier = op(cast(hours.sql, String()), "||", literal(" hours"), String())
    # SQLite's date functions keep milliseconds (.999999 would round up): shift the hour alone
    hour = op(func.substr(start.sql, 1, 13), "||", literal(":00:00"), String())
    sqlite = op(func.strftime("%Y-%m-%d %H", hour, modifier), "||", func.substr(start.sql, 14), String())
    postgresql = func.timezone("UTC", func.timezone("UTC", start.sql) + func.make_interval(0, 0, 0, 0, int4(hours)))
    shifted = per_dialect(sqlite, postgresql, DateTime(timezone=True))
    guard = _in_range(target, FIRST_DAY * 24, LAST_DAY * 24 + 23)
    return Value(case((guard, shifted), else_=null()), ExprType.DATETIME)


def _add_months(arguments: Sequence[Value], factor: int = 1) -> Value:
    start, months = arguments[0], _times(arguments[1], factor)
    year, month, day = (part(start, name) for name in ("year", "month", "day"))
    elapsed = _integer(_integer(year, "*", _int(12)), "+", _integer(month, "-", _int(1)))
    target = op(elapsed, "+", _pg_integer(months), Numeric())
    # SQLite builds the date from whole numbers (the guard keeps ``target`` positive)
    new_year = _integer(target, "/", _int(12))
    new_month = _integer(_integer(target, "-", _integer(new_year, "*", _int(12))), "+", _int(1))
    last = days_in_month(new_year, new_month)
    text = func.printf("%04d-%02d-%02d", new_year, new_month, case((day > last, last), else_=day))
    if start.type is ExprType.DATE:
        postgresql: SQL = cast(start.sql + func.make_interval(0, int4(months)), Date())
        shifted = per_dialect(text, postgresql, Date())
    else:
        sqlite = op(text, "||", func.substr(start.sql, 11), String())
        postgresql = func.timezone("UTC", func.timezone("UTC", start.sql) + func.make_interval(0, int4(months)))
        shifted = per_dialect(sqlite, postgresql, DateTime(timezone=True))
    return Value(case((_in_range(target, 12, 9999 * 12 + 11), shifted), else_=null()), start.type)


def _diff(measure: Callable[[Value], SQL]) -> Builder:
    def build(arguments: Sequence[Value]) -> Value:
        first, second = arguments
        return Value(_integer(measure(second), "-", measure(first)), ExprType.INTEGER, 0)

    return build


def _hour_number(value: Value) -> SQL:
    return _integer(_integer(day_number(value), "*", _int(24)), "+", part(value, "hour"))


def _week_number(value: Value) -> SQL:
    return _integer(_integer(day_number(value), "+", _int(4 + _WEEK_OFFSET)), "/", _int(7))  # 1970-01-04 was a Sunday


def _month_number(value: Value) -> SQL:
    return _integer(_integer(part(value, "year"), "*", _int(12)), "+", part(value, "month"))


def _make(arguments: Sequence[Value], with_time: bool) -> Value:
    values = list(arguments) + [constant(0, ExprType.INTEGER)] * (6 - len(arguments))
    year, month, day, hour, minute, second = (value.sql for value in values)
    checks = [
        _in_range(year, 1, 9999),
        _in_range(month, 1, 12),
        day >= 1,
        day <= days_in_month(year, month),
        _in_range(hour, 0, 23),
        _in_range(minute, 0, 59),
        _in_range(second, 0, 59),
    ]
    if not with_time:
        text = func.printf("%04d-%02d-%02d", year, month, day)
        made = per_dialect(text, func.make_date(*(int4(value) for value in values[:3])), Date())
        return Value(case((and_(*checks[:4]), made), else_=null()), ExprType.DATE)
    text = func.printf("%04d-%02d-%02d %02d:%02d:%02d.000000", year, month, day, hour, minute, second)
    parts = [int4(value) for value in values[:5]]
    postgresql = func.make_timestamptz(*parts, cast(values[5].sql, Double()), "UTC")
    made = per_dialect(text, postgresql, DateTime(timezone=True))
    return Value(case((and_(*checks), made), else_=null()), ExprType.DATETIME)


_BUILDERS: dict[str, Builder] = {
    "concat": _concat,
    "trim": _trim,
    "upper": _case(func.upper),
    "lower": _case(func.lower),
    "len": _len,
    "round": _round,
    "abs": _abs,
    "coalesce": _coalesce,
    "add_hours": _add_hours,
    "add_days": _add_days,
    "add_weeks": lambda arguments: _add_days(arguments, 7),
    "add_months": _add_months,
    "add_years": lambda arguments: _add_months(arguments, 12),
    "diff_hours": _diff(_hour_number),
    "diff_days": _diff(day_number),
    "diff_weeks": _diff(_week_number),
    "diff_months": _diff(_month_number),
    "diff_years": _diff(lambda value: part(value, "year")),
    "date": lambda arguments: _make(arguments, with_time=False),
    "datetime": lambda arguments: _make(arguments, with_time=True),
}
