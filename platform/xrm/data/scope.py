"""One operation's transaction, shared by nested calls from plugins."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine

__all__ = ["Scope", "transaction"]


@dataclass
class Scope:
    """The connection of the running transaction, the call depth and work to do after commit."""

    connection: Connection
    depth: int
    initiating_user_id: uuid.UUID | None
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    # Facts that cannot change inside this transaction without the platform knowing (e.g. a
    # principal's business unit), shared by nested calls.
    memo: dict[Any, Any] = field(default_factory=dict)

    def nested(self) -> Scope:
        return Scope(self.connection, self.depth + 1, self.initiating_user_id, self.after_commit, self.memo)


@contextmanager
def transaction(engine: Engine, user_id: uuid.UUID | None, *, write: bool = True) -> Iterator[Scope]:
    """A top-level transaction: committed when the block ends, rolled back on any exception.

    On SQLite, writers start with ``BEGIN IMMEDIATE`` so they queue on the database lock instead of
    failing when two try to upgrade a read lock at once.
    """
    with engine.connect() as connection:
        if write:
            connection = connection.execution_options(sqlite_begin="IMMEDIATE")
        scope = Scope(connection, 1, user_id)
        with connection.begin():
            yield scope
    for callback in scope.after_commit:
        callback()
