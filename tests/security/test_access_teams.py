"""Record-based access teams: a record's team per template, its members reaching the record through its share.

The ``access_teams`` fixture solution: ``atm_project`` has the templates ``atm_project_editors``
(read, write) and ``atm_project_readers`` (read); the role ``atm_project_user`` reaches only the
holder's own projects, so a user reaches someone else's project only through its access team.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from xrm.data import ROOT_BUSINESS_UNIT_ID, SYSTEM_USER_ID, Entity, EntityReference, Environment
from xrm.data.sharing import AccessRights
from xrm.errors import AccessDeniedError, NotFoundError
from xrm.server import ServerSettings, create_app, issue_token

SOLUTION = Path(__file__).resolve().parents[1] / "fixtures" / "solutions" / "access_teams"
ENTITY, EDITORS, READERS, ROLE = "atm_project", "atm_project_editors", "atm_project_readers", "atm_project_user"


def assign_role(environment: Environment, principal: EntityReference, role: str) -> None:
    """Give ``principal`` (a systemuser or an owner team) the security role ``role``."""
    environment.service().assign_role(principal, role)


@dataclass
class World:
    environment: Environment
    users: dict[str, uuid.UUID]
    unit: uuid.UUID
    project: uuid.UUID

    def service(self, user: str) -> Any:
        return self.environment.service(self.users[user])


@pytest.fixture
def world(environment: Any) -> World:
    """Alice (in a child business unit) owns a project; Bob and Carol hold the role but reach only their own."""
    env = environment(SOLUTION)
    system = env.service()
    root = EntityReference("businessunit", ROOT_BUSINESS_UNIT_ID)
    unit = system.create(Entity("businessunit", name="Projects", parentbusinessunitid=root))
    users = {}
    for name in ("alice", "bob", "carol"):
        values = {"domainname": name, "fullname": name.title(), "businessunitid": EntityReference("businessunit", unit)}
        users[name] = system.create(Entity("systemuser", values))
        assign_role(env, EntityReference("systemuser", users[name]), ROLE)
    project = env.service(users["alice"]).create(Entity(ENTITY, atm_name="Apollo", atm_budget=10))
    return World(env, users, unit, project)


def test_a_member_reaches_the_record_with_the_template_rights_until_removed(world: World) -> None:
    alice, bob = world.service("alice"), world.service("bob")
    with pytest.raises(NotFoundError):
        bob.retrieve(ENTITY, world.project)

    team_id = alice.add_user_to_record_team(ENTITY, world.project, world.users["bob"], EDITORS)

    assert bob.retrieve(ENTITY, world.project, ["atm_name"])["atm_name"] == "Apollo"
    bob.update(Entity(ENTITY, {"atm_budget": 20}, id=world.project))
    assert alice.retrieve(ENTITY, world.project)["atm_budget"] == 20
    with pytest.raises(AccessDeniedError):
        bob.delete(ENTITY, world.project)
    assert alice.record_team_members(ENTITY, world.project, EDITORS) == [world.users["bob"]]

    alice.remove_user_from_record_team(ENTITY, world.project, world.users["bob"], EDITORS)

    with pytest.raises(NotFoundError):
        bob.retrieve(ENTITY, world.project)
    assert alice.record_team_members(ENTITY, world.project, EDITORS) == []
    shares = {s.principal: s.rights for s in alice.shared_principals(ENTITY, world.project)}
    assert shares == {EntityReference("team", team_id): AccessRights.READ | AccessRights.WRITE}, "team and share stay"
    again = alice.add_user_to_record_team(ENTITY, world.project, world.users["bob"], EDITORS)
    assert again == team_id and bob.retrieve(ENTITY, world.project).id == world.project


def test_the_team_is_made_once_per_record_and_template(world: World) -> None:
    alice = world.service("alice")
    first = alice.add_user_to_record_team(ENTITY, world.project, world.users["bob"], EDITORS)
    assert alice.add_user_to_record_team(ENTITY, world.project, world.users["carol"], EDITORS) == first
    assert alice.add_user_to_record_team(ENTITY, world.project, world.users["carol"], EDITORS) == first, "idempotent"
    readers = alice.add_user_to_record_team(ENTITY, world.project, world.users["carol"], READERS)
    assert readers != first

    team = world.environment.service().retrieve("team", first)
    assert team["teamtype"] == 1 and team["name"] == f"{world.project}+{EDITORS}"
    assert (team["teamtemplatename"], team["regardingobjectid"], team["regardingobjecttypecode"]) == (
        EDITORS,
        world.project,
        ENTITY,
    )
    assert team["businessunitid"] == EntityReference("businessunit", world.unit), "the record's owning business unit"
    assert team["administratorid"] == EntityReference("systemuser", world.users["alice"])
    assert sorted(alice.record_team_members(ENTITY, world.project, EDITORS)) == sorted(
        [world.users["bob"], world.users["carol"]]
    )
    shares = {s.principal.id: s.rights for s in alice.shared_principals(ENTITY, world.project)}
    assert shares == {first: AccessRights.READ | AccessRights.WRITE, readers: AccessRights.READ}
    history = [(r.operation, r.user_id) for r in alice.audit_history(ENTITY, world.project)]
    assert history.count(("share", world.users["alice"])) == 2, "shared through the share message, as the caller"

    carol = world.service("carol")
    carol.update(Entity(ENTITY, {"atm_budget": 30}, id=world.project))  # editors and readers add up


def test_the_system_user_may_add_members_and_administers_the_team(world: World) -> None:
    system = world.environment.service()
    team_id = system.add_user_to_record_team(ENTITY, world.project, world.users["bob"], READERS)
    assert system.retrieve("team", team_id)["administratorid"] == EntityReference("systemuser", SYSTEM_USER_ID)
    assert world.service("bob").retrieve(ENTITY, world.project).id == world.project
    with pytest.raises(AccessDeniedError):
        world.service("bob").update(Entity(ENTITY, {"atm_budget": 1}, id=world.project))


def test_changing_the_team_needs_share_on_the_record(world: World) -> None:
    alice, bob, carol = (world.service(name) for name in ("alice", "bob", "carol"))
    alice.add_user_to_record_team(ENTITY, world.project, world.users["bob"], EDITORS)

    with pytest.raises(AccessDeniedError) as refused:  # bob reads and writes it, but may not share it
        bob.add_user_to_record_team(ENTITY, world.project, world.users["carol"], EDITORS)
    assert refused.value.code == "FORBIDDEN" and "'share'" in str(refused.value)
    with pytest.raises(AccessDeniedError):
        bob.remove_user_from_record_team(ENTITY, world.project, world.users["bob"], EDITORS)
    with pytest.raises(NotFoundError):  # carol cannot even see it
        carol.add_user_to_record_team(ENTITY, world.project, world.users["carol"], EDITORS)
    with pytest.raises(NotFoundError):
        carol.record_team_members(ENTITY, world.project, EDITORS)
    assert alice.record_team_members(ENTITY, world.project, EDITORS) == [world.users["bob"]]


def test_unknown_templates_users_and_records_are_not_found(world: World) -> None:
    alice = world.service("alice")
    with pytest.raises(NotFoundError, match=r"'atm_project' has no access team template 'atm_nope'") as missing:
        alice.add_user_to_record_team(ENTITY, world.project, world.users["bob"], "atm_nope")
    assert missing.value.code == "NOT_FOUND"
    with pytest.raises(NotFoundError, match="atm_nope"):
        alice.record_team_members(ENTITY, world.project, "atm_nope")
    with pytest.raises(NotFoundError, match="systemuser"):
        alice.add_user_to_record_team(ENTITY, world.project, uuid.uuid4(), EDITORS)
    with pytest.raises(NotFoundError):
        alice.add_user_to_record_team(ENTITY, uuid.uuid4(), world.users["bob"], EDITORS)
    assert alice.shared_principals(ENTITY, world.project) == [], "nothing was made"


# --- GraphQL over HTTP -------------------------------------------------------------------------

MEMBER = """
mutation($target: RecordReference!, $user: UUID!, $template: String!) {
  %s(target: $target, user: $user, template: $template) { ... on AtmProject { atmName } }
}
"""
READ = "query($id: UUID!) { atmProject(id: $id) { atmName atmBudget } }"
UPDATE = "mutation($id: UUID!) { updateAtmProject(id: $id, input: {atmBudget: 42}) { atmBudget } }"


def _graphql(url: str, calls: list[tuple[str, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Post each (token, document, variables) in turn to an app built by ``create_app``."""
    app = create_app(ServerSettings(database=url, version_check_interval=0.0, run_worker=False))

    async def main() -> list[dict[str, Any]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://xrm.test") as client:
            answers = []
            for token, document, variables in calls:
                headers = {"Authorization": f"Bearer {token}"}
                response = await client.post(
                    "/graphql", json={"query": document, "variables": variables}, headers=headers
                )
                answers.append(response.json())
            return answers

    try:
        return anyio.run(main)
    finally:
        app.state.reloader.engine.dispose()


def test_graphql_members_over_http(world: World, database_url: str) -> None:
    engine = world.environment.engine
    alice, bob = (issue_token(engine, world.users[name], "tests").token for name in ("alice", "bob"))
    target = {"entity": ENTITY, "id": str(world.project)}
    member = {"target": target, "user": str(world.users["bob"]), "template": EDITORS}
    project = {"id": str(world.project)}
    answers = _graphql(
        database_url,
        [
            (bob, READ, project),
            (bob, MEMBER % "addUserToRecordTeam", member),
            (alice, MEMBER % "addUserToRecordTeam", member),
            (bob, READ, project),
            (bob, UPDATE, project),
            (alice, MEMBER % "removeUserFromRecordTeam", member),
            (bob, READ, project),
            (alice, MEMBER % "addUserToRecordTeam", {**member, "template": "atm_nope"}),
        ],
    )
    before, refused, added, read, updated, removed, after, unknown = answers
    assert before == {"data": {"atmProject": None}}
    assert refused["data"] == {"addUserToRecordTeam": None}
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND", "bob cannot see the project yet"
    assert added == {"data": {"addUserToRecordTeam": {"atmName": "Apollo"}}}, added
    assert read == {"data": {"atmProject": {"atmName": "Apollo", "atmBudget": 10}}}
    assert updated == {"data": {"updateAtmProject": {"atmBudget": 42}}}
    assert removed == {"data": {"removeUserFromRecordTeam": {"atmName": "Apollo"}}}, "alice still reads it"
    assert after == {"data": {"atmProject": None}}
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert "'atm_project' has no access team template 'atm_nope'" in unknown["errors"][0]["message"]


def test_graphql_refuses_a_member_without_share(world: World, database_url: str) -> None:
    world.service("alice").add_user_to_record_team(ENTITY, world.project, world.users["bob"], EDITORS)
    bob = issue_token(world.environment.engine, world.users["bob"], "tests").token
    member = {"target": {"entity": ENTITY, "id": str(world.project)}, "user": str(world.users["carol"])}
    (answer,) = _graphql(database_url, [(bob, MEMBER % "addUserToRecordTeam", {**member, "template": EDITORS})])
    assert answer["data"] == {"addUserToRecordTeam": None}
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
