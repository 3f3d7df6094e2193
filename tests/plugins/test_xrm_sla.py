"""SLAs: KPI instances of Cases and of a custom entity, driven through the organization service
with an explicit clock (no sleeping); timers moved by ``check_sla_timers``; metadata mistakes
reported with file and line."""

from __future__ import annotations

import datetime as dt
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
from xrm.data import SYSTEM_USER_ID, Entity, EntityReference
from xrm.errors import ValidationError
from xrm.graphql import build_schema, context_for
from xrm.plugin import load_timers
from xrm.query import ConditionExpression, FilterExpression, QueryExpression
from xrm_sla import KpiStatus, check_sla_timers

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)  # a Monday


class Clock:
    """The environment's clock, moved by the test."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def at(self, minutes: int) -> dt.datetime:
        self.now = T0 + dt.timedelta(minutes=minutes)
        return self.now


def minutes(value: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=value)


def utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


def kpi(service: Any, record: EntityReference, field: str) -> Entity:
    """The KPI instance a record's KPI lookup holds, datetimes in UTC."""
    reference = service.retrieve(record.logical_name, record.id, [field])[field]
    instance = service.retrieve("slakpiinstance", reference.id)
    for name, value in list(instance.items()):
        if isinstance(value, dt.datetime):
            instance[name] = utc(value)
    return instance


def instances_of(service: Any, record: EntityReference) -> list[Entity]:
    condition = ConditionExpression("regarding", "eq", (record.id,))
    query = QueryExpression("slakpiinstance", criteria=FilterExpression("and", (condition,)))
    return list(service.retrieve_multiple(query))


def activities(service: Any, entity: str, record: EntityReference) -> list[str]:
    condition = ConditionExpression("regardingobjectid", "eq", (record.id,))
    query = QueryExpression(entity, columns=("subject",), criteria=FilterExpression("and", (condition,)))
    return sorted(row["subject"] for row in service.retrieve_multiple(query))


# --- Case (incident) with the shipped standard SLA ---------------------------------------------------


def test_case_kpis_pause_resume_warn_fail_and_succeed_with_the_standard_sla(environment: Any) -> None:
    env = environment("case")
    clock = Clock(T0)
    env.clock = clock
    service = env.service()
    account = EntityReference("account", service.create(Entity("account", name="Contoso")))
    case = EntityReference(
        "incident", service.create(Entity("incident", title="Outage", customerid=account, prioritycode=1))
    )

    assert service.retrieve("incident", case.id, ["slaname"])["slaname"] == "standard_case_sla", "the default SLA"
    resolve = kpi(service, case, "resolvebykpiid")
    assert (resolve["slaitemname"], resolve["status"]) == ("high_priority_resolution", KpiStatus.IN_PROGRESS)
    assert (resolve["warningtime"], resolve["failuretime"]) == (minutes(240), minutes(480))
    assert resolve["countdownminutes"] == 480
    assert kpi(service, case, "firstresponsebykpiid")["slaitemname"] == "high_priority_first_response"

    clock.at(20)
    service.set_state("incident", case.id, 0, 2)  # On Hold: a pause status of the SLA
    resolve = kpi(service, case, "resolvebykpiid")
    assert (resolve["status"], resolve["pausedon"], resolve["elapsedminutes"]) == (KpiStatus.PAUSED, minutes(20), 20)
    clock.at(100)
    assert kpi(service, case, "resolvebykpiid")["countdownminutes"] == 460, "frozen while paused"
    assert check_sla_timers(env) == 0, "paused KPIs do not time out (first response was due at +60)"

    clock.at(140)
    service.set_state("incident", case.id, 0, 1)  # back In Progress: 120 minutes paused
    resolve = kpi(service, case, "resolvebykpiid")
    assert (resolve["status"], resolve["pausedminutes"], resolve["pausedon"]) == (KpiStatus.IN_PROGRESS, 120, None)
    assert (resolve["warningtime"], resolve["failuretime"]) == (minutes(360), minutes(600)), "moved by the pause"
    first = kpi(service, case, "firstresponsebykpiid")
    assert (first["warningtime"], first["failuretime"]) == (minutes(150), minutes(180))

    assert check_sla_timers(env, minutes(149)) == 0
    assert check_sla_timers(env, minutes(150)) == 1
    assert kpi(service, case, "firstresponsebykpiid")["status"] == KpiStatus.NEARING_NONCOMPLIANCE
    clock.at(160)
    service.update(Entity("incident", {"firstresponsesent": True}, id=case.id))
    first = kpi(service, case, "firstresponsebykpiid")
    assert (first["status"], first["succeededon"], first["elapsedminutes"]) == (KpiStatus.SUCCEEDED, minutes(160), 40)
    assert first["countdownminutes"] is None
    assert check_sla_timers(env, minutes(300)) == 0, "a met KPI is stopped: its failure time passes unnoticed"
    assert service.retrieve("incident", case.id, ["isescalated"])["isescalated"] is False

    assert check_sla_timers(env, minutes(359)) == 0
    assert check_sla_timers(env, minutes(360)) == 1
    assert kpi(service, case, "resolvebykpiid")["status"] == KpiStatus.NEARING_NONCOMPLIANCE
    assert activities(service, "email", case) == ["The case is nearing its resolve-by time"], "warning: notify"
    assert check_sla_timers(env, minutes(599)) == 0
    assert check_sla_timers(env, minutes(600)) == 1
    resolve = kpi(service, case, "resolvebykpiid")
    assert (resolve["status"], resolve["elapsedminutes"]) == (KpiStatus.NONCOMPLIANT, 480)
    assert service.retrieve("incident", case.id, ["isescalated"])["isescalated"] is True, "failure: set fields"
    assert len(activities(service, "email", case)) == 2
    clock.at(610)
    assert kpi(service, case, "resolvebykpiid")["countdownminutes"] == -10, "overdue"
    assert check_sla_timers(env, minutes(700)) == 0, "each action runs once"
    assert len(activities(service, "email", case)) == 2

    clock.at(720)
    service.set_state("incident", case.id, 1, 5)  # resolved after the failure: stays noncompliant
    resolve = kpi(service, case, "resolvebykpiid")
    assert (resolve["status"], resolve["succeededon"]) == (KpiStatus.NONCOMPLIANT, minutes(720))


