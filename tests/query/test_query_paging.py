"""Ordering and keyset paging: every row exactly once, in order, with ties, NULLs, asc and desc."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from xrm.query import LinkEntity, OrderExpression, QueryExpression

Order = OrderExpression
GROUP = LinkEntity("qry_group", "qry_groupid", "qry_groupid", "outer", "grp", ("qry_rank",))
PARTS = LinkEntity("qry_part", "qry_itemid", "qry_itemid", "outer", "part", ("qry_name", "qry_weight"))

SPECS: list[tuple[tuple[OrderExpression, ...], tuple[LinkEntity, ...]]] = [
    ((), ()),
    ((Order("qry_qty"),), ()),
    ((Order("qry_qty", descending=True),), ()),
    ((Order("qry_flag", True), Order("qry_day"), Order("qry_price", True)), ()),
    ((Order("qry_name"), Order("qry_when", True)), ()),
    ((Order("qry_kind", True), Order("qry_score")), ()),
    ((Order("qry_rank", True, "grp"),), (GROUP,)),
    ((Order("qry_weight", entity_alias="part"), Order("qry_big", True)), (PARTS,)),
]


def _before_or_equal(left: Any, right: Any, descending: bool) -> int:
    """-1, 0 or 1 comparing two key values, NULL being the lowest value."""
    if left == right:
        return 0
    if left is None or right is None:
        low = -1 if left is None else 1
    else:
        low = -1 if left < right else 1
    return -low if descending else low


def _assert_sorted(rows: list[dict[str, Any]], orders: tuple[OrderExpression, ...]) -> None:
    labels = [(f"{o.entity_alias}." if o.entity_alias else "") + o.attribute for o in orders]
    for previous, current in zip(rows, rows[1:], strict=False):
        for label, order in zip(labels, orders, strict=True):
            if isinstance(current[label], str):
                break  # text order follows the database collation; the page comparison covers it
            step = _before_or_equal(previous[label], current[label], order.descending)
            assert step <= 0, f"{label}: {previous[label]!r} before {current[label]!r}"
            if step < 0:
                break


def _pages(world: Any, query: QueryExpression, size: int) -> list[dict[str, Any]]:
    """Every page of ``query``, following cursors until there are no more records."""
    rows: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        compiled = world.compile(replace(query, page_size=size, cursor=cursor))
        page = compiled.page(world.execute(compiled))
        assert len(page.rows) <= size and page.more_records == (page.cursor is not None)
        rows += [{label: row[label] for label in compiled.columns} for row in page.rows]
        if not page.more_records:
            return rows
        cursor = page.cursor
    raise AssertionError("paging did not end")


def _identity(row: dict[str, Any]) -> tuple[Any, ...]:
    return row["qry_itemid"], row.get("part.qry_name")


def _check_keyset_paging(query_world: Any) -> None:
    columns = (
        "qry_name",
        "qry_qty",
        "qry_flag",
        "qry_day",
        "qry_price",
        "qry_when",
        "qry_kind",
        "qry_score",
        "qry_big",
    )
    for orders, links in SPECS:
        query = QueryExpression("qry_item", columns, links=links, orders=orders)
        full = query_world.run(query)
        expected_count = len(query_world.data.items) + (
            len(query_world.data.parts) - len({p["qry_itemid"] for p in query_world.data.parts})
            if links == (PARTS,)
            else 0
        )
        assert len(full) == expected_count
        assert len({_identity(row) for row in full}) == len(full)
        _assert_sorted(full, orders)
        for size in (7, 1) if orders == SPECS[3][0] else (7,):
            paged = _pages(query_world, query, size)
            assert [_identity(row) for row in paged] == [_identity(row) for row in full], (orders, size)


def _check_distinct_and_top(query_world: Any) -> None:
    items = query_world.data.items
    distinct = QueryExpression("qry_item", ("qry_kind", "qry_flag"), orders=(Order("qry_flag", True),), distinct=True)
    rows = _pages(query_world, distinct, 2)
    pairs = [(row["qry_kind"], row["qry_flag"]) for row in rows]
    assert sorted(pairs, key=repr) == sorted({(i["qry_kind"], i["qry_flag"]) for i in items}, key=repr)
    assert list(rows[0]) == ["qry_kind", "qry_flag"]
    _assert_sorted(rows, distinct.orders)

    ordered = QueryExpression("qry_item", ("qry_qty",), orders=(Order("qry_qty", True),))
    top = query_world.run(replace(ordered, top=5))
    assert top == query_world.run(ordered)[:5]


def test_ordering_and_paging(query_world) -> None:
    """Keyset pages visit every row once, in order (ties, NULLs, asc, desc, links); distinct; top."""
    _check_keyset_paging(query_world)
    _check_distinct_and_top(query_world)
