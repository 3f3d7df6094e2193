"""Plugin steps on GraphQL root reads (over HTTP): retrieve_multiple and retrieve, not nested levels."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from xrm.data import SYSTEM_USER_ID, Entity, EntityCollection, EntityReference, ExecutionContext
from xrm.errors import InvalidOperationError
from xrm.graphql import build_schema, context_for
from xrm.graphql.relay import encode_global_id
from xrm.plugin import PluginRegistry
from xrm.query import ConditionExpression, FilterExpression, QueryExpression

SVC = Path(__file__).resolve().parents[1] / "fixtures" / "solutions" / "svc"
VIEW = {
    "name": "All Parents",
    "entity": "tsv_parent",
    "type": "public",
    "columns": [{"name": "tsv_name", "width": 100}, {"name": "tsv_size", "width": 100}],
    "order": [{"attribute": "tsv_name"}],
}
PARENTS = """{ tsvParents(filter: {tsvSize: {le: 35}}, orderBy: [{tsvName: ASC}]) {
    totalCount nodes { tsvName tsvSize } } }"""


class Steps:
    """An environment whose plugin steps are the given functions, and a GraphQL client over HTTP."""

    def __init__(self, environment: Any, write_solution: Any, steps: dict[tuple[str, str, int], Callable]) -> None:  # type: ignore[type-arg]
        registry = PluginRegistry()
        declared = []
        for index, ((message, entity, stage), plugin) in enumerate(steps.items()):
            registry.register(f"t_read{index}", plugin)
            declared.append(
                {
                    "name": f"read {index}",
                    "plugin": f"t_read{index}",
                    "message": message,
                    "entity": entity,
                    "stage": stage,
                }
            )
        manifest = {
            "name": "readsteps", "display_name": "Read steps", "version": "1.0.0",
            "publisher": {"name": "T", "prefix": "trs"}, "dependencies": [{"name": "svc"}],
        }  # fmt: skip
        files = {"plugins.yaml": {"steps": declared}, "views/tsv_parent_all_parents.yaml": VIEW}
        self.environment = environment(SVC, write_solution(manifest, files), registry=registry)
        self.service = self.environment.service()
        schema = build_schema(self.environment)

        async def graphql(request: Request) -> JSONResponse:
            body = await request.json()
            context = context_for(self.environment, SYSTEM_USER_ID)
            result = await run_in_threadpool(schema.execute_sync, body["query"], body.get("variables"), context)
            payload: dict[str, Any] = {"data": result.data}
            if result.errors:
                payload["errors"] = [error.formatted for error in result.errors]
            return JSONResponse(payload)

        self.app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])

    def post(self, query: str, **variables: Any) -> dict[str, Any]:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await client.post("/graphql", json={"query": query, "variables": variables})

        response = anyio.run(send)
        assert response.status_code == 200
        return response.json()  # type: ignore[no-any-return]

    def data(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self.post(query, **variables)
        assert "errors" not in body, body["errors"]
        return body["data"]  # type: ignore[no-any-return]

    def parents(self, **sizes: int) -> dict[str, uuid.UUID]:
        return {
            name: self.service.create(Entity("tsv_parent", tsv_name=name, tsv_size=size))
            for name, size in sizes.items()
        }


def _at_least_ten(context: ExecutionContext) -> None:
    query = context.input_parameters["query"]
    big = ConditionExpression("tsv_size", "ge", (10,))
    criteria = FilterExpression("and", (big,), (query.criteria,) if query.criteria is not None else ())
    context.input_parameters["query"] = replace(query, criteria=criteria)


def test_a_pre_operation_step_changes_the_query_of_the_list_its_count_views_and_aggregates(
    environment: Any, write_solution: Any
) -> None:
    seen: list[tuple[Any, Any]] = []

    def big_only(context: ExecutionContext) -> None:
        seen.append((context.input_parameters["query"], context.user_id))
        _at_least_ten(context)

    world = Steps(environment, write_solution, {("retrieve_multiple", "tsv_parent", 20): big_only})
    world.parents(a=5, b=20, c=30, d=40)
    data = world.data(PARENTS)
    assert data["tsvParents"] == {
        "totalCount": 2,
        "nodes": [{"tsvName": "b", "tsvSize": 20}, {"tsvName": "c", "tsvSize": 30}],
    }
    query, user_id = seen[0]
    assert isinstance(query, QueryExpression) and query.entity == "tsv_parent" and user_id == SYSTEM_USER_ID
    assert "le" in repr(query.criteria) and "tsv_size" in repr(query.criteria), "the step sees the GraphQL filter"
    count = world.data("{ tsvParents { totalCount } }")
    assert count["tsvParents"]["totalCount"] == 3
    view = world.data(
        '{ view(entity: tsv_parent, name: "All Parents") { totalCount nodes { ... on TsvParent { tsvName } } } }'
    )
    assert view["view"] == {"totalCount": 3, "nodes": [{"tsvName": "b"}, {"tsvName": "c"}, {"tsvName": "d"}]}
    aggregate = world.data("{ tsvParentsAggregate { count sum { tsvSize } } }")
    assert aggregate["tsvParentsAggregate"] == [{"count": 3, "sum": {"tsvSize": 90}}]
    assert len(seen) == 4, "one retrieve_multiple per root field"


def test_a_post_operation_step_changes_the_values_returned(environment: Any, write_solution: Any) -> None:
    shown: list[set[str]] = []

    def shout(context: ExecutionContext) -> None:
        collection = context.output_parameters["entities"]
        assert isinstance(collection, EntityCollection)
        for record in collection.entities:
            shown.append(set(record))
            record["tsv_name"] = record["tsv_name"].upper()
        collection.entities = [record for record in collection.entities if record["tsv_size"] != 30]

    def hide_size(context: ExecutionContext) -> None:
        record = context.output_parameters["entity"]
        assert isinstance(record, Entity) and record.id == context.target.id  # type: ignore[union-attr]
        record["tsv_size"] = None

    world = Steps(
        environment,
        write_solution,
        {("retrieve_multiple", "tsv_parent", 40): shout, ("retrieve", "tsv_parent", 40): hide_size},
    )
    ids = world.parents(a=5, b=20, c=30)
    data = world.data("{ tsvParents(orderBy: [{tsvName: ASC}]) { edges { node { tsvName tsvSize } } } }")
    assert [edge["node"] for edge in data["tsvParents"]["edges"]] == [
        {"tsvName": "A", "tsvSize": 5},
        {"tsvName": "B", "tsvSize": 20},
    ], "changed values show, a record the step removed does not"
    assert all({"tsv_name", "tsv_size"} <= names for names in shown), "the step sees the attributes fetched"
    single = world.data("query($id: UUID!) { tsvParent(id: $id) { tsvName tsvSize } }", id=str(ids["b"]))
    assert single["tsvParent"] == {"tsvName": "b", "tsvSize": None}
    assert world.service.retrieve("tsv_parent", ids["b"])["tsv_size"] is None, "the service runs the same step"


def test_a_failing_step_fails_the_field_with_its_code(environment: Any, write_solution: Any) -> None:
    def refuse(context: ExecutionContext) -> None:
        raise ValueError("parents are not for you")

    def closed(context: ExecutionContext) -> None:
        raise InvalidOperationError("children are closed today")

    world = Steps(
        environment,
        write_solution,
        {("retrieve_multiple", "tsv_parent", 20): refuse, ("retrieve", "tsv_child", 10): closed},
    )
    ids = world.parents(a=5)
    child = world.service.create(
        Entity("tsv_child", tsv_name="x", tsv_parentid=EntityReference("tsv_parent", ids["a"]))
    )
    body = world.post(PARENTS)
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "PLUGIN_ERROR" and error["message"] == "parents are not for you"
    body = world.post("query($id: UUID!) { tsvChild(id: $id) { tsvName } }", id=str(child))
    assert body["data"] == {"tsvChild": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_OPERATION"]
    assert world.data("{ tsvChilds { nodes { tsvName } } }") == {"tsvChilds": {"nodes": [{"tsvName": "x"}]}}


def test_a_retrieve_step_fires_for_the_record_by_id_and_node(environment: Any, write_solution: Any) -> None:
    calls: list[tuple[int, Any, Any]] = []

    def pre(context: ExecutionContext) -> None:
        calls.append((context.stage.value, context.target, context.input_parameters.get("columns")))

    def post(context: ExecutionContext) -> None:
        calls.append((context.stage.value, context.target, None))
        context.output_parameters["entity"]["tsv_name"] = "seen"

    world = Steps(
        environment,
        write_solution,
        {("retrieve", "tsv_parent", 20): pre, ("retrieve", "tsv_parent", 40): post},
    )
    ids = world.parents(a=5)
    single = world.data("query($id: UUID!) { tsvParent(id: $id) { tsvName } }", id=str(ids["a"]))
    assert single == {"tsvParent": {"tsvName": "seen"}}
    target = EntityReference("tsv_parent", ids["a"])
    assert [c[:2] for c in calls] == [(20, target), (40, target)] and "tsv_name" in calls[0][2]
    calls.clear()
    node = world.data(
        "query($id: ID!) { node(id: $id) { ... on TsvParent { tsvName } } }",
        id=encode_global_id("tsv_parent", ids["a"]),
    )
    assert node == {"node": {"tsvName": "seen"}} and [c[0] for c in calls] == [20, 40]
    calls.clear()
    missing = world.data("query($id: UUID!) { tsvParent(id: $id) { tsvName } }", id=str(uuid.uuid4()))
    assert missing == {"tsvParent": None} and [c[0] for c in calls] == [20], "no post-operation without a record"
    calls.clear()
    world.data("{ tsvParents { nodes { tsvName } } }")
    assert calls == [], "a list is retrieve_multiple, not retrieve"


def test_nested_levels_do_not_fire_the_steps(environment: Any, write_solution: Any) -> None:
    fired: list[tuple[str, str]] = []

    def count(context: ExecutionContext) -> None:
        fired.append((context.message, str(context.entity)))

    world = Steps(
        environment,
        write_solution,
        {
            ("retrieve_multiple", "tsv_parent", 20): count,
            ("retrieve_multiple", "tsv_child", 20): count,
            ("retrieve", "tsv_parent", 20): count,
            ("retrieve", "tsv_child", 20): count,
        },
    )
    ids = world.parents(a=5, b=20)
    for name, parent in ids.items():
        for index in range(2):
            world.service.create(
                Entity("tsv_child", tsv_name=f"{name}{index}", tsv_parentid=EntityReference("tsv_parent", parent))
            )
    data = world.data(
        """{ tsvParents(orderBy: [{tsvName: ASC}]) { nodes { tsvName
             tsvParentChildren(orderBy: [{tsvName: ASC}]) { totalCount nodes { tsvName tsvParent { tsvName } } } } } }"""
    )
    children = [[c["tsvName"] for c in p["tsvParentChildren"]["nodes"]] for p in data["tsvParents"]["nodes"]]
    assert children == [["a0", "a1"], ["b0", "b1"]]
    assert fired == [("retrieve_multiple", "tsv_parent")], "once for the root, not for the nested levels"
    fired.clear()
    world.data("{ tsvChilds { nodes { tsvName tsvParent { tsvName tsvParentChildren { nodes { tsvName } } } } } }")
    assert fired == [("retrieve_multiple", "tsv_child")]
