"""Mutations for every service message, and their errors with codes and attribute problems."""

from __future__ import annotations

import uuid
from typing import Any

from xrm.data import ROOT_BUSINESS_UNIT_ID, SYSTEM_USER_ID, Entity, EntityReference


def _account(world: Any, name: str) -> str:
    return world.data("mutation($n: String!) { createAccount(input: {name: $n}) { accountid } }", {"n": name})[
        "createAccount"
    ]["accountid"]


def test_create_update_delete(graphql_world: Any) -> None:
    create = """mutation($input: IncidentCreateInput!) { createIncident(input: $input) {
        id title prioritycode ticketnumber versionnumber customer { ... on Contact { fullname } } owner { ... on Systemuser { fullname } } } }"""
    ann = str(graphql_world.sample.contacts["Ann Archer"])
    created = graphql_world.data(
        create, {"input": {"title": "new case", "customerid": {"contact": ann}, "prioritycode": "HIGH"}}
    )["createIncident"]
    assert (
        created["title"] == "new case"
        and created["prioritycode"] == "HIGH"
        and created["ticketnumber"].startswith("CAS-")
    )
    assert created["customer"] == {"fullname": "Ann Archer"} and created["owner"] == {"fullname": "SYSTEM"}
    case_id = graphql_world.data(
        "query($id: ID!) { node(id: $id) { ... on Incident { incidentid } } }", {"id": created["id"]}
    )["node"]["incidentid"]
    update = """mutation($id: UUID!, $v: BigInt) { updateIncident(id: $id, input: {title: "renamed", description: "more", caseorigincode: null}, expectedVersion: $v) {
        title description versionnumber } }"""
    updated = graphql_world.data(update, {"id": case_id, "v": 1})["updateIncident"]
    assert updated == {"title": "renamed", "description": "more", "versionnumber": 2}
    conflict = graphql_world.errors(update, {"id": case_id, "v": 1})
    assert conflict[0]["extensions"] == {"code": "CONFLICT"} and conflict[0]["path"] == ["updateIncident"]
    assert graphql_world.data("mutation($id: UUID!) { deleteIncident(id: $id) }", {"id": case_id}) == {
        "deleteIncident": case_id
    }
    missing = graphql_world.errors("mutation($id: UUID!) { deleteIncident(id: $id) }", {"id": case_id})
    assert missing[0]["extensions"] == {"code": "NOT_FOUND"}


def test_create_with_a_chosen_id_and_lookups(graphql_world: Any) -> None:
    project_id = str(uuid.uuid4())
    alpha = str(graphql_world.sample.accounts["Alpha Corp"])
    created = graphql_world.data(
        """mutation($input: TstProjectCreateInput!) { createTstProject(input: $input) {
            tstProjectid tstAccount { name } tstRegarding { __typename } tstTags tstStartdate tstBudget tstPriority } }""",
        {
            "input": {
                "tstProjectid": project_id,
                "tstName": "Zeus",
                "tstAccountid": alpha,
                "tstRegardingid": {"contact": str(graphql_world.sample.contacts["Ann Archer"])},
                "tstTags": ["BILLABLE"],
                "tstStartdate": "2025-02-01",
                "tstBudget": "10.5",
                "tstPriority": "LOW",
            }
        },
    )["createTstProject"]
    assert created == {
        "tstProjectid": project_id, "tstAccount": {"name": "Alpha Corp"}, "tstRegarding": {"__typename": "Contact"},
        "tstTags": ["BILLABLE"], "tstStartdate": "2025-02-01", "tstBudget": "10.5000", "tstPriority": "LOW",
    }  # fmt: skip