def test_case_kpis_follow_the_priority_succeed_on_resolve_and_refuse_an_unknown_sla(
    environment: Any, database_url: str
) -> None:
    env = environment("case")
    clock = Clock(T0)
    env.clock = clock
    service = env.service()
    account = EntityReference("account", service.create(Entity("account", name="Fabrikam")))
    case = EntityReference("incident", service.create(Entity("incident", title="Slow", customerid=account)))
    normal = kpi(service, case, "resolvebykpiid")
    assert (normal["slaitemname"], normal["failuretime"]) == ("resolution", minutes(4320))

    clock.at(30)
    service.update(Entity("incident", {"prioritycode": 1}, id=case.id))  # another item applies now
    high = kpi(service, case, "resolvebykpiid")
    assert high.id != normal.id and high["slaitemname"] == "high_priority_resolution"
    assert high["failuretime"] == minutes(480), "counted from the case's createdon"
    assert service.retrieve("slakpiinstance", normal.id)["status"] == KpiStatus.CANCELED

    clock.at(90)
    service.set_state("incident", case.id, 1, 5)  # resolved in time
    high = kpi(service, case, "resolvebykpiid")
    assert (high["status"], high["succeededon"], high["elapsedminutes"]) == (KpiStatus.SUCCEEDED, minutes(90), 90)
    first = kpi(service, case, "firstresponsebykpiid")
    assert first["status"] == KpiStatus.CANCELED, "closed without its success condition"
    assert check_sla_timers(env, minutes(5000)) == 0
    assert service.retrieve("incident", case.id, ["isescalated"])["isescalated"] is False
    statuses = sorted(i["status"] for i in instances_of(service, case))
    assert statuses == [KpiStatus.SUCCEEDED] + [KpiStatus.CANCELED] * 3, "first normal, then high priority items"

    before = len(service.retrieve_multiple(QueryExpression("incident", columns=("title",))))
    with pytest.raises(ValidationError) as raised:
        service.create(Entity("incident", title="Gold", customerid=account, slaname="gold_sla"))
    assert [p.attribute for p in raised.value.problems] == ["slaname"] and "gold_sla" in str(raised.value)
    assert len(service.retrieve_multiple(QueryExpression("incident", columns=("title",)))) == before

    clock.now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)  # overdue at the worker's (real) time
    late = EntityReference(
        "incident", service.create(Entity("incident", title="Late", customerid=account, prioritycode=1))
    )
    result = CliRunner().invoke(cli, ["worker", "--once", "--database", database_url])
    assert result.exit_code == 0, result.output
    assert kpi(service, late, "resolvebykpiid")["status"] == KpiStatus.NONCOMPLIANT, "xrm worker runs the timers"
    assert service.retrieve("incident", late.id, ["isescalated"])["isescalated"] is True


