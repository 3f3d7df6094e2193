"""Expressions of calculated attributes compiled to SQL give the evaluator's values, on both engines.

Every expression here is compiled against the ``qry_item`` table of the canonical query data and
run once over all its rows; the same expression is evaluated in Python on each row (with its
parents), and the two must agree: exactly for integers, text, booleans and dates, to 12
significant digits for quotients and floats. Hypothesis writes random well-typed expressions.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from sqlalchemy import Double, Numeric, select, type_coerce

from xrm.metadata.expressions import (
    ExpressionError,
    ExprType,
    check_expression,
    entity_resolver,
    evaluate,
    parse_expression,
)
from xrm.query import ConditionExpression, FilterExpression, OrderExpression, QueryExpression, compile_query
from xrm.query._calculated import CalculatedColumns
from xrm.query._dialects import sql_type

INT, DEC, FLOAT, STR, BOOL, DATE, TIME = (
    ExprType.INTEGER,
    ExprType.DECIMAL,
    ExprType.FLOAT,
    ExprType.STRING,
    ExprType.BOOLEAN,
    ExprType.DATE,
    ExprType.DATETIME,
)


class Checker:
    """Compiles expressions on qry_item and compares SQL's values with the evaluator's, row by row."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self.entity = world.model.entities["qry_item"]
        self.table = world.tables.tables["qry_item"]
        tables = world.tables.tables
        with world.engine.connect() as connection:
            self.items = [dict(row._mapping) for row in connection.execute(select(self.table))]
            groups = {row.qry_groupid: dict(row._mapping) for row in connection.execute(select(tables["qry_group"]))}
            users = {row.systemuserid: dict(row._mapping) for row in connection.execute(select(tables["systemuser"]))}
        by_id = {item["qry_itemid"]: item for item in self.items}
        label = parse_expression(self.entity.attributes["qry_label"].metadata.expression)
        self.records: dict[uuid.UUID, tuple[dict[str, Any], dict[str, Any]]] = {}
        for item in self.items:
            record = {**item, "qry_label": evaluate(label, item)}
            parents = {
                "qry_groupid": groups.get(item["qry_groupid"]),
                "qry_parentid": by_id.get(item["qry_parentid"]),
                "qry_reviewerid": users.get(item["qry_reviewerid"]),
            }
            self.records[item["qry_itemid"]] = (record, parents)

    def check(self, text: str, *, exact: bool = True) -> list[Any]:
        """Assert SQL and Python agree on ``text`` for every row; the Python values."""
        expression = parse_expression(text)
        value = CalculatedColumns(self.world.model, self.world.tables, self.world.context).expression(
            self.entity, self.table, expression
        )
        read_as = sql_type(value.type)
        if value.type is DEC:  # SQLite's float read back with the decimal's places, when known
            read_as = Double() if value.scale is None else Numeric(38, value.scale)
            exact = exact and value.scale is not None
        column = type_coerce(value.sql, read_as).label("v")
        statement = select(self.table.c.qry_itemid, column)
        with self.world.engine.connect() as connection:
            rows = connection.execute(statement).all()
        expected = []
        for item_id, found in rows:
            record, parents = self.records[item_id]
            wanted = evaluate(expression, record, parents, now=self.world.now)
            assert same(wanted, found, exact=exact), f"{text}: SQL {found!r}, Python {wanted!r}, row {record}"
            expected.append(wanted)
        return expected


NEGATIVE_ZERO = re.compile(r"(?<![0-9.])-(0(?:\.0+)?)(?![0-9.])")


def same(wanted: Any, found: Any, *, exact: bool = True) -> bool:
    if wanted is None or found is None:
        return wanted is None and found is None
    if isinstance(wanted, str):
        # Decimal keeps the sign of a zero made from negative numbers ('-0.00'); SQL has no -0
        return NEGATIVE_ZERO.sub(r"\1", found) == NEGATIVE_ZERO.sub(r"\1", wanted)
    if isinstance(wanted, bool):
        return bool(found) is wanted
    if isinstance(wanted, datetime):
        found = found if found.tzinfo else found.replace(tzinfo=UTC)
        return found == wanted
    if isinstance(wanted, date):  # a date where the type is a date-time (if/coalesce): its midnight
        if isinstance(found, datetime):
            return found.replace(tzinfo=found.tzinfo or UTC) == datetime(*wanted.timetuple()[:3], tzinfo=UTC)
        return found == wanted
    if isinstance(wanted, int) and exact:
        return found == wanted and Decimal(found) == Decimal(found).to_integral_value()
    if isinstance(wanted, float) or not exact:
        scale = max(abs(float(wanted)), 1.0)
        return abs(float(found) - float(wanted)) <= 1e-12 * scale
    return Decimal(str(found)) == wanted


