"""The expression language of calculated attributes: parsing, type checking, evaluation, validation."""

from __future__ import annotations

import operator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Context, Decimal, localcontext
from pathlib import Path
from typing import Any

import pytest

from xrm.errors import XrmError
from xrm.metadata import compile_model, load_solution
from xrm.metadata.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    ExpressionError,
    ExprType,
    check_expression,
    entity_resolver,
    evaluate,
    parse_expression,
)
from xrm.metadata.expressions.nodes import Binary, Literal, Reference, Unary

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - the property tests need hypothesis
    st = None  # type: ignore[assignment]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "solutions"
NOW = datetime(2024, 2, 29, 15, 30, tzinfo=UTC)

ATTRIBUTES = {
    (None, "name"): ExprType.STRING,
    (None, "qty"): ExprType.INTEGER,
    (None, "price"): ExprType.DECIMAL,
    (None, "ratio"): ExprType.FLOAT,
    (None, "active"): ExprType.BOOLEAN,
    (None, "due"): ExprType.DATETIME,
    (None, "birthday"): ExprType.DATE,
    (None, "accountid"): ExprType.LOOKUP,
    (None, "tags"): ExprType.OPAQUE,
    ("accountid", "name"): ExprType.STRING,
    ("accountid", "credit"): ExprType.DECIMAL,
}


def resolve(lookup: str | None, name: str) -> ExprType | None:
    return ATTRIBUTES.get((lookup, name))


def value(text: str, record: dict[str, Any] | None = None, parents: dict[str, Any] | None = None) -> Any:
    return evaluate(parse_expression(text), record or {}, parents, now=NOW)


def type_of(text: str, result_type: str | None = None) -> ExprType:
    return check_expression(parse_expression(text), resolve, result_type=result_type)


def failure(text: str, result_type: str | None = None) -> tuple[int, str]:
    """(position, reason) of the ExpressionError that parsing and checking ``text`` raise."""
    with pytest.raises(ExpressionError) as info:
        type_of(text, result_type)
    error = info.value
    assert str(error) == f"at position {error.position}: {error.reason}"
    return error.position, error.reason


# --- parsing: precedence, associativity, literals ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("2 * 3 - 4 * 5", -14),
        ("100 / 10 / 5", Decimal(2)),
        ("-2 * 3", -6),
        ("-(2 + 3)", -5),
        ("2 - -3", 5),
        ("- -4", 4),
        ("1 + 2 = 3", True),
        ("1 < 2 and 3 > 4 or 5 >= 5", True),
        ("true or false and false", True),
        ("(true or false) and false", False),
        ("not 1 = 2", True),
        ("not true = false", True),
        ("not false and false", False),
        ("if 1 < 2 then 10 else 20 + 5", 10),
        ("if 1 > 2 then 10 else 20 + 5", 25),
        ("1 + if(true, 1, 2) * 10", 11),
        ("if (1 < 2) and false then 'a' else 'b'", "b"),
        ("IF TRUE THEN UPPER('x') ELSE 'y'", "X"),
        ("3 <> 4", True),
        ("3 != 3", False),
        ("2 <= 2 and 2 >= 3", False),
    ],
)
def test_precedence_and_associativity(text, expected):
    result = value(text)
    assert result == expected and type(result) is type(expected)


def test_the_tree_records_positions():
    tree = parse_expression("qty - 1 - accountid.credit")
    assert tree == Binary(
        0, "-", Binary(0, "-", Reference(0, None, "qty"), Literal(6, 1, ExprType.INTEGER), 4),
        Reference(10, "accountid", "credit"), 8,
    )  # fmt: skip
    assert parse_expression("-x") == Unary(0, "-", Reference(1, None, "x"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'it\\'s'", "it's"),
        ('"say \\"hi\\""', 'say "hi"'),
        ('"it\'s"', "it's"),
        ("'a\\nb\\tc\\\\'", "a\nb\tc\\"),
        ("'caf\\u00e9'", "café"),
        ("''", ""),
        ("12.50", Decimal("12.50")),
        ("007", 7),
        ("true", True),
        ("FALSE", False),
        ("null", None),
    ],
)
def test_literals(text, expected):
    result = value(text)
    assert result == expected and type(result) is type(expected)


