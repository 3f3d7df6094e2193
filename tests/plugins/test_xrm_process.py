"""Business process flows (xrm_process): the Case solution's Phone to Case Process through GraphQL
over HTTP as a customer service representative, a custom entity's branching process that spans
related entities through the organization service, and bad process metadata through the CLI."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from typer.testing import CliRunner

from xrm.cli import app as cli
from xrm.data import Entity, EntityReference, OrganizationService
from xrm.errors import InvalidOperationError, ValidationError
from xrm.graphql import build_schema, context_for
from xrm.query import ConditionExpression, FilterExpression, QueryExpression
from xrm.server import create_user

MANIFEST = {
    "name": "tpf", "display_name": "Process tests", "version": "1.0.0",
    "publisher": {"name": "Tests", "prefix": "tpf"},
}  # fmt: skip


class GraphQLClient:
    """GraphQL over HTTP (a Starlette endpoint, httpx's ASGI transport) acting as one user."""

    def __init__(self, environment: Any, user_id: uuid.UUID | None) -> None:
        schema = build_schema(environment)

        async def endpoint(request: Request) -> JSONResponse:
            body = await request.json()
            context = context_for(environment, user_id)
            result = await run_in_threadpool(schema.execute_sync, body["query"], body.get("variables"), context)
            payload: dict[str, Any] = {"data": result.data}
            if result.errors:
                payload["errors"] = [error.formatted for error in result.errors]
            return JSONResponse(payload)

        self.transport = httpx.ASGITransport(app=Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])]))

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        async def post() -> httpx.Response:
            async with httpx.AsyncClient(transport=self.transport, base_url="http://xrm.test") as http:
                return await http.post("/graphql", json={"query": query, "variables": variables})

        response = anyio.run(post)
        assert response.status_code == 200
        return response.json()

    def ok(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self(query, **variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def error(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self(query, **variables)
        assert body.get("errors"), body
        return body["errors"][0]


INSTANCES = """query($r: UUID!) { processinstances(filter: {regardingobjectid: {eq: $r}}, orderBy: [{createdon: ASC}]) {
  nodes { processinstanceid name processname activestage activestageentity activestagerecordid traversedpath
          iscurrent statecode statuscode completedon activestagestartedon versionnumber } } }"""
NEXT = "mutation($t: UUID!) { moveNextStage(target: $t) { activestage traversedpath } }"
PREVIOUS = "mutation($t: UUID!) { movePreviousStage(target: $t) { activestage traversedpath } }"


def test_phone_to_case_process_through_graphql(environment) -> None:  # type: ignore[no-untyped-def]
    env = environment("case")
    admin = env.service()
    representative = create_user(env, "rep")
    admin.assign_role(EntityReference("systemuser", representative), "customer_service_representative")
    gql = GraphQLClient(env, representative)
    account = admin.create(Entity("account", name="Contoso"))
    subject = admin.create(Entity("subject", title="Printers"))

    created = gql.ok(
        'mutation($a: UUID!) { createIncident(input: {title: "Jammed", customerid: {account: $a}}) { incidentid } }',
        a=str(account),
    )
    case = created["createIncident"]["incidentid"]
    [instance] = gql.ok(INSTANCES, r=case)["processinstances"]["nodes"]
    assert instance["name"] == "Phone to Case Process" and instance["processname"] == "phone_to_case_process"
    assert (instance["activestage"], instance["traversedpath"]) == ("identify", "identify")
    assert (instance["activestageentity"], instance["activestagerecordid"]) == ("incident", case)
    assert (instance["statecode"], instance["statuscode"], instance["iscurrent"]) == ("ACTIVE", "ACTIVE", True)
    target = instance["processinstanceid"]

    refused = gql.error(NEXT, t=target)
    assert refused["extensions"]["code"] == "BAD_USER_INPUT"
    assert [p["field"] for p in refused["extensions"]["problems"]] == ["caseorigincode"]
    assert "stage 'Identify'" in refused["message"]
    [unchanged] = gql.ok(INSTANCES, r=case)["processinstances"]["nodes"]
    assert unchanged == instance, "a refused move writes nothing"

    update = "mutation($c: UUID!, $i: IncidentUpdateInput!) { updateIncident(id: $c, input: $i) { incidentid } }"
    gql.ok(update, c=case, i={"caseorigincode": "PHONE"})
    assert gql.ok(NEXT, t=target)["moveNextStage"] == {"activestage": "research", "traversedpath": "identify,research"}
    refused = gql.error(NEXT, t=target)
    assert sorted(p["field"] for p in refused["extensions"]["problems"]) == ["casetypecode", "subjectid"]
    gql.ok(update, c=case, i={"subjectid": str(subject), "casetypecode": "PROBLEM"})
    assert gql.ok(NEXT, t=target)["moveNextStage"]["traversedpath"] == "identify,research,resolve"
    last = gql.error(NEXT, t=target)
    assert last["extensions"]["code"] == "INVALID_OPERATION" and "last stage" in last["message"]
    assert gql.ok(PREVIOUS, t=target)["movePreviousStage"] == {
        "activestage": "research", "traversedpath": "identify,research",
    }  # fmt: skip
    gql.ok(NEXT, t=target)

    finish = "mutation($t: UUID!) { finishProcess(target: $t) }"
    assert [p["field"] for p in gql.error(finish, t=target)["extensions"]["problems"]] == ["description"]
    gql.ok(update, c=case, i={"description": "Replaced the roller"})
    assert gql.ok(finish, t=target) == {"finishProcess": True}
    [done] = gql.ok(INSTANCES, r=case)["processinstances"]["nodes"]
    assert (done["statecode"], done["statuscode"], done["activestage"]) == ("INACTIVE", "FINISHED", "resolve")
    assert done["completedon"] is not None
    closed = gql.error(PREVIOUS, t=target)
    assert closed["extensions"]["code"] == "INVALID_OPERATION" and "finished: reactivate it first" in closed["message"]

    assert gql.ok("mutation($t: UUID!) { reactivateProcess(target: $t) }", t=target) == {"reactivateProcess": True}
    assert gql.ok(PREVIOUS, t=target)["movePreviousStage"]["activestage"] == "research"
    gql.ok("mutation($t: UUID!) { abortProcess(target: $t) }", t=target)
    [aborted] = gql.ok(INSTANCES, r=case)["processinstances"]["nodes"]
    assert (aborted["statecode"], aborted["statuscode"], aborted["activestage"]) == ("INACTIVE", "ABORTED", "research")

    # the stages move only through the actions
    direct = gql.error(
        'mutation($t: UUID!) { updateProcessinstance(id: $t, input: {activestage: "resolve"}) { activestage } }',
        t=target,
    )
    assert direct["extensions"]["code"] == "INVALID_OPERATION" and "move_next_stage" in direct["message"]
    admin.delete("incident", case)  # representatives may not delete cases
    assert gql.ok(INSTANCES, r=case)["processinstances"]["nodes"] == [], "instances go with their record"


CLAIM = {
    "logical_name": "tpf_claim",
    "primary_name": "tpf_name",
    "attributes": {
        "tpf_name": {"type": "string", "required": "required"},
        "tpf_amount": {"type": "integer"},
        "tpf_approvedby": {"type": "string"},
        "tpf_notes": {"type": "memo"},
        "tpf_kind": {"type": "choice", "options": [{"value": 1, "label": "Car"}, {"value": 2, "label": "Home"}]},
        "tpf_accountid": {"type": "lookup", "target": "account"},
    },
    "relationships": {"tpf_claim_account": {"lookup": "tpf_accountid"}},
}
INSPECTION = {
    "logical_name": "tpf_inspection",
    "primary_name": "tpf_name",
    "attributes": {
        "tpf_name": {"type": "string"},
        "tpf_result": {"type": "string"},
        "tpf_claimid": {"type": "lookup", "target": "tpf_claim"},
    },
    "relationships": {"tpf_claim_inspections": {"lookup": "tpf_claimid"}},
}
CLAIM_FLOW = {
    "name": "tpf_claim_flow",
    "entity": "tpf_claim",
    "display_name": "Claim Handling",
    "stages": [
        {
            "name": "intake",
            "steps": [{"attribute": "tpf_amount", "required": True}, "tpf_kind"],
            "next": [
                {
                    "stage": "review",
                    "condition": {"conditions": [{"attribute": "tpf_amount", "operator": "gt", "value": 1000}]},
                },
                {"stage": "payout"},
            ],
        },
        {"name": "review", "steps": [{"attribute": "tpf_approvedby", "required": True}]},
        {
            "name": "inspection",
            "entity": "tpf_inspection",
            "relationship": "tpf_claim_inspections",
            "steps": [{"attribute": "tpf_result", "required": True}],
        },
        {
            "name": "customer",
            "entity": "account",
            "relationship": "tpf_claim_account",
            "steps": [{"attribute": "telephone1", "required": True}],
        },
        {"name": "payout", "steps": [{"attribute": "tpf_notes", "required": True}]},
    ],
}
QUICK_FLOW = {
    "name": "tpf_quick_flow", "entity": "tpf_claim", "order": 2,
    "stages": [
        {"name": "triage", "final": True, "next": [{"stage": "close", "condition": {"conditions": [{"attribute": "tpf_kind", "value": 2}]}}]},
        {"name": "close"},
    ],
}  # fmt: skip


def _instances(service: OrganizationService, record: uuid.UUID) -> dict[str, Entity]:
    query = QueryExpression(
        "processinstance",
        criteria=FilterExpression(conditions=[ConditionExpression("regardingobjectid", "eq", [record])]),
    )
    return {instance["processname"]: instance for instance in service.retrieve_multiple(query).entities}


def test_custom_entity_process_branches_spans_related_entities_and_switches(environment, write_solution) -> None:  # type: ignore[no-untyped-def]
    folder = write_solution(MANIFEST, {
        "entities/tpf_claim.yaml": CLAIM, "entities/tpf_inspection.yaml": INSPECTION,
        "processes/tpf_claim_flow.yaml": CLAIM_FLOW, "processes/tpf_quick_flow.yaml": QUICK_FLOW,
    })  # fmt: skip
    service = environment(folder).service()

    def run(action: str, instance: Entity, **parameters: Any) -> dict[str, Any]:
        assert instance.id is not None
        return service.execute_action(action, parameters, EntityReference("processinstance", instance.id))

    # small claim: intake branches straight to payout
    small = service.create(Entity("tpf_claim", tpf_name="Scratch", tpf_amount=300))
    flow = _instances(service, small)["tpf_claim_flow"]
    assert (flow["activestage"], flow["iscurrent"]) == ("intake", True), "the lowest order starts on create"
    assert run("move_next_stage", flow)["traversedpath"] == "intake,payout"
    assert run("move_previous_stage", flow)["traversedpath"] == "intake", "back along the path taken"

    # large claim: review, then an inspection (1:N) and the customer (N:1) must be linked first
    account = service.create(Entity("account", name="Fabrikam"))
    large = service.create(Entity("tpf_claim", tpf_name="Flood", tpf_amount=5000))
    flow = _instances(service, large)["tpf_claim_flow"]
    assert run("move_next_stage", flow)["activestage"] == "review"
    service.update(Entity("tpf_claim", {"tpf_approvedby": "Dana"}, id=large))
    with pytest.raises(ValidationError) as unlinked:
        run("move_next_stage", flow)
    assert unlinked.value.entity == "tpf_inspection" and "no tpf_inspection is linked" in str(unlinked.value)
    claim = EntityReference("tpf_claim", large)
    service.create(Entity("tpf_inspection", tpf_name="first", tpf_claimid=claim))
    latest = service.create(Entity("tpf_inspection", tpf_name="second", tpf_claimid=claim))
    assert run("move_next_stage", flow)["activestage"] == "inspection"
    flow = _instances(service, large)["tpf_claim_flow"]
    assert (flow["activestageentity"], flow["activestagerecordid"]) == ("tpf_inspection", latest)
    with pytest.raises(ValidationError) as step:
        run("move_next_stage", flow)
    assert step.value.entity == "tpf_inspection" and [p.attribute for p in step.value.problems] == ["tpf_result"]
    service.update(Entity("tpf_inspection", {"tpf_result": "water damage"}, id=latest))
    with pytest.raises(ValidationError) as no_customer:
        run("move_next_stage", flow)
    assert [p.attribute for p in no_customer.value.problems] == ["tpf_accountid"]
    service.update(Entity("tpf_claim", {"tpf_accountid": EntityReference("account", account)}, id=large))
    assert run("move_next_stage", flow)["traversedpath"] == "intake,review,inspection,customer"
    flow = _instances(service, large)["tpf_claim_flow"]
    assert (flow["activestageentity"], flow["activestagerecordid"]) == ("account", account)
    with pytest.raises(ValidationError) as phone:
        run("move_next_stage", flow)
    assert (phone.value.entity, [p.attribute for p in phone.value.problems]) == ("account", ["telephone1"])

    # switch to the quick process and back: the first instance is resumed where it was left
    switched = service.execute_action(
        "set_process", {"entity": "tpf_claim", "record": large, "process": "tpf_quick_flow"}
    )
    instances = _instances(service, large)
    assert switched["activestage"] == "triage" and switched["instance"].id == instances["tpf_quick_flow"].id
    assert instances["tpf_quick_flow"]["iscurrent"] and not instances["tpf_claim_flow"]["iscurrent"]
    assert (instances["tpf_claim_flow"]["activestage"], instances["tpf_claim_flow"]["statecode"]) == ("customer", 0)
    quick = instances["tpf_quick_flow"]
    with pytest.raises(InvalidOperationError, match="'triage' is the last stage"):
        run("move_next_stage", quick)  # final, unless the branch to 'close' applies
    service.update(Entity("tpf_claim", {"tpf_kind": 2}, id=large))
    assert run("move_next_stage", quick)["traversedpath"] == "triage,close"
    back = service.execute_action("set_process", {"entity": "tpf_claim", "record": large, "process": "tpf_claim_flow"})
    assert (back["instance"].id, back["activestage"]) == (flow.id, "customer")
    instances = _instances(service, large)
    assert instances["tpf_claim_flow"]["iscurrent"] and not instances["tpf_quick_flow"]["iscurrent"]
    with pytest.raises(ValidationError, match="has no business process flow 'phone_to_case_process'"):
        service.execute_action(
            "set_process", {"entity": "tpf_claim", "record": large, "process": "phone_to_case_process"}
        )
    with pytest.raises(InvalidOperationError):
        service.set_state("processinstance", flow.id, 1, 2)  # type: ignore[arg-type]


BAD_FLOW = """\
# yaml-language-server: $schema=../schemas/process.schema.json
name: tpf_bad_flow
entity: tpf_claim
stages:
  - name: intake
    steps:
      - {attribute: tpf_amount, required: true}
      - {attribute: tpf_colour, required: true}
    next:
      - {stage: nowhere}
  - name: elsewhere
    entity: contact
  - name: back
    next:
      - {stage: intake, condition: {conditions: [{attribute: tpf_size, operator: gt, value: 1}]}}
"""


def test_validate_reports_bad_processes_with_file_and_line(write_solution, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = write_solution(MANIFEST, {"entities/tpf_claim.yaml": CLAIM, "processes/tpf_bad_flow.yaml": BAD_FLOW})
    result = CliRunner().invoke(cli, ["solution", "validate", str(folder), "--database", f"sqlite:///{tmp_path}/x.db"])

    assert result.exit_code == 1
    output = result.output.replace(str(folder) + "/", "")
    assert (
        "processes/tpf_bad_flow.yaml:8: stages.intake.steps[1].attribute: 'tpf_claim' has no attribute 'tpf_colour'"
        in output
    )
    assert "processes/tpf_bad_flow.yaml:10: stages.intake.next[0].stage: unknown stage 'nowhere'" in output
    assert "processes/tpf_bad_flow.yaml:12: stages.elsewhere.entity: stage on 'contact' needs 'relationship'" in output
    assert "processes/tpf_bad_flow.yaml:15: stages.back.next[0].stage: a branch goes forward only" in output
    assert (
        "processes/tpf_bad_flow.yaml:15: stages.back.next[0].condition.conditions[0].attribute: 'tpf_claim' has no attribute 'tpf_size'"
        in output
    )
