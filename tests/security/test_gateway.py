"""All reads on entity tables made for a caller go through the gateways that add the access predicate.

The test runs a broad workload as a user restricted to its business unit (service messages,
queries with link-entities and aggregates, audit history, a plugin action, GraphQL lists, nested
connections, lookups, aggregates and views) and records every SELECT that touches an entity table
with the module that executed it. It fails when a module outside :data:`ALLOWED` reads entity
rows, and when a gateway statement on a user-owned table lacks the share predicate.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert

from xrm.data import Entity, EntityReference
from xrm.data.environment import ROOT_BUSINESS_UNIT_ID
from xrm.graphql import build_schema, context_for
from xrm.query import Aggregate, LinkEntity, QueryExpression
from xrm.schema.platform_tables import role_member_table

ROOT = Path(__file__).resolve().parents[2]

# module that executes the SELECT -> why it may
ALLOWED = {
    "platform/xrm/data/reading.py": "the service's query gateway: compile_query with the caller's read filter",
    "platform/xrm/graphql/gateway.py": "the GraphQL read gateway: compile_query with the caller's read filter",
    "platform/xrm/security/policy.py": "the record checks themselves (the same predicate, on one record)",
    "platform/xrm/security/principal.py": "the caller's own user, teams and business units",
    "platform/xrm/data/rows.py": "by-key reads of a record the caller was checked on (images, references, cascades)",
    "platform/xrm/data/rollup.py": "stored rollups, computed as the system like Dataverse rollup fields",
    "plugins/xrm_activity_rollup/plugin.py": "stored rollups (system) and retrieve_activities (with service.read_filter)",
    "plugins/xrm_sla/conditions.py": "SLA conditions on the record just written, as the system (as Dataverse SLAs)",
    "plugins/xrm_sla/plugin.py": "countdown inputs of the KPI instances the caller's own read returned, by key",
}
GATEWAYS = {"platform/xrm/data/reading.py", "platform/xrm/graphql/gateway.py"}


def _executor() -> str:
    for frame in inspect.stack()[2:]:
        path = Path(frame.filename).resolve()
        if "sqlalchemy" in path.parts or not path.is_relative_to(ROOT):
            continue
        return path.relative_to(ROOT).as_posix()
    return "?"


@contextmanager
def recorded(environment: Any) -> Iterator[list[tuple[str, str]]]:
    names = "|".join(re.escape(t) for t in environment.tables.tables)
    touches = re.compile(rf'\b(?:FROM|JOIN)\s+"?({names})"?(?:\s|$|\))', re.IGNORECASE)
    seen: list[tuple[str, str]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and touches.search(statement):
            seen.append((_executor(), statement))

    event.listen(environment.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(environment.engine, "before_cursor_execute", listen)


def _user(system: Any, environment: Any, name: str, unit: uuid.UUID, role: str) -> uuid.UUID:
    user = system.create(
        Entity(
            "systemuser",
            {"domainname": name, "fullname": name, "businessunitid": EntityReference("businessunit", unit)},
        )
    )
    with environment.engine.begin() as connection:
        connection.execute(
            insert(role_member_table).values(
                principalid=user, role=role, principaltype="systemuser", createdon=dt.datetime.now(dt.UTC)
            )
        )
    return user


def test_reads_for_a_caller_go_through_the_gateways(environment) -> None:
    env = environment("case")
    system = env.service()
    unit = system.create(
        Entity(
            "businessunit",
            {"name": "Support", "parentbusinessunitid": EntityReference("businessunit", ROOT_BUSINESS_UNIT_ID)},
        )
    )
    agent = _user(system, env, "agent", unit, "customer_service_representative")
    account = system.create(Entity("account", {"name": "Contoso"}))
    customer = EntityReference("account", account)
    case = env.service(agent).create(Entity("incident", {"title": "Printer", "customerid": customer}))
    system.create(Entity("incident", {"title": "Not theirs", "customerid": customer}))
    env.service(agent).create(
        Entity("task", {"subject": "Call back", "regardingobjectid": EntityReference("incident", case)})
    )
    service = env.service(agent)
    schema = build_schema(env)
    documents = [
        "{ incidents(first: 10) { totalCount nodes { title customer { ... on Account { name } } "
        "owner { ... on Systemuser { fullname } } "
        "tasks: incidentTaskRegardingobjectid(first: 5) { totalCount nodes { subject } } } } }",
        "{ incidentsAggregate(groupBy: [{field: statecode}]) { count } }",
        '{ view(entity: incident, name: "Active Cases", first: 5) { totalCount } }',
        "{ accounts(first: 5) { nodes { name incidents: incidentCustomerAccounts(first: 3) { nodes { title } } } } }",
    ]
    with recorded(env) as seen:
        service.retrieve("incident", case)
        service.update(Entity("incident", {"title": "Printer jam"}, id=case))
        service.retrieve_multiple(
            QueryExpression(
                "incident",
                columns=("title",),
                links=(LinkEntity("account", "accountid", "customerid", alias="c", columns=("name",), join="outer"),),
            )
        )
        service.retrieve_multiple(
            QueryExpression("incident", aggregates=(Aggregate("n", "count_column", "incidentid"),))
        )
        service.audit_history("incident", case)
        service.execute_action("retrieve_activities", target=EntityReference("incident", case))
        for document in documents:
            result = schema.execute_sync(document, context_value=context_for(env, agent))
            assert not result.errors, result.errors
    assert seen, "the workload read entity tables"
    outside = sorted({module for module, _ in seen} - set(ALLOWED))
    assert not outside, f"modules reading entity tables outside the gateways: {outside}"
    unguarded = [
        sql
        for module, sql in seen
        if module in GATEWAYS and '"incident"' in sql.replace("incident ", '"incident" ') and "_xrm_share" not in sql
    ]
    assert not unguarded, f"gateway statements on incident without the access predicate: {unguarded[:2]}"