# --- syntax errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("1 +", 3, "expected a value, found the end of the expression"),
        ("(1 + 2", 6, "expected ')' to close the '(' at position 0, found the end of the expression"),
        ("1 2", 2, "unexpected '2'"),
        ("qty # 2", 4, "unexpected character '#'"),
        ("'abc", 0, "unterminated string"),
        ("'abc\\", 0, "unterminated string"),
        ("1 'x'", 2, "unexpected 'x'"),
        ("'a\\qb'", 2, "unknown escape '\\q' in a string"),
        ("12abc", 2, "unexpected character 'a' after the number"),
        ("a.b.c", 0, "'a.b.c': only the record and its immediate parent ('lookup.attribute') can be used"),
        ("1 + a.", 6, "expected an attribute name after 'a.', found the end of the expression"),
        ("a.upper(1)", 7, "'a.upper' is not a function"),
        ("foo(1)", 0, "unknown function 'foo'"),
        ("1 + round()", 4, "round() takes 1 to 2 arguments, got 0"),
        ("len('a', 'b')", 0, "len() takes 1 argument, got 2"),
        ("concat()", 0, "concat() takes at least 1 argument, got 0"),
        ("if true then 1", 14, "expected 'else' after 'then', found the end of the expression"),
        ("if true 1 else 2", 8, "expected 'then' after the condition of 'if', found '1'"),
        ("if(true, 1)", 10, "expected ',' in if(condition, value if true, value if false), found ')'"),
        ("qty is 1", 7, "expected 'null' after 'is', found '1'"),
        ("1 < 2 < 3", 6, "comparisons do not chain; combine them with 'and'"),
        ("1 = 2 is null", 6, "comparisons do not chain; combine them with 'and'"),
        ("   ", 3, "expected a value, found the end of the expression"),
        ("then", 0, "expected a value, found 'then'"),
    ],
)
def test_syntax_errors_name_the_position(text, position, reason):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    assert (info.value.position, info.value.reason) == (position, reason)
    assert info.value.code == "EXPRESSION_INVALID" and isinstance(info.value, XrmError)


# --- limits -------------------------------------------------------------------------------------


def test_length_limit():
    assert value("1" + " " * (MAX_LENGTH - 1)) == 1
    with pytest.raises(ExpressionError) as info:
        parse_expression("1" + " " * MAX_LENGTH)
    assert info.value.position == MAX_LENGTH
    assert info.value.reason == f"the expression is longer than {MAX_LENGTH} characters"


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("(" * 250 + "1" + ")" * 250, 200),
        ("-" * 300 + "1", 200),
        ("not " * 300 + "true", 800),
        ("upper(" * 300 + "'a'" + ")" * 300, 1200),
        ("if x then " * 210 + "1" + " else 0" * 210, 1993),
        ("1" + "+1" * 300, 399),
        ("1" + "*1" * 250, 399),
    ],
)
def test_nesting_limit_stops_hostile_expressions(text, position):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    assert info.value.position == position
    assert info.value.reason == f"the expression nests deeper than {MAX_DEPTH} levels"


def test_deep_but_allowed_expressions_check_and_evaluate():
    nested = "(" * 150 + "1" + ")" * 150
    long_sum = "1" + "+1" * 150
    calls = "abs(" * 100 + "-1" + ")" * 100
    for text, expected in ((nested, 1), (long_sum, 151), (calls, 1)):
        assert type_of(text) is ExprType.INTEGER
        assert value(text) == expected