# --- a custom entity of a test solution -------------------------------------------------------------

MANIFEST = {
    "name": "tsla", "display_name": "SLA tests", "version": "1.0.0",
    "publisher": {"name": "Tests", "prefix": "tsla"}, "dependencies": [{"name": "system"}],
}  # fmt: skip
REQUEST = {
    "logical_name": "tsla_request",
    "display_name": "Service Request",
    "primary_name": "tsla_name",
    "has_activities": True,
    "sla_enabled": True,
    "attributes": {
        "tsla_name": {"type": "string", "max_length": 100, "required": "required"},
        "tsla_receivedon": {"type": "datetime"},
        "tsla_answered": {"type": "boolean", "default": False},
        "tsla_flagged": {"type": "boolean", "default": False},
        "tsla_slaname": {"type": "string", "max_length": 100},
        "tsla_responsekpiid": {"type": "lookup", "target": "slakpiinstance"},
    },
    "states": {
        "states": [
            {"value": 0, "name": "open", "label": "Open", "default_status": 1,
             "statuses": [{"value": 1, "label": "New"}, {"value": 2, "label": "Waiting on Customer"}]},
            {"value": 1, "name": "done", "label": "Done", "default_status": 3, "statuses": [{"value": 3, "label": "Done"}]},
        ]
    },
}  # fmt: skip
RESPONSE_KPI = {"name": "response", "kpi_field": "tsla_responsekpiid", "applicable_from": "tsla_receivedon"}
ANSWERED = {"conditions": [{"attribute": "tsla_answered", "value": True}]}
STANDARD = {
    "name": "tsla_standard",
    "entity": "tsla_request",
    "is_default": True,
    "pause_statuses": [2],
    "kpis": [RESPONSE_KPI],
    "items": [
        {
            "name": "respond", "kpi": "response", "success_conditions": ANSWERED, "warn_after": 60, "fail_after": 120,
            "actions": {
                "success": [{"notify": {"subject": "Answered in time"}}],
                "warning": [{"create_task": {"subject": "Answer the request", "description": "due soon"}}],
                "failure": [{"set_fields": {"tsla_flagged": True}}],
            },
        }
    ],
}  # fmt: skip
PREMIUM = {
    "name": "tsla_premium",
    "entity": "tsla_request",
    "pause_statuses": [2],
    "kpis": [RESPONSE_KPI],
    "items": [
        {
            "name": "respond_fast", "kpi": "response", "success_conditions": ANSWERED, "warn_after": 10,
            "fail_after": 20, "allow_pause": False, "actions": {"failure": [{"set_fields": {"tsla_flagged": True}}]},
        }
    ],
}  # fmt: skip
# The business-hours calendar of test_business_hours_calendar_counts_only_work_time. ASSUMED SHAPE
# (Mon-Fri 09:00-17:00 UTC): adapt to the real CalendarMetadata once the calendar work is merged.
BUSINESS_HOURS: dict[str, Any] = {
    "name": "tsla_business_hours",
    "time_zone": "UTC",
    "work_hours": [
        {"days": ["monday", "tuesday", "wednesday", "thursday", "friday"], "start": "09:00", "end": "17:00"}
    ],
}
OFFICE = {
    "name": "tsla_office",
    "entity": "tsla_request",
    "pause_statuses": [2],
    "kpis": [RESPONSE_KPI],
    "items": [
        {
            "name": "respond_in_office_hours", "kpi": "response", "success_conditions": ANSWERED,
            "warn_after": 120, "fail_after": 480, "calendar": "tsla_business_hours",
        }
    ],
}  # fmt: skip


def request_solution(write_solution: Any) -> Any:
    return write_solution(
        MANIFEST,
        {
            "entities/tsla_request.yaml": REQUEST,
            "slas/tsla_standard.yaml": STANDARD,
            "slas/tsla_premium.yaml": PREMIUM,
            "slas/tsla_office.yaml": OFFICE,
            "calendars/tsla_business_hours.yaml": BUSINESS_HOURS,
        },
    )


