"""Field security in the query layer: ``compile_query(hidden=...)`` makes the named attributes null
wherever a query uses them, so results are those of the same data with those values null."""

from __future__ import annotations

from typing import Any

from xrm.query import (
    Aggregate,
    ConditionExpression,
    FilterExpression,
    GroupBy,
    LinkEntity,
    OrderExpression,
    QueryExpression,
    compile_query,
)

HIDDEN = {
    "qry_item": frozenset({"qry_code", "qry_qty", "qry_tags", "qry_parentid", "qry_regardingid"}),
    "qry_group": frozenset({"qry_rank"}),
}


def hidden(entity: str) -> frozenset[str]:
    return HIDDEN.get(entity, frozenset())


def _run(world: Any, query: QueryExpression) -> list[dict[str, Any]]:
    compiled = compile_query(world.model, world.tables, query, world.context, hidden=hidden)
    return [{label: row[label] for label in compiled.columns} for row in world.execute(compiled)]


def _ids(world: Any, *conditions: ConditionExpression) -> set[Any]:
    query = QueryExpression("qry_item", columns=("qry_itemid",), criteria=FilterExpression("and", conditions))
    return {row["qry_itemid"] for row in _run(world, query)}


def test_hidden_attributes_read_as_null_in_every_part_of_a_query(query_world) -> None:
    world, items = query_world, query_world.data.items
    every = {item["qry_itemid"] for item in items}

    rows = _run(world, QueryExpression("qry_item"))
    assert {row["qry_code"] for row in rows} == {row["qry_regardingidtype"] for row in rows} == {None}
    assert {row["qry_name"] for row in rows} == {item["qry_name"] for item in items}, "others are untouched"
    chosen = _run(world, QueryExpression("qry_item", columns=("qry_qty", "qry_tags", "qry_regardingid")))
    assert {(row["qry_qty"], row["qry_tags"], row["qry_regardingid"]) for row in chosen} == {(None, None, None)}

    C = ConditionExpression  # noqa: N806
    assert _ids(world, C("qry_qty", "ge", [0])) == _ids(world, C("qry_code", "like", ["%"])) == set()
    assert _ids(world, C("qry_tags", "contain_values", [1])) == _ids(world, C("qry_qty", "not_null")) == set()
    assert _ids(world, C("qry_qty", "null")) == _ids(world, C("qry_tags", "not_contain_values", [1])) == every
    root = items[0]["qry_itemid"]
    assert _ids(world, C("qry_itemid", "under", [root])) == set(), "no parent link to walk"
    assert _ids(world, C("qry_itemid", "eq_or_under", [root])) == {root}


def test_orders_aggregates_and_links_see_null(query_world) -> None:
    world = query_world

    def names(descending: bool) -> list[Any]:
        orders = (OrderExpression("qry_qty", descending),)
        return [
            row["qry_itemid"] for row in _run(world, QueryExpression("qry_item", columns=("qry_name",), orders=orders))
        ]

    assert names(False) == names(True)
    totals = QueryExpression(
        "qry_item", group_by=(GroupBy("qry_code", "code"),),
        aggregates=(Aggregate("total", "sum", "qry_qty"), Aggregate("rows", "count")),
    )  # fmt: skip
    assert _run(world, totals) == [{"code": None, "total": None, "rows": len(world.data.items)}]
    distinct = QueryExpression("qry_item", columns=("qry_code",), distinct=True, orders=(OrderExpression("qry_code"),))
    assert _run(world, distinct) == [{"qry_code": None}]

    group = LinkEntity("qry_group", "qry_groupid", "qry_groupid", alias="g", columns=("qry_name", "qry_rank"))
    linked = _run(world, QueryExpression("qry_item", columns=("qry_itemid",), links=(group,)))
    assert (
        linked and {row["g.qry_rank"] for row in linked} == {None} and None not in {row["g.qry_name"] for row in linked}
    )
    ranked = LinkEntity(
        "qry_group", "qry_groupid", "qry_groupid",
        criteria=FilterExpression("and", (ConditionExpression("qry_rank", "not_null"),)),
    )  # fmt: skip
    assert _run(world, QueryExpression("qry_item", columns=("qry_itemid",), links=(ranked,))) == []
    parent = LinkEntity("qry_item", "qry_itemid", "qry_parentid", "outer", alias="parent", columns=("qry_name",))
    joined = _run(world, QueryExpression("qry_item", columns=("qry_itemid",), links=(parent,)))
    assert {row["parent.qry_name"] for row in joined} == {None}, "a hidden join key joins nothing"