# --- type checking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("qty + 1", ExprType.INTEGER),
        ("qty + price", ExprType.DECIMAL),
        ("price * ratio", ExprType.FLOAT),
        ("qty / 2", ExprType.DECIMAL),
        ("ratio / 2", ExprType.FLOAT),
        ("-price", ExprType.DECIMAL),
        ("null + 1", ExprType.INTEGER),
        ("null", ExprType.NULL),
        ("qty > price and not active", ExprType.BOOLEAN),
        ("due < birthday", ExprType.BOOLEAN),
        ("name = accountid.name", ExprType.BOOLEAN),
        ("accountid is null", ExprType.BOOLEAN),
        ("tags is not null", ExprType.BOOLEAN),
        ("if active then qty else price", ExprType.DECIMAL),
        ("if active then null else 'x'", ExprType.STRING),
        ("if active then birthday else due", ExprType.DATETIME),
        ("coalesce(qty, price, 0)", ExprType.DECIMAL),
        ("concat(name, qty, price, active, due, null)", ExprType.STRING),
        ("len(trim(upper(lower(name))))", ExprType.INTEGER),
        ("round(price)", ExprType.INTEGER),
        ("round(ratio, 2)", ExprType.FLOAT),
        ("abs(price)", ExprType.DECIMAL),
        ("add_days(birthday, 1)", ExprType.DATE),
        ("add_months(due, qty)", ExprType.DATETIME),
        ("add_hours(birthday, 1)", ExprType.DATETIME),
        ("diff_days(today(), due)", ExprType.INTEGER),
        ("now()", ExprType.DATETIME),
        ("date(2024, 2, 29)", ExprType.DATE),
        ("datetime(2024, 2, 29, 12)", ExprType.DATETIME),
    ],
)
def test_types(text, expected):
    assert type_of(text) is expected


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("qty + foo", 6, "unknown attribute 'foo'"),
        ("1 + accountid.nope", 4, "unknown attribute 'accountid.nope'"),
        ("parentid.name", 0, "unknown attribute 'parentid'"),
        ("concat('x', name.first)", 12, "'name' is not a lookup, so 'name.first' names no parent attribute"),
        ("name + name", 5, "cannot add string and string; use concat()"),
        ("qty * 'x'", 4, "cannot multiply integer and string"),
        ("due - birthday", 4, "cannot subtract datetime and date; use add_days(), diff_days() and the like"),
        ("qty + active", 4, "cannot add integer and boolean"),
        ("-name", 0, "cannot negate string"),
        ("qty < name", 4, "cannot compare integer with string"),
        ("due = qty", 4, "cannot compare datetime with integer"),
        ("active > false", 7, "'>' does not apply to booleans"),
        ("qty = null", 6, "comparing with null gives null; use 'is null' or 'is not null'"),
        ("active and qty", 11, "'and' needs a boolean, not integer"),
        ("not name", 4, "'not' needs a boolean, not string"),
        ("if qty then 1 else 2", 3, "the condition of 'if' needs a boolean, not integer"),
        ("if active then 1 else 'one'", 22, "'then' and 'else' give different types: integer and string"),
        ("upper(qty)", 6, "argument 1 of upper() must be a string, not integer"),
        ("round(price, 1.5)", 13, "argument 2 of round() must be an integer, not decimal"),
        ("abs(name)", 4, "argument 1 of abs() must be a number, not string"),
        ("coalesce(qty, name)", 14, "arguments of coalesce() have different types: integer and string"),
        ("add_days(qty, 1)", 9, "argument 1 of add_days() must be a date or datetime, not integer"),
        ("add_days(due, price)", 14, "argument 2 of add_days() must be an integer, not decimal"),
        ("diff_years(due, 'x')", 16, "argument 2 of diff_years() must be a date or datetime, not string"),
        ("date(2023, 2, 29)", 0, "invalid date: day is out of range for month"),
        ("accountid + 1", 0, "'accountid' is a lookup: use 'accountid is null' or 'accountid.attribute'"),
        ("concat(tags)", 7, "'tags' can only be tested with 'is null'"),
    ],
)
def test_type_errors_name_the_position(text, position, reason):
    assert failure(text) == (position, reason)


@pytest.mark.parametrize(
    ("text", "result_type"),
    [
        ("qty", "integer"),
        ("diff_days(today(), due)", "integer"),
        ("round(price)", "integer"),
        ("qty * price", "money"),
        ("ratio", "decimal"),
        ("price", "float"),
        ("birthday", "datetime"),
        ("name", "string"),
        ("active", "boolean"),
        ("null", "integer"),
    ],
)
def test_result_types_that_fit(text, result_type):
    type_of(text, result_type)


