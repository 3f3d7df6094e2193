"""What a server process needs to know; passed to worker processes through the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from xrm.graphql.settings import GraphQLSettings
from xrm.plugin import PluginRegistry
from xrm.schema import database_url

__all__ = ["ServerSettings"]

_DATABASE = "XRM_DATABASE_URL"
_WORKER = "XRM_SERVE_WORKER"
_CHECK = "XRM_SERVE_VERSION_CHECK_SECONDS"


@dataclass(frozen=True)
class ServerSettings:
    """Settings of one server process.

    ``version_check_interval``: how stale (seconds, at most) a process's view of the database
    may be: how often it asks for the metadata version, to notice installs and upgrades made by
    other processes, and how long it trusts an API key it looked up (at most
    :data:`~xrm.server.auth.MAX_TOKEN_TTL`), so a revoked key or disabled user is refused by every
    process within that time. 0: both are read on every request.
    ``graphql``: the GraphQL limits (None: their defaults), request timeout included.
    ``registry``: the plugin registry (None: entry points and ``module:attribute`` paths).
    Only ``database``, ``run_worker`` and ``version_check_interval`` reach the processes uvicorn
    starts itself (``workers`` > 1 or ``reload``); those use default limits and plugins.
    """

    database: str = field(default_factory=database_url)
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    reload: bool = False
    run_worker: bool = True
    worker_interval: float = 1.0
    version_check_interval: float = 1.0
    graphql: GraphQLSettings | None = None
    registry: PluginRegistry | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "database", database_url(self.database))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> ServerSettings:
        """Settings of a process uvicorn started (``--workers``, ``--reload``): read from the environment."""
        env = os.environ if environ is None else environ
        settings = cls(database=env.get(_DATABASE) or database_url())
        if _WORKER in env:
            settings = replace(settings, run_worker=env[_WORKER] not in ("0", "false", ""))
        if _CHECK in env:
            settings = replace(settings, version_check_interval=float(env[_CHECK]))
        return settings

    def to_environ(self) -> dict[str, str]:
        """The variables :meth:`from_environ` reads back."""
        return {
            _DATABASE: self.database,
            _WORKER: "1" if self.run_worker else "0",
            _CHECK: str(self.version_check_interval),
        }
