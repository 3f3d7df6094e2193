"""Who holds which security role: the service API, the CLI, GraphQL over HTTP, and the shipped roles.

Giving, taking and listing another principal's roles needs the global privilege ``manage_roles``
(System Administrators hold every one); a user may list its own. Users and owner teams hold roles;
access teams do not.
"""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import httpx
import pytest
from typer.testing import CliRunner

from xrm.cli import app
from xrm.data import ROOT_BUSINESS_UNIT_ID, Entity, EntityReference, Environment
from xrm.errors import AccessDeniedError, InvalidOperationError, NotFoundError, ValidationError
from xrm.plugin import open_environment
from xrm.schema import open_engine
from xrm.server import ServerSettings, create_app, create_team, issue_token

ADMIN = "system_administrator"
CSR = "customer_service_representative"
MANAGER = "customer_service_manager"
AGENT = "contoso_ticket_agent"
MEMBER = "team_member"


def user(environment: Environment, name: str, *roles: str, unit: uuid.UUID = ROOT_BUSINESS_UNIT_ID) -> EntityReference:
    values = {"domainname": name, "fullname": name, "businessunitid": EntityReference("businessunit", unit)}
    reference = EntityReference("systemuser", environment.service().create(Entity("systemuser", values)))
    for role in roles:
        environment.service().assign_role(reference, role)
    return reference


def team(environment: Environment, name: str, *, access: bool = False) -> EntityReference:
    return EntityReference("team", create_team(environment, name, access=access))


@pytest.fixture
def case_environment(environment) -> Environment:  # type: ignore[no-untyped-def]
    return environment("case")


# --- the service -------------------------------------------------------------------------------


def test_roles_are_given_taken_and_listed(case_environment: Environment) -> None:
    service = case_environment.service()
    alice, support = user(case_environment, "alice"), team(case_environment, "Support")

    service.assign_role(alice, CSR)
    service.assign_role(alice, CSR)  # idempotent
    service.assign_role(alice, MEMBER)
    service.assign_role(support, MANAGER)
    assert service.roles_of(alice) == [CSR, MEMBER]
    assert service.roles_of(support) == [MANAGER]

    service.remove_role(alice, CSR)
    service.remove_role(alice, CSR)  # not held: nothing to do
    assert service.roles_of(alice) == [MEMBER]

    with pytest.raises(NotFoundError, match="no security role 'no_such_role' is installed") as error:
        service.assign_role(alice, "no_such_role")
    assert CSR in error.value.message, "the installed roles are named"
    with pytest.raises(NotFoundError, match="no_such_role"):
        service.remove_role(alice, "no_such_role")
    assert service.roles_of(alice) == [MEMBER]


def test_only_users_and_owner_teams_hold_roles(case_environment: Environment) -> None:
    service = case_environment.service()
    record_team = team(case_environment, "Reviewers", access=True)
    with pytest.raises(InvalidOperationError, match="'Reviewers' .* is an access team"):
        service.assign_role(record_team, CSR)
    assert service.roles_of(record_team) == []

    account = EntityReference("account", service.create(Entity("account", name="A")))
    with pytest.raises(ValidationError, match="held by a user or an owner team"):
        service.assign_role(account, CSR)
    with pytest.raises(NotFoundError, match="systemuser with id"):
        service.assign_role(EntityReference("systemuser", uuid.uuid4()), CSR)


def test_managing_roles_needs_manage_roles(environment, write_solution) -> None:  # type: ignore[no-untyped-def]
    manifest = {"name": "hr", "display_name": "HR", "version": "1.0.0", "publisher": {"name": "T", "prefix": "thr"}}
    officer = {
        "name": "thr_officer",
        "global_privileges": ["manage_roles"],
        "privileges": [{"entity": "account", "read": "organization"}],
    }
    viewer = {"name": "thr_viewer", "privileges": [{"entity": "account", "read": "business_unit"}]}
    files = {"roles/thr_officer.yaml": officer, "roles/thr_viewer.yaml": viewer}
    env = environment("case", write_solution(manifest, files))
    nobody, hr, admin = user(env, "nobody"), user(env, "hr", "thr_officer"), user(env, "admin", ADMIN)
    target = user(env, "target")

    refused = env.service(nobody.id)
    for attempt in (
        lambda: refused.assign_role(target, CSR),
        lambda: refused.remove_role(target, CSR),
        lambda: refused.roles_of(target),
        lambda: refused.assign_role(nobody, ADMIN),
    ):
        with pytest.raises(AccessDeniedError, match="global privilege 'manage_roles'"):
            attempt()
    assert refused.roles_of(nobody) == [], "a user may list its own roles"

    # no escalation: a role is handed on only by someone holding all of it, as deep
    for role in (CSR, ADMIN):
        with pytest.raises(AccessDeniedError, match=f"cannot assign role '{role}'"):
            env.service(hr.id).assign_role(target, role)
    env.service(hr.id).assign_role(target, "thr_viewer")
    env.service(admin.id).assign_role(target, MEMBER)
    assert env.service(target.id).roles_of(target) == ["team_member", "thr_viewer"]
    env.service(hr.id).remove_role(target, MEMBER)
    assert env.service(admin.id).roles_of(target) == ["thr_viewer"]