def graphql(env: Any, query: str) -> dict[str, Any]:
    """``query`` posted over HTTP to a GraphQL endpoint of the environment (as the system user)."""
    schema = build_schema(env)

    async def endpoint(request: Request) -> JSONResponse:
        body = await request.json()
        result = await run_in_threadpool(schema.execute_sync, body["query"], None, context_for(env, SYSTEM_USER_ID))
        assert not result.errors, result.errors
        return JSONResponse({"data": result.data})

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])]))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/graphql", json={"query": query})

    response = anyio.run(send)
    assert response.status_code == 200
    return response.json()["data"]  # type: ignore[no-any-return]


def test_custom_entity_sla_pauses_warns_with_a_task_succeeds_with_a_notification(
    environment: Any, write_solution: Any
) -> None:
    env = environment(request_solution(write_solution))
    clock = Clock(T0)
    env.clock = clock
    service = env.service()
    request = EntityReference(
        "tsla_request", service.create(Entity("tsla_request", tsla_name="Printer", tsla_receivedon=minutes(-30)))
    )
    assert service.retrieve("tsla_request", request.id, ["tsla_slaname"])["tsla_slaname"] == "tsla_standard"
    response = kpi(service, request, "tsla_responsekpiid")
    assert response["applicablefromvalue"] == minutes(-30), "counted from the KPI's 'applicable from' date"
    assert response["ownerid"] == service.retrieve("tsla_request", request.id, ["ownerid"])["ownerid"]
    assert (response["warningtime"], response["failuretime"]) == (minutes(30), minutes(90))

    clock.at(10)
    service.set_state("tsla_request", request.id, 0, 2)  # Waiting on Customer
    assert kpi(service, request, "tsla_responsekpiid")["status"] == KpiStatus.PAUSED
    assert check_sla_timers(env, minutes(200)) == 0
    clock.at(40)
    service.set_state("tsla_request", request.id, 0, 1)
    response = kpi(service, request, "tsla_responsekpiid")
    assert (response["status"], response["warningtime"], response["failuretime"]) == (
        KpiStatus.IN_PROGRESS, minutes(60), minutes(120),
    )  # fmt: skip

    assert check_sla_timers(env, minutes(60)) == 1
    assert activities(service, "task", request) == ["Answer the request"], "warning: create a task"
    data = graphql(env, '{ slakpiinstances(filter: {kpiname: {eq: "response"}}) { nodes { countdownminutes } } }')
    assert data["slakpiinstances"]["nodes"] == [{"countdownminutes": 80}], "120 - 40, read over GraphQL"

    clock.at(70)
    service.update(Entity("tsla_request", {"tsla_answered": True}, id=request.id))
    response = kpi(service, request, "tsla_responsekpiid")
    assert (response["status"], response["elapsedminutes"]) == (KpiStatus.SUCCEEDED, 70), "100 minutes less 30 paused"
    assert activities(service, "email", request) == ["Answered in time"], "success: notify"
    assert check_sla_timers(env, minutes(500)) == 0
    assert service.retrieve("tsla_request", request.id, ["tsla_flagged"])["tsla_flagged"] is False

    premium = EntityReference(
        "tsla_request",
        service.create(
            Entity("tsla_request", tsla_name="VIP", tsla_receivedon=minutes(70), tsla_slaname="tsla_premium")
        ),
    )
    service.set_state("tsla_request", premium.id, 0, 2)
    assert kpi(service, premium, "tsla_responsekpiid")["status"] == KpiStatus.IN_PROGRESS, "the item allows no pause"
    assert check_sla_timers(env, minutes(90)) == 1
    assert kpi(service, premium, "tsla_responsekpiid")["status"] == KpiStatus.NONCOMPLIANT
    assert service.retrieve("tsla_request", premium.id, ["tsla_flagged"])["tsla_flagged"] is True
    assert load_timers()["xrm_sla"] is check_sla_timers, "the job worker finds the check through its entry point"