def test_result_types_that_do_not_fit():
    assert failure("price", "integer") == (
        0, "the expression gives decimal, which does not fit result_type integer (round(x) makes an integer)"
    )  # fmt: skip
    assert failure("  qty > 1", "string") == (
        2,
        "the expression gives boolean, which does not fit result_type string",
    )
    assert failure("name", "money")[1] == "the expression gives string, which does not fit result_type money"
    assert failure("due", "boolean")[1] == "the expression gives datetime, which does not fit result_type boolean"


# --- evaluation ---------------------------------------------------------------------------------


def test_arithmetic_promotes_integer_decimal_float():
    assert value("7 / 2") == Decimal("3.5")
    assert value("1 / 3") == Decimal(1) / Decimal(3)
    assert value("qty * price", {"qty": 3, "price": Decimal("1.10")}) == Decimal("3.30")
    result = value("price + ratio", {"price": Decimal("1.5"), "ratio": 0.25})
    assert result == 1.75 and isinstance(result, float)
    assert value("qty * 2", {"qty": 10**30}) == 2 * 10**30  # integers do not overflow


def test_division_by_zero_and_overflow_are_null():
    assert value("1 / 0") is None
    assert value("price / (qty - qty)", {"price": Decimal(1), "qty": 5}) is None
    assert value("ratio / 0", {"ratio": 1.5}) is None
    assert value("ratio * ratio", {"ratio": 1e200}) is None
    assert value("ratio + qty", {"ratio": 1.0, "qty": 10**400}) is None


def test_null_propagates_except_where_it_should_not():
    assert value("qty + 1") is None
    assert value("-qty") is None
    assert value("qty = 1") is None
    assert value("upper(name)") is None
    assert value("round(price, 2)") is None
    assert value("add_days(due, 1)") is None
    assert value("diff_days(due, today())") is None
    assert value("concat('a', name, 'b')") == "ab"
    assert value("coalesce(name, accountid.name, 'none')", parents={"accountid": {"name": "Contoso"}}) == "Contoso"
    assert value("coalesce(name, null)") is None
    assert value("name is null") is True
    assert value("name is not null", {"name": ""}) is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x and true", None),
        ("x and false", False),
        ("false and x", False),
        ("x or true", True),
        ("true or x", True),
        ("x or false", None),
        ("not x", None),
        ("if x then 1 else 2", 2),
    ],
)
def test_three_valued_logic(text, expected):
    assert value(text, {"x": None}) is expected


def test_strings_compare_ignoring_case():
    assert value("'Contoso' = 'CONTOSO'") is True
    assert value("'apple' < 'Banana'") is True
    assert value("'a' <> 'b'") is True


def test_references_to_the_record_and_its_parent():
    record = {"qty": 2, "accountid": "a1b2"}
    assert value("accountid.credit * qty", record, {"accountid": {"credit": Decimal("2.5")}}) == Decimal("5.0")
    assert value("accountid.credit", record, {"accountid": None}) is None
    assert value("accountid.credit", record) is None
    assert value("accountid is null", record) is False
    assert value("missing") is None


def test_functions():
    record = {"name": "  Ada Lovelace ", "price": Decimal("-2.345"), "ratio": -2.5, "qty": -7}
    assert (
        value("concat('n=', 1, ', d=', 2.50, ', b=', true, ', ', date(2024, 1, 31))")
        == "n=1, d=2.50, b=true, 2024-01-31"
    )
    assert value("concat(datetime(2024, 1, 31, 8, 5))") == "2024-01-31T08:05:00+00:00"
    assert value("trim(name)", record) == "Ada Lovelace"
    assert value("upper(trim(name))", record) == "ADA LOVELACE"
    assert value("lower('ÀB')") == "àb"
    assert value("len(name)", record) == 15
    assert value("len('é')") == 1
    assert value("abs(qty)", record) == 7
    assert value("abs(price)", record) == Decimal("2.345")
    assert value("abs(ratio)", record) == 2.5
    assert value("coalesce(null, null, 3)") == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("round(2.5)", 3),
        ("round(-2.5)", -3),
        ("round(2.4999)", 2),
        ("round(2.345, 2)", Decimal("2.35")),
        ("round(-2.345, 2)", Decimal("-2.35")),
        ("round(2.3, 5)", Decimal("2.3")),
        ("round(1250, -2)", 1300),
        ("round(1249, -2)", 1200),
        ("round(12.5, -1)", Decimal("10")),
        ("round(7, 2)", 7),
        ("round(4.5, -3)", Decimal("0")),
    ],
)
def test_round_goes_half_away_from_zero(text, expected):
    result = value(text)
    assert result == expected and type(result) is type(expected)


