"""GraphQL over HTTP: a tiny Starlette app built here (the real server is ``xrm.server``), httpx ASGI transport."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from xrm.graphql import context_for


def _app(world: Any) -> Starlette:
    def payload(result: Any) -> JSONResponse:
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [error.formatted for error in result.errors]
        return JSONResponse(body)

    async def threaded(request: Request) -> JSONResponse:
        body = await request.json()
        context = context_for(world.environment, request_id=request.headers.get("x-request-id"))
        result = await run_in_threadpool(
            world.schema.execute_sync, body["query"], body.get("variables"), context, None, body.get("operationName")
        )
        return payload(result)

    async def awaited(request: Request) -> JSONResponse:
        body = await request.json()
        context = context_for(world.environment)
        return payload(await world.schema.execute(body["query"], body.get("variables"), context))

    return Starlette(routes=[Route("/graphql", threaded, methods=["POST"]), Route("/async", awaited, methods=["POST"])])


def _post(world: Any, requests: list[tuple[str, dict[str, Any]]]) -> list[httpx.Response]:
    async def main() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=_app(world))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            responses: list[httpx.Response] = [None] * len(requests)  # type: ignore[list-item]

            async def send(index: int, path: str, body: dict[str, Any]) -> None:
                responses[index] = await client.post(path, json=body, headers={"x-request-id": f"r{index}"})

            async with anyio.create_task_group() as group:
                for index, (path, body) in enumerate(requests):
                    group.start_soon(send, index, path, body)
            return responses

    return anyio.run(main)


def test_queries_and_mutations_over_http(graphql_world: Any) -> None:
    beta = str(graphql_world.sample.accounts["Beta Ltd"])
    query = {
        "query": "query Cases($c: UUID!) { account(id: $c) { name incidentCustomerAccounts { nodes { title } } } }",
        "variables": {"c": beta},
        "operationName": "Cases",
    }
    bad = {"query": "mutation { createIncident(input: {title: null}) { title } }"}
    concurrent = [("/graphql", query)] * 6 + [("/async", query), ("/graphql", bad), ("/async", {"query": "{ nope }"})]
    responses = _post(graphql_world, concurrent)
    assert all(response.status_code == 200 for response in responses)
    expected = {"account": {"name": "Beta Ltd", "incidentCustomerAccounts": {"nodes": [{"title": "beta one"}]}}}
    assert all(response.json() == {"data": expected} for response in responses[:7])
    problems = responses[7].json()["errors"][0]["extensions"]
    assert problems["code"] == "BAD_USER_INPUT" and {p["field"] for p in problems["problems"]} == {
        "title",
        "customerid",
    }
    assert responses[8].json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_introspection_over_http(graphql_world: Any) -> None:
    from graphql import get_introspection_query

    (response,) = _post(graphql_world, [("/graphql", {"query": get_introspection_query()})])
    types = {t["name"] for t in response.json()["data"]["__schema"]["types"]}
    assert {"Incident", "Customer", "Node", "PageInfo", "IncidentFilter", "ServiceRequest"} <= types
