"""Case resolution, cancel and reactivate, end to end through GraphQL over HTTP as a Customer
Service Representative."""

from __future__ import annotations

import uuid
from typing import Any

from graphql_http import GraphQLClient, create_user
from xrm.data import Entity, EntityReference
from xrm.query import ConditionExpression, FilterExpression, QueryExpression

RESOLVE = "mutation($t: UUID!, $i: ResolveCaseInput!) { resolveCase(target: $t, input: $i) { incidentresolutionid } }"
CANCEL = "mutation($t: UUID!, $i: CancelCaseInput!) { cancelCase(target: $t, input: $i) { incidentresolutionid } }"
REACTIVATE = "mutation($t: UUID!) { reactivateCase(target: $t) }"


def _resolutions(system: Any, case: uuid.UUID) -> list[Entity]:
    query = QueryExpression(
        "incidentresolution",
        columns=("subject", "timespent", "billabletime", "resolutiontypecode", "statecode", "statuscode"),
        criteria=FilterExpression(conditions=(ConditionExpression("incidentid", "eq", (case,)),)),
    )
    return list(system.retrieve_multiple(query))


def test_cases_are_resolved_canceled_and_reactivated_over_graphql(environment, database_url) -> None:
    env = environment("case")
    system = env.service()
    ann = create_user(system, "Ann", "customer_service_representative")
    as_ann = env.service(ann)
    account = EntityReference("account", system.create(Entity("account", name="Contoso")))
    case = as_ann.create(Entity("incident", title="Printer on fire", customerid=account))
    case_ref = EntityReference("incident", case)

    def activity(entity: str, subject: str, minutes: int, close: bool) -> uuid.UUID:
        values = {"subject": subject, "regardingobjectid": case_ref, "actualdurationminutes": minutes}
        activity_id = as_ann.create(Entity(entity, values))
        if close:
            as_ann.set_state(entity, activity_id, 1)
        return activity_id

    activity("task", "Call back", 30, close=True)
    activity("phonecall", "First call", 15, close=True)
    open_task = activity("task", "Order toner", 10, close=False)

    client = GraphQLClient(database_url, env.engine, ann)

    def state(record: uuid.UUID = case) -> tuple[int, int]:
        row = system.retrieve("incident", record, ["statecode", "statuscode"])
        return row["statecode"], row["statuscode"]

    # refused while an activity is open: the error names it, nothing changes
    resolve = {"subject": "Replaced the fuser", "billableMinutes": 20}
    message = client.error(RESOLVE, {"t": str(case), "i": resolve})
    assert "1 open activity" in message and "Order toner" in message
    assert state() == (0, 1) and _resolutions(system, case) == []
    assert system.retrieve("task", open_task, ["statecode"])["statecode"] == 0

    # a canceled status is no Resolved status reason
    message = client.error(RESOLVE, {"t": str(case), "i": {**resolve, "status": 6}})
    assert "status 6" in message and "Resolved" in message
    assert state() == (0, 1) and _resolutions(system, case) == []

    # with cancel_open_activities: the open task is canceled, total = the completed activities' durations
    data = client.data(RESOLVE, {"t": str(case), "i": {**resolve, "cancelOpenActivities": True}})
    resolution_id = data["resolveCase"]["incidentresolutionid"]
    assert resolution_id
    assert system.retrieve("task", open_task, ["statecode"])["statecode"] == 2
    [resolution] = _resolutions(system, case)
    assert str(resolution.id) == str(resolution_id)
    assert resolution["timespent"] == 45 and resolution["billabletime"] == 20
    assert resolution["resolutiontypecode"] == 5 and resolution["statecode"] == 1
    assert state() == (1, 5)

    # a resolved case is read-only
    update = 'mutation($id: UUID!) { updateIncident(id: $id, input: {title: "renamed"}) { title } }'
    assert client.error(update, {"id": str(case)})
    assert system.retrieve("incident", case, ["title"])["title"] == "Printer on fire"

    # reactivate: active again, the resolution kept but canceled; then updates work
    client.data(REACTIVATE, {"t": str(case)})
    assert state() == (0, 1)
    [resolution] = _resolutions(system, case)
    assert resolution["statecode"] == 2
    client.data(update, {"id": str(case)})

    # cancel: a second resolution with the Canceled status
    data = client.data(CANCEL, {"t": str(case), "i": {"subject": "Duplicate"}})
    assert state() == (2, 6)
    resolutions = {str(r.id): r for r in _resolutions(system, case)}
    cancellation = resolutions[str(data["cancelCase"]["incidentresolutionid"])]
    assert cancellation["resolutiontypecode"] == 6 and cancellation["timespent"] == 45
    client.data(REACTIVATE, {"t": str(case)})
    assert state() == (0, 1)