@pytest.fixture
def checker(query_world: Any) -> Checker:
    return Checker(query_world)


# --- every operator and function, on columns ------------------------------------------------------

EXPRESSIONS = [
    # arithmetic: integers stay exact, decimals keep their places, / gives a decimal or null
    "qry_qty + qry_kind * 2 - 1",
    "qry_big * qry_big * qry_qty",
    "-qry_qty",
    "-qry_price * qry_qty",
    "qry_price * qry_ratio",
    "qry_price + qry_ratio - 1.25",
    "qry_price * 3 = 29.97",
    "qry_score * qry_price + qry_qty",
    "qry_score * 1.5 > qry_qty",
    "qry_big * 1.5",
    # comparison, logic, conditions, nulls
    "qry_name = 'ALPHA'",
    "qry_name < 'beta'",
    "qry_name >= qry_code",
    "qry_name <> qry_label",
    "qry_flag = true or qry_qty > 3",
    "qry_flag and qry_qty > 3",
    "not qry_flag",
    "qry_flag != (qry_qty > 2)",
    "qry_day < qry_when",
    "qry_day = today()",
    "qry_when >= now()",
    "qry_tags is null",
    "qry_groupid is not null and qry_ext is null",
    "if qry_flag then qry_qty else qry_kind",
    "if(qry_qty > 2, qry_price, qry_qty)",
    "if qry_flag then qry_day else qry_when",
    "if qry_qty > 5 then null else qry_name",
    "coalesce(qry_qty, qry_kind, 0)",
    "coalesce(qry_price, qry_qty)",
    "coalesce(qry_day, qry_when)",
    # text
    "concat(qry_name, '|', qry_qty, '|', qry_price, '|', qry_ratio, '|', qry_flag, '|', qry_big)",
    "concat(qry_day, ' ', qry_when, ' ', qry_score, ' ', qry_kind, ' ', qry_label)",
    "concat(if qry_flag then qry_day else qry_when, '|', coalesce(qry_price, qry_qty), '|', if(qry_flag, 1, 2.50))",
    "concat(qry_price * qry_qty, ' ', -qry_price, ' ', qry_ratio * qry_ratio, ' ', round(qry_price, 1))",
    "concat(add_days(qry_when, 1), add_hours(qry_day, 5), date(2024, 2, qry_qty + 20))",
    "trim(concat('  ', qry_name, ' \\t'))",
    "upper(qry_name)",
    "lower(concat(qry_notes, 'X'))",
    "len(qry_name)",
    "len(trim(qry_notes))",
    # numbers
    "round(qry_price)",
    "round(qry_price, 1)",
    "round(qry_price, 3)",
    "round(qry_ratio, 2)",
    "round(qry_price * qry_ratio, 2)",
    "round(qry_score)",
    "round(qry_score, 1)",
    "round(qry_qty * 125, -2)",
    "round(qry_qty * 25, -1)",
    "round(qry_big, -3)",
    "round(qry_price * 100, -2)",
    "round(qry_qty, qry_kind - 2)",
    "round(qry_price, qry_kind - 2)",
    "round(qry_score * 10, qry_kind - 2)",
    "abs(qry_qty - 4)",
    "abs(qry_price)",
    "abs(qry_score)",
    # dates and date-times (UTC), out-of-range results are null
    "add_days(qry_day, qry_qty)",
    "add_days(qry_when, qry_qty * 31)",
    "add_weeks(qry_day, qry_kind)",
    "add_weeks(qry_when, -qry_qty)",
    "add_hours(qry_when, qry_qty * 7)",
    "add_hours(qry_day, qry_qty)",
    "add_months(qry_day, qry_qty)",
    "add_months(qry_when, qry_qty * 5)",
    "add_months(date(2024, 1, 31), qry_qty)",
    "add_years(qry_day, qry_qty * 1000)",
    "add_years(qry_when, qry_kind)",
    "add_days(qry_day, qry_big)",
    "add_hours(qry_when, qry_big)",
    "add_months(qry_day, qry_big)",
    "diff_days(qry_day, qry_when)",
    "diff_days(qry_when, now())",
    "diff_hours(qry_when, qry_parentid.qry_when)",
    "diff_hours(qry_day, qry_when)",
    "diff_weeks(qry_day, qry_when)",
    "diff_weeks(date(1969, 12, 20), qry_day)",
    "diff_months(qry_when, qry_day)",
    "diff_years(qry_when, today())",
    "date(2000 + qry_qty, qry_kind + 1, 28 + qry_kind)",
    "date(2023 + qry_kind, 2, 29)",
    "date(qry_qty, 1, 1)",
    "datetime(2024, qry_kind, 31, qry_qty, 30)",
    "datetime(2024, 1, 1, 23, 59, qry_qty * 10)",
    # through lookups (a self-reference, a parent entity, a parent's calculated attribute is null)
    "concat(qry_parentid.qry_name, '/', qry_groupid.qry_name, '/', qry_reviewerid.fullname)",
    "qry_groupid.qry_rank * 10 + qry_qty",
    "qry_parentid.qry_label",
    "qry_parentid.qry_price * qry_ratio",
    "qry_regardingid.createdon is null",
]


