"""API key lookups: reused for a few seconds at most, so a revocation applies on every process soon."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest
from sqlalchemy import Engine, event

from xrm.data import Entity
from xrm.plugin import open_environment
from xrm.schema.platform_tables import token_table
from xrm.server import ServerSettings, create_app, revoke_token
from xrm.server.auth import MAX_TOKEN_TTL, TokenCache

TYPENAME = {"query": "{ __typename }"}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _token_reads(engine: Engine) -> list[str]:
    """Collects the token lookups run on ``engine`` from now on."""
    seen: list[str] = []
    lookup = f"{token_table.name}.hash ="

    def listen(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if lookup in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    return seen


def test_a_lookup_is_reused_within_the_ttl_and_a_revocation_applies_after_it(
    initialized: Engine, caller: Callable[..., Any]
) -> None:
    alice, bob = caller("alice"), caller("bob")
    environment = open_environment(initialized)
    clock = Clock()
    tokens = TokenCache(1.0, clock=clock)
    reads = _token_reads(initialized)

    assert tokens.user(environment, alice.token) == alice.user_id
    assert tokens.user(environment, alice.token) == alice.user_id
    assert len(reads) == 1, "the second request is answered without reading the token"

    revoke_token(initialized, alice.token_id)
    clock.now += 0.5
    assert tokens.user(environment, alice.token) == alice.user_id, "trusted for at most the ttl"
    clock.now += 0.6
    assert tokens.user(environment, alice.token) is None
    assert tokens.user(environment, alice.token) is None and len(reads) == 3, "a refusal is not kept"

    assert tokens.user(environment, bob.token) == bob.user_id
    environment.service().update(Entity("systemuser", {"isdisabled": True}, id=bob.user_id))
    clock.now += 1.1
    assert tokens.user(environment, bob.token) is None, "a disabled user is refused after the ttl too"


def test_no_reuse_with_a_ttl_of_zero_and_the_ttl_is_capped(initialized: Engine, caller: Callable[..., Any]) -> None:
    alice = caller("alice")
    environment = open_environment(initialized)
    tokens = TokenCache(0)
    assert tokens.user(environment, alice.token) == alice.user_id
    revoke_token(initialized, alice.token_id)
    assert tokens.user(environment, alice.token) is None
    assert TokenCache(3600).ttl == MAX_TOKEN_TTL
    assert tokens.user(environment, "xrm_unknown") is None and tokens.user(environment, "not-a-token") is None


def test_the_cache_is_bounded(initialized: Engine, caller: Callable[..., Any]) -> None:
    callers = [caller() for _ in range(3)]
    environment = open_environment(initialized)
    tokens = TokenCache(5, max_entries=2)
    reads = _token_reads(initialized)
    for each in callers:
        assert tokens.user(environment, each.token) == each.user_id
    assert tokens.user(environment, callers[0].token) == callers[0].user_id
    assert len(reads) == 4, "the oldest entry was dropped"


@pytest.mark.anyio
async def test_a_server_refuses_a_revoked_key_within_its_version_check_interval(
    settings: Callable[..., ServerSettings], caller: Callable[..., Any], initialized: Engine
) -> None:
    alice = caller("alice")
    app = create_app(settings(version_check_interval=0.2))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://xrm.test") as http:
        assert (await http.post("/graphql", json=TYPENAME, headers=alice.headers)).status_code == 200
        revoke_token(initialized, alice.token_id)  # as another process (the CLI) would
        await anyio.sleep(0.25)
        assert (await http.post("/graphql", json=TYPENAME, headers=alice.headers)).status_code == 401
    app.state.reloader.engine.dispose()
