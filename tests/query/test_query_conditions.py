"""Every condition operator, nested filters and the hierarchy operators, checked against Python."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from xrm.query import ConditionExpression, FilterExpression, QueryContext, QueryExpression

Item = dict[str, Any]
Case = tuple[str, ConditionExpression | FilterExpression, Callable[[Item], bool]]


def _day(value: date) -> datetime:
    return datetime.combine(value, time(), UTC)


def _has(value: Any) -> bool:
    return value is not None


def _cases(world: Any) -> list[Case]:  # noqa: PLR0915 - one flat table of cases reads best
    now, today = world.now, world.now.date()
    user1, unit1 = world.context.user_id, world.context.business_unit_id
    groups = [group["qry_groupid"] for group in world.data.groups]
    ext = next(item["qry_ext"] for item in world.data.items if item["qry_ext"] is not None)
    may10 = date(2024, 5, 10)
    C = ConditionExpression  # noqa: N806
    return [
        ("eq text", C("qry_name", "eq", ["beta"]), lambda i: i["qry_name"] == "beta"),
        ("ne text", C("qry_name", "ne", ["beta"]), lambda i: _has(i["qry_name"]) and i["qry_name"] != "beta"),
        ("gt text", C("qry_code", "gt", ["C05"]), lambda i: _has(i["qry_code"]) and i["qry_code"] > "C05"),
        (
            "le memo",
            C("qry_notes", "le", ["note a"]),
            lambda i: _has(i["qry_notes"]) and i["qry_notes"] <= "note a",
        ),
        ("eq int", C("qry_qty", "eq", [3]), lambda i: i["qry_qty"] == 3),
        ("eq int from text", C("qry_qty", "eq", ["3"]), lambda i: i["qry_qty"] == 3),
        ("gt int", C("qry_qty", "gt", [4]), lambda i: _has(i["qry_qty"]) and i["qry_qty"] > 4),
        ("ge bigint", C("qry_big", "ge", [7]), lambda i: _has(i["qry_big"]) and i["qry_big"] >= 7),
        (
            "lt money",
            C("qry_price", "lt", ["9.99"]),
            lambda i: _has(i["qry_price"]) and i["qry_price"] < Decimal("9.99"),
        ),
        (
            "le decimal",
            C("qry_ratio", "le", [0.5]),
            lambda i: _has(i["qry_ratio"]) and i["qry_ratio"] <= Decimal("0.5"),
        ),
        ("ge float", C("qry_score", "ge", [2.25]), lambda i: _has(i["qry_score"]) and i["qry_score"] >= 2.25),
        ("ne int", C("qry_qty", "ne", [3]), lambda i: _has(i["qry_qty"]) and i["qry_qty"] != 3),
        ("eq bool", C("qry_flag", "eq", [True]), lambda i: i["qry_flag"] is True),
        ("eq bool from text", C("qry_flag", "eq", ["false"]), lambda i: i["qry_flag"] is False),
        ("ne bool", C("qry_flag", "ne", [True]), lambda i: i["qry_flag"] is False),
        ("eq choice", C("qry_kind", "eq", [2]), lambda i: i["qry_kind"] == 2),
        ("eq uuid from text", C("qry_ext", "eq", [str(ext)]), lambda i: i["qry_ext"] == ext),
        ("eq lookup", C("qry_groupid", "eq", [str(groups[0])]), lambda i: i["qry_groupid"] == groups[0]),
        ("eq datetime", C("qry_when", "eq", [now.isoformat()]), lambda i: i["qry_when"] == now),
        (
            "gt datetime",
            C("qry_when", "gt", ["2024-05-10T23:59:59.999999Z"]),
            lambda i: _has(i["qry_when"]) and i["qry_when"] > datetime(2024, 5, 10, 23, 59, 59, 999999, UTC),
        ),
        (
            "lt date",
            C("qry_day", "lt", ["2024-05-10"]),
            lambda i: _has(i["qry_day"]) and i["qry_day"] < may10,
        ),
        (
            "like",
            C("qry_name", "like", ["%A%"]),
            lambda i: _has(i["qry_name"]) and "a" in i["qry_name"].lower(),
        ),
        ("like underscore wildcard", C("qry_name", "like", ["al_ha"]), lambda i: i["qry_name"] in ("alpha",)),
        (
            "not like",
            C("qry_name", "not_like", ["%ta"]),
            lambda i: _has(i["qry_name"]) and not i["qry_name"].lower().endswith("ta"),
        ),
        (
            "begins with, case-insensitive",
            C("qry_name", "begins_with", ["A"]),
            lambda i: _has(i["qry_name"]) and i["qry_name"].lower().startswith("a"),
        ),
        ("begins with escapes _", C("qry_name", "begins_with", ["al_"]), lambda i: i["qry_name"] == "al_pha"),
        ("begins with escapes %", C("qry_name", "begins_with", ["100%"]), lambda i: i["qry_name"] == "100%"),
        ("in text", C("qry_name", "in", ["beta", "Gamma"]), lambda i: i["qry_name"] in ("beta", "Gamma")),
        ("in choice", C("qry_kind", "in", [1, 3]), lambda i: i["qry_kind"] in (1, 3)),
        (
            "in lookup",
            C("qry_groupid", "in", [str(groups[0]), groups[2]]),
            lambda i: i["qry_groupid"] in (groups[0], groups[2]),
        ),
        (
            "not in",
            C("qry_kind", "not_in", [1, 3]),
            lambda i: _has(i["qry_kind"]) and i["qry_kind"] not in (1, 3),
        ),
        ("null int", C("qry_qty", "null"), lambda i: i["qry_qty"] is None),
        ("not null lookup", C("qry_groupid", "not_null"), lambda i: _has(i["qry_groupid"])),
        ("null polymorphic", C("qry_regardingid", "null"), lambda i: i["qry_regardingid"] is None),
        ("null multichoice", C("qry_tags", "null"), lambda i: i["qry_tags"] in (world.omit, None, [])),
        (
            "not null multichoice",
            C("qry_tags", "not_null"),
            lambda i: i["qry_tags"] not in (world.omit, None, []),
        ),
        (
            "between int",
            C("qry_qty", "between", [3, 7]),
            lambda i: _has(i["qry_qty"]) and 3 <= i["qry_qty"] <= 7,
        ),
        (
            "between date",
            C("qry_day", "between", ["2024-05-01", "2024-05-20"]),
            lambda i: _has(i["qry_day"]) and date(2024, 5, 1) <= i["qry_day"] <= date(2024, 5, 20),
        ),
        (
            "last 3 days",
            C("qry_when", "last_x_days", [3]),
            lambda i: _has(i["qry_when"]) and _day(today - timedelta(days=3)) <= i["qry_when"] <= now,
        ),
        (
            "last 3 days, date only",
            C("qry_day", "last_x_days", [3]),
            lambda i: _has(i["qry_day"]) and today - timedelta(days=3) <= i["qry_day"] <= today,
        ),
        (
            "next 5 days",
            C("qry_when", "next_x_days", [5]),
            lambda i: _has(i["qry_when"]) and now <= i["qry_when"] < _day(today + timedelta(days=6)),
        ),
        (
            "next 5 days, date only",
            C("qry_day", "next_x_days", [5]),
            lambda i: _has(i["qry_day"]) and today <= i["qry_day"] <= today + timedelta(days=5),
        ),
        (
            "on or after",
            C("qry_when", "on_or_after", ["2024-05-10"]),
            lambda i: _has(i["qry_when"]) and i["qry_when"] >= _day(may10),
        ),
        (
            "on or before",
            C("qry_when", "on_or_before", [may10]),
            lambda i: _has(i["qry_when"]) and i["qry_when"] < _day(may10 + timedelta(days=1)),
        ),
        (
            "on or after, date only",
            C("qry_day", "on_or_after", [may10]),
            lambda i: _has(i["qry_day"]) and i["qry_day"] >= may10,
        ),
        (
            "on or before, date only",
            C("qry_day", "on_or_before", ["2024-05-10"]),
            lambda i: _has(i["qry_day"]) and i["qry_day"] <= may10,
        ),
        ("eq userid", C("qry_reviewerid", "eq_userid"), lambda i: i["qry_reviewerid"] == user1),
        (
            "ne userid",
            C("qry_reviewerid", "ne_userid"),
            lambda i: _has(i["qry_reviewerid"]) and i["qry_reviewerid"] != user1,
        ),
        ("eq userid on owner", C("ownerid", "eq_userid"), lambda i: i["ownerid"] == user1),
        (
            "eq businessid",
            C("owningbusinessunit", "eq_businessid"),
            lambda i: i["owningbusinessunit"] == unit1,
        ),
    ]


def _nested() -> list[Case]:
    C, F = ConditionExpression, FilterExpression  # noqa: N806
    return [
        (
            "or of ands",
            F(
                "or",
                filters=(
                    F(conditions=(C("qry_kind", "eq", [1]), C("qry_flag", "eq", [True]))),
                    F(conditions=(C("qry_qty", "lt", [0]),)),
                ),
            ),
            lambda i: (i["qry_kind"] == 1 and i["qry_flag"] is True) or (i["qry_qty"] is not None and i["qry_qty"] < 0),
        ),
        (
            "and with a nested or of a null",
            F(
                conditions=(C("qry_flag", "not_null"),),
                filters=(F("or", (C("qry_qty", "null"), C("qry_qty", "ge", [5]))),),
            ),
            lambda i: i["qry_flag"] is not None and (i["qry_qty"] is None or i["qry_qty"] >= 5),
        ),
        (
            "three levels",
            F(
                "or",
                (C("qry_name", "eq", ["beta"]),),
                (
                    F(
                        filters=(F("or", (C("qry_kind", "eq", [2]), C("qry_kind", "eq", [3]))),),
                        conditions=(C("qry_day", "not_null"),),
                    ),
                ),
            ),
            lambda i: i["qry_name"] == "beta" or (i["qry_day"] is not None and i["qry_kind"] in (2, 3)),
        ),
        ("empty filter", F("or"), lambda i: True),
    ]


def _ids(world: Any, criteria: ConditionExpression | FilterExpression, context: QueryContext | None = None) -> set[Any]:
    if isinstance(criteria, ConditionExpression):
        criteria = FilterExpression(conditions=(criteria,))
    rows = world.run(QueryExpression("qry_item", columns=("qry_name",), criteria=criteria), context)
    return {row["qry_itemid"] for row in rows}


def _check_operators_and_nested_filters(query_world: Any) -> None:
    failures = []
    for name, criteria, predicate in _cases(query_world) + _nested():
        expected = {item["qry_itemid"] for item in query_world.data.items if predicate(item)}
        actual = _ids(query_world, criteria)
        if not 0 < len(expected) < len(query_world.data.items) and name != "empty filter":
            failures.append(f"{name}: the data set does not tell matching rows from others")
        if actual != expected:
            failures.append(f"{name}: {len(actual - expected)} unexpected, {len(expected - actual)} missing")
    assert not failures, "\n".join(failures)
    # The data set exercises both outcomes of the operators whose edges matter.
    items = query_world.data.items
    assert 0 < sum(1 for item in items if item["qry_name"] in ("al_pha", "100%")) < len(items)
    # Another user, another day: the context operators follow the context.
    other = QueryContext(user_id=query_world.data.users[1]["systemuserid"], now=query_world.now)
    expected = {item["qry_itemid"] for item in items if item["qry_reviewerid"] == other.user_id}
    assert _ids(query_world, ConditionExpression("qry_reviewerid", "eq_userid"), other) == expected
    later = QueryContext(now=query_world.now + timedelta(days=400))
    assert _ids(query_world, ConditionExpression("qry_day", "next_x_days", [5]), later) == set()


def _below(world: Any, root: Any) -> set[Any]:
    children: dict[Any, list[Any]] = {}
    for item in world.data.items:
        children.setdefault(item["qry_parentid"], []).append(item["qry_itemid"])
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _above(world: Any, node: Any) -> set[Any]:
    found = set()
    parent = world.item(node)["qry_parentid"]
    while parent is not None and parent not in found:
        found.add(parent)
        parent = world.item(parent)["qry_parentid"]
    return found


def _check_hierarchy(query_world: Any) -> None:
    items = [item["qry_itemid"] for item in query_world.data.items]
    root, middle, leaf, lonely = items[0], items[3], items[4], items[20]
    assert _below(query_world, root) == {items[i] for i in (1, 2, 3, 4, 5)}
    for node in (root, middle, leaf, lonely):

        def check(operator: str, expected: set[Any], node: Any = node) -> None:
            assert _ids(query_world, ConditionExpression("qry_itemid", operator, [str(node)])) == expected, operator

        check("under", _below(query_world, node))
        check("eq_or_under", _below(query_world, node) | {node})
        check("above", _above(query_world, node))
        check("eq_or_above", _above(query_world, node) | {node})
    # Two hierarchy conditions in one query get their own CTEs.
    both = FilterExpression(
        "or",
        (
            ConditionExpression("qry_itemid", "under", [root]),
            ConditionExpression("qry_itemid", "above", [leaf]),
        ),
    )
    assert _ids(query_world, both) == _below(query_world, root) | _above(query_world, leaf)


def test_every_operator_matches_python(query_world) -> None:
    """Every operator on every kind of attribute, nested and/or filters, the context, the hierarchy."""
    _check_operators_and_nested_filters(query_world)
    _check_hierarchy(query_world)