def test_round_of_a_float_stays_a_float():
    assert value("round(ratio, 1)", {"ratio": 0.25}) == 0.3
    assert value("round(ratio)", {"ratio": 2.5}) == 3


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("add_days(date(2024, 2, 28), 1)", date(2024, 2, 29)),
        ("add_days(date(2023, 2, 28), 1)", date(2023, 3, 1)),
        ("add_days(date(2024, 3, 1), -1)", date(2024, 2, 29)),
        ("add_weeks(date(2024, 12, 25), 1)", date(2025, 1, 1)),
        ("add_months(date(2024, 1, 31), 1)", date(2024, 2, 29)),
        ("add_months(date(2023, 1, 31), 1)", date(2023, 2, 28)),
        ("add_months(date(2024, 3, 31), -1)", date(2024, 2, 29)),
        ("add_months(date(2024, 5, 31), 1)", date(2024, 6, 30)),
        ("add_months(date(2024, 12, 15), 1)", date(2025, 1, 15)),
        ("add_months(date(2024, 1, 15), -13)", date(2022, 12, 15)),
        ("add_years(date(2024, 2, 29), 1)", date(2025, 2, 28)),
        ("add_years(date(2024, 2, 29), 4)", date(2028, 2, 29)),
        ("add_years(date(2024, 2, 29), -100)", date(1924, 2, 29)),
        ("add_hours(date(2024, 2, 28), 25)", datetime(2024, 2, 29, 1, tzinfo=UTC)),
        ("add_days(datetime(2024, 1, 31, 23, 30), 1)", datetime(2024, 2, 1, 23, 30, tzinfo=UTC)),
        ("add_months(datetime(2024, 1, 31, 23, 30), 1)", datetime(2024, 2, 29, 23, 30, tzinfo=UTC)),
        ("add_years(date(9999, 6, 1), 1)", None),
        ("add_days(date(1, 1, 1), -1)", None),
        ("add_hours(datetime(9999, 12, 31, 23), 1)", None),
        ("date(2023, 2, qty)", None),
    ],
)
def test_date_arithmetic(text, expected):
    result = value(text, {"qty": 29})
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("function", "first", "second", "expected"),
    [
        ("diff_days", datetime(2024, 1, 1, 23, 59), datetime(2024, 1, 2, 0, 1), 1),
        ("diff_days", datetime(2024, 1, 2, 0, 1), datetime(2024, 1, 2, 23, 59), 0),
        ("diff_days", date(2024, 3, 1), date(2024, 2, 28), -2),
        ("diff_days", date(2023, 2, 28), date(2023, 3, 1), 1),
        ("diff_days", date(2024, 1, 1), date(2025, 1, 1), 366),
        ("diff_days", date(2024, 1, 1), datetime(2024, 1, 2, 23), 1),
        ("diff_hours", datetime(2024, 1, 1, 10, 59), datetime(2024, 1, 1, 11, 0), 1),
        ("diff_hours", datetime(2024, 1, 1, 10, 0), datetime(2024, 1, 1, 10, 59), 0),
        ("diff_hours", datetime(2024, 1, 1, 10, 30), datetime(2024, 1, 1, 8, 45), -2),
        ("diff_hours", date(2024, 2, 28), date(2024, 3, 1), 48),
        # 2024-03-31 is a DST change in Europe; in UTC it is a plain 24-hour day
        ("diff_hours", datetime(2024, 3, 31, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC), 24),
        (
            "diff_hours",
            datetime(2024, 3, 31, 3, tzinfo=timezone(timedelta(hours=2))),
            datetime(2024, 3, 31, 0, 30),
            -1,
        ),
        ("diff_weeks", date(2024, 1, 6), date(2024, 1, 7), 1),  # Saturday -> Sunday
        ("diff_weeks", date(2024, 1, 7), date(2024, 1, 13), 0),  # Sunday -> Saturday
        ("diff_weeks", date(2024, 1, 7), date(2024, 2, 4), 4),
        ("diff_weeks", date(2024, 1, 14), date(2024, 1, 13), -1),
        ("diff_months", date(2024, 1, 31), date(2024, 2, 1), 1),
        ("diff_months", date(2024, 1, 1), date(2024, 1, 31), 0),
        ("diff_months", date(2023, 11, 30), date(2024, 2, 1), 3),
        ("diff_months", date(2024, 3, 1), date(2024, 2, 29), -1),
        ("diff_years", date(2023, 12, 31), date(2024, 1, 1), 1),
        ("diff_years", date(2024, 1, 1), date(2024, 12, 31), 0),
        ("diff_years", date(2024, 2, 29), date(2028, 2, 28), 4),
    ],
)
def test_differences_count_boundaries_crossed(function, first, second, expected):
    assert value(f"{function}(a, b)", {"a": first, "b": second}) == expected


