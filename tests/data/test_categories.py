"""Categories: a hierarchical ``category`` entity, and an N:N ``<entity>_category`` relationship for
every entity with ``has_categories: true`` (the Case's ``incident`` and any custom entity).

One scenario per backend: a manager builds the tree, a representative tags records through the
organization service, records are found by category and by the tree, and GraphQL over HTTP shows
the same tags.
"""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import httpx
import pytest

from xrm.data import ROOT_BUSINESS_UNIT_ID, Entity, EntityReference, Environment
from xrm.data.messages import AssociateRequest, DisassociateRequest
from xrm.errors import AccessDeniedError, InvalidOperationError
from xrm.query import ConditionExpression, FilterExpression, LinkEntity, QueryExpression
from xrm.server import ServerSettings, create_app, issue_token

MANIFEST = {
    "name": "gadgets",
    "display_name": "Gadgets",
    "version": "1.0.0",
    "publisher": {"name": "T", "prefix": "tst"},
}
GADGET = {
    "logical_name": "tst_gadget",
    "ownership": "organization",
    "primary_name": "tst_name",
    "has_categories": True,
    "attributes": {"tst_name": {"type": "string", "max_length": 100}},
}

TAGGED = """
query Tagged($root: UUID!) {
  incidents(filter: {incidentCategory: {some: {categoryid: {eqOrUnder: $root}}}}, orderBy: [{title: ASC}]) {
    nodes { title incidentCategory(orderBy: [{title: ASC}]) { nodes { title parentcategory { title } } } }
  }
}"""


def user(environment: Environment, name: str, *roles: str) -> uuid.UUID:
    unit = EntityReference("businessunit", ROOT_BUSINESS_UNIT_ID)
    user_id = environment.service().create(Entity("systemuser", domainname=name, fullname=name, businessunitid=unit))
    for role in roles:
        environment.service().assign_role(EntityReference("systemuser", user_id), role)
    return user_id


def tagged(service: Any, entity: str, operator: str, category: uuid.UUID) -> list[str]:
    """Names of the ``entity`` records with a category that is ``operator`` ``category``."""
    primary = "title" if entity == "incident" else "tst_name"
    criteria = FilterExpression(conditions=(ConditionExpression("categoryid", operator, (category,)),))
    tree = LinkEntity("category", "categoryid", "categoryid", criteria=criteria)
    intersect = LinkEntity(f"{entity}_category", f"{entity}id", f"{entity}id", links=(tree,))
    query = QueryExpression(entity, (primary,), links=(intersect,), distinct=True)
    return sorted(record[primary] for record in service.retrieve_multiple(query))


def post_graphql(url: str, token: str, document: str, variables: dict[str, Any]) -> Any:
    application = create_app(ServerSettings(database=url, version_check_interval=0.0, run_worker=False))

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://xrm.test") as client:
            body = {"query": document, "variables": variables}
            return await client.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})

    try:
        response = anyio.run(send)
    finally:
        application.state.reloader.engine.dispose()
    assert response.status_code == 200, response.text
    return response.json()


def test_records_are_tagged_and_found_by_category_and_tree(environment, write_solution, database_url):
    env = environment("case", write_solution(MANIFEST, {"entities/tst_gadget.yaml": GADGET}))
    assert {name: (rel.kind, rel.referenced_entity, rel.referencing_entity, rel.intersect) for name, rel in
            env.model.relationships.items() if rel.kind == "many_to_many" and "category" in name} == {
        "incident_category": ("many_to_many", "incident", "category", "incident_category"),
        "tst_gadget_category": ("many_to_many", "tst_gadget", "category", "tst_gadget_category"),
    }  # fmt: skip
    manager = env.service(user(env, "manager", "customer_service_manager"))
    agent_id = user(env, "agent", "customer_service_representative")
    agent = env.service(agent_id)

    def category(title: str, parent: uuid.UUID | None = None) -> uuid.UUID:
        link = {"parentcategoryid": EntityReference("category", parent)} if parent else {}
        return manager.create(Entity("category", title=title, **link))

    hardware = category("Hardware")
    printers = category("Printers", hardware)
    laser = category("Laser", printers)
    software = category("Software")
    with pytest.raises(AccessDeniedError):
        agent.create(Entity("category", title="Agents do not maintain the tree"))

    customer = EntityReference("account", agent.create(Entity("account", name="Contoso")))
    jam = agent.create(Entity("incident", title="Paper jam", customerid=customer))
    crash = agent.create(Entity("incident", title="Driver crash", customerid=customer))
    agent.create(Entity("incident", title="Question", customerid=customer))  # never tagged
    system = env.service()  # the custom entity has no role privileges: the system user tags it
    gadget = system.create(Entity("tst_gadget", tst_name="Toner cartridge"))
    tag = {name: EntityReference("category", value) for name, value in (("laser", laser), ("software", software))}
    agent.associate("incident", jam, "incident_category", [tag["laser"]])
    agent.execute(
        AssociateRequest(EntityReference("incident", crash), "incident_category", (tag["laser"], tag["software"]))
    )
    # from the category's side, as Dataverse allows an association from either end
    system.associate("category", printers, "tst_gadget_category", [EntityReference("tst_gadget", gadget)])
    with pytest.raises(InvalidOperationError, match="already associated"):
        agent.associate("incident", jam, "incident_category", [tag["laser"]])

    for service in (agent, manager):
        assert tagged(service, "incident", "eq", laser) == ["Driver crash", "Paper jam"]
        assert tagged(service, "incident", "eq", software) == ["Driver crash"]
    assert tagged(agent, "incident", "eq_or_under", hardware) == ["Driver crash", "Paper jam"]
    assert tagged(agent, "incident", "under", printers) == ["Driver crash", "Paper jam"]
    assert tagged(system, "tst_gadget", "eq_or_under", hardware) == ["Toner cartridge"]
    assert tagged(system, "tst_gadget", "under", printers) == []
    assert tagged(system, "tst_gadget", "eq", printers) == ["Toner cartridge"]

    agent.execute(DisassociateRequest(EntityReference("incident", crash), "incident_category", (tag["software"],)))
    assert tagged(agent, "incident", "eq", software) == []
    with pytest.raises(InvalidOperationError, match="category_parent_category"):  # children keep their parent
        manager.delete("category", printers)

    token = issue_token(env.engine, agent_id, "tests").token
    answer = post_graphql(database_url, token, TAGGED, {"root": str(hardware)})
    assert answer == {
        "data": {
            "incidents": {
                "nodes": [
                    {"title": "Driver crash", "incidentCategory": {"nodes": [{"title": "Laser", "parentcategory": {"title": "Printers"}}]}},
                    {"title": "Paper jam", "incidentCategory": {"nodes": [{"title": "Laser", "parentcategory": {"title": "Printers"}}]}},
                ]
            }
        }
    }  # fmt: skip

    manager.delete("category", laser)  # deleting a tag removes it from the records, not the records
    assert tagged(agent, "incident", "eq_or_under", hardware) == []
    assert {agent.retrieve("incident", jam)["title"], agent.retrieve("incident", crash)["title"]} == {
        "Paper jam",
        "Driver crash",
    }
