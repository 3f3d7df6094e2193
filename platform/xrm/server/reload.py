"""Schema hot-swap: each process follows the metadata version in the database.

Every install, upgrade and uninstall bumps the metadata version in the database, whichever
process made it. A :class:`Reloader` reads that version at most once per interval (one indexed
single-row read), and when it moved, builds a new environment and GraphQL schema and swaps the
reference to them in one assignment. A request takes the current :class:`Runtime` once, at its
start, and finishes on it even if a newer one is swapped in meanwhile; requests arriving during a
build are served by the old one. One thread builds at a time, so each version is built once per
process (the cache is keyed by version). Besides it, a process keeps between requests only what
cannot go stale (the documents each schema validated) or expires within the interval (API key
lookups, see :class:`xrm.server.auth.TokenCache`), so several processes can share one database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Engine

from xrm.data import Environment
from xrm.schema import metadata_version

__all__ = ["Runtime", "Reloader"]

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Runtime:
    """One metadata version's environment and GraphQL schema; never changed once built."""

    version: int
    environment: Environment
    schema: Any
    built_in: float = field(default=0.0)

    @cached_property
    def sdl(self) -> str:
        return str(self.schema.as_str())


class Reloader:
    """Holds the current :class:`Runtime` and replaces it when the metadata version moves.

    ``build(engine)`` returns ``(environment, schema)``. The version is read *before* the build, so
    a change committed during the build is noticed at the next check instead of being missed.
    """

    def __init__(
        self,
        engine: Engine,
        build: Callable[[Engine], tuple[Environment, Any]],
        *,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.interval = interval
        self._build = build
        self._clock = clock
        self._lock = threading.Lock()
        self._runtime: Runtime | None = None
        self._next_check = 0.0
        self.builds = 0
        self.last_error: BaseException | None = None

    @property
    def current(self) -> Runtime:
        """The runtime to serve with, without asking the database (build it first with :meth:`refresh`)."""
        if self._runtime is None:
            raise RuntimeError("no schema built yet")
        return self._runtime

    @property
    def ready(self) -> bool:
        return self._runtime is not None

    def due(self) -> bool:
        """Whether the interval since the last version check has passed."""
        return self._runtime is None or self._clock() >= self._next_check

    def database_version(self) -> int:
        with self.engine.connect() as connection:
            return metadata_version(connection)

    def refresh(self, *, force: bool = False) -> Runtime:
        """Check the version if due (or ``force``) and rebuild when it moved; thread-safe.

        While one thread builds, the others keep serving the current runtime instead of waiting
        (only the very first build is waited for). A failed rebuild is logged and the old runtime
        kept; the next check tries again.
        """
        if not force and not self.due():
            return self.current
        self._next_check = self._clock() + self.interval
        version = self.database_version()
        current = self._runtime
        if current is not None and current.version == version:
            return current
        if not self._lock.acquire(blocking=current is None):
            return current  # type: ignore[return-value]  # another thread is building
        try:
            return self._swap(version)
        finally:
            self._lock.release()

    def _swap(self, version: int) -> Runtime:
        current = self._runtime
        if current is not None and current.version == version:
            return current
        try:
            self._runtime = self._rebuild(version)
        except Exception as error:
            if current is None:
                raise
            self.last_error = error
            log.exception(
                "rebuilding the schema for metadata version %s failed; still serving %s", version, current.version
            )
            return current
        return self._runtime

    def _rebuild(self, version: int) -> Runtime:
        started = self._clock()
        environment, schema = self._build(self.engine)
        runtime = Runtime(version, environment, schema, built_in=self._clock() - started)
        self.builds += 1
        self.last_error = None
        log.info("schema for metadata version %s built in %.2fs", version, runtime.built_in)
        return runtime