def test_validation_errors_name_every_attribute(graphql_world: Any) -> None:
    errors = graphql_world.errors(
        'mutation { createTstProject(input: {tstHeadcount: 5000, tstEmail: "not-an-email", tstCode: "X"}) { tstName } }'
    )
    (error,) = errors
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    problems = {p["field"]: p["reason"] for p in error["extensions"]["problems"]}
    assert set(problems) == {"tstName", "tstHeadcount", "tstEmail"}
    assert "1000" in problems["tstHeadcount"] and "e-mail" in problems["tstEmail"]
    assert all(p["attribute"].startswith("tst_") for p in error["extensions"]["problems"])
    typed = graphql_world.errors(
        'mutation { createTstProject(input: {tstName: "x", tstHeadcount: "many"}) { tstName } }'
    )
    assert typed[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    variable = graphql_world.errors(
        'mutation($d: Date) { createTstProject(input: {tstName: "x", tstStartdate: $d}) { tstName } }',
        {"d": "yesterday"},
    )
    assert variable[0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_plugin_error_carries_the_plugins_message(graphql_world: Any) -> None:
    errors = graphql_world.errors(
        'mutation($c: UUID!) { createIncident(input: {title: "forbidden", customerid: {account: $c}}) { title } }',
        {"c": str(graphql_world.sample.accounts["Acme"])},
    )
    assert errors[0]["message"] == "cases titled 'forbidden' are not allowed"
    assert errors[0]["extensions"] == {"code": "PLUGIN_ERROR"}


def test_assign_set_state_and_access(graphql_world: Any) -> None:
    service = graphql_world.environment.service()
    unit = EntityReference("businessunit", ROOT_BUSINESS_UNIT_ID)
    user = service.create(
        Entity(
            "systemuser", {"fullname": "Uma User", "domainname": f"uma{uuid.uuid4().hex[:6]}", "businessunitid": unit}
        )
    )
    account = _account(graphql_world, "assigned")
    target = {"entity": "account", "id": account}
    assigned = graphql_world.data(
        "mutation($t: RecordReference!, $o: RecordReference!) { assign(target: $t, owner: $o) { ... on Account { owner { ... on Systemuser { fullname } } } } }",
        {"t": target, "o": {"entity": "systemuser", "id": str(user)}},
    )
    assert assigned["assign"]["owner"] == {"fullname": "Uma User"}
    closed = graphql_world.data(
        "mutation($t: RecordReference!) { setState(target: $t, state: 1) { ... on Account { statecode statuscode } } }",
        {"t": target},
    )
    assert closed["setState"] == {"statecode": "INACTIVE", "statuscode": "INACTIVE"}
    locked = graphql_world.errors(
        'mutation($id: UUID!) { updateAccount(id: $id, input: {name: "x"}) { name } }', {"id": account}
    )
    assert locked[0]["extensions"]["code"] == "INVALID_OPERATION"
    bad_state = graphql_world.errors(
        "mutation($t: RecordReference!) { setState(target: $t, state: 7) { id } }", {"t": target}
    )
    assert bad_state[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert bad_state[0]["extensions"]["problems"][0]["field"] == "statecode"
    principal = {"entity": "systemuser", "id": str(SYSTEM_USER_ID)}
    for document in (
        "mutation($t: RecordReference!, $p: RecordReference!) { grantAccess(target: $t, principal: $p, rights: [READ, WRITE]) { id } }",
        "mutation($t: RecordReference!, $p: RecordReference!) { modifyAccess(target: $t, principal: $p, rights: [READ]) { id } }",
        "mutation($t: RecordReference!, $p: RecordReference!) { revokeAccess(target: $t, principal: $p) { id } }",
    ):
        assert graphql_world.data(document, {"t": target, "p": principal})


def test_associate_disassociate_and_merge(graphql_world: Any) -> None:
    project = graphql_world.data('mutation { createTstProject(input: {tstName: "Hermes"}) { tstProjectid } }')[
        "createTstProject"
    ]["tstProjectid"]
    contact = str(graphql_world.sample.contacts["c5-0"])
    link = """mutation($t: RecordReference!, $r: [RecordReference!]!) { %s(target: $t, relationship: "tst_project_contact", related: $r) {
        ... on TstProject { tstProjectContact { totalCount } } } }"""
    variables = {"t": {"entity": "tst_project", "id": project}, "r": [{"entity": "contact", "id": contact}]}
    assert graphql_world.data(link % "associate", variables)["associate"] == {"tstProjectContact": {"totalCount": 1}}
    assert graphql_world.data(link % "disassociate", variables)["disassociate"] == {
        "tstProjectContact": {"totalCount": 0}
    }
    unknown = graphql_world.errors(link.replace("tst_project_contact", "nope") % "associate", variables)
    assert unknown[0]["extensions"]["code"] == "NOT_FOUND"
    master, other = _account(graphql_world, "master"), _account(graphql_world, "duplicate")
    graphql_world.data(
        'mutation($c: UUID!) { createIncident(input: {title: "moves", customerid: {account: $c}}) { title } }',
        {"c": other},
    )
    merged = graphql_world.data(
        """mutation($m: UUID!, $s: UUID!) { merge(entity: account, target: $m, subordinate: $s, updateContent: {telephone1: "555"}) {
            ... on Account { telephone1 incidentCustomerAccounts { nodes { title } } } } }""",
        {"m": master, "s": other},
    )["merge"]
    assert merged == {"telephone1": "555", "incidentCustomerAccounts": {"nodes": [{"title": "moves"}]}}


def test_execute_multiple_and_actions(graphql_world: Any) -> None:
    acme = str(graphql_world.sample.accounts["Acme"])
    document = """mutation($requests: [ServiceRequest!]!, $go: Boolean) { executeMultiple(requests: $requests, continueOnError: $go) {
        isFaulted responses { index id results error { code message problems { attribute field reason } } } } }"""
    requests = [
        {
            "create": {
                "entity": "incident",
                "attributes": {"title": "batch one", "customerid": {"entity": "account", "id": acme}},
            }
        },
        {"create": {"entity": "incident", "attributes": {"customerid": {"entity": "account", "id": acme}}}},
        {"update": {"entity": "account", "id": acme, "attributes": {"telephone2": "123"}}},
        {"executeAction": {"name": "gql_ping", "parameters": {"value": 7}}},
    ]
    result = graphql_world.data(document, {"requests": requests, "go": True})["executeMultiple"]
    assert result["isFaulted"] is True
    first, second, third, fourth = result["responses"]
    assert first["id"] and first["error"] is None
    assert second["error"]["code"] == "BAD_USER_INPUT" and second["error"]["problems"][0]["field"] == "title"
    assert third["error"] is None and fourth["results"]["pong"] == 7
    stopped = graphql_world.data(document, {"requests": requests[1:], "go": False})["executeMultiple"]
    assert len(stopped["responses"]) == 1
    action = graphql_world.data(
        'mutation($t: RecordReference) { executeAction(name: "gql_ping", target: $t, parameters: {value: "hi"}) }',
        {"t": {"entity": "account", "id": acme}},
    )["executeAction"]
    assert action["pong"] == "hi" and action["target"] == {"entity": "account", "id": acme}
    unknown = graphql_world.errors('mutation { executeAction(name: "no_such_action") }')
    assert unknown[0]["extensions"]["code"] == "NOT_FOUND"