def test_a_role_applies_to_the_holder_and_to_the_members_of_its_owner_team(case_environment: Environment) -> None:
    env = case_environment
    alice, bob, support = user(env, "alice"), user(env, "bob"), team(env, "Support")
    env.service().associate("team", support.id, "teammembership_association", [bob])
    for person in (alice, bob):
        with pytest.raises(AccessDeniedError):
            env.service(person.id).create(Entity("account", name="refused"))

    env.service().assign_role(alice, CSR)
    env.service().assign_role(support, CSR)
    for person in (alice, bob):
        env.service(person.id).create(Entity("account", name=f"by {person.id}"))

    env.service().remove_role(alice, CSR)
    with pytest.raises(AccessDeniedError):
        env.service(alice.id).create(Entity("account", name="refused again"))


# --- the shipped roles -------------------------------------------------------------------------


def test_the_shipped_roles_do_their_jobs(environment) -> None:  # type: ignore[no-untyped-def]
    env = environment("case", "ticket")
    system = env.service()
    north = system.create(Entity("businessunit", name="North"))
    south = system.create(
        Entity("businessunit", name="South", parentbusinessunitid=EntityReference("businessunit", north))
    )
    rep = user(env, "rep", CSR, MEMBER, unit=south)
    manager = user(env, "manager", MANAGER, MEMBER, unit=north)
    agent = user(env, "agent", AGENT, MEMBER, unit=south)
    newcomer = user(env, "newcomer", MEMBER, unit=south)
    northern_rep = user(env, "northern rep", CSR, unit=north)

    as_rep = env.service(rep.id)
    customer = EntityReference("account", as_rep.create(Entity("account", name="Contoso")))
    case = as_rep.create(Entity("incident", title="Broken", customerid=customer))
    regarding = EntityReference("incident", case)
    as_rep.create(Entity("task", subject="Call back", regardingobjectid=regarding))
    as_rep.update(Entity("incident", {"title": "Broken screen"}, id=case))
    with pytest.raises(AccessDeniedError, match="'delete'"):
        as_rep.delete("incident", case)
    with pytest.raises(NotFoundError):  # business-unit depth: South's cases are not North's
        env.service(northern_rep.id).retrieve("incident", case)

    as_newcomer = env.service(newcomer.id)
    assert as_newcomer.retrieve("account", customer.id)["name"] == "Contoso", "team members read customers"
    with pytest.raises(AccessDeniedError, match="'read' privilege on 'incident'"):
        as_newcomer.retrieve("incident", case)
    task = as_newcomer.create(Entity("task", subject="Own task"))
    assert as_newcomer.retrieve("task", task)["subject"] == "Own task"

    ticket = env.service(agent.id).create(Entity("contoso_ticket", contoso_title="T", contoso_customerid=customer))
    assert env.service(agent.id).retrieve("contoso_ticket", ticket)["contoso_title"] == "T"
    with pytest.raises(AccessDeniedError):
        env.service(agent.id).create(Entity("incident", title="not mine", customerid=customer))

    as_manager = env.service(manager.id)  # parent-child: North and South below it
    assert as_manager.retrieve("incident", case)["title"] == "Broken screen"
    as_manager.assign("incident", case, manager)
    as_manager.delete("incident", case)


# --- the CLI -----------------------------------------------------------------------------------

runner = CliRunner()


