"""Link-entities: inner and outer joins, nesting, criteria, conditions and orders on aliases, N:N,
and the security predicate hook at every level."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import ColumnElement, FromClause, or_

from xrm.query import ConditionExpression, FilterExpression, LinkEntity, OrderExpression, QueryExpression

C = ConditionExpression


def _group_link(
    join: str = "outer", criteria: FilterExpression | None = None, links: tuple[LinkEntity, ...] = ()
) -> LinkEntity:
    return LinkEntity("qry_group", "qry_groupid", "qry_groupid", join, "grp", ("qry_name", "qry_rank"), criteria, links)


def _category_link(join: str = "outer") -> LinkEntity:
    return LinkEntity("qry_category", "qry_categoryid", "qry_categoryid", join, "cat", ("qry_name",))


def _by_id(rows: list[dict[str, Any]], *labels: str) -> dict[Any, tuple[Any, ...]]:
    return {row["qry_itemid"]: tuple(row[label] for label in labels) for row in rows}


def _check_inner_outer_and_nested(query_world: Any) -> None:
    data = query_world.data
    groups = {group["qry_groupid"]: group for group in data.groups}
    categories = {category["qry_categoryid"]: category["qry_name"] for category in data.categories}

    def group_of(item: dict[str, Any]) -> dict[str, Any] | None:
        return groups.get(item["qry_groupid"])

    outer = query_world.run(QueryExpression("qry_item", ("qry_name",), links=(_group_link(links=(_category_link(),)),)))
    expected = {}
    for item in data.items:
        group = group_of(item)
        cells = (
            (None, None, None)
            if group is None
            else (group["qry_name"], group["qry_rank"], categories.get(group["qry_categoryid"]))
        )
        expected[item["qry_itemid"]] = cells
    assert _by_id(outer, "grp.qry_name", "grp.qry_rank", "cat.qry_name") == expected
    assert len(outer) == len(data.items)

    inner = query_world.run(
        QueryExpression("qry_item", ("qry_name",), links=(_group_link("inner", links=(_category_link("inner"),)),))
    )
    assert set(_by_id(inner)) == {i for i, cells in expected.items() if cells[2] is not None}

    # Link criteria restrict the linked rows: an outer link keeps the item, an inner one drops it.
    rank_one = FilterExpression(conditions=(C("qry_rank", "eq", [1]),))
    outer_filtered = _by_id(
        query_world.run(QueryExpression("qry_item", ("qry_name",), links=(_group_link("outer", rank_one),))),
        "grp.qry_name",
    )
    assert outer_filtered == {i: (cells[0] if cells[1] == 1 else None,) for i, cells in expected.items()}
    inner_filtered = query_world.run(
        QueryExpression("qry_item", ("qry_name",), links=(_group_link("inner", rank_one),))
    )
    assert set(_by_id(inner_filtered)) == {i for i, cells in expected.items() if cells[1] == 1}

    # A root condition on a link alias (WHERE), and an anti-join: items without parts.
    ranked = QueryExpression(
        "qry_item",
        ("qry_name",),
        FilterExpression(conditions=(C("qry_rank", "ge", [2], "grp"),)),
        (_group_link(),),
    )
    assert set(_by_id(query_world.run(ranked))) == {
        i for i, cells in expected.items() if cells[1] is not None and cells[1] >= 2
    }
    parts = LinkEntity("qry_part", "qry_itemid", "qry_itemid", "outer", "part")
    lonely = QueryExpression(
        "qry_item",
        ("qry_name",),
        FilterExpression(conditions=(C("qry_partid", "null", entity_alias="part"),)),
        (parts,),
    )
    with_parts = {part["qry_itemid"] for part in data.parts}
    assert set(_by_id(query_world.run(lonely))) == {item["qry_itemid"] for item in data.items} - with_parts


def _check_one_to_many_and_many_to_many(query_world: Any) -> None:
    data = query_world.data
    parts = LinkEntity("qry_part", "qry_itemid", "qry_itemid", "inner", "part", ("qry_name", "qry_weight"))
    query = QueryExpression(
        "qry_item",
        ("qry_name",),
        links=(parts,),
        orders=(
            OrderExpression("qry_weight", True, "part"),
            OrderExpression("qry_name", entity_alias="part"),
        ),
    )
    rows = query_world.run(query)
    assert Counter((row["qry_itemid"], row["part.qry_name"]) for row in rows) == Counter(
        (p["qry_itemid"], p["qry_name"]) for p in data.parts
    )
    weights = [row["part.qry_weight"] for row in rows]
    assert weights == sorted(weights, key=lambda w: (w is None, -(w or 0)))  # descending, nulls last

    # N:N through the intersect table, with a nested link to the category.
    category = LinkEntity("qry_category", "qry_categoryid", "qry_categoryid", "inner", "nncat", ("qry_name",))
    intersect = LinkEntity("qry_item_category", "qry_itemid", "qry_itemid", "inner", links=(category,))
    rows = query_world.run(QueryExpression("qry_item", ("qry_name",), links=(intersect,)))
    names = {c["qry_categoryid"]: c["qry_name"] for c in data.categories}
    expected = Counter((pair["qry_itemid"], names[pair["qry_categoryid"]]) for pair in data.item_categories)
    assert Counter((row["qry_itemid"], row["nncat.qry_name"]) for row in rows) == expected


def test_links_match_python(query_world) -> None:
    """Inner and outer links, nested, with criteria and root conditions on aliases; 1:N and N:N links."""
    _check_inner_outer_and_nested(query_world)
    _check_one_to_many_and_many_to_many(query_world)  # rows repeat, in the order of the link's columns


def test_security_predicate_applies_to_root_and_every_link(query_world) -> None:
    data = query_world.data
    calls: list[tuple[str, str]] = []

    def predicate(entity: str, table: FromClause) -> ColumnElement[bool] | None:
        calls.append((entity, table.name))
        rules = {
            "qry_item": lambda: or_(table.c.qry_name.is_(None), table.c.qry_name != "beta"),
            "qry_group": lambda: or_(table.c.qry_rank.is_(None), table.c.qry_rank != 2),
            "qry_category": lambda: table.c.qry_name != "c2",
        }
        return rules[entity]() if entity in rules else None

    intersect = LinkEntity("qry_item_category", "qry_itemid", "qry_itemid", "outer")
    query = QueryExpression("qry_item", ("qry_name",), links=(_group_link(links=(_category_link(),)), intersect))
    rows = query_world.run(query, predicate=predicate)
    assert sorted(calls) == sorted(
        [
            ("qry_item", "qry_item"),
            ("qry_group", "grp"),
            ("qry_category", "cat"),
            ("qry_item_category", "qry_item_category1"),
        ]
    )

    groups = {g["qry_groupid"]: g for g in data.groups if g["qry_rank"] != 2}
    categories = {c["qry_categoryid"]: c["qry_name"] for c in data.categories if c["qry_name"] != "c2"}
    expected = {}
    for item in data.items:
        if item["qry_name"] == "beta":
            continue
        group = groups.get(item["qry_groupid"])
        expected[item["qry_itemid"]] = (
            (None, None) if group is None else (group["qry_name"], categories.get(group["qry_categoryid"]))
        )
    assert _by_id(rows, "grp.qry_name", "cat.qry_name") == expected

    # An inner link drops the rows whose linked record the predicate hides.
    inner = QueryExpression("qry_item", ("qry_name",), links=(_group_link("inner"),))
    kept = {i for i, cells in expected.items() if cells[0] is not None}
    assert set(_by_id(query_world.run(inner, predicate=predicate))) == kept


def test_generated_aliases_are_unique(offline_query) -> None:
    """Links without an alias are named ``<entity><n>``, even when one link object is used twice."""
    nested = LinkEntity("qry_category", "qry_categoryid", "qry_categoryid", columns=("qry_name",))
    link = LinkEntity("qry_group", "qry_groupid", "qry_groupid", "outer", columns=("qry_name",), links=(nested,))
    compiled = offline_query.compile(QueryExpression("qry_item", ("qry_name",), links=(link, link)))
    assert compiled.columns == (
        "qry_name",
        "qry_itemid",
        "qry_group1.qry_name",
        "qry_category1.qry_name",
        "qry_group2.qry_name",
        "qry_category2.qry_name",
    )
