"""Errors and protection: stable codes, nothing internal leaks, limits refuse clearly."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from sqlalchemy import FromClause, exists, func, literal, select, true

from xrm.graphql import context_for

DEEP = "{ accounts { nodes { parentaccount { parentaccount { parentaccount { name } } } } } }"  # depth 6


def _code(errors: list[dict[str, Any]]) -> str:
    return errors[0]["extensions"]["code"]


def test_depth_aliases_and_tokens(graphql_world: Any) -> None:
    shallow = graphql_world.schema_with(max_depth=5, max_aliases=2, max_tokens=60)
    errors = graphql_world.errors(DEEP, schema=shallow)
    assert errors[0]["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": "max_depth", "maximum": 5, "actual": 6}
    aliased = "{ a: accounts(first: 1) { totalCount } b: accounts(first: 1) { totalCount } c: accounts(first: 1) { totalCount } }"
    assert graphql_world.errors(aliased, schema=shallow)[0]["extensions"]["limit"] == "max_aliases"
    fragment = (
        "{ accounts(first: 1) { ...F } } fragment F on AccountConnection { a: totalCount b: totalCount c: totalCount }"
    )
    assert graphql_world.errors(fragment, schema=shallow)[0]["extensions"]["limit"] == "max_aliases"
    long = "{ accounts(first: 1) { " + " ".join(["totalCount"] * 60) + " } }"
    tokens = graphql_world.errors(long, schema=shallow)
    assert _code(tokens) == "QUERY_TOO_COMPLEX" and "tokens" in tokens[0]["message"]
    assert graphql_world.data("{ accounts(first: 1) { totalCount } }", schema=shallow)


def test_cost_and_page_size(graphql_world: Any) -> None:
    costly = "{ accounts(first: 500) { nodes { contactCustomerAccounts(first: 200) { nodes { lastname } } } } }"
    errors = graphql_world.errors(costly)
    assert errors[0]["extensions"]["limit"] == "max_cost" and errors[0]["extensions"]["actual"] == 500 + 500 * 200
    default_sized = (
        "{ accounts { nodes { contactCustomerAccounts { nodes { incidentCustomerContacts { totalCount } } } } } }"
    )
    assert graphql_world.errors(default_sized)[0]["extensions"]["limit"] == "max_cost"  # 100 x 100 x 100 by default
    assert _code(graphql_world.errors("{ accounts(first: 5001) { totalCount } }")) == "BAD_USER_INPUT"
    assert (
        _code(graphql_world.errors("query($n: Int) { accounts(first: $n) { totalCount } }", {"n": 9000}))
        == "BAD_USER_INPUT"
    )
    assert _code(graphql_world.errors("{ accounts(first: -1) { totalCount } }")) == "BAD_USER_INPUT"
    assert _code(graphql_world.errors("{ accounts(first: 1, last: 1) { totalCount } }")) == "BAD_USER_INPUT"
    assert _code(graphql_world.errors('{ accounts(first: 1, after: "garbage") { totalCount } }')) in (
        "BAD_USER_INPUT",
        "BAD_QUERY",
    )


def test_introspection_off_hides_schema_and_suggestions(graphql_world: Any) -> None:
    closed = graphql_world.schema_with(introspection=False)
    refused = graphql_world.errors("{ __schema { queryType { name } } }", schema=closed)
    assert _code(refused) == "GRAPHQL_VALIDATION_FAILED" and "introspection" in refused[0]["message"]
    typo = graphql_world.errors("{ accounts { nodes { nme } } }", schema=closed)
    assert "Did you mean" not in typo[0]["message"] and _code(typo) == "GRAPHQL_VALIDATION_FAILED"
    enum = graphql_world.errors(
        "query($p: IncidentPrioritycode) { incidents(filter: {prioritycode: {eq: $p}}) { totalCount } }",
        {"p": "HIGHH"},
        schema=closed,
    )
    assert "Did you mean" not in enum[0]["message"] and _code(enum) == "BAD_USER_INPUT"
    open_typo = graphql_world.errors("{ accounts { nodes { nme } } }")
    assert "Did you mean" in open_typo[0]["message"]
    assert (
        graphql_world.data("{ __typename accounts(first: 1) { totalCount } }", schema=closed)["__typename"] == "Query"
    )


def test_unexpected_errors_are_internal_with_an_id(graphql_world: Any, caplog: pytest.LogCaptureFixture) -> None:
    def broken(_entity: str, _table: FromClause) -> Any:
        raise RuntimeError("SELECT secret FROM hidden_table")

    with caplog.at_level(logging.ERROR, logger="xrm.graphql.errors"):
        errors = graphql_world.errors("{ accounts(first: 1) { totalCount } }", read_predicate=broken)
    (error,) = errors
    assert error["extensions"]["code"] == "INTERNAL"
    assert error["message"] == f"internal error; reference {error['extensions']['errorId']}"
    assert "secret" not in str(errors)
    assert error["extensions"]["errorId"] in caplog.text and "hidden_table" in caplog.text


def test_syntax_errors_and_every_error_has_a_code(graphql_world: Any) -> None:
    assert _code(graphql_world.errors("{ accounts { nodes { name }")) == "GRAPHQL_PARSE_FAILED"
    documents = [
        "{ nope }",
        '{ incidents(filter: {title: {between: ["a"]}}) { totalCount } }',
        "{ incidents(orderBy: [{title: ASC, prioritycode: DESC}]) { totalCount } }",
        'mutation { updateAccount(id: "00000000-0000-4000-8000-00000000beef", input: {name: "x"}) { name } }',
        "query($id: UUID!) { account(id: $id) { name } }",
    ]
    for document in documents:
        for error in graphql_world.errors(document, {"id": "not-a-uuid"} if "$id" in document else None):
            assert error["extensions"]["code"] in {
                "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT", "BAD_QUERY", "NOT_FOUND",
            }, error  # fmt: skip
            assert "Traceback" not in error["message"] and "SELECT" not in error["message"]


def test_read_predicate_is_the_single_read_hook(graphql_world: Any) -> None:
    """What a security layer would do: every read (lists, lookups, filters, counts) sees the predicate."""

    def hide_acme(entity: str, table: FromClause) -> Any:
        return table.c.name != "Acme" if entity == "account" else None

    document = """{ accounts(filter: {name: {in: ["Acme", "Beta Ltd"]}}) { totalCount nodes { name } }
        incidents(filter: {title: {eq: "acme one"}}) { nodes { title customer { __typename } } }
        byCustomer: incidents(filter: {customer: {account: {name: {eq: "Acme"}}}}) { totalCount } }"""
    data = graphql_world.data(document, read_predicate=hide_acme)
    assert data["accounts"] == {"totalCount": 1, "nodes": [{"name": "Beta Ltd"}]}
    assert data["incidents"]["nodes"] == [{"title": "acme one", "customer": None}]
    assert data["byCustomer"]["totalCount"] == 0


def test_the_database_stops_reads_past_the_request_timeout(graphql_world: Any) -> None:
    cases = [graphql_world.environment.tables.tables["incident"].alias(f"x{i}") for i in range(3)]
    product = cases[0].join(cases[1], true()).join(cases[2], true())  # 505^3 rows, no index helps
    endless = exists(
        select(literal(1))
        .select_from(product)
        .where(func.length(cases[0].c.title + cases[1].c.title + cases[2].c.title) < 0)
    )

    def slow(entity: str, _table: FromClause) -> Any:
        return endless if entity == "account" else None

    started = time.monotonic()
    errors = graphql_world.errors(
        "{ accounts(first: 1) { totalCount } }",
        schema=graphql_world.schema_with(request_timeout=0.3),
        read_predicate=slow,
    )
    assert errors[0]["extensions"] == {"code": "TIMEOUT"}
    assert time.monotonic() - started < 5
    assert graphql_world.data("{ accounts(first: 1) { totalCount } }")  # the pooled connection is usable again


def test_a_checked_document_is_reused_and_limits_still_apply_every_time(graphql_world: Any) -> None:
    schema = graphql_world.schema_with(max_cost=1000)
    document = "query($n: Int) { accounts(first: $n, orderBy: [{name: ASC}]) { totalCount nodes { name } } }"
    first = graphql_world.data(document, {"n": 3}, schema=schema)
    assert len(first["accounts"]["nodes"]) == 3 and len(schema.documents) == 1
    assert graphql_world.data(document, {"n": 3}, schema=schema) == first
    for _ in range(2):  # the cost depends on the variables: checked on every request
        assert graphql_world.errors(document, {"n": 2000}, schema=schema)[0]["extensions"]["limit"] == "max_cost"
        assert _code(graphql_world.errors(document, {"n": 9000}, schema=schema)) == "BAD_USER_INPUT"
        assert _code(graphql_world.errors(document, {"n": "x"}, schema=schema)) == "BAD_USER_INPUT"
    assert graphql_world.data(document, {"n": 3}, schema=schema) == first and len(schema.documents) == 1

    operations = (
        "query Cheap { accounts(first: 1) { totalCount } } query Costly { accounts(first: 3000) { totalCount } }"
    )
    for name in ("Cheap", "Costly", "Cheap", "Costly"):
        result = schema.execute_sync(
            operations, operation_name=name, context_value=context_for(graphql_world.environment)
        )
        assert bool(result.errors) == (name == "Costly")


def test_a_refused_document_is_refused_every_time_and_never_kept(graphql_world: Any) -> None:
    shallow = graphql_world.schema_with(max_depth=5, max_tokens=60, introspection=False)
    refused = [
        DEEP,
        "{ nope }",
        "{ accounts { nodes { name }",
        "{ accounts(first: 1) { " + " ".join(["totalCount"] * 60) + " } }",
        "{ __schema { queryType { name } } }",
    ]
    for document in refused:
        errors = graphql_world.errors(document, schema=shallow)
        assert graphql_world.errors(document, schema=shallow) == errors
    assert len(shallow.documents) == 0
    assert graphql_world.data(DEEP)  # accepted (and kept) by a schema with the default limits...
    assert graphql_world.errors(DEEP, schema=shallow)[0]["extensions"]["limit"] == "max_depth"  # ...not by this one
