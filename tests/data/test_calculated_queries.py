"""Calculated attributes in queries: the SQL the query layer compiles gives the service's values.

A solution with a calculated attribute of every result type (chains of them, lookups to a parent,
dates, money rounding, integer overflow) gets random records; each attribute computed in SQL must
equal what ``retrieve_multiple`` evaluates in Python, on SQLite and PostgreSQL. Then filters,
orders (with keyset paging) and aggregates on calculated attributes go through the service.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from xrm.data import Entity, EntityReference
from xrm.query import (
    Aggregate,
    ConditionExpression,
    FilterExpression,
    GroupBy,
    OrderExpression,
    QueryContext,
    QueryExpression,
    compile_query,
)

NOW = datetime(2024, 5, 15, 12, 30, tzinfo=UTC)
NEGATIVE_ZERO = re.compile(r"(?<![0-9.])-(0(?:\.0+)?)(?![0-9.])")
MANIFEST = {
    "name": "cx",
    "display_name": "Calculated queries",
    "version": "1.0.0",
    "publisher": {"name": "Calc", "prefix": "cx"},
}
CALCULATED = {
    "cx_total": ("money", "cx_price * cx_qty"),
    "cx_net": ("decimal", "cx_total * (1 - cx_rate)"),
    "cx_share": ("decimal", "cx_price / cx_qty"),
    "cx_rounded": ("decimal", "round(cx_share, 2)"),
    "cx_grade": ("integer", "if cx_score >= 2 then round(cx_score * 10) else diff_days(cx_start, cx_due)"),
    "cx_huge": ("integer", "cx_big * 1000"),
    "cx_weight": ("float", "cx_score * cx_qty + cx_rate"),
    "cx_overdue": ("boolean", "cx_active and cx_due < now()"),
    "cx_label": (
        "string",
        "concat(upper(trim(cx_name)), ' #', cx_qty, ' / ', cx_parentid.cx_name, ' @', cx_total, ' ', cx_start)",
    ),
    "cx_next": ("datetime", "add_months(cx_start, cx_qty)"),
    "cx_deadline": ("datetime", "add_hours(coalesce(cx_due, now()), cx_kind * 5)"),
    "cx_bonus": ("money", "cx_parentid.cx_credit * cx_rate"),
    "cx_age": ("integer", "diff_years(cx_parentid.cx_since, today())"),
    "cx_tier": ("string", "if cx_net > 50 then 'high' else if cx_net > 5 then 'mid' else 'low'"),
}
ENTITIES = {
    "entities/cx_parent.yaml": {
        "logical_name": "cx_parent",
        "primary_name": "cx_name",
        "attributes": {
            "cx_name": {"type": "string", "max_length": 50},
            "cx_credit": {"type": "money", "precision": 4},
            "cx_since": {"type": "datetime", "behavior": "date_only"},
        },
    },
    "entities/cx_item.yaml": {
        "logical_name": "cx_item",
        "primary_name": "cx_name",
        "attributes": {
            "cx_name": {"type": "string", "max_length": 100},
            "cx_qty": {"type": "integer"},
            "cx_big": {"type": "bigint"},
            "cx_price": {"type": "money", "precision": 4},
            "cx_rate": {"type": "decimal", "precision": 3},
            "cx_score": {"type": "float"},
            "cx_active": {"type": "boolean"},
            "cx_due": {"type": "datetime"},
            "cx_start": {"type": "datetime", "behavior": "date_only"},
            "cx_kind": {"type": "choice", "options": [{"value": v, "label": f"K{v}"} for v in (1, 2, 3)]},
            "cx_parentid": {"type": "lookup", "target": "cx_parent"},
            **{
                name: {"type": "calculated", "result_type": result, "expression": text}
                for name, (result, text) in CALCULATED.items()
            },
        },
    },
}


@pytest.fixture
def world(environment: Any, write_solution: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The solution installed, the clock fixed, 62 items; returns (environment, Python values)."""
    env = environment(write_solution(MANIFEST, ENTITIES))
    env.clock = lambda: NOW
    service = env.service()
    rng = random.Random(515)
    parents = [
        service.create(Entity("cx_parent", cx_name=name, cx_credit=credit, cx_since=since))
        for name, credit, since in [
            ("P one", Decimal("0.0025"), date(2001, 5, 16)),
            ("P two", Decimal("10.1015"), date(2023, 12, 31)),
            ("P three", None, None),
            ("P four", Decimal("1000"), date(2024, 5, 15)),
            ("P five", Decimal("0.0007"), date(1999, 1, 1)),
        ]
    ]
    for parent in (parents[0], parents[4]):  # bonuses of 0.00125 and 0.00035: ties at the 4th place
        reference = EntityReference("cx_parent", parent)
        service.create(Entity("cx_item", cx_name="tie", cx_rate=Decimal("0.5"), cx_parentid=reference))
    for _ in range(60):
        choice = rng.choice
        values = {
            "cx_name": choice([" widget ", "Gadget", "spanner", None]),
            "cx_qty": choice([None, 0, 1, 3, 4, 7, 12, -2]),
            "cx_big": choice([None, 5, 3_000_000, -7]),
            "cx_price": choice([None, Decimal("9.99"), Decimal("10.5"), Decimal("0.0035"), Decimal("-3.25")]),
            "cx_rate": choice([None, Decimal("0.5"), Decimal("0.125"), Decimal("0.333")]),
            "cx_score": choice([None, 0.5, 1.75, 2.5, 3.05]),
            "cx_active": choice([None, True, False]),
            "cx_due": choice(
                [
                    None,
                    NOW - timedelta(hours=3),
                    NOW + timedelta(days=2, minutes=17),
                    datetime(2024, 1, 31, 23, 59, 59, 999999, tzinfo=UTC),
                ]
            ),
            "cx_start": choice([None, date(2024, 1, 31), date(2023, 11, 30), date(2024, 2, 29)]),
            "cx_kind": choice([None, 1, 2, 3]),
        }
        parent = choice([None, *parents])
        if parent is not None:
            values["cx_parentid"] = EntityReference("cx_parent", parent)
        service.create(Entity("cx_item", **{k: v for k, v in values.items() if v is not None}))
    query = QueryExpression("cx_item", columns=("cx_itemid", *CALCULATED))
    records = [dict(record) | {"cx_itemid": record.id} for record in service.retrieve_multiple(query)]
    assert len(records) == 62
    return env, records


