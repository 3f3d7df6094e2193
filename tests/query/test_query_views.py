"""A saved view runs as a query: alltypes' "Active Projects" (outer link, nested and/or, order)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert

from xrm.query import QueryContext, compile_query, query_from_view
from xrm.schema import build_tables

NOW = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)
OMIT = object()


def _accounts() -> list[dict[str, Any]]:
    rows = [
        ("Active customer", 0, 3, "Paris"),
        ("Inactive customer", 1, 3, "Oslo"),
        ("Active competitor", 0, 1, "Rome"),
    ]
    return [
        {
            "accountid": uuid.UUID(int=index + 1),
            "name": name,
            "statecode": state,
            "customertypecode": kind,
            "address1_city": city,
        }
        for index, (name, state, kind, city) in enumerate(rows)
    ]


def _projects(accounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rng = random.Random(7)
    projects = []
    for index in range(40):
        deadline = rng.choice([None, NOW + timedelta(hours=rng.randrange(-30 * 24, 30 * 24))])
        projects.append(
            {
                "tst_projectid": uuid.UUID(int=rng.getrandbits(128), version=4),
                "tst_name": f"Project {index}",
                "tst_number": f"PRJ-{index:04d}",
                "statecode": rng.choice([0, 0, 1]),
                "tst_budget": rng.choice([None, Decimal("-1.0000"), Decimal("0.0000"), Decimal("250.0000")]),
                "tst_priority": rng.choice([None, 1, 2, 3]),
                "tst_deadline": deadline,
                "tst_regions": rng.choice([OMIT, [], [100000000], [100000001, 100000002]]),
                "tst_accountid": rng.choice([None, *(account["accountid"] for account in accounts)]),
            }
        )
    return projects


def _matches(project: dict[str, Any], account: dict[str, Any] | None) -> bool:
    if project["statecode"] != 0 or project["tst_budget"] is None or project["tst_budget"] < 0:
        return False
    deadline = project["tst_deadline"]
    soon = deadline is not None and NOW <= deadline < datetime.combine(NOW.date() + timedelta(days=15), time(), UTC)
    regions = project["tst_regions"] not in (OMIT, [])
    return (
        project["tst_priority"] in (2, 3)
        or soon
        or (account is not None and account["customertypecode"] == 3 and regions)
    )


def _order(project: dict[str, Any]) -> tuple[Any, ...]:
    priority, deadline = project["tst_priority"], project["tst_deadline"]
    # priority descending with nulls last; deadline ascending with nulls first; then the id
    return (
        priority is None,
        -(priority or 0),
        deadline is not None,
        deadline or NOW,
        project["tst_projectid"].int,
    )


def test_active_projects_view_runs_as_a_query(solutions, fixture_solution) -> None:
    solutions.install(fixture_solution("alltypes"))
    model = solutions.model()
    tables = build_tables(model)
    accounts = _accounts()
    projects = _projects(accounts)
    with solutions.engine.begin() as connection:
        connection.execute(insert(tables.tables["account"]), accounts)
        for project in projects:
            connection.execute(
                insert(tables.tables["tst_project"]).values({k: v for k, v in project.items() if v is not OMIT})
            )

    view = model.views[("tst_project", "Active Projects")].metadata
    compiled = compile_query(model, tables, query_from_view(view), QueryContext(now=NOW))
    with solutions.engine.connect() as connection:
        rows = [row._mapping for row in connection.execute(compiled.statement)]

    visible = {a["accountid"]: a for a in accounts if a["statecode"] == 0}  # the link's own filter
    expected = sorted((p for p in projects if _matches(p, visible.get(p["tst_accountid"]))), key=_order)
    assert compiled.columns == (
        "tst_number",
        "tst_name",
        "tst_priority",
        "tst_deadline",
        "tst_projectid",
        "acct.name",
        "acct.address1_city",
    )
    assert [row["tst_projectid"] for row in rows] == [p["tst_projectid"] for p in expected]
    for row, project in zip(rows, expected, strict=True):
        account = visible.get(project["tst_accountid"])
        assert row["acct.name"] == (account["name"] if account else None)
        assert row["acct.address1_city"] == (account["address1_city"] if account else None)
    assert 3 < len(expected) < len(projects)
