"""retrieve_multiple through the service: filters, links, paging, aggregates, views."""

from __future__ import annotations

from decimal import Decimal

from xrm.data import Entity, EntityReference
from xrm.query import (
    Aggregate,
    ConditionExpression,
    ConditionOperator,
    FilterExpression,
    GroupBy,
    LinkEntity,
    OrderExpression,
    QueryExpression,
)


def seed(service):  # type: ignore[no-untyped-def]
    parents = [
        service.create(Entity("tsv_parent", tsv_name=name, tsv_size=size))
        for name, size in (("a", 1), ("b", 2), ("c", 3))
    ]
    for index, parent in enumerate(parents):
        for n in range(index + 1):
            service.create(
                Entity(
                    "tsv_child",
                    tsv_name=f"{index}-{n}",
                    tsv_amount=Decimal(n + 1),
                    tsv_parentid=EntityReference("tsv_parent", parent),
                )
            )
    return parents


def test_filter_order_link_and_calculated(svc_environment) -> None:
    service = svc_environment.service()
    seed(service)
    query = QueryExpression(
        "tsv_child",
        columns=("tsv_name", "tsv_amount", "tsv_parentid"),
        criteria=FilterExpression(conditions=(ConditionExpression("tsv_amount", ConditionOperator.GE, (2,)),)),
        links=(LinkEntity("tsv_parent", "tsv_parentid", "tsv_parentid", alias="p", columns=("tsv_name",)),),
        orders=(OrderExpression("tsv_name", descending=True),),
    )
    rows = service.retrieve_multiple(query)
    assert [(r["tsv_name"], r["p.tsv_name"]) for r in rows] == [("2-2", "c"), ("2-1", "c"), ("1-1", "b")]
    assert all(isinstance(r["tsv_parentid"], EntityReference) for r in rows)
    parents = service.retrieve_multiple(
        QueryExpression("tsv_parent", columns=("tsv_name", "tsv_label"), orders=(OrderExpression("tsv_name"),))
    )
    assert [p["tsv_label"] for p in parents] == ["a #1", "b #2", "c #3"]


def test_keyset_paging_visits_every_row_once(svc_environment) -> None:
    service = svc_environment.service()
    seed(service)
    seen, cursor = [], None
    while True:
        page = service.retrieve_multiple(
            QueryExpression(
                "tsv_child", columns=("tsv_name",), orders=(OrderExpression("tsv_amount"),), page_size=2, cursor=cursor
            )
        )
        seen += [r["tsv_name"] for r in page]
        if not page.more_records:
            break
        cursor = page.cursor
    assert sorted(seen) == ["0-0", "1-0", "1-1", "2-0", "2-1", "2-2"]


def test_aggregate_by_parent(svc_environment) -> None:
    service = svc_environment.service()
    seed(service)
    query = QueryExpression(
        "tsv_child",
        aggregates=(Aggregate("n", "count"), Aggregate("total", "sum", "tsv_amount")),
        group_by=(GroupBy("tsv_name", "p", entity_alias="p"),),
        links=(LinkEntity("tsv_parent", "tsv_parentid", "tsv_parentid", alias="p"),),
        orders=(OrderExpression("p"),),
    )
    rows = service.retrieve_multiple(query)
    assert [(r["p"], r["n"], Decimal(str(r["total"]))) for r in rows] == [("a", 1, 1), ("b", 2, 3), ("c", 3, 6)]


def test_a_plain_count_counts_every_row(svc_environment) -> None:
    service = svc_environment.service()
    seed(service)
    (row,) = service.retrieve_multiple(QueryExpression("tsv_child", aggregates=(Aggregate("n", "count"),)))
    assert row["n"] == 6