def _sql_rows(env: Any, query: QueryExpression) -> list[dict[str, Any]]:
    compiled = compile_query(env.model, env.tables, query, QueryContext(now=env.clock()))
    with env.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(compiled.statement)]


def _plain(value: Any) -> Any:
    """Comparable across engines: aware UTC date-times (a date as its midnight), exact decimals."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, str):  # Decimal writes a zero made from a negative number '-0.0000'; SQL has no -0
        return NEGATIVE_ZERO.sub(r"\1", value)
    return value


def test_every_calculated_attribute_computes_in_sql_what_the_service_evaluates(world: Any) -> None:
    env, records = world
    rows = {row["cx_itemid"]: row for row in _sql_rows(env, QueryExpression("cx_item", columns=tuple(CALCULATED)))}
    problems = []
    exercised: dict[str, set[Any]] = defaultdict(set)
    for record in records:
        row = rows[record["cx_itemid"]]
        for name in CALCULATED:
            wanted, found = record.get(name), row[name]
            exercised[name].add(wanted)
            if name == "cx_share" and wanted is not None and found is not None:
                ok = abs(Decimal(found) - wanted) <= Decimal("1e-9")  # a quotient: to 9 places on SQLite
            else:
                ok = _plain(wanted) == _plain(found)
            if not ok:
                problems.append(f"{name}: SQL {found!r}, service {wanted!r}")
    assert not problems, "\n".join(problems[:20])
    assert all(len(values - {None}) >= 2 for values in exercised.values()), exercised  # several values each
    assert {Decimal("0.0012"), Decimal("0.0004")} <= exercised["cx_bonus"]  # ties rounded half-even
    assert None in exercised["cx_huge"] and 5000 in exercised["cx_huge"]  # beyond 32 bits: null


def test_a_filter_on_calculated_attributes_through_the_service(world: Any) -> None:
    env, records = world
    criteria = FilterExpression(
        "or",
        (
            ConditionExpression("cx_tier", "eq", ("HIGH",)),  # text compares ignore case
            ConditionExpression("cx_next", "on_or_before", ("2024-02-29",)),
        ),
        (FilterExpression(conditions=(ConditionExpression("cx_bonus", "gt", (Decimal("0.2"),)),)),),
    )
    found = env.service().retrieve_multiple(QueryExpression("cx_item", columns=("cx_itemid",), criteria=criteria))
    expected = {
        record["cx_itemid"]
        for record in records
        if record["cx_tier"] == "high"
        or (record["cx_next"] is not None and record["cx_next"] <= date(2024, 2, 29))
        or (record["cx_bonus"] is not None and record["cx_bonus"] > Decimal("0.2"))
    }
    assert {record.id for record in found} == expected and expected


@pytest.mark.parametrize("attribute", ["cx_share", "cx_label", "cx_deadline", "cx_weight"])
def test_an_order_on_a_calculated_attribute_pages_through_every_record(world: Any, attribute: str) -> None:
    env, records = world
    service, seen, cursor = env.service(), [], None
    while True:
        page = service.retrieve_multiple(
            QueryExpression(
                "cx_item",
                columns=("cx_itemid", attribute),
                orders=(OrderExpression(attribute, descending=True),),
                page_size=7,
                cursor=cursor,
            )
        )
        seen += [record.id for record in page]
        if not page.more_records:
            break
        cursor = page.cursor
    assert sorted(seen) == sorted(record["cx_itemid"] for record in records), "every record once"
    values = {record["cx_itemid"]: _plain(record[attribute]) for record in records}
    ordered = [values[item] for item in seen]
    present = [value for value in ordered if value is not None]
    assert ordered[len(present) :] == [None] * (len(ordered) - len(present)), "nulls last when descending"
    if attribute == "cx_label":  # text sorts by the database's collation: check the order it gives is stable
        return
    assert present == sorted(present, reverse=True)


def test_aggregates_and_groups_of_calculated_attributes_through_the_service(world: Any) -> None:
    env, records = world
    query = QueryExpression(
        "cx_item",
        aggregates=(
            Aggregate("n", "count"),
            Aggregate("total", "sum", "cx_total"),
            Aggregate("grades", "sum", "cx_grade"),
            Aggregate("weight", "avg", "cx_weight"),
            Aggregate("first", "min", "cx_next"),
            Aggregate("last", "max", "cx_deadline"),
        ),
        group_by=(GroupBy("cx_tier", "tier"), GroupBy("cx_next", "month", "month")),
    )
    rows = env.service().retrieve_multiple(query)
    expected: dict[tuple[Any, Any], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        expected[(record["cx_tier"], None if record["cx_next"] is None else record["cx_next"].month)].append(record)
    assert {(row["tier"], row["month"]) for row in rows} == set(expected)
    for row in rows:
        group = expected[(row["tier"], row["month"])]

        def present(name: str, group: list[dict[str, Any]] = group) -> list[Any]:
            return [record[name] for record in group if record[name] is not None]

        assert row["n"] == len(group)
        assert (row["total"] or 0) == sum(present("cx_total"), Decimal(0))
        assert (row["grades"] or 0) == sum(present("cx_grade"))
        weights = present("cx_weight")
        assert row["weight"] == pytest.approx(sum(weights) / len(weights) if weights else None)
        assert _plain(row["first"]) == (_plain(min(present("cx_next"))) if present("cx_next") else None)
        assert _plain(row["last"]) == (_plain(max(present("cx_deadline"))) if present("cx_deadline") else None)
