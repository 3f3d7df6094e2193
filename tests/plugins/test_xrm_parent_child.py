"""Parent and child records (``xrm_parent_child``): the Case solution's parent and child cases end
to end through GraphQL over HTTP, and the plugin on a custom entity with other settings."""

from __future__ import annotations

from typing import Any

import pytest

from graphql_http import GraphQLClient, create_user
from xrm.data import Entity, EntityReference
from xrm.errors import InvalidOperationError, ValidationError
from xrm_parent_child import ParentChildPlugin

CREATE = """mutation($i: IncidentCreateInput!) { createIncident(input: $i) {
    incidentid title customer { ... on Account { name } } } }"""
SET_STATUS = (
    "mutation($id: UUID!, $s: IncidentStatus!) { updateIncident(id: $id, input: {statuscode: $s}) { statuscode } }"
)


def test_parent_and_child_cases_over_graphql(environment, database_url) -> None:
    env = environment("case")
    system = env.service()
    ann = create_user(system, "Ann", "customer_service_representative")
    as_ann = env.service(ann)
    account = EntityReference("account", system.create(Entity("account", name="Contoso")))
    parent = as_ann.create(Entity("incident", title="Network outage", customerid=account))
    client = GraphQLClient(database_url, env.engine, ann)

    def count(**conditions: Any) -> int:
        return sum(1 for _ in system.retrieve_multiple(_query(**conditions)))

    # a child inherits the customer and the title it leaves empty
    child = client.data(CREATE, {"i": {"parentcaseid": str(parent)}})["createIncident"]
    assert child["title"] == "Network outage" and child["customer"] == {"name": "Contoso"}
    own_title = client.data(CREATE, {"i": {"parentcaseid": str(parent), "title": "Floor 3 switch"}})
    assert own_title["createIncident"]["title"] == "Floor 3 switch"

    # one level only: a child cannot be a parent
    message = client.error(CREATE, {"i": {"parentcaseid": child["incidentid"], "title": "grandchild"}})
    assert "is itself a child" in message and count(title="grandchild") == 0

    # the parent cannot be resolved while children are open; nothing changes
    message = client.error(SET_STATUS, {"id": str(parent), "s": "PROBLEM_SOLVED"})
    assert "cannot close while 2 child record(s) are open" in message
    assert system.retrieve("incident", parent, ["statecode"])["statecode"] == 0
    for record in system.retrieve_multiple(_query(parentcaseid=parent)):
        as_ann.set_state("incident", record.id, 1, 5)
    client.data(SET_STATUS, {"id": str(parent), "s": "PROBLEM_SOLVED"})
    assert system.retrieve("incident", parent, ["statecode"])["statecode"] == 1

    # at most 100 children: the 101st is refused
    big = system.create(Entity("incident", title="Storm", customerid=account))
    for index in range(100):
        system.create(
            Entity(
                "incident", title=f"storm {index}", customerid=account, parentcaseid=EntityReference("incident", big)
            )
        )
    message = client.error(CREATE, {"i": {"parentcaseid": str(big), "title": "one too many"}})
    assert "already has 100 children (at most 100)" in message and count(title="one too many") == 0


def _query(**conditions: Any) -> Any:
    from xrm.query import ConditionExpression, FilterExpression, QueryExpression

    criteria = FilterExpression(conditions=tuple(ConditionExpression(k, "eq", (v,)) for k, v in conditions.items()))
    return QueryExpression("incident", columns=("title",), criteria=criteria)


TASK_STATES = {
    "states": [
        {"value": 0, "name": "open", "label": "Open", "default_status": 1, "statuses": [{"value": 1, "label": "Open"}]},
        {"value": 1, "name": "done", "label": "Done", "default_status": 2, "statuses": [{"value": 2, "label": "Done"}]},
    ]
}
JOB = {
    "logical_name": "tpc_job",
    "primary_name": "tpc_name",
    "attributes": {
        "tpc_name": {"type": "string"},
        "tpc_site": {"type": "string"},
        "tpc_parentid": {"type": "lookup", "target": "tpc_job"},
    },
    "relationships": {"tpc_job_children": {"lookup": "tpc_parentid", "hierarchical": True}},
    "states": TASK_STATES,
}
SETTINGS = {"lookup": "tpc_parentid", "max_children": 2, "inherit": ["tpc_site"], "closure": "close_children"}
STEPS = {
    "steps": [
        {"name": f"jobs - {message} {stage}", "plugin": "xrm_parent_child", "message": message, "entity": "tpc_job",
         "stage": stage, "run_as_system": True, "configuration": SETTINGS}
        for message, stage in (("create", 20), ("update", 20), ("set_state", 40))
    ]
}  # fmt: skip


