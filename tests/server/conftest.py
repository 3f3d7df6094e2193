"""Fixtures of the server tests: an initialized database, users with API keys, an HTTP client of the app."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Engine

from xrm.data import EntityReference
from xrm.plugin import open_environment
from xrm.server import ServerSettings, create_app, create_user, issue_token
from xrm.solution import SolutionManager


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass(frozen=True)
class Caller:
    """A system user and one of its API keys."""

    user_id: uuid.UUID
    token_id: uuid.UUID
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def initialized(engine: Engine, solutions: SolutionManager) -> Engine:
    """The database with the system layer installed."""
    solutions.initialize()
    return engine


@pytest.fixture
def caller(initialized: Engine) -> Callable[..., Caller]:
    """``caller("alice", roles=["system_administrator"])``: a new system user (with those security
    roles; none by default) and a fresh token."""

    def make(domainname: str | None = None, *, roles: Iterable[str] = ()) -> Caller:
        environment = open_environment(initialized)
        user = create_user(environment, domainname or f"user-{uuid.uuid4().hex[:8]}")
        for role in roles:
            environment.service().assign_role(EntityReference("systemuser", user), role)
        issued = issue_token(initialized, user, "tests")
        return Caller(user, issued.info.id, issued.token)

    return make


@pytest.fixture
def settings(database_url: str, initialized: Engine) -> Callable[..., ServerSettings]:
    """``settings(registry=...)``: server settings for the test database; the version is checked on every request."""

    def make(**overrides: object) -> ServerSettings:
        values: dict[str, object] = {"database": database_url, "version_check_interval": 0.0, "run_worker": False}
        values.update(overrides)
        return ServerSettings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
async def client(settings: Callable[..., ServerSettings]) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of an application built by ``create_app`` (no lifespan: no background tasks)."""
    app = create_app(settings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://xrm.test") as http:
        http.app = app  # type: ignore[attr-defined]
        yield http
    app.state.reloader.engine.dispose()
