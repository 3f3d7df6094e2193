"""The security tests' world: the ``sec`` fixture solution, business units, users, teams and roles.

Everything is created through the organization service as the system user, except role
assignment, which goes through ``OrganizationService.assign_role`` when the service has it and
straight into the role member table otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
from sqlalchemy import delete

from databases import empty_database
from xrm.data import ROOT_BUSINESS_UNIT_ID, Entity, EntityReference, Environment, OrganizationService
from xrm.plugin import open_environment
from xrm.schema import open_engine
from xrm.schema.platform_tables import share_table
from xrm.server import ServerSettings, create_app, issue_token
from xrm.solution import SolutionManager

SEC_SOLUTION = Path(__file__).resolve().parents[1] / "fixtures" / "solutions" / "sec"
OWNER_TEAM, ACCESS_TEAM = 0, 1
RECORD_TABLES = ("sec_record_related", "sec_record", "sec_related", "sec_tag")


@contextmanager
def sec_environment(backend: str, folder: Path, prefix: str = "xrm_sec") -> Iterator[tuple[Environment, str]]:
    """An empty database of ``backend`` with the ``sec`` solution installed: (environment, url)."""
    with empty_database(backend, folder, prefix) as url:
        engine = open_engine(url)
        try:
            SolutionManager(engine).install(SEC_SOLUTION)
            yield open_environment(engine), url
        finally:
            engine.dispose()


def assign_role(environment: Environment, principal: EntityReference, role: str) -> None:
    """Give ``principal`` (a systemuser or an owner team) the security role ``role``."""
    environment.service().assign_role(principal, role)


@dataclass
class OrgChart:
    """Business units, users and teams by name, created in one environment."""

    environment: Environment
    units: dict[str, uuid.UUID] = field(default_factory=lambda: {"root": ROOT_BUSINESS_UNIT_ID})
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    teams: dict[str, uuid.UUID] = field(default_factory=dict)
    http: GraphQLOverHttp | None = None

    def graphql(self, user: str, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The data of ``document`` run over HTTP as ``user`` (errors fail the test)."""
        assert self.http is not None, "this chart has no server"
        return self.http.data(self.environment, self.users[user], document, variables)

    def graphql_answer(self, user: str, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The whole answer (data and errors) of ``document`` run over HTTP as ``user``."""
        assert self.http is not None, "this chart has no server"
        return self.http.post(self.environment, self.users[user], document, variables)

    @property
    def system(self) -> OrganizationService:
        return self.environment.service()

    def service(self, user: str) -> OrganizationService:
        return self.environment.service(self.users[user])

    def principal(self, name: str) -> EntityReference:
        """The user or team called ``name``."""
        if name in self.users:
            return EntityReference("systemuser", self.users[name])
        return EntityReference("team", self.teams[name])

    def unit(self, name: str, parent: str = "root") -> uuid.UUID:
        parent_ref = EntityReference("businessunit", self.units[parent])
        self.units[name] = self.system.create(Entity("businessunit", name=name, parentbusinessunitid=parent_ref))
        return self.units[name]

    def user(self, name: str, unit: str, roles: Iterable[str] = ()) -> uuid.UUID:
        values = {
            "domainname": f"{name}-{uuid.uuid4().hex[:8]}",
            "fullname": name,
            "businessunitid": EntityReference("businessunit", self.units[unit]),
        }
        self.users[name] = self.system.create(Entity("systemuser", values))
        for role in roles:
            assign_role(self.environment, self.principal(name), role)
        return self.users[name]

    def team(
        self, name: str, unit: str, members: Iterable[str] = (), roles: Iterable[str] = (), *, access: bool = False
    ) -> uuid.UUID:
        values: dict[str, Any] = {
            "name": name,
            "teamtype": ACCESS_TEAM if access else OWNER_TEAM,
            "businessunitid": EntityReference("businessunit", self.units[unit]),
            "administratorid": EntityReference("systemuser", self.users.get("admin") or _any_user(self)),
        }
        self.teams[name] = self.system.create(Entity("team", values))
        self.join(name, *members)
        for role in roles:
            assign_role(self.environment, self.principal(name), role)
        return self.teams[name]

    def join(self, team: str, *members: str) -> None:
        if members:
            references = [EntityReference("systemuser", self.users[member]) for member in members]
            self.system.associate("team", self.teams[team], "teammembership_association", references)

    def leave(self, team: str, *members: str) -> None:
        references = [EntityReference("systemuser", self.users[member]) for member in members]
        self.system.disassociate("team", self.teams[team], "teammembership_association", references)


def _any_user(chart: OrgChart) -> uuid.UUID:
    from xrm.data import SYSTEM_USER_ID

    return next(iter(chart.users.values()), SYSTEM_USER_ID)


def clear_records(environment: Environment) -> None:
    """Delete every record of the ``sec`` entities and every share (users, teams and units stay)."""
    tables = environment.tables.tables
    with environment.engine.begin() as connection:
        for name in RECORD_TABLES:
            connection.execute(delete(tables[name]))
        connection.execute(delete(share_table))


class GraphQLOverHttp:
    """An application built by ``create_app`` on ``url``, called over HTTP (httpx's ASGI transport)
    as any user, each with an API key of its own; ``version_check_interval`` > 0 keeps API key
    lookups for that long, as a server does."""

    def __init__(self, url: str, *, version_check_interval: float = 0.0) -> None:
        settings = ServerSettings(database=url, version_check_interval=version_check_interval, run_worker=False)
        self.app = create_app(settings)
        self._tokens: dict[uuid.UUID, str] = {}

    def close(self) -> None:
        self.app.state.reloader.engine.dispose()

    def token(self, environment: Environment, user_id: uuid.UUID) -> str:
        if user_id not in self._tokens:
            self._tokens[user_id] = issue_token(environment.engine, user_id, "security tests").token
        return self._tokens[user_id]

    def post(
        self, environment: Environment, user_id: uuid.UUID, document: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The JSON body of the answer to ``document`` (data and errors alike)."""
        headers = {"Authorization": f"Bearer {self.token(environment, user_id)}"}
        body = {"query": document, "variables": variables or {}}

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://xrm.test") as client:
                return await client.post("/graphql", json=body, headers=headers)

        response = anyio.run(send)
        assert response.status_code in (200, 400), response.text
        answer: dict[str, Any] = response.json()
        return answer

    def data(
        self, environment: Environment, user_id: uuid.UUID, document: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        answer = self.post(environment, user_id, document, variables)
        assert not answer.get("errors"), answer["errors"]
        data: dict[str, Any] = answer["data"]
        return data
