"""The queue plugin: queue items of cases and of a custom queue-enabled entity, through the service
and GraphQL over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import httpx
import pytest

from xrm.data import ROOT_BUSINESS_UNIT_ID, Entity, EntityReference, ExecutionContext
from xrm.errors import AccessDeniedError, NotFoundError, PluginExecutionError, ValidationError
from xrm.query import ConditionExpression, FilterExpression, QueryExpression, query_from_view
from xrm.server import ServerSettings, create_app, issue_token

PRIVATE = 1
ROOT = EntityReference("businessunit", ROOT_BUSINESS_UNIT_ID)


def ref(entity: str, record_id: Any) -> EntityReference:
    return EntityReference(entity, record_id)


def items_of(service: Any, record: EntityReference) -> list[Entity]:
    """Every queue item (active or not) of the record that the service's user may read."""
    query = QueryExpression(
        "queueitem",
        columns=("queueid", "workerid", "statecode", "title", "objecttypecode", "enteredon", "workeridmodifiedon"),
        criteria=FilterExpression(conditions=(ConditionExpression("objectid", "eq", (record.id,)),)),
    )
    return list(service.retrieve_multiple(query))


def user(system: Any, name: str, *roles: str) -> uuid.UUID:
    values = {"domainname": f"{name}-{uuid.uuid4().hex[:6]}", "fullname": name, "businessunitid": ROOT}
    user_id = system.create(Entity("systemuser", values))
    for role in roles:
        system.assign_role(ref("systemuser", user_id), role)
    return user_id


def test_cases_move_through_queues_with_workers_routing_and_private_queues(environment) -> None:
    env = environment("case")
    system = env.service()
    roles = ("team_member", "customer_service_representative")
    ann, bob, carl = (user(system, name, *roles) for name in ("Ann", "Bob", "Carl"))
    team = system.create(
        Entity("team", name="Tier 2 team", teamtype=0, businessunitid=ROOT, administratorid=ref("systemuser", ann))
    )
    tier1, tier2 = (ref("queue", system.create(Entity("queue", name=name))) for name in ("Tier 1", "Tier 2"))
    vip = ref("queue", system.create(Entity("queue", name="VIP", queueviewtype=PRIVATE)))
    system.associate("queue", vip.id, "queuemembership_association", [ref("systemuser", ann)])
    account = ref("account", system.create(Entity("account", name="Contoso")))
    as_ann, as_bob, as_carl = (env.service(u) for u in (ann, bob, carl))
    case = ref("incident", as_ann.create(Entity("incident", title="Printer on fire", customerid=account)))

    def add(service: Any, queue: EntityReference) -> uuid.UUID:
        result = service.execute_action("add_to_queue", {"queue": queue}, case)
        reference: EntityReference = result["queueitemid"]
        return reference.id

    item = add(as_ann, tier1)
    [row] = items_of(system, case)
    assert row.id == item and row["queueid"] == tier1 and row["statecode"] == 0 and row["enteredon"] is not None
    assert row["title"] == "Printer on fire" and row["objecttypecode"] == "incident"
    assert add(as_ann, tier2) == item, "a record in a queue moves: same item, new queue"
    assert add(as_ann, tier2) == item
    [row] = items_of(system, case)
    assert row["queueid"] == tier2

    as_bob.execute_action("pick_from_queue", {}, ref("queueitem", item))
    [row] = items_of(system, case)
    assert row["workerid"] == ref("systemuser", bob) and row["workeridmodifiedon"] is not None
    my_items = query_from_view(env.model.views[("queueitem", "Items I am Working On")].metadata)  # type: ignore[arg-type]
    assert [r.id for r in as_bob.retrieve_multiple(my_items)] == [item]
    assert list(as_ann.retrieve_multiple(my_items)) == []
    as_bob.execute_action("release_to_queue", {}, ref("queueitem", item))
    assert items_of(system, case)[0]["workerid"] is None

    as_ann.execute_action("route_to", {"user": ref("systemuser", bob)}, case)
    assert system.retrieve("incident", case.id, ["ownerid"])["ownerid"] == ref("systemuser", bob)
    [row] = items_of(system, case)
    assert row["queueid"] == tier2 and row["workerid"] == ref("systemuser", bob), "routed to a user: worked by them"
    as_bob.execute_action("route_to", {"team": ref("team", team)}, case)
    assert system.retrieve("incident", case.id, ["ownerid"])["ownerid"] == ref("team", team)
    assert items_of(system, case)[0]["workerid"] is None, "routed to a team: released"
    for wrong in ({}, {"queue": tier1, "user": ref("systemuser", bob)}):
        with pytest.raises(ValidationError, match="exactly one of queue, user and team"):
            as_ann.execute_action("route_to", wrong, case)

    # a private queue: only its members (and owner) add to it or work its items
    with pytest.raises(AccessDeniedError, match="'VIP' is private"):
        as_carl.execute_action("route_to", {"queue": vip}, case)
    assert items_of(system, case)[0]["queueid"] == tier2, "refused: nothing moved"
    assert [r.id for r in items_of(as_carl, case)] == [item], "Carl reads the items of public queues"
    as_ann.execute_action("route_to", {"queue": vip}, case)
    assert [r.id for r in items_of(as_ann, case)] == [item]
    assert items_of(as_carl, case) == [], "the items of a private queue are hidden from non-members"
    with pytest.raises(NotFoundError):
        as_carl.execute_action("pick_from_queue", {}, ref("queueitem", item))
    owner_before = system.retrieve("incident", case.id, ["ownerid"])["ownerid"]
    with pytest.raises(AccessDeniedError, match=r"the worker \(.*\) is not a member"):
        as_ann.execute_action("route_to", {"user": ref("systemuser", carl)}, case)
    assert system.retrieve("incident", case.id, ["ownerid"])["ownerid"] == owner_before, "the assignment rolled back"

    as_ann.execute_action("pick_from_queue", {"remove": True}, ref("queueitem", item))
    [row] = items_of(system, case)
    assert row["workerid"] == ref("systemuser", ann) and row["statecode"] == 1, "picked and removed"
    second = add(as_ann, tier1)
    assert second != item, "an inactive item stays history; the record enters the queue anew"
    as_ann.set_state("incident", case.id, 1, 5)  # resolved
    assert {r.id: r["statecode"] for r in items_of(system, case)} == {item: 1, second: 1}, "closing removes it"