def xrm(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_the_cli_manages_teams_roles_and_shares(database_url: str) -> None:
    db = ("--database", database_url)
    assert xrm("solution", "install", "case", *db)[0] == 0

    code, output = xrm("user", "create", "alice", "--role", CSR, "--role", MEMBER, *db)
    assert code == 0 and output.startswith("created user alice (") and f"with roles {CSR}, {MEMBER}" in output
    code, output = xrm("user", "create", "bob", "--role", "no_such_role", *db)
    assert code == 1 and "error [NOT_FOUND]: no security role 'no_such_role'" in output
    assert xrm("role", "list", "bob", *db) == (1, "error [NOT_FOUND]: no user or team 'bob'\n"), "nothing was made"
    assert xrm("user", "create", "bob", *db)[0] == 0

    code, output = xrm("team", "create", "Support", *db)
    assert code == 0 and output.startswith("created owner team Support (")
    assert xrm("team", "create", "Reviewers", "--access", "--administrator", "alice", *db)[0] == 0
    code, output = xrm("team", "create", "Lost", "--business-unit", "Atlantis", *db)
    assert code == 1 and "error [NOT_FOUND]: no business unit 'Atlantis'" in output
    assert xrm("team", "add-member", "Support", "bob", *db)[0] == 0
    code, output = xrm("team", "add-member", "Nowhere", "bob", *db)
    assert code == 1 and "no team 'Nowhere'" in output

    assert xrm("role", "assign", "Support", MANAGER, *db)[0] == 0
    code, output = xrm("role", "assign", "Reviewers", MANAGER, *db)
    assert code == 1 and "error [INVALID_OPERATION]" in output and "access team" in output
    code, output = xrm("role", "assign", "nobody", MANAGER, *db)
    assert code == 1 and "error [NOT_FOUND]: no user or team 'nobody'" in output

    code, output = xrm("role", "list", *db)
    listed = {line.split()[0]: line for line in output.splitlines()}
    assert code == 0 and {ADMIN, MEMBER, CSR, MANAGER} <= set(listed)
    assert "administrator" in listed[ADMIN] and "[case]" in listed[CSR] and "[system]" in listed[MEMBER]
    assert xrm("role", "list", "alice", *db) == (0, f"{CSR}\n{MEMBER}\n")
    assert xrm("role", "list", "Support", *db) == (0, f"{MANAGER}\n")
    assert xrm("role", "remove", "alice", CSR, *db)[0] == 0
    assert xrm("role", "list", "alice", *db) == (0, f"{MEMBER}\n")

    env = open_environment(open_engine(database_url))
    account = env.service().create(Entity("account", name="Shared"))
    code, output = xrm("share", "account", str(account), "bob", "--rights", "read,write", *db)
    assert code == 0 and output.strip().endswith("systemuser bob: read, write")
    code, output = xrm("share", "account", str(account), "Reviewers", "--rights", "read", *db)
    assert code == 0 and "team Reviewers: read" in output
    assert {s.principal.logical_name for s in env.service().shared_principals("account", account)} == {
        "systemuser",
        "team",
    }
    assert xrm("share", "account", str(account), "bob", "--revoke", *db)[0] == 0
    assert [s.principal.logical_name for s in env.service().shared_principals("account", account)] == ["team"]
    assert xrm("share", "account", str(account), "bob", "--rights", "fly", *db)[0] == 2
    assert xrm("share", "account", str(account), "bob", *db)[0] == 2, "--rights or --revoke"
    env.engine.dispose()


# --- GraphQL over HTTP -------------------------------------------------------------------------

ASSIGN = "mutation($p: PrincipalReference!, $r: String!) { assignRole(principal: $p, role: $r) }"
REMOVE = "mutation($p: PrincipalReference!, $r: String!) { removeRole(principal: $p, role: $r) }"
ROLES_OF = "query($p: PrincipalReference!) { rolesOf(principal: $p) }"


def post(url: str, token: str, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    application = create_app(ServerSettings(database=url, version_check_interval=0.0, run_worker=False))

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://xrm.test") as client:
            body = {"query": document, "variables": variables or {}}
            return await client.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})

    try:
        response = anyio.run(send)
    finally:
        application.state.reloader.engine.dispose()
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_graphql_assigns_removes_and_lists_roles(environment, database_url: str) -> None:  # type: ignore[no-untyped-def]
    env = environment("case")
    admin, clerk = user(env, "admin", ADMIN), user(env, "clerk")
    target = {"entity": "systemuser", "id": str(clerk.id)}
    as_admin = issue_token(env.engine, admin.id, "tests").token
    as_clerk = issue_token(env.engine, clerk.id, "tests").token

    assert post(database_url, as_admin, ASSIGN, {"p": target, "r": CSR}) == {"data": {"assignRole": [CSR]}}
    assert post(database_url, as_admin, ASSIGN, {"p": target, "r": MEMBER})["data"]["assignRole"] == [CSR, MEMBER]
    assert post(database_url, as_clerk, ROLES_OF, {"p": target}) == {"data": {"rolesOf": [CSR, MEMBER]}}

    for document in (ASSIGN, REMOVE):
        refused = post(database_url, as_clerk, document, {"p": target, "r": ADMIN})
        (error,) = refused["errors"]
        assert error["extensions"]["code"] == "FORBIDDEN" and "manage_roles" in error["message"]
    other = {"entity": "systemuser", "id": str(admin.id)}
    assert post(database_url, as_clerk, ROLES_OF, {"p": other})["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    unknown = post(database_url, as_admin, ASSIGN, {"p": target, "r": "no_such_role"})
    assert (
        unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND" and "no_such_role" in unknown["errors"][0]["message"]
    )
    access = {"entity": "team", "id": str(team(env, "Reviewers", access=True).id)}
    refused_team = post(database_url, as_admin, ASSIGN, {"p": access, "r": CSR})
    assert refused_team["errors"][0]["extensions"]["code"] == "INVALID_OPERATION"

    assert post(database_url, as_admin, REMOVE, {"p": target, "r": CSR}) == {"data": {"removeRole": [MEMBER]}}
    roles = post(database_url, as_clerk, "{ securityRoles { name solution administrator privileges { entity read } } }")
    by_name = {role["name"]: role for role in roles["data"]["securityRoles"]}
    assert by_name[ADMIN]["administrator"] and by_name[CSR]["solution"] == "case"
    assert {"entity": "incident", "read": "business_unit"} in by_name[CSR]["privileges"]