def test_now_and_today_use_the_clock_in_utc():
    assert value("now()") == NOW
    assert value("today()") == date(2024, 2, 29)
    late = datetime(2024, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=3)))  # still Feb 29 in UTC
    assert evaluate(parse_expression("today()"), {}, now=late) == date(2024, 2, 29)
    current = evaluate(parse_expression("now()"), {})
    assert abs(current - datetime.now(UTC)) < timedelta(minutes=1)


def test_datetimes_are_compared_in_utc():
    record = {
        "a": datetime(2024, 1, 1, 12),
        "b": datetime(2024, 1, 1, 13, tzinfo=timezone(timedelta(hours=1))),
    }
    assert value("a = b", record) is True
    assert value("date(2024, 1, 1) < a", record) is True
    assert value("a", record) == datetime(2024, 1, 1, 12, tzinfo=UTC)


def test_evaluating_an_unchecked_expression_on_mistyped_values_raises():
    with pytest.raises(ExpressionError) as info:
        value("qty + name", {"qty": 1, "name": "x"})
    assert info.value.position == 4
    with pytest.raises(ExpressionError) as info:
        value("1 + upper(qty)", {"qty": 1})
    assert info.value.position == 4
    with pytest.raises(ExpressionError):
        value("if qty then 1 else 2", {"qty": 1})


# --- properties ---------------------------------------------------------------------------------

_OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


def _expected(tree: Any) -> Any:
    """Python's own arithmetic on the same numbers (integers stay exact; / gives a Decimal)."""
    if not isinstance(tree, tuple):
        return tree
    if tree[0] == "neg":
        operand = _expected(tree[1])
        return None if operand is None else -operand
    symbol, left, right = tree[0], _expected(tree[1]), _expected(tree[2])
    if left is None or right is None:
        return None
    if symbol == "/":
        return None if right == 0 else Decimal(left) / Decimal(right)
    if isinstance(left, Decimal) or isinstance(right, Decimal):
        left, right = Decimal(left), Decimal(right)
    return _OPERATORS[symbol](left, right)


def _render(tree: Any) -> tuple[str, int]:
    """Source text with only the parentheses precedence and left associativity need."""
    if isinstance(tree, Decimal):
        text = format(tree, "f")
        return (text if "." in text else text + ".0"), 4
    if isinstance(tree, int):
        return str(tree), 4
    if tree[0] == "neg":
        text, strength = _render(tree[1])
        return "-" + (f"({text})" if strength < 3 else text), 3
    symbol, (left, left_strength), (right, right_strength) = tree[0], _render(tree[1]), _render(tree[2])
    own = _PRECEDENCE[symbol]
    left = f"({left})" if left_strength < own else left
    right = f"({right})" if right_strength <= own else right
    return f"{left} {symbol} {right}", own


