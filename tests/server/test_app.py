"""The application over HTTP: API keys, health, GraphQL over HTTP conventions, the calling user."""

from __future__ import annotations

import httpx
import pytest

from xrm.server import revoke_token

pytestmark = pytest.mark.anyio

GRAPHQL_RESPONSE = "application/graphql-response+json"
TYPENAME = {"query": "{ __typename }"}


async def test_health_endpoints_answer_without_a_token(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready" and body["metadata_version"] == body["schema_version"] >= 1


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer xrm_not-a-real-token", "Basic dXNlcjpwYXNz", "Token {token}", "bearer {token}x"],
)
async def test_requests_without_a_valid_token_are_refused(client, caller, authorization) -> None:
    alice = caller("alice")
    headers = {} if authorization is None else {"Authorization": authorization.format(token=alice.token)}
    for response in (
        await client.post("/graphql", json=TYPENAME, headers=headers),
        await client.get("/graphql", params=TYPENAME, headers=headers),
        await client.get("/graphql/schema.graphql", headers=headers),
    ):
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert "data" not in response.json()


async def test_the_scheme_is_case_insensitive_and_a_token_works_until_revoked(client, caller, initialized) -> None:
    alice = caller("alice")
    response = await client.post("/graphql", json=TYPENAME, headers={"Authorization": f"bearer {alice.token}"})
    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}

    revoke_token(initialized, alice.token_id)

    response = await client.post("/graphql", json=TYPENAME, headers=alice.headers)
    assert response.status_code == 401, "a revocation applies to the next request, without a restart"
    assert (await client.post("/graphql", json=TYPENAME, headers=caller("bob").headers)).status_code == 200


async def test_a_disabled_user_is_refused(client, caller, initialized) -> None:
    from xrm.data import Entity
    from xrm.plugin import open_environment

    alice = caller("alice")
    open_environment(initialized).service().update(Entity("systemuser", {"isdisabled": True}, id=alice.user_id))
    assert (await client.post("/graphql", json=TYPENAME, headers=alice.headers)).status_code == 401


async def test_post_answers_graphql_response_json_by_default(client, caller) -> None:
    alice = caller()
    response = await client.post("/graphql", json=TYPENAME, headers=alice.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"__typename": "Query"}}

    legacy = await client.post("/graphql", json=TYPENAME, headers={**alice.headers, "Accept": "application/json"})
    assert legacy.status_code == 200 and legacy.headers["content-type"].startswith("application/json")
    either = {**alice.headers, "Accept": "application/json;q=0.9, application/graphql-response+json"}
    assert (
        (await client.post("/graphql", json=TYPENAME, headers=either))
        .headers["content-type"]
        .startswith(GRAPHQL_RESPONSE)
    )


async def test_request_errors_are_400_with_graphql_response_json_and_200_with_json(client, caller) -> None:
    alice = caller()
    bad = {"query": "{ noSuchField }"}
    response = await client.post("/graphql", json=bad, headers=alice.headers)
    assert response.status_code == 400 and response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body and "noSuchField" in body["errors"][0]["message"]

    response = await client.post("/graphql", json=bad, headers={**alice.headers, "Accept": "application/json"})
    assert response.status_code == 200 and "data" not in response.json() and response.json()["errors"]

    unparsable = await client.post("/graphql", json={"query": "{ __typename"}, headers=alice.headers)
    assert unparsable.status_code == 400 and unparsable.json()["errors"][0]["locations"]


async def test_malformed_requests(client, caller) -> None:
    headers = caller().headers
    cases = [
        ({"content": b"{", "headers": {"Content-Type": "application/json"}}, 400, "not valid JSON"),
        ({"content": b"[1]", "headers": {"Content-Type": "application/json"}}, 400, "must be a JSON object"),
        ({"json": {"variables": {}}}, 400, "no 'query'"),
        ({"json": {"query": "{ __typename }", "variables": [1]}}, 400, "'variables' must be an object"),
        ({"json": {"query": "{ __typename }", "operationName": 5}}, 400, "'operationName' must be a string"),
        ({"content": b"{ __typename }", "headers": {"Content-Type": "text/plain"}}, 415, "application/json"),
        ({"json": TYPENAME, "headers": {"Accept": "text/csv"}}, 406, "cannot answer"),
    ]
    for request, status, message in cases:
        request_headers = {**headers, **request.pop("headers", {})}  # type: ignore[dict-item]
        response = await client.post("/graphql", headers=request_headers, **request)  # type: ignore[arg-type]
        assert response.status_code == status, (request, response.text)
        assert message in response.json()["errors"][0]["message"]