ALWAYS_NULL = {"qry_parentid.qry_label"}  # the evaluators read a parent's stored attributes only


def test_expressions_compile_to_the_evaluators_values(checker: Checker) -> None:
    problems = []
    for text in EXPRESSIONS:  # one database for all: installing the solution is the slow part
        try:
            values = checker.check(text)
        except Exception as error:  # noqa: BLE001 - every failing expression is reported at once
            problems.append(f"{text}: {type(error).__name__}: {str(error).splitlines()[0]}")
            continue
        if all(value is None for value in values) != (text in ALWAYS_NULL):
            problems.append(f"{text}: the data never exercised it")
    assert not problems, "\n".join(problems)


def test_quotients_agree_to_twelve_digits(checker: Checker) -> None:
    for text in ("qry_qty / 3", "qry_price / qry_qty", "qry_score / qry_qty", "1 / qry_ratio", "qry_qty / 0"):
        checker.check(text, exact=False)


# --- random expressions ------------------------------------------------------------------------------

COLUMNS = {
    INT: ["qry_qty", "qry_kind", "qry_groupid.qry_rank", "qry_parentid.qry_qty", "len(qry_name)"],
    DEC: ["qry_price", "qry_ratio", "qry_parentid.qry_price"],
    FLOAT: ["qry_score"],
    STR: ["qry_name", "qry_code", "qry_notes", "qry_label", "qry_groupid.qry_name", "qry_parentid.qry_name"],
    BOOL: ["qry_flag", "qry_parentid.qry_flag"],
    DATE: ["qry_day", "qry_parentid.qry_day"],
    TIME: ["qry_when", "qry_parentid.qry_when"],
}
LITERALS = {
    INT: st.integers(-40, 40).map(str),
    DEC: st.decimals(-100, 100, places=2, allow_nan=False, allow_infinity=False).map(lambda d: format(d, "f")),
    FLOAT: st.just("qry_score * 0.5"),
    STR: st.sampled_from(["'alpha'", "'Beta'", "''", "' x '", "'100%'"]),
    BOOL: st.sampled_from(["true", "false"]),
    DATE: st.sampled_from(["date(2024, 2, 29)", "today()", "date(1999, 12, 31)"]),
    TIME: st.sampled_from(["now()", "datetime(2024, 5, 15, 23, 59, 59)", "datetime(2023, 1, 1)"]),
}
NUMBERS = (INT, DEC, FLOAT)


def _call(name: str, *parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map(lambda items: f"{name}({', '.join(items)})")


def _infix(left: st.SearchStrategy[str], symbols: str | list[str], right: st.SearchStrategy[str]) -> Any:
    return st.tuples(left, st.sampled_from(list(symbols)), right).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})")