if st is not None:
    _numbers = st.one_of(
        st.integers(min_value=0, max_value=10**6),
        st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False),
    )
    _trees = st.recursive(
        _numbers,
        lambda children: st.one_of(
            st.tuples(st.sampled_from("+-*/"), children, children),
            st.tuples(st.just("neg"), children),
        ),
        max_leaves=16,
    )

    @settings(max_examples=300, deadline=None)
    @given(_trees)
    def test_arithmetic_matches_python(tree):
        text, _ = _render(tree)
        with localcontext(Context(prec=28)):
            expected = _expected(tree)
        result = evaluate(parse_expression(text), {})
        assert result == expected, text
        assert type(result) is type(expected), text

    _alphabet = st.sampled_from(
        list("abqxy_.,()'\"\\+-*/=<>!019 ") + ["and", "or", "not", "if", "then", "else", "is", "null"]
    )

    @settings(max_examples=300, deadline=None)
    @given(st.lists(_alphabet, max_size=30).map(" ".join))
    def test_any_text_parses_or_raises_an_expression_error(text):
        try:
            check_expression(parse_expression(text), lambda lookup, name: ExprType.INTEGER if lookup is None else None)
        except ExpressionError as error:
            assert 0 <= error.position <= len(text)


# --- validation of calculated attributes in a solution --------------------------------------------


@pytest.fixture(scope="module")
def project_resolver(system):
    """The resolver of tst_project in the alltypes fixture, which has every attribute type."""
    model = compile_model([system, load_solution(FIXTURES / "alltypes")])
    return entity_resolver(model, model.entity("tst_project"))


@pytest.mark.parametrize(
    ("lookup", "attribute", "expected"),
    [
        (None, "tst_name", ExprType.STRING),
        (None, "tst_description", ExprType.STRING),
        (None, "tst_number", ExprType.STRING),
        (None, "tst_headcount", ExprType.INTEGER),
        (None, "tst_bytes", ExprType.INTEGER),
        (None, "tst_phase", ExprType.INTEGER),
        (None, "statecode", ExprType.INTEGER),
        (None, "tst_ratio", ExprType.DECIMAL),
        (None, "tst_budget", ExprType.DECIMAL),
        (None, "tst_score", ExprType.FLOAT),
        (None, "tst_active", ExprType.BOOLEAN),
        (None, "tst_startdate", ExprType.DATE),
        (None, "tst_deadline", ExprType.DATETIME),
        (None, "tst_kickoff", ExprType.DATETIME),
        (None, "tst_accountid", ExprType.LOOKUP),
        (None, "tst_customerid", ExprType.LOOKUP),
        (None, "ownerid", ExprType.LOOKUP),
        (None, "tst_projectid", ExprType.OPAQUE),
        (None, "tst_externalid", ExprType.OPAQUE),
        (None, "tst_tags", ExprType.OPAQUE),
        (None, "tst_daysleft", ExprType.INTEGER),
        (None, "tst_label", ExprType.STRING),
        (None, "tst_taskcount", ExprType.INTEGER),
        (None, "tst_treebudget", ExprType.DECIMAL),
        (None, "nope", None),
        ("tst_accountid", "name", ExprType.STRING),
        ("tst_parentprojectid", "tst_budget", ExprType.DECIMAL),
        ("tst_regardingid", "createdon", ExprType.DATETIME),
        ("tst_regardingid", "name", None),  # contact has no name
        ("tst_accountid", "nope", None),
        ("nope", "name", None),
    ],
)
def test_attribute_types_seen_by_expressions(project_resolver, lookup, attribute, expected):
    assert project_resolver(lookup, attribute) is expected


MANIFEST = {
    "name": "calc",
    "display_name": "Calc",
    "version": "1.0.0",
    "publisher": {"name": "Test", "prefix": "tst"},
}


def _widget(*calculated: tuple[str, str, str]) -> str:
    lines = [
        "logical_name: tst_widget",
        "primary_name: tst_name",
        "attributes:",
        "  tst_name: {type: string}",
        "  tst_qty: {type: integer}",
        "  tst_day: {type: datetime, behavior: date_only}",
        "  tst_accountid: {type: lookup, target: account}",
        "  tst_parentid: {type: lookup, target: tst_widget}",
    ]
    for name, result_type, expression in calculated:
        lines += [
            f"  {name}:",
            "    type: calculated",
            f"    result_type: {result_type}",
            f"    expression: {expression}",
        ]
    return "\n".join(lines) + "\n"


