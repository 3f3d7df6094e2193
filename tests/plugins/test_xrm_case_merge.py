"""Merge Cases (``merge_cases``, plugin ``xrm_case_merge``) end to end through GraphQL over HTTP
as a Customer Service Representative."""

from __future__ import annotations

import uuid

from graphql_http import GraphQLClient, create_user
from xrm.data import Entity, EntityReference

MERGE = "mutation($t: UUID!, $c: JSON!) { mergeCases(target: $t, input: {cases: $c}) { moved } }"


def test_cases_merge_into_a_master_with_their_activities_notes_and_children(environment, database_url) -> None:
    env = environment("case")
    system = env.service()
    ann = create_user(system, "Ann", "customer_service_representative")
    as_ann = env.service(ann)
    account = EntityReference("account", system.create(Entity("account", name="Contoso")))

    def case(title: str, parent: uuid.UUID | None = None) -> uuid.UUID:
        up = EntityReference("incident", parent) if parent else None
        return as_ann.create(Entity("incident", title=title, customerid=account, parentcaseid=up))

    master, duplicate, other = case("Printer jam"), case("Printer jammed again"), case("Printer noise")
    task = as_ann.create(Entity("task", subject="Call back", regardingobjectid=EntityReference("incident", duplicate)))
    child = case("Toner", parent=duplicate)
    client = GraphQLClient(database_url, env.engine, ann)

    def row(record: uuid.UUID, *columns: str) -> Entity:
        return system.retrieve("incident", record, list(columns))

    # refusals change nothing: different parents, too many, the master itself
    message = client.error(MERGE, {"t": str(master), "c": [str(child)]})
    assert "cases with different parents cannot be merged" in message
    assert row(child, "statecode")["statecode"] == 0
    eleven = [str(uuid.uuid4()) for _ in range(11)]
    assert "at most 10 cases can be merged at once (11 given)" in client.error(MERGE, {"t": str(master), "c": eleven})
    assert "cannot be merged into itself" in client.error(MERGE, {"t": str(master), "c": [str(master)]})

    moved = client.data(MERGE, {"t": str(master), "c": [str(duplicate), str(other)]})["mergeCases"]["moved"]
    assert moved >= 2, "the task and the child case moved"
    for merged in (duplicate, other):
        values = row(merged, "statecode", "statuscode", "masterid")
        assert (values["statecode"], values["statuscode"], values["masterid"].id) == (2, 2000, master)
    assert system.retrieve("task", task, ["regardingobjectid"])["regardingobjectid"].id == master
    assert row(child, "parentcaseid")["parentcaseid"].id == master
    assert "reactivate it first" in client.error(MERGE, {"t": str(master), "c": [str(duplicate)]})
