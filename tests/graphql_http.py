"""End-to-end tests: a user holding roles, and GraphQL over HTTP to the real server app with that
user's bearer token."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import httpx
from sqlalchemy import Engine

from xrm.data import ROOT_BUSINESS_UNIT_ID, Entity, EntityReference, OrganizationService
from xrm.server import ServerSettings, create_app, issue_token

__all__ = ["GraphQLClient", "create_user"]


def create_user(system: OrganizationService, name: str, *roles: str) -> uuid.UUID:
    """A user in the root business unit (a unique domain name from ``name``) holding ``roles``."""
    values = {
        "domainname": f"{name.lower()}-{uuid.uuid4().hex[:6]}",
        "fullname": name,
        "businessunitid": EntityReference("businessunit", ROOT_BUSINESS_UNIT_ID),
    }
    user = system.create(Entity("systemuser", values))
    for role in roles:
        system.assign_role(EntityReference("systemuser", user), role)
    return user


class GraphQLClient:
    """Posts documents to ``/graphql`` of an app built by ``create_app`` for ``database_url``, as ``user``."""

    def __init__(self, database_url: str, engine: Engine, user: uuid.UUID) -> None:
        self.app = create_app(ServerSettings(database=database_url, run_worker=False))
        self.token = issue_token(engine, user, "end-to-end test").token

    def post(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The whole JSON answer (``data`` and ``errors``)."""

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://xrm.test") as client:
                body = {"query": document, "variables": variables or {}}
                return await client.post("/graphql", json=body, headers={"Authorization": f"Bearer {self.token}"})

        answer: dict[str, Any] = anyio.run(send).json()
        return answer

    def data(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """``data`` of an answer that must have no errors."""
        answer = self.post(document, variables)
        assert not answer.get("errors"), answer["errors"]
        result: dict[str, Any] = answer["data"]
        return result

    def error(self, document: str, variables: dict[str, Any] | None = None) -> str:
        """The first error message of an answer that must have errors."""
        answer = self.post(document, variables)
        assert answer.get("errors"), answer
        return str(answer["errors"][0]["message"])
