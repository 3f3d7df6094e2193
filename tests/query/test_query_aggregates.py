"""Aggregates with group-by and date grouping: the same numbers on SQLite and PostgreSQL as in Python."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from xrm.query import Aggregate, GroupBy, LinkEntity, OrderExpression, QueryExpression

A = Aggregate
DATE_PARTS: dict[str, Callable[[date], int]] = {
    "year": lambda d: d.year,
    "quarter": lambda d: (d.month - 1) // 3 + 1,
    "month": lambda d: d.month,
    "day": lambda d: d.day,
    # Weeks start on Monday; week 1 holds January 1st.
    "week": lambda d: (d.timetuple().tm_yday - 1 + date(d.year, 1, 1).weekday()) // 7 + 1,
}


def _plain(value: Any) -> Any:
    """Comparable across engines: naive UTC datetimes, rounded floats, normalized decimals."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, Decimal):
        return value.normalize()
    return value


def _present(values: list[Any]) -> list[Any]:
    return [value for value in values if value is not None]


def _summary(items: list[dict[str, Any]]) -> dict[str, Any]:
    qty = _present([item["qry_qty"] for item in items])
    prices = _present([item["qry_price"] for item in items])
    whens = _present([item["qry_when"] for item in items])
    return {
        "n": len(items),
        "qtys": len(qty),
        "names": len(set(_present([item["qry_name"] for item in items]))),
        "total": sum(qty) if qty else None,
        "mean": sum(qty) / len(qty) if qty else None,
        "cheapest": min(prices) if prices else None,
        "spent": sum(prices) if prices else None,
        "latest": max(whens) if whens else None,
    }


AGGREGATES = (
    A("n", "count"),
    A("qtys", "count_column", "qry_qty"),
    A("names", "count_distinct", "qry_name"),
    A("total", "sum", "qry_qty"),
    A("mean", "avg", "qry_qty"),
    A("cheapest", "min", "qry_price"),
    A("spent", "sum", "qry_price"),
    A("latest", "max", "qry_when"),
)


def _grouped(
    items: list[dict[str, Any]], key: Callable[[dict[str, Any]], tuple[Any, ...]]
) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return groups


def _table(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(row[k] for k in keys): {k: _plain(v) for k, v in row.items() if k not in keys} for row in rows}


def _expected(
    groups: dict[tuple[Any, ...], list[dict[str, Any]]], names: tuple[str, ...]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {key: {k: _plain(v) for k, v in _summary(items).items() if k in names} for key, items in groups.items()}


def _check_aggregates(query_world: Any) -> None:
    items = query_world.data.items
    names = tuple(aggregate.alias for aggregate in AGGREGATES)
    by_kind = QueryExpression("qry_item", aggregates=AGGREGATES, group_by=(GroupBy("qry_kind", "kind"),))
    assert _table(query_world.run(by_kind), ("kind",)) == _expected(_grouped(items, lambda i: (i["qry_kind"],)), names)

    overall = query_world.run(QueryExpression("qry_item", aggregates=AGGREGATES))
    assert _table(overall, ()) == _expected({(): items}, names)

    groups = {group["qry_groupid"]: group["qry_name"] for group in query_world.data.groups}
    link = LinkEntity("qry_group", "qry_groupid", "qry_groupid", "outer", "grp")
    by_group = QueryExpression(
        "qry_item",
        aggregates=AGGREGATES[:4],
        group_by=(GroupBy("qry_name", "group", entity_alias="grp"),),
        links=(link,),
    )
    expected = _expected(_grouped(items, lambda i: (groups.get(i["qry_groupid"]),)), names[:4])
    assert _table(query_world.run(by_group), ("group",)) == expected

    # Ordered by an aggregate and paged through the groups with cursors.
    ordered = replace(by_kind, orders=(OrderExpression("n", descending=True),))
    full = query_world.run(ordered)
    assert [row["n"] for row in full] == sorted((row["n"] for row in full), reverse=True)
    paged, cursor = [], None
    while True:
        compiled = query_world.compile(replace(ordered, page_size=2, cursor=cursor))
        page = compiled.page(query_world.execute(compiled))
        paged += [dict(row) for row in page.rows]
        if not page.more_records:
            break
        cursor = page.cursor
    assert [row["kind"] for row in paged] == [row["kind"] for row in full]


def _date_groupings(query_world: Any, connection_setup: Callable[[Any], None] | None = None) -> dict[str, Any]:
    results = {}
    for grouping in DATE_PARTS:
        for attribute in ("qry_when", "qry_day"):
            query = QueryExpression(
                "qry_item",
                aggregates=(A("n", "count"),),
                group_by=(GroupBy(attribute, "year", "year"), GroupBy(attribute, "part", grouping)),  # type: ignore[arg-type]
            )
            compiled = query_world.compile(query)
            with query_world.engine.connect() as connection:
                if connection_setup is not None:
                    connection_setup(connection)
                rows = [dict(row._mapping) for row in connection.execute(compiled.statement)]
            results[(grouping, attribute)] = {(row["year"], row["part"]): row["n"] for row in rows}
    return results


def _check_date_grouping(query_world: Any) -> None:
    items = query_world.data.items
    results = _date_groupings(query_world)
    for grouping, part in DATE_PARTS.items():
        for attribute in ("qry_when", "qry_day"):

            def key(
                item: dict[str, Any], attribute: str = attribute, part: Callable[[date], int] = part
            ) -> tuple[Any, ...]:
                value = item[attribute]
                day = value.astimezone(UTC).date() if isinstance(value, datetime) else value
                return (None, None) if day is None else (day.year, part(day))

            expected = {k: len(group) for k, group in _grouped(items, key).items()}
            assert results[(grouping, attribute)] == expected, (grouping, attribute)
    if query_world.engine.dialect.name == "postgresql":
        # Grouping follows UTC days, whatever the session's time zone.
        far_east = _date_groupings(
            query_world, lambda connection: connection.exec_driver_sql("SET TIME ZONE 'Pacific/Kiritimati'")
        )
        assert far_east == results


def test_aggregates_and_date_grouping_match_python(query_world) -> None:
    """Every aggregate function by group (attribute, link alias, none), paged; date parts on both engines."""
    _check_aggregates(query_world)
    _check_date_grouping(query_world)