@cache
def typed(kind: ExprType, depth: int) -> st.SearchStrategy[str]:
    """Expressions of type ``kind``, nested ``depth`` deep; no quotient (tested on its own), and
    text made of exact values only (SQLite writes floats its own way)."""
    leaves = st.one_of(st.sampled_from(COLUMNS[kind]), LITERALS[kind])
    if depth == 0:
        return leaves

    def sub(of: ExprType) -> st.SearchStrategy[str]:
        return typed(of, depth - 1)

    number = st.sampled_from(NUMBERS).flatmap(sub)
    temporal = st.sampled_from((DATE, TIME)).flatmap(sub)
    places = st.one_of(st.integers(-3, 3).map(str), st.just("qry_kind - 2"))
    shared = [
        st.tuples(sub(BOOL), sub(kind), sub(kind)).map(lambda t: f"if({t[0]}, {t[1]}, {t[2]})"),
        _call("coalesce", sub(kind), sub(kind)),
    ]
    options: dict[ExprType, list[st.SearchStrategy[str]]] = {
        INT: [
            _infix(sub(INT), "+-*", sub(INT)),
            sub(INT).map(lambda a: f"-({a})"),
            _call("round", sub(DEC)),
            _call("round", sub(INT), places),
            _call("len", sub(STR)),
            _call("abs", sub(INT)),
            st.tuples(st.sampled_from(["hours", "days", "weeks", "months", "years"]), temporal, temporal).map(
                lambda t: f"diff_{t[0]}({t[1]}, {t[2]})"
            ),
        ],
        DEC: [_infix(sub(DEC), "+-*", st.sampled_from((INT, DEC)).flatmap(sub)), _call("round", sub(DEC), places)],
        FLOAT: [_infix(sub(FLOAT), "+-*", number), _call("round", sub(FLOAT), places), _call("abs", sub(FLOAT))],
        STR: [
            st.lists(st.sampled_from((INT, DEC, STR, BOOL, DATE, TIME)).flatmap(sub), min_size=1, max_size=3).map(
                lambda parts: "concat(" + ", '|', ".join(parts) + ")"  # separated: see NEGATIVE_ZERO
            ),
            _call("trim", sub(STR)),
            _call("upper", sub(STR)),
            _call("lower", sub(STR)),
        ],
        BOOL: [
            _infix(number, ["=", "<>", "<", "<=", ">", ">="], number),
            _infix(sub(STR), ["=", "!=", "<", ">="], sub(STR)),
            _infix(temporal, ["=", "<", ">="], temporal),
            _infix(sub(BOOL), ["and", "or", "=", "!="], sub(BOOL)),
            sub(BOOL).map(lambda a: f"not ({a})"),
            st.sampled_from(NUMBERS + (STR, DATE)).flatmap(sub).map(lambda a: f"({a}) is null"),
        ],
        DATE: [
            st.tuples(st.sampled_from(["days", "weeks", "months", "years"]), sub(DATE), sub(INT)).map(
                lambda t: f"add_{t[0]}({t[1]}, {t[2]})"
            ),
            _call("date", sub(INT).map(lambda y: f"2000 + ({y})"), sub(INT), sub(INT)),
        ],
        TIME: [
            st.tuples(st.sampled_from(["hours", "days", "months"]), temporal, sub(INT)).map(
                lambda t: f"add_{t[0]}({t[1]}, {t[2]})"
            ),
            _call("datetime", st.just("2024"), sub(INT), sub(INT), sub(INT), sub(INT)),
        ],
    }
    return st.one_of(leaves, *shared, *options[kind])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.sampled_from([INT, DEC, FLOAT, STR, BOOL, DATE, TIME]).flatmap(lambda kind: typed(kind, 3)))
def test_random_expressions_compile_to_the_evaluators_values(checker: Checker, text: str) -> None:
    try:
        check_expression(parse_expression(text), entity_resolver(checker.world.model, checker.entity))
    except ExpressionError:
        reject()  # e.g. date(2024, 0, 0): the checker refuses a date of constants that does not exist
    checker.check(text, exact=True)


# --- in queries ----------------------------------------------------------------------------------


def test_a_calculated_attribute_filters_orders_and_selects(query_world: Any) -> None:
    criteria = FilterExpression(conditions=(ConditionExpression("qry_label", "like", ("%a!",)),))
    query = QueryExpression(
        "qry_item",
        columns=("qry_name", "qry_label"),
        criteria=criteria,
        orders=(OrderExpression("qry_label", descending=True),),
    )
    rows = query_world.run(query)
    names = [item["qry_name"] for item in query_world.data.items if (item["qry_name"] or "").lower().endswith("a")]
    assert sorted(row["qry_name"] for row in rows) == sorted(names) and rows
    assert all(row["qry_label"] == f"{row['qry_name']}!" for row in rows)
    assert [row["qry_label"] for row in rows] == sorted((row["qry_label"] for row in rows), reverse=True)


def test_field_and_row_security_apply_inside_expressions(query_world: Any) -> None:
    world, items = query_world, query_world.data.items

    def run(hidden: frozenset[str]) -> list[Any]:
        query = QueryExpression("qry_item", columns=("qry_label",), orders=(OrderExpression("qry_label"),))
        compiled = compile_query(world.model, world.tables, query, world.context, hidden=lambda _: hidden)
        return [row["qry_label"] for row in world.execute(compiled)]

    assert run(frozenset({"qry_name"})) == ["!"] * len(items), "a hidden attribute reads as null"
    assert run(frozenset({"qry_label"})) == [None] * len(items), "a hidden calculated attribute is null"
    groups = world.tables.tables["qry_group"]

    def predicate(entity: str, table: Any) -> Any:
        return table.c.qry_rank == 1 if entity == "qry_group" else None

    compiler = CalculatedColumns(world.model, world.tables, world.context, predicate)
    table = world.tables.tables["qry_item"]
    entity = world.model.entities["qry_item"]
    value = compiler.expression(entity, table, parse_expression("qry_groupid.qry_name"))
    with world.engine.connect() as connection:
        names = {row[0] for row in connection.execute(select(value.sql).select_from(table))}
        visible = {row[0] for row in connection.execute(select(groups.c.qry_name).where(groups.c.qry_rank == 1))}
    assert names == visible | {None}, "a parent the caller may not read is null"
