"""Calculated attributes in GraphQL: filter inputs, orderBy and aggregates by their result type, over HTTP.

``tst_project`` (the alltypes fixture) has ``tst_label = concat(tst_name, ' (', tst_accountid.name, ')')``
(a string through a lookup) and ``tst_daysleft = diff_days(today(), tst_deadline)`` (an integer).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from xrm.data import Entity, EntityReference
from xrm.graphql import context_for

# name -> (days from now to the deadline, account)
PROJECTS = {
    "calcq-a": (10, "Acme"),
    "calcq-b": (3, "Beta Ltd"),
    "calcq-c": (None, None),
    "calcq-d": (-2, "Acme"),
    "calcq-e": (3, "Acme"),
}


def _post(world: Any, document: str) -> dict[str, Any]:
    async def graphql(request: Request) -> JSONResponse:
        body = await request.json()
        context = context_for(world.environment)
        result = await run_in_threadpool(world.schema.execute_sync, body["query"], None, context)
        errors = [error.formatted for error in result.errors or ()]
        return JSONResponse({"data": result.data, **({"errors": errors} if errors else {})})

    async def main() -> httpx.Response:
        transport = httpx.ASGITransport(app=Starlette(routes=[Route("/graphql", graphql, methods=["POST"])]))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/graphql", json={"query": document})

    response = anyio.run(main)
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


@pytest.fixture(scope="module")
def projects(graphql_world: Any) -> dict[str, tuple[str, int | None]]:
    """The projects above (created once per backend): name -> (label, days left)."""
    environment = graphql_world.environment
    service = environment.service()
    now = environment.clock()
    expected = {}
    for index, (name, (days, account)) in enumerate(PROJECTS.items()):
        values: dict[str, Any] = {"tst_name": name, "tst_code": f"CQ{index}-{graphql_world.backend}"}
        if days is not None:
            values["tst_deadline"] = now + timedelta(days=days)
        if account is not None:
            values["tst_accountid"] = EntityReference("account", graphql_world.sample.accounts[account])
        service.create(Entity("tst_project", values))
        deadline = values.get("tst_deadline")
        left = None if deadline is None else (deadline.astimezone(UTC).date() - datetime.now(UTC).date()).days
        expected[name] = (f"{name} ({account or ''})", left)
    return expected


def test_calculated_attributes_filter_order_and_aggregate_over_http(graphql_world: Any, projects: Any) -> None:
    document = """{
      acme: tstProjects(filter: {tstLabel: {like: "calcq-%(acme)"}, tstDaysleft: {ge: 0}},
                        orderBy: [{tstDaysleft: DESC}, {tstName: ASC}]) {
        nodes { tstName tstLabel tstDaysleft }
      }
      soon: tstProjects(filter: {tstLabel: {beginsWith: "CALCQ-"}, or: [{tstDaysleft: {lt: 4}}, {tstDaysleft: {isNull: true}}]},
                        orderBy: [{tstDaysleft: ASC}, {tstLabel: DESC}]) {
        nodes { tstName }
      }
      total: tstProjectsAggregate(filter: {tstLabel: {beginsWith: "calcq-"}}) {
        count sum { tstDaysleft } min { tstDaysleft } max { tstDaysleft }
      }
      byLabel: tstProjectsAggregate(filter: {tstName: {beginsWith: "calcq-"}}, groupBy: [{field: tstDaysleft}]) {
        count group { tstDaysleft }
      }
    }"""
    data = _post(graphql_world, document)
    acme = [(name, label, left) for name, (label, left) in projects.items() if "Acme" in label and left >= 0]
    acme.sort(key=lambda item: (-item[2], item[0]))
    assert [(n["tstName"], n["tstLabel"], n["tstDaysleft"]) for n in data["acme"]["nodes"]] == acme
    soon = [(name, label, left) for name, (label, left) in projects.items() if left is None or left < 4]
    soon.sort(key=lambda item: item[1], reverse=True)  # labels descending within equal days...
    soon.sort(key=lambda item: (item[2] is not None, item[2] or 0))  # ...days ascending, nulls first
    assert [node["tstName"] for node in data["soon"]["nodes"]] == [name for name, _, _ in soon]
    lefts = [left for _, left in projects.values() if left is not None]
    assert data["total"] == [
        {"count": len(projects), "sum": {"tstDaysleft": sum(lefts)}, "min": {"tstDaysleft": min(lefts)},
         "max": {"tstDaysleft": max(lefts)}}
    ]  # fmt: skip
    groups = {row["group"]["tstDaysleft"]: row["count"] for row in data["byLabel"]}
    expected: dict[Any, int] = {}
    for _, left in projects.values():
        expected[left] = expected.get(left, 0) + 1
    assert groups == expected


def test_calculated_attributes_are_typed_inputs(graphql_world: Any) -> None:
    document = """{
      filter: __type(name: "TstProjectFilter") { inputFields { name type { name } } }
      order: __type(name: "TstProjectOrderBy") { inputFields { name } }
      sums: __type(name: "TstProjectSums") { fields { name } }
      groups: __type(name: "TstProjectGroupField") { enumValues { name } }
    }"""
    data = graphql_world.data(document)
    types = {field["name"]: field["type"]["name"] for field in data["filter"]["inputFields"]}
    assert (types["tstLabel"], types["tstDaysleft"]) == ("StringFilter", "IntFilter")
    assert {"tstLabel", "tstDaysleft"} <= {field["name"] for field in data["order"]["inputFields"]}
    assert "tstDaysleft" in {field["name"] for field in data["sums"]["fields"]}
    assert {"tstLabel", "tstDaysleft"} <= {value["name"] for value in data["groups"]["enumValues"]}