QUEUED = {
    "logical_name": "tst_job",
    "display_name": "Job",
    "primary_name": "tst_name",
    "queue_enabled": True,
    "attributes": {"tst_name": {"type": "string", "max_length": 100, "required": "required"}},
    "states": {
        "states": [
            {
                "value": 0,
                "name": "open",
                "label": "Open",
                "default_status": 1,
                "statuses": [{"value": 1, "label": "Open"}],
            },
            {
                "value": 1,
                "name": "done",
                "label": "Done",
                "default_status": 2,
                "statuses": [{"value": 2, "label": "Done"}],
            },
        ]
    },
}
# by module path, so the HTTP application built below finds it too
FAILING_STEP = {
    "name": "explode",
    "plugin": f"{__name__}:explode",
    "message": "create",
    "entity": "queueitem",
    "stage": 40,
}


def explode(context: ExecutionContext) -> None:
    if context.target.get("title") == "explode":  # type: ignore[union-attr]
        raise RuntimeError("the queue item exploded")


def test_a_custom_entity_is_queued_and_graphql_adds_to_queues(environment, write_solution, database_url) -> None:
    manifest = {
        "name": "jobs",
        "display_name": "Jobs",
        "version": "1.0.0",
        "publisher": {"name": "Test", "prefix": "tst"},
    }
    folder = write_solution(manifest, {"entities/tst_job.yaml": QUEUED, "plugins.yaml": {"steps": [FAILING_STEP]}})
    env = environment(folder)
    system = env.service()
    queue = ref("queue", system.create(Entity("queue", name="Jobs")))
    job = ref("tst_job", system.create(Entity("tst_job", tst_name="Paint the fence")))
    with pytest.raises(ValidationError, match="'account' does not have queue_enabled"):
        system.execute_action(
            "add_to_queue", {"queue": queue}, ref("account", system.create(Entity("account", name="A")))
        )

    item = system.execute_action("add_to_queue", {"queue": queue}, job)["queueitemid"]
    worker = user(system, "Wendy")
    system.execute_action("pick_from_queue", {"worker": ref("systemuser", worker)}, item)
    assert items_of(system, job)[0]["workerid"] == ref("systemuser", worker)
    with pytest.raises(ValidationError, match="objectid"):
        system.update(Entity("queueitem", {"objectid": ref("tst_job", uuid.uuid4())}, id=item.id))
    system.execute_action("remove_from_queue", {}, item)
    assert items_of(system, job)[0]["statecode"] == 1
    again = system.execute_action("add_to_queue", {"queue": queue}, job)["queueitemid"]
    system.set_state("tst_job", job.id, 1)
    assert {r.id: r["statecode"] for r in items_of(system, job)} == {item.id: 1, again.id: 1}

    boom = ref("tst_job", system.create(Entity("tst_job", tst_name="explode")))
    with pytest.raises(PluginExecutionError, match="exploded"):
        system.execute_action("add_to_queue", {"queue": queue}, boom)
    assert items_of(system, boom) == [], "the failed step rolled the queue item back"

    # GraphQL over HTTP: the typed mutation takes the record as a RecordReference
    other = ref("tst_job", system.create(Entity("tst_job", tst_name="Mow the lawn")))
    app = create_app(ServerSettings(database=database_url, run_worker=False))
    token = issue_token(env.engine, worker, "queue test").token
    system.assign_role(ref("systemuser", worker), "system_administrator")
    added = _graphql(
        app,
        token,
        "mutation($t: RecordReference!, $q: UUID!) { addToQueue(target: $t, input: {queue: $q}) { queueitemid } }",
        {"t": {"entity": "tst_job", "id": str(other.id)}, "q": str(queue.id)},
    )
    read = _graphql(
        app,
        token,
        "query($id: UUID!) { queueitem(id: $id) { title objecttypecode queue { name } } }",
        {"id": added["addToQueue"]["queueitemid"]},
    )
    app.state.reloader.engine.dispose()
    assert read == {"queueitem": {"title": "Mow the lawn", "objecttypecode": "tst_job", "queue": {"name": "Jobs"}}}
    system.delete("tst_job", other.id)
    assert items_of(system, other) == [], "queue items go with their record"


def _graphql(app: Any, token: str, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://xrm.test") as client:
            body = {"query": document, "variables": variables}
            return await client.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})

    answer = anyio.run(send).json()
    assert not answer.get("errors"), answer["errors"]
    data: dict[str, Any] = answer["data"]
    return data