def test_a_custom_entity_closes_its_children_with_the_parent(environment, write_solution) -> None:
    manifest = {"name": "tpc", "display_name": "Jobs", "version": "1.0.0", "publisher": {"name": "T", "prefix": "tpc"}}
    env = environment(write_solution(manifest, {"entities/tpc_job.yaml": JOB, "plugins.yaml": STEPS}))
    service = env.service()
    parent = service.create(Entity("tpc_job", tpc_name="move office", tpc_site="Utrecht"))
    up = EntityReference("tpc_job", parent)
    first = service.create(Entity("tpc_job", tpc_name="desks", tpc_parentid=up))
    second = service.create(Entity("tpc_job", tpc_name="network", tpc_parentid=up))
    assert service.retrieve("tpc_job", first, ["tpc_site"])["tpc_site"] == "Utrecht"
    with pytest.raises(ValidationError, match=r"tpc_parentid: tpc_job .* already has 2 children \(at most 2\)"):
        service.create(Entity("tpc_job", tpc_name="chairs", tpc_parentid=up))

    loose = service.create(Entity("tpc_job", tpc_name="loose"))
    service.create(Entity("tpc_job", tpc_name="loose child", tpc_parentid=EntityReference("tpc_job", loose)))
    with pytest.raises(ValidationError, match="has child records of its own, so it cannot get a parent"):
        service.update(Entity("tpc_job", {"tpc_parentid": up}, id=loose))
    with pytest.raises(ValidationError, match="cannot be its own parent"):
        service.update(Entity("tpc_job", {"tpc_parentid": up}, id=parent))

    service.set_state("tpc_job", second, 1, 2)
    service.set_state("tpc_job", parent, 1, 2)
    assert service.retrieve("tpc_job", first, ["statecode"])["statecode"] == 1, "closed with its parent"


@pytest.mark.parametrize(
    ("configuration", "message"),
    [
        ({}, "'lookup'"),
        ({"lookup": "x", "closure": ["close_children", "block_parent"]}, "choose one closure policy"),
        ({"lookup": "x", "closure": "sometimes"}, "closure 'sometimes' is not one of"),
    ],
)
def test_bad_settings_are_refused(configuration: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ParentChildPlugin(configuration)


def test_a_refused_link_writes_nothing_through_the_service(environment) -> None:
    env = environment("case")
    service = env.service()
    account = EntityReference("account", service.create(Entity("account", name="A")))
    parent = service.create(Entity("incident", title="P", customerid=account))
    child = service.create(
        Entity("incident", title="C", customerid=account, parentcaseid=EntityReference("incident", parent))
    )
    with pytest.raises(InvalidOperationError, match="cannot close while 1 child"):
        service.set_state("incident", parent, 2, 6)
    assert service.retrieve("incident", child, ["statecode"])["statecode"] == 0


def test_concurrent_children_respect_the_limit(environment, write_solution) -> None:
    import threading

    manifest = {"name": "tpc", "display_name": "Jobs", "version": "1.0.0", "publisher": {"name": "T", "prefix": "tpc"}}
    env = environment(write_solution(manifest, {"entities/tpc_job.yaml": JOB, "plugins.yaml": STEPS}))
    parent = EntityReference("tpc_job", env.service().create(Entity("tpc_job", tpc_name="parent")))
    outcomes: list[str] = []
    start = threading.Barrier(6)

    def add_child(index: int) -> None:
        start.wait()
        try:
            env.service().create(Entity("tpc_job", tpc_name=f"child {index}", tpc_parentid=parent))
            outcomes.append("created")
        except ValidationError:
            outcomes.append("refused")

    threads = [threading.Thread(target=add_child, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created"] * 2 + ["refused"] * 4, "the parent's row lock serializes the count"
