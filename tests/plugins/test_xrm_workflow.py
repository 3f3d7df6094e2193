"""The workflow plugin: declarative automation rules on the Case (incident) and on a custom entity."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from xrm.data import ROOT_BUSINESS_UNIT_ID, Entity, EntityReference
from xrm.data.jobs import job_statuses, run_due_jobs, run_timers
from xrm.errors import AccessDeniedError, ValidationError
from xrm.query import ConditionExpression, FilterExpression, QueryExpression
from xrm_workflow.index import schedule_id

MANIFEST = {
    "name": "casewf",
    "display_name": "Case workflows",
    "version": "1.0.0",
    "publisher": {"name": "Workflow Tests", "prefix": "cwf"},
    "dependencies": [{"name": "case", "version": ">=1.0.0"}],
}

# automatic case creation (Dataverse's "automatic record creation and update rule" for email)
EMAIL_TO_CASE = {
    "name": "email_to_case",
    "entity": "email",
    "trigger": "create",
    "filter": {
        "conditions": [
            {"attribute": "directioncode", "value": False},
            {"attribute": "sender", "operator": "like", "value": "%@contoso.com"},
            {"attribute": "subject", "operator": "not_like", "value": "%out of office%"},
        ]
    },
    "actions": [
        {
            "type": "create_record",
            "entity": "incident",
            "fields": {
                "title": "Email: {subject}",
                "description": {"from": "description"},
                "caseorigincode": 2,
                "customerid": {"find": "contact", "where": {"emailaddress1": "{sender}"}},
            },
            "link_back": "regardingobjectid",
        }
    ],
}

# a routing rule set: the first rule whose conditions hold routes the new case
CASE_ROUTING = {
    "name": "case_routing",
    "entity": "incident",
    "trigger": "create",
    "links": [
        {"entity": "contact", "from": "contactid", "to": "customerid", "alias": "customer", "link_type": "outer"},
    ],
    "rules": [
        {
            "name": "vip_customers",
            "filter": {"conditions": [{"entity": "customer", "attribute": "jobtitle", "value": "CEO"}]},
            "actions": [{"type": "route", "user": {"find": "systemuser", "where": {"domainname": "tier2"}}}],
        },
        {
            "name": "high_priority",
            "filter": {"conditions": [{"attribute": "prioritycode", "value": 1}]},
            "actions": [
                {"type": "route", "queue": {"find": "queue", "where": {"name": "Urgent"}}},
                {"type": "stop"},
                {"type": "set_fields", "fields": {"title": "never reached"}},
            ],
        },
        {
            "name": "everything_else",
            "actions": [
                {"type": "add_to_queue", "queue": {"find": "queue", "where": {"name": "General"}}},
                {"type": "set_fields", "fields": {"casetypecode": 2}},
            ],
        },
    ],
}

WORKFLOWS: dict[str, Any] = {
    "email_to_case": EMAIL_TO_CASE,
    "case_routing": CASE_ROUTING,
    "escalate_on_severity": {
        "name": "escalate_on_severity",
        "entity": "incident",
        "trigger": {"event": "update", "attributes": ["prioritycode"]},
        "actions": [{"type": "set_fields", "fields": {"isescalated": True}}],
    },
    "survey_when_resolved": {
        "name": "survey_when_resolved",
        "entity": "incident",
        "trigger": {"event": "status_change", "to_status": [5]},
        "actions": [{"type": "notify", "fields": {"subject": "Survey: {title}"}}],
    },
    "tell_new_owner": {
        "name": "tell_new_owner",
        "entity": "incident",
        "trigger": "assign",
        "actions": [{"type": "notify", "fields": {"subject": "Assigned: {title}", "ownerid": {"from": "ownerid"}}}],
    },
    "complaint_task": {  # fails (a task needs a subject): the whole update rolls back
        "name": "complaint_task",
        "entity": "incident",
        "trigger": {"event": "update", "attributes": ["casetypecode"]},
        "filter": {"conditions": [{"attribute": "casetypecode", "value": 3}]},
        "actions": [
            {"type": "set_fields", "fields": {"isescalated": True}},
            {"type": "notify", "fields": {"description": "no subject"}},
        ],
    },
    "follow_up": {
        "name": "follow_up",
        "entity": "incident",
        "trigger": "create",
        "mode": "async",
        "filter": {"conditions": [{"attribute": "prioritycode", "value": 3}]},
        "actions": [
            {"type": "notify", "fields": {"subject": "Follow up: {title}"}},
            {"type": "wait", "minutes": 60},
            {"type": "set_fields", "fields": {"followupby": None, "customersatisfactioncode": 1}},
        ],
    },
    "cancel_case": {
        "name": "cancel_case",
        "entity": "incident",
        "trigger": "on_demand",
        "filter": {"conditions": [{"attribute": "statecode", "value": 0}]},
        "actions": [{"type": "set_state", "state": 2, "status": 6}],
    },
}


def _tasks(service: Any, regarding: EntityReference) -> list[str]:
    query = QueryExpression(
        entity="task",
        columns=("subject",),
        criteria=FilterExpression("and", (ConditionExpression("regardingobjectid", "eq", (regarding.id,)),)),
    )
    return sorted(row["subject"] for row in service.retrieve_multiple(query))


def _queue_of(service: Any, record: uuid.UUID) -> str | None:
    query = QueryExpression(
        entity="queueitem",
        columns=("queueid",),
        criteria=FilterExpression("and", (ConditionExpression("objectid", "eq", (record,)),)),
    )
    items = service.retrieve_multiple(query).entities
    return service.retrieve("queue", items[0]["queueid"].id, ["name"])["name"] if items else None


def test_case_workflows(environment, write_solution) -> None:
    files = {f"workflows/{name}.yaml": body for name, body in WORKFLOWS.items()}
    files["roles/case_reader.yaml"] = {
        "name": "case_reader",
        "privileges": [{"entity": "incident", "read": "organization"}],
    }
    env = environment("case", write_solution(MANIFEST, files))
    now = [dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)]
    env.clock = lambda: now[0]
    service = env.service()
    unit = EntityReference("businessunit", ROOT_BUSINESS_UNIT_ID)
    tier1 = service.create(Entity("systemuser", domainname="tier1", fullname="Tier One", businessunitid=unit))
    tier2 = service.create(Entity("systemuser", domainname="tier2", fullname="Tier Two", businessunitid=unit))
    ann = service.create(Entity("contact", lastname="Ann", emailaddress1="ann@contoso.com", jobtitle="CEO"))
    bob = service.create(Entity("contact", lastname="Bob", emailaddress1="bob@contoso.com"))
    for name in ("Urgent", "General"):
        service.create(Entity("queue", name=name))

    # automatic case creation from an incoming email, linked back by regarding; the rule set routes it
    email = service.create(
        Entity(
            "email", subject="Printer broken", description="It smokes", sender="ann@contoso.com", directioncode=False
        )
    )
    regarding = service.retrieve("email", email, ["regardingobjectid"])["regardingobjectid"]
    assert regarding is not None and regarding.logical_name == "incident"
    case = service.retrieve("incident", regarding.id)
    assert (case["title"], case["description"], case["caseorigincode"]) == ("Email: Printer broken", "It smokes", 2)
    assert case["customerid"] == EntityReference("contact", ann)
    assert case["ownerid"] == EntityReference("systemuser", tier2), "first rule (VIP customer) wins"
    assert _queue_of(service, case.id) is None
    assert _tasks(service, regarding) == ["Assigned: Email: Printer broken"], "routing to a user assigns"
    for subject, sender, direction in (
        ("Out of office until Monday", "bob@contoso.com", False),
        ("Printer", "bob@fabrikam.com", False),
        ("Printer", "bob@contoso.com", True),
    ):
        other = service.create(Entity("email", subject=subject, sender=sender, directioncode=direction))
        assert service.retrieve("email", other, ["regardingobjectid"])["regardingobjectid"] is None

    # routing: the second rule matches (and stops), the default rule catches the rest
    customer = EntityReference("contact", bob)
    urgent = service.create(Entity("incident", title="Urgent", customerid=customer, prioritycode=1))
    row = service.retrieve("incident", urgent)
    assert (_queue_of(service, urgent), row["title"], row["casetypecode"]) == ("Urgent", "Urgent", None)
    normal = service.create(Entity("incident", title="Normal", customerid=customer, prioritycode=2))
    row = service.retrieve("incident", normal)
    assert (_queue_of(service, normal), row["casetypecode"]) == ("General", 2)

    # update trigger limited to attributes
    service.update(Entity("incident", {"title": "Normal case"}, id=normal))
    assert service.retrieve("incident", normal)["isescalated"] is False
    service.update(Entity("incident", {"prioritycode": 1}, id=normal))
    assert service.retrieve("incident", normal)["isescalated"] is True

    # status change to "Problem Solved" only; assign
    reference = EntityReference("incident", normal)
    service.set_state("incident", normal, 2, 6)
    service.set_state("incident", normal, 0, 1)
    assert _tasks(service, reference) == []
    service.set_state("incident", normal, 1, 5)
    assert _tasks(service, reference) == ["Survey: Normal case"]
    service.set_state("incident", normal, 0, 1)
    service.assign("incident", normal, EntityReference("systemuser", tier1))
    assert _tasks(service, reference) == ["Assigned: Normal case", "Survey: Normal case"]

    # a sync workflow's error rolls the triggering update back
    with pytest.raises(ValidationError) as error:
        service.update(Entity("incident", {"casetypecode": 3, "title": "Complaint"}, id=urgent))
    assert "subject" in str(error.value)
    row = service.retrieve("incident", urgent)
    assert (row["casetypecode"], row["title"], row["isescalated"]) == (None, "Urgent", False)

    # async: queued with the create, run by the job worker, waits an hour, then continues
    slow = service.create(Entity("incident", title="Slow", customerid=customer, prioritycode=3))
    slow_ref = EntityReference("incident", slow)
    assert _tasks(service, slow_ref) == [], "async: nothing happens in the transaction"
    assert run_due_jobs(env) == 4, "one per case created: the filter is evaluated when the job runs"
    assert _tasks(service, slow_ref) == ["Follow up: Slow"]
    assert _tasks(service, EntityReference("incident", urgent)) == [], "not a low priority case"
    now[0] += dt.timedelta(minutes=59)
    assert run_due_jobs(env) == 0, "still waiting"
    assert service.retrieve("incident", slow)["customersatisfactioncode"] is None
    now[0] += dt.timedelta(minutes=2)
    assert run_due_jobs(env) == 1
    assert service.retrieve("incident", slow)["customersatisfactioncode"] == 1
    assert [s.status for s in job_statuses(env, record_id=slow)] == ["succeeded", "succeeded"]

    # on demand, through the run_workflow action, as the caller (its filter still applies)
    reader = service.create(Entity("systemuser", domainname="reader", fullname="Reader", businessunitid=unit))
    service.assign_role(EntityReference("systemuser", reader), "case_reader")
    with pytest.raises(AccessDeniedError):
        env.service(reader).execute_action("run_workflow", {"workflow": "cancel_case"}, slow_ref)
    assert service.retrieve("incident", slow)["statuscode"] == 1
    result = service.execute_action("run_workflow", {"workflow": "cancel_case"}, slow_ref)
    assert result["status"] == "completed" and service.retrieve("incident", slow)["statuscode"] == 6
    result = service.execute_action("run_workflow", {"workflow": "cancel_case"}, slow_ref)
    assert result["status"] == "skipped"


# --- a custom entity, defined only in a test solution --------------------------------------------

CUSTOM = {
    "name": "wfc",
    "display_name": "Workflow custom",
    "version": "1.0.0",
    "publisher": {"name": "T", "prefix": "wfc"},
}
ACTIVE_CLOSED = {
    "states": [
        {
            "value": 0,
            "name": "active",
            "label": "Active",
            "default_status": 1,
            "statuses": [{"value": 1, "label": "New"}],
        },
        {
            "value": 1,
            "name": "closed",
            "label": "Closed",
            "default_status": 2,
            "statuses": [{"value": 2, "label": "Done"}],
        },
    ]
}
CUSTOM_FILES: dict[str, Any] = {
    "entities/wfc_product.yaml": {
        "logical_name": "wfc_product",
        "display_name": "Product",
        "primary_name": "wfc_name",
        "attributes": {"wfc_name": {"type": "string"}, "wfc_tier": {"type": "integer"}, "wfc_last": {"type": "string"}},
    },
    "entities/wfc_ticket.yaml": {
        "logical_name": "wfc_ticket",
        "display_name": "Ticket",
        "primary_name": "wfc_title",
        "attributes": {
            "wfc_title": {"type": "string"},
            "wfc_requester": {"type": "string"},
            "wfc_productid": {"type": "lookup", "target": "wfc_product"},
            "wfc_priority": {"type": "integer"},
            "wfc_escalated": {"type": "boolean", "default": False},
            "wfc_answered": {"type": "boolean", "default": False},
        },
        "queue_enabled": True,
        "states": ACTIVE_CLOSED,
    },
    "entities/wfc_request.yaml": {
        "logical_name": "wfc_request",
        "display_name": "Request",
        "primary_name": "wfc_name",
        "attributes": {
            "wfc_name": {"type": "string"},
            "wfc_sender": {"type": "string"},
            "wfc_kind": {"type": "choice", "options": [{"value": 1, "label": "Bug"}, {"value": 2, "label": "Thanks"}]},
            "wfc_productid": {"type": "lookup", "target": "wfc_product"},
            "wfc_ticketid": {"type": "lookup", "target": "wfc_ticket"},
        },
    },
    "workflows/request_to_ticket.yaml": {
        "name": "request_to_ticket",
        "entity": "wfc_request",
        "trigger": "create",
        "filter": {"conditions": [{"attribute": "wfc_kind", "value": 1}]},
        "actions": [
            {
                "type": "create_record",
                "entity": "wfc_ticket",
                "fields": {
                    "wfc_title": "Bug: {wfc_name}",
                    "wfc_requester": {"from": "wfc_sender"},
                    "wfc_productid": {"from": "wfc_productid"},
                },
                "link_back": "wfc_ticketid",
            },
            {"type": "set_fields", "record": "wfc_productid", "fields": {"wfc_last": "{wfc_name} from {wfc_sender}"}},
        ],
    },
    "workflows/ticket_routing.yaml": {
        "name": "ticket_routing",
        "entity": "wfc_ticket",
        "trigger": "create",
        "links": [{"entity": "wfc_product", "from": "wfc_productid", "to": "wfc_productid", "alias": "product"}],
        "rules": [
            {
                "name": "premium",
                "filter": {
                    "conditions": [{"entity": "product", "attribute": "wfc_tier", "operator": "ge", "value": 2}]
                },
                "actions": [
                    {"type": "route", "user": {"find": "systemuser", "where": {"domainname": "premium"}}},
                    {"type": "set_fields", "fields": {"wfc_priority": 1}},
                ],
            },
            {
                "name": "standard",
                "actions": [
                    {
                        "type": "run_action",
                        "action": "add_to_queue",
                        "parameters": {"queue": {"find": "queue", "where": {"name": "Standard"}}},
                    },
                    {"type": "set_fields", "fields": {"wfc_priority": 3}},
                ],
            },
        ],
    },
    "workflows/escalate_urgent.yaml": {
        "name": "escalate_urgent",
        "entity": "wfc_ticket",
        "trigger": {"event": "schedule", "every_minutes": 30},
        "mode": "async",
        "filter": {
            "conditions": [
                {"attribute": "wfc_priority", "value": 1},
                {"attribute": "wfc_escalated", "value": False},
                {"attribute": "statecode", "value": 0},
            ]
        },
        "actions": [{"type": "set_fields", "fields": {"wfc_escalated": True}}],
    },
    "workflows/close_when_answered.yaml": {
        "name": "close_when_answered",
        "entity": "wfc_ticket",
        "trigger": {"event": "update", "attributes": ["wfc_requester"]},
        "mode": "async",
        "actions": [
            {
                "type": "wait",
                "until": {"conditions": [{"attribute": "wfc_answered", "value": True}]},
                "poll_minutes": 10,
            },
            {"type": "set_state", "state": 1},
        ],
    },
}


def test_custom_entity_workflows(environment, write_solution) -> None:
    env = environment(write_solution(CUSTOM, CUSTOM_FILES))
    now = [dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)]
    env.clock = lambda: now[0]
    service = env.service()
    unit = EntityReference("businessunit", ROOT_BUSINESS_UNIT_ID)
    premium = service.create(Entity("systemuser", domainname="premium", fullname="Premium", businessunitid=unit))
    gold = EntityReference("wfc_product", service.create(Entity("wfc_product", wfc_name="Gold", wfc_tier=2)))
    basic = EntityReference("wfc_product", service.create(Entity("wfc_product", wfc_name="Basic", wfc_tier=1)))
    service.create(Entity("queue", name="Standard"))

    # automatic creation of a ticket from a request, routed on its product (a parent record)
    request = service.create(Entity("wfc_request", wfc_name="Crash", wfc_sender="kim", wfc_kind=1, wfc_productid=gold))
    ticket_ref = service.retrieve("wfc_request", request)["wfc_ticketid"]
    ticket = service.retrieve("wfc_ticket", ticket_ref.id)
    assert (ticket["wfc_title"], ticket["wfc_requester"], ticket["wfc_productid"]) == ("Bug: Crash", "kim", gold)
    assert (ticket["ownerid"], ticket["wfc_priority"]) == (EntityReference("systemuser", premium), 1)
    assert service.retrieve("wfc_product", gold.id)["wfc_last"] == "Crash from kim", "set on the parent"
    thanks = service.create(Entity("wfc_request", wfc_name="Thanks", wfc_kind=2, wfc_productid=gold))
    assert service.retrieve("wfc_request", thanks)["wfc_ticketid"] is None
    plain = service.create(Entity("wfc_ticket", wfc_title="Question", wfc_productid=basic))
    assert service.retrieve("wfc_ticket", plain)["wfc_priority"] == 3
    assert (_queue_of(service, ticket_ref.id), _queue_of(service, plain)) == (None, "Standard")

    # a schedule: the timer queues the first run once; each run queues the next
    assert run_timers(env) >= 1 and run_timers(env) >= 1
    assert run_due_jobs(env) == 1
    assert service.retrieve("wfc_ticket", ticket_ref.id)["wfc_escalated"] is True
    assert service.retrieve("wfc_ticket", plain)["wfc_escalated"] is False, "not selected by the filter"
    later = service.create(Entity("wfc_ticket", wfc_title="Later", wfc_productid=gold))
    assert run_due_jobs(env) == 0, "the next run is due in 30 minutes"
    now[0] += dt.timedelta(minutes=31)
    run_timers(env)
    assert run_due_jobs(env) == 1
    assert service.retrieve("wfc_ticket", later)["wfc_escalated"] is True
    runs = job_statuses(env, record_id=schedule_id(env.model.workflows["escalate_urgent"].metadata))
    assert [run.status for run in runs] == ["succeeded", "succeeded", "pending"], "one chain of runs"

    # wait until a condition holds, looked at every 10 minutes (a record deleted meanwhile ends the run)
    gone = service.create(Entity("wfc_ticket", wfc_title="Gone", wfc_productid=basic))
    service.update(Entity("wfc_ticket", {"wfc_requester": "joe"}, id=gone))
    assert run_due_jobs(env) == 1
    service.delete("wfc_ticket", gone)
    service.update(Entity("wfc_ticket", {"wfc_title": "not a trigger attribute"}, id=plain))
    assert run_due_jobs(env) == 0
    service.update(Entity("wfc_ticket", {"wfc_requester": "lee"}, id=plain))
    assert run_due_jobs(env) == 1
    service.update(Entity("wfc_ticket", {"wfc_answered": True}, id=plain))
    now[0] += dt.timedelta(minutes=5)
    assert run_due_jobs(env) == 0 and service.retrieve("wfc_ticket", plain)["statecode"] == 0
    now[0] += dt.timedelta(minutes=6)
    assert run_due_jobs(env) == 2, "the waits of both tickets"
    assert service.retrieve("wfc_ticket", plain)["statecode"] == 1
    assert {run.status for run in job_statuses(env, record_id=gone)} == {"succeeded"}


def test_validate_reports_workflow_mistakes_with_file_and_line(write_solution, database_url) -> None:
    from typer.testing import CliRunner

    from xrm.cli import app

    bad = dict(CUSTOM_FILES)
    bad["workflows/typo.yaml"] = (
        "name: typo\nentity: wfc_ticket\ntrigger: create\nactions:\n"
        "  - {type: set_fields, fields: {wfc_priority: 2}}\n"
        "  - {type: send_mail, to: someone}\n"
    )
    bad["workflows/unknown_attribute.yaml"] = (
        "name: unknown_attribute\nentity: wfc_ticket\ntrigger: create\nactions:\n"
        "  - type: create_record\n    entity: wfc_request\n    fields:\n      wfc_name: x\n      wfc_colour: red\n"
        "  - {type: assign, owner: {find: queue, where: {name: Standard}}}\n"
    )
    bad["workflows/not_routable.yaml"] = (
        "name: not_routable\nentity: wfc_request\ntrigger: create\nactions:\n"
        "  - type: route\n    queue: {find: queue, where: {name: Standard}}\n"
    )
    folder = write_solution(CUSTOM, bad)
    result = CliRunner().invoke(app, ["solution", "validate", str(folder), "--database", database_url])
    output = result.output.replace(str(folder) + "/", "")
    assert result.exit_code == 1, output
    assert "workflows/typo.yaml:6:" in output and "send_mail" in output, output
    assert "workflows/not_routable.yaml:5:" in output and "'wfc_request' does not have it" in output
    assert "workflows/unknown_attribute.yaml:10:" in output and "expected a systemuser or team record" in output
    assert "workflows/unknown_attribute.yaml:9:" in output and "'wfc_request' has no attribute 'wfc_colour'" in output