def _issues(system, write_solution, compile_issues, *calculated: tuple[str, str, str]):
    folder = write_solution(MANIFEST, {"entities/tst_widget.yaml": _widget(*calculated)})
    return folder, compile_issues(system, load_solution(folder))


def test_a_type_error_in_a_calculated_attribute_names_file_line_path_and_position(
    system, write_solution, compile_issues, where
):
    folder, issues = _issues(
        system, write_solution, compile_issues,
        ("tst_label", "string", "concat(tst_name, ' ', tst_accountid.name)"),
        ("tst_bad", "integer", "tst_qty + tst_name"),
    )  # fmt: skip
    (issue,) = issues
    assert where(issue, folder) == "entities/tst_widget.yaml:16"
    assert issue.path == "attributes.tst_bad.expression"
    assert issue.message == "at position 8: cannot add integer and string; use concat()"
    assert "tst_widget.yaml:16: attributes.tst_bad.expression: at position 8:" in str(issue)


def test_a_calculated_attribute_checks_its_parent_and_result_type(system, write_solution, compile_issues):
    _, issues = _issues(
        system, write_solution, compile_issues,
        ("tst_a", "datetime", "add_days(tst_day, tst_qty)"),
        ("tst_b", "string", "tst_accountid.nope"),
        ("tst_c", "integer", "tst_accountid"),
        ("tst_d", "boolean", "tst_accountid is null and tst_day < today()"),
    )  # fmt: skip
    assert sorted((issue.path, issue.message) for issue in issues) == [
        ("attributes.tst_b.expression", "at position 0: unknown attribute 'tst_accountid.nope'"),
        (
            "attributes.tst_c.expression",
            "at position 0: 'tst_accountid' is a lookup: use 'tst_accountid is null' or 'tst_accountid.attribute'",
        ),
    ]


def test_calculated_attributes_cannot_form_a_cycle(system, write_solution, compile_issues):
    _, issues = _issues(
        system, write_solution, compile_issues,
        ("tst_a", "integer", "tst_qty + tst_b"),
        ("tst_b", "integer", "tst_a * 2"),
        ("tst_c", "integer", "tst_c"),
        ("tst_d", "integer", "1 + tst_parentid.tst_a"),
    )  # fmt: skip
    assert sorted((issue.path, issue.message) for issue in issues) == [
        (
            "attributes.tst_a.expression",
            "at position 10: calculated attributes form a cycle: tst_a -> tst_b -> tst_a",
        ),
        (
            "attributes.tst_b.expression",
            "at position 0: calculated attributes form a cycle: tst_b -> tst_a -> tst_b",
        ),
        ("attributes.tst_c.expression", "at position 0: calculated attributes form a cycle: tst_c -> tst_c"),
        (
            "attributes.tst_d.expression",
            "at position 4: 'tst_parentid.tst_a' leads to a cycle of calculated attributes: tst_a -> tst_b -> tst_a",
        ),
    ]


def test_calculated_attributes_chain_at_most_five_deep(system, write_solution, compile_issues):
    chain = [("tst_c1", "integer", "tst_qty")] + [(f"tst_c{i}", "integer", f"tst_c{i - 1} + 1") for i in range(2, 7)]
    diamond = [
        ("tst_d1", "integer", "tst_c1 + tst_c2 + tst_c1"),
        ("tst_d2", "integer", "tst_parentid.tst_c4 + tst_d1"),
        ("tst_d3", "integer", "coalesce(tst_d1, tst_parentid.tst_c5)"),
    ]
    _, issues = _issues(system, write_solution, compile_issues, *chain, *diamond)
    assert sorted((issue.path, issue.message) for issue in issues) == [
        (
            "attributes.tst_c6.expression",
            "at position 0: 'tst_c5' makes a chain of 6 calculated attributes (at most 5): "
            "tst_c6 -> tst_c5 -> tst_c4 -> tst_c3 -> tst_c2 -> tst_c1",
        ),
        (
            "attributes.tst_d3.expression",
            "at position 17: 'tst_parentid.tst_c5' makes a chain of 6 calculated attributes (at most 5): "
            "tst_d3 -> tst_c5 -> tst_c4 -> tst_c3 -> tst_c2 -> tst_c1",
        ),
    ]