async def test_operation_name_and_variables(client, caller) -> None:
    headers = caller().headers
    document = "query A { __typename } query B($name: String!) { __type(name: $name) { name } }"
    response = await client.post(
        "/graphql", json={"query": document, "operationName": "B", "variables": {"name": "Query"}}, headers=headers
    )
    assert response.json() == {"data": {"__type": {"name": "Query"}}}
    response = await client.post("/graphql", json={"query": document, "operationName": "C"}, headers=headers)
    assert response.status_code == 400 and "no operation named 'C'" in response.json()["errors"][0]["message"]
    missing = await client.post("/graphql", json={"query": document, "operationName": "B"}, headers=headers)
    assert missing.status_code == 400 and "$name" in missing.json()["errors"][0]["message"]


async def test_get_runs_queries_and_refuses_mutations(client, caller) -> None:
    headers = caller().headers
    query = {"query": "query($name: String!) { __type(name: $name) { name } }", "variables": '{"name": "Query"}'}
    response = await client.get("/graphql", params=query, headers=headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"__type": {"name": "Query"}}}

    response = await client.get("/graphql", params={"query": "mutation { __typename }"}, headers=headers)
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert (
        await client.get("/graphql", params={"query": "{ __typename }", "variables": "{"}, headers=headers)
    ).status_code == 400


async def test_a_browser_gets_graphiql(client) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_the_sdl_is_served(client, caller) -> None:
    response = await client.get("/graphql/schema.graphql", headers=caller().headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert "type Query" in response.text


async def test_the_calling_user_acts(client, caller, initialized) -> None:
    from xrm.plugin import open_environment

    alice = caller("alice", roles=["system_administrator"])
    create = """mutation($name: String!) {
        createAccount(input: {name: $name}) { accountid createdbyId createdby { domainname } }
    }"""
    response = await client.post(
        "/graphql", json={"query": create, "variables": {"name": "Contoso"}}, headers=alice.headers
    )
    assert response.status_code == 200, response.text
    account = response.json()["data"]["createAccount"]
    assert account["createdbyId"] == str(alice.user_id) and account["createdby"] == {"domainname": "alice"}
    history = open_environment(initialized).service().audit_history("account", account["accountid"])
    assert [(entry.operation, entry.user_id) for entry in history] == [("create", alice.user_id)]


async def test_service_errors_are_executed_results_with_their_codes(client, caller) -> None:
    response = await client.post(
        "/graphql", json={"query": "mutation { createAccount(input: {}) { accountid } }"}, headers=caller().headers
    )
    assert response.status_code == 200, "an operation that ran answers 200 even when it failed"
    body = response.json()
    assert body["data"] == {"createAccount": None}
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_schema_is_not_published_when_introspection_is_off(settings, caller) -> None:
    from xrm.graphql import GraphQLSettings
    from xrm.server import create_app

    app = create_app(settings(graphql=GraphQLSettings(introspection=False)))
    headers = caller().headers
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://xrm.test") as http:
        assert (await http.get("/graphql/schema.graphql", headers=headers)).status_code == 404
        page = await http.get("/graphql", headers={**headers, "Accept": "text/html"})
        assert not page.headers["content-type"].startswith("text/html")
        response = await http.post("/graphql", json={"query": "{ __schema { types { name } } }"}, headers=headers)
        assert response.status_code == 400
    app.state.reloader.engine.dispose()


async def test_a_request_running_past_the_timeout_is_answered_504(
    settings, caller, solutions, write_solution, initialized
) -> None:
    import threading

    import anyio

    from xrm.graphql import GraphQLSettings
    from xrm.plugin import PluginRegistry
    from xrm.server import create_app

    alice = caller("alice", roles=["system_administrator"])
    release = threading.Event()
    registry = PluginRegistry()
    registry.register("t_slow", lambda context: release.wait(10))
    manifest = {"name": "slow", "display_name": "Slow", "version": "1.0.0", "publisher": {"name": "T", "prefix": "tsl"}}
    step = {"name": "slow", "plugin": "t_slow", "message": "create", "entity": "account", "stage": 20}
    solutions.install(write_solution(manifest, {"plugins.yaml": {"steps": [step]}}))
    app = create_app(settings(registry=registry, graphql=GraphQLSettings(request_timeout=0.3)))
    create = {"query": 'mutation { createAccount(input: {name: "Slow"}) { accountid } }'}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://xrm.test") as http:
        response = await http.post("/graphql", json=create, headers=alice.headers)
        assert response.status_code == 504 and response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
        release.set()
        for _ in range(100):  # the abandoned request still finishes (its write commits)
            found = await http.post("/graphql", json={"query": "{ accounts { totalCount } }"}, headers=alice.headers)
            if found.json()["data"]["accounts"]["totalCount"] == 1:
                break
            await anyio.sleep(0.05)
        assert found.json()["data"]["accounts"]["totalCount"] == 1
    app.state.reloader.engine.dispose()
