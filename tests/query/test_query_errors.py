"""Queries that cannot compile fail with a QueryError (code BAD_QUERY) that names what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from xrm.errors import XrmError
from xrm.metadata import ViewMetadata
from xrm.query import (
    Aggregate,
    ConditionExpression,
    FilterExpression,
    GroupBy,
    LinkEntity,
    OrderExpression,
    QueryContext,
    QueryError,
    QueryExpression,
    query_from_view,
)

C = ConditionExpression


def where(*conditions: ConditionExpression, entity: str = "qry_item", **extra: Any) -> QueryExpression:
    return QueryExpression(entity, criteria=FilterExpression(conditions=conditions), **extra)


GROUP = LinkEntity("qry_group", "qry_groupid", "qry_groupid", "outer", "grp")
CASES: list[tuple[str, Callable[[], QueryExpression], str]] = [
    ("unknown entity", lambda: QueryExpression("qry_nothing"), "unknown entity 'qry_nothing'"),
    ("unknown attribute", lambda: where(C("qry_size", "eq", [1])), "qry_item has no attribute 'qry_size'"),
    (
        "unknown column",
        lambda: QueryExpression("qry_item", ("qry_name", "qry_size")),
        "no attribute 'qry_size'",
    ),
    ("unknown alias", lambda: where(C("qry_name", "eq", ["x"], "nope")), "unknown link-entity alias 'nope'"),
    (
        "unknown link attribute",
        lambda: where(C("qry_size", "eq", [1], "grp"), links=(GROUP,)),
        r"link-entity grp \(qry_group\) has no attribute 'qry_size'",
    ),
    (
        "text for a number",
        lambda: where(C("qry_qty", "eq", ["many"])),
        r"qry_item\.qry_qty: expected a whole number, got 'many'",
    ),
    (
        "fraction for a whole number",
        lambda: where(C("qry_qty", "eq", [1.5])),
        "qry_qty: expected a whole number",
    ),
    (
        "bad uuid",
        lambda: where(C("qry_groupid", "eq", ["not-a-guid"])),
        "qry_groupid: expected a unique identifier",
    ),
    ("bad date", lambda: where(C("qry_day", "eq", ["2024-13-01"])), r"qry_day: expected an ISO date"),
    (
        "bad datetime",
        lambda: where(C("qry_when", "gt", ["yesterday"])),
        "qry_when: expected an ISO date and time",
    ),
    ("bad boolean", lambda: where(C("qry_flag", "eq", ["maybe"])), "qry_flag: expected true or false"),
    ("number for text", lambda: where(C("qry_name", "eq", [5])), "qry_name: expected text"),
    ("null value", lambda: where(C("qry_name", "eq", [None])), "use the 'null' operator"),
    (
        "like on a number",
        lambda: where(C("qry_qty", "like", ["1%"])),
        "operator 'like' does not apply to a number attribute",
    ),
    (
        "between on a boolean",
        lambda: where(C("qry_flag", "between", [0, 1])),
        "'between' does not apply to a boolean",
    ),
    (
        "date operator on text",
        lambda: where(C("qry_name", "last_x_days", [3])),
        "'last_x_days' does not apply to a text",
    ),
    ("eq on multichoice", lambda: where(C("qry_tags", "eq", [1])), "'eq' does not apply to a multichoice"),
    ("gt on a lookup", lambda: where(C("qry_groupid", "gt", ["x"])), "'gt' does not apply to a lookup"),
    (
        "under off the primary id",
        lambda: where(C("qry_ext", "under", ["x"])),
        "needs the primary id of an entity with a hierarchical",
    ),
    (
        "under without hierarchy",
        lambda: where(C("qry_partid", "under", ["x"]), entity="qry_part"),
        "hierarchical relationship",
    ),
    ("under with a bad id", lambda: where(C("qry_itemid", "under", ["x"])), "expected a unique identifier"),
    ("eq_userid off users", lambda: where(C("qry_groupid", "eq_userid")), "needs a lookup to systemuser"),
    (
        "eq_businessid off units",
        lambda: where(C("qry_reviewerid", "eq_businessid")),
        "needs a lookup to businessunit",
    ),
    (
        "date operator on a calculated text",
        lambda: where(C("qry_label", "last_x_days", [3])),
        "qry_item.qry_label: operator 'last_x_days' does not apply to a text",
    ),
    (
        "calculated join key",
        lambda: QueryExpression("qry_item", links=(LinkEntity("qry_part", "qry_name", "qry_label"),)),
        "qry_item.qry_label is a calculated attribute: .*join key",
    ),
    (
        "between with one value",
        lambda: where(C("qry_qty", "between", [1])),
        "'between' takes two values, got 1",
    ),
    ("in without values", lambda: where(C("qry_qty", "in", [])), "'in' takes one or more values"),
    ("null with a value", lambda: where(C("qry_qty", "null", [1])), "'null' takes no value"),
    ("negative days", lambda: where(C("qry_day", "next_x_days", [-1])), "whole number of days"),
    ("days as text", lambda: where(C("qry_day", "last_x_days", ["3"])), "whole number of days"),
    (
        "page too large",
        lambda: QueryExpression("qry_item", page_size=5001),
        "'page_size' must be a whole number from 1 to 5000",
    ),
    ("page of zero", lambda: QueryExpression("qry_item", page_size=0), "'page_size'"),
    ("top too large", lambda: QueryExpression("qry_item", top=5001), "'top'"),
    (
        "top with paging",
        lambda: QueryExpression("qry_item", top=5, page_size=5),
        "'top' cannot be combined with paging",
    ),
    ("cursor without page", lambda: QueryExpression("qry_item", cursor="abc"), "needs the 'page_size'"),
    ("malformed cursor", lambda: QueryExpression("qry_item", page_size=5, cursor="!!"), "malformed cursor"),
    (
        "too many links",
        lambda: QueryExpression(
            "qry_item", links=(GROUP,) * 4 + tuple(replace(GROUP, alias=f"g{n}") for n in range(12))
        ),
        "at most 15",
    ),
    (
        "duplicate alias",
        lambda: QueryExpression("qry_item", links=(GROUP, GROUP)),
        "alias 'grp' is used twice",
    ),
    (
        "alias of the root",
        lambda: QueryExpression("qry_item", links=(replace(GROUP, alias="qry_item"),)),
        "root entity's name",
    ),
    (
        "bad alias",
        lambda: QueryExpression("qry_item", links=(replace(GROUP, alias="Grp.x"),)),
        "must be lower case",
    ),
    (
        "mismatched join",
        lambda: QueryExpression("qry_item", links=(LinkEntity("qry_group", "qry_name", "qry_groupid"),)),
        "hold different kinds of values",
    ),
    (
        "link criteria ahead of their join",
        lambda: QueryExpression(
            "qry_item",
            links=(
                replace(GROUP, criteria=FilterExpression(conditions=(C("qry_name", "eq", ["x"], "later"),))),
                replace(GROUP, alias="later"),
            ),
        ),
        "'later', which is not joined before it",
    ),
    (
        "order by multichoice",
        lambda: QueryExpression("qry_item", orders=(OrderExpression("qry_tags"),)),
        "cannot order by a multichoice",
    ),
    (
        "group by multichoice",
        lambda: QueryExpression("qry_item", group_by=(GroupBy("qry_tags", "tags"),)),
        "cannot group by a multichoice",
    ),
    (
        "date grouping of a number",
        lambda: QueryExpression("qry_item", group_by=(GroupBy("qry_qty", "q", "year"),)),
        "needs a date attribute",
    ),
    (
        "sum of text",
        lambda: QueryExpression("qry_item", aggregates=(Aggregate("s", "sum", "qry_name"),)),
        "'sum' does not apply to a text",
    ),
    (
        "count of an attribute",
        lambda: QueryExpression("qry_item", aggregates=(Aggregate("n", "count", "qry_qty"),)),
        "use 'count_column'",
    ),
    (
        "max without attribute",
        lambda: QueryExpression("qry_item", aggregates=(Aggregate("m", "max"),)),
        "'max' needs an attribute",
    ),
    (
        "aggregate with columns",
        lambda: QueryExpression("qry_item", ("qry_name",), aggregates=(Aggregate("n", "count"),)),
        "leave 'columns' empty",
    ),
    (
        "aggregate with distinct",
        lambda: QueryExpression("qry_item", aggregates=(Aggregate("n", "count"),), distinct=True),
        "use 'count_distinct'",
    ),
    (
        "duplicate aggregate alias",
        lambda: QueryExpression("qry_item", aggregates=(Aggregate("n", "count"),) * 2),
        "must be unique",
    ),
    (
        "aggregate order by attribute",
        lambda: QueryExpression(
            "qry_item", aggregates=(Aggregate("n", "count"),), orders=(OrderExpression("qry_qty"),)
        ),
        "orders by its aliases",
    ),
    (
        "distinct without columns",
        lambda: QueryExpression("qry_item", distinct=True),
        "needs explicit 'columns'",
    ),
    (
        "distinct ordered elsewhere",
        lambda: QueryExpression("qry_item", ("qry_name",), distinct=True, orders=(OrderExpression("qry_qty"),)),
        "can only order by its columns",
    ),
    (
        "distinct multichoice",
        lambda: QueryExpression("qry_item", ("qry_tags",), distinct=True),
        "multichoice",
    ),
    (
        "intersect column",
        lambda: QueryExpression("qry_item", links=(LinkEntity("qry_item_category", "qry_x", "qry_itemid"),)),
        "has no column 'qry_x'",
    ),
]


@pytest.mark.parametrize(("build", "message"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_queries_raise_a_clear_query_error(
    offline_query, build: Callable[[], QueryExpression], message: str
) -> None:
    with pytest.raises(QueryError, match=message) as raised:
        offline_query.compile(build())
    assert isinstance(raised.value, XrmError) and raised.value.code == "BAD_QUERY"


def test_context_operators_need_the_context(offline_query) -> None:
    with pytest.raises(QueryError, match="'eq_userid' needs a systemuser in the query context"):
        offline_query.compile(where(C("qry_reviewerid", "eq_userid")), QueryContext())
    with pytest.raises(QueryError, match="'eq_businessid' needs a businessunit"):
        offline_query.compile(where(C("owningbusinessunit", "eq_businessid")), QueryContext())


def test_expressions_reject_malformed_parts() -> None:
    with pytest.raises(QueryError, match="unknown operator 'equals'"):
        C("qry_name", "equals", ["x"])
    with pytest.raises(QueryError, match="'values' must be a list"):
        C("qry_name", "eq", "x")  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="'and' or 'or'"):
        FilterExpression("xor")  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="join must be 'inner' or 'outer'"):
        LinkEntity("qry_group", "qry_groupid", "qry_groupid", "left")  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="unknown function 'median'"):
        Aggregate("m", "median", "qry_qty")  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="unknown date grouping 'hour'"):
        GroupBy("qry_when", "h", "hour")  # type: ignore[arg-type]


def test_a_cursor_only_resumes_its_own_ordering(offline_query) -> None:
    by_qty = QueryExpression("qry_item", ("qry_qty",), orders=(OrderExpression("qry_qty"),), page_size=10)
    compiled = offline_query.compile(by_qty)
    item = offline_query.data.items[0]
    cursor = compiled.next_cursor({"qry_qty": 3, "qry_itemid": item["qry_itemid"]})
    assert cursor.replace("-", "").replace("_", "").isalnum()  # url-safe, no padding
    offline_query.compile(replace(by_qty, cursor=cursor))  # the same ordering resumes
    with pytest.raises(QueryError, match="belongs to a different query"):
        offline_query.compile(replace(by_qty, orders=(OrderExpression("qry_qty", descending=True),), cursor=cursor))
    with pytest.raises(QueryError, match="single row"):
        offline_query.compile(
            QueryExpression("qry_item", aggregates=(Aggregate("n", "count"),), page_size=1, cursor=cursor)
        )


def test_query_from_view_maps_columns_filters_links_and_order() -> None:
    view = ViewMetadata.model_validate(
        {
            "name": "Mine",
            "entity": "qry_item",
            "columns": [
                "qry_name",
                {"name": "qry_rank", "entity": "grp"},
                {"name": "qry_name", "entity": "grp"},
            ],
            "links": [
                {
                    "entity": "qry_group",
                    "from": "qry_groupid",
                    "to": "qry_groupid",
                    "alias": "grp",
                    "columns": ["qry_name"],
                }
            ],
            "filter": {
                "type": "or",
                "conditions": [
                    {"attribute": "qry_qty", "operator": "in", "value": [1, 2]},
                    {"attribute": "qry_qty", "operator": "null"},
                ],
            },
            "order": [{"attribute": "qry_name", "descending": True}],
        }
    )
    query = query_from_view(view, page_size=50)
    assert query.columns == ("qry_name",) and query.page_size == 50
    assert query.links[0].columns == ("qry_name", "qry_rank") and query.links[0].join == "inner"
    assert query.criteria == FilterExpression("or", (C("qry_qty", "in", (1, 2)), C("qry_qty", "null")))
    assert query.orders == (OrderExpression("qry_name", descending=True),)
    stray = view.model_copy(update={"columns": (*view.columns, view.columns[1].model_copy(update={"entity": "zz"}))})
    with pytest.raises(QueryError, match="unknown link-entity alias"):
        query_from_view(stray)