def test_business_hours_calendar_counts_only_work_time(environment: Any, write_solution: Any) -> None:
    """Times in business hours of a Mon-Fri 09:00-17:00 UTC calendar (BUSINESS_HOURS)."""
    env = environment(request_solution(write_solution))
    friday = dt.datetime(2026, 3, 6, 16, 0, tzinfo=dt.UTC)
    clock = Clock(friday)
    env.clock = clock
    service = env.service()
    request = EntityReference(
        "tsla_request",
        service.create(Entity("tsla_request", tsla_name="Late", tsla_receivedon=friday, tsla_slaname="tsla_office")),
    )
    response = kpi(service, request, "tsla_responsekpiid")
    monday, tuesday = friday + dt.timedelta(days=3), friday + dt.timedelta(days=4)
    assert response["warningtime"] == monday.replace(hour=10), "60 minutes on Friday, 60 on Monday"
    assert response["failuretime"] == monday.replace(hour=16)

    clock.now = monday.replace(hour=9, minute=30)
    service.set_state("tsla_request", request.id, 0, 2)
    assert kpi(service, request, "tsla_responsekpiid")["elapsedminutes"] == 90
    clock.now = monday.replace(hour=12)
    assert kpi(service, request, "tsla_responsekpiid")["countdownminutes"] == 390, "paused: 09:30 to 16:00"
    clock.now = tuesday.replace(hour=9, minute=30)
    service.set_state("tsla_request", request.id, 0, 1)  # paused 450 business minutes on Monday, 30 on Tuesday
    response = kpi(service, request, "tsla_responsekpiid")
    assert response["pausedminutes"] == 480
    assert (response["warningtime"], response["failuretime"]) == (tuesday.replace(hour=10), tuesday.replace(hour=16))
    assert check_sla_timers(env, tuesday.replace(hour=9, minute=59)) == 0
    assert check_sla_timers(env, tuesday.replace(hour=10)) == 1
    assert check_sla_timers(env, tuesday.replace(hour=16)) == 1
    clock.now = tuesday.replace(hour=17, minute=30)
    assert kpi(service, request, "tsla_responsekpiid")["countdownminutes"] == -60, "overdue by business time only"


# --- metadata mistakes ------------------------------------------------------------------------------

BAD_SLA = """\
name: tbad_sla
entity: tbad_thing
pause_statuses: [7]
kpis:
  - name: response
    kpi_field: tbad_name
    applicable_from: createdon
  - {name: other, kpi_field: tbad_missing}
items:
  - name: respond
    kpi: respnse
    success_conditions:
      conditions:
        - {attribute: tbad_answered, value: true}
    warn_after: 10
    fail_after: 20
    calendar: tbad_nowhere
  - name: resolve
    kpi: response
    success_conditions: {conditions: [{attribute: tbad_name, value: done}]}
    warn_after: 10
    fail_after: 20
    calendar: tbad_holidays
"""
HOLIDAYS = {"name": "tbad_holidays", "holiday_schedule": True, "holidays": [{"name": "Closed", "date": "2026-06-01"}]}
BAD_ENTITY = {
    "logical_name": "tbad_thing", "primary_name": "tbad_name", "sla_enabled": True,
    "attributes": {"tbad_name": {"type": "string", "max_length": 100}},
}  # fmt: skip


def test_sla_mistakes_are_reported_with_file_and_line(write_solution: Any, tmp_path: Any) -> None:
    manifest = {**MANIFEST, "name": "tbad", "publisher": {"name": "Tests", "prefix": "tbad"}}
    files = {
        "entities/tbad_thing.yaml": BAD_ENTITY,
        "slas/tbad_sla.yaml": BAD_SLA,
        "calendars/tbad_holidays.yaml": HOLIDAYS,
    }
    folder = write_solution(manifest, files)
    database = f"sqlite:///{tmp_path / f'validate-{uuid.uuid4().hex}.db'}"

    result = CliRunner().invoke(cli, ["solution", "validate", str(folder), "--database", database])

    assert result.exit_code == 1, result.output
    output = result.output.replace(str(folder) + "/", "")
    for line, message in [
        (3, "7 is not a status of 'tbad_thing'"),
        (6, "'tbad_thing.tbad_name' is not a lookup to slakpiinstance"),
        (8, "'tbad_thing' has no attribute 'tbad_missing'"),
        (11, "unknown kpi 'respnse'"),
        (14, "'tbad_thing' has no attribute 'tbad_answered'"),
        (17, "unknown calendar 'tbad_nowhere'"),
        (23, "'tbad_holidays' is a holiday schedule, not a calendar with work hours"),
    ]:
        assert f"slas/tbad_sla.yaml:{line}:" in output and message in output, f"line {line}: {message}\n{output}"
