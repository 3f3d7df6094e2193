"""Engines for SQLite and PostgreSQL, configured the same way everywhere xrm opens a database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

__all__ = ["DEFAULT_DATABASE_FILE", "database_url", "open_engine", "is_sqlite", "foreign_keys_off"]

DEFAULT_DATABASE_FILE = "xrm.db"


def database_url(url: str | None = None) -> str:
    """The URL to use: the one given, else ``XRM_DATABASE_URL``, else ``xrm.db`` in the working folder."""
    if url:
        return url
    return os.environ.get("XRM_DATABASE_URL") or f"sqlite:///{Path(DEFAULT_DATABASE_FILE).resolve()}"


def is_sqlite(bind: Engine | Connection) -> bool:
    return bind.dialect.name == "sqlite"


def open_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine. SQLite gets WAL, foreign keys, a busy timeout and real transactions.

    pysqlite's own transaction handling does not begin a transaction before DDL and cannot start
    ``BEGIN IMMEDIATE``; xrm turns it off and emits ``BEGIN`` itself, so migrations are atomic and
    writers queue on the database lock instead of failing.
    """
    resolved = make_url(database_url(url))
    if resolved.get_backend_name() == "postgresql" and resolved.get_driver_name() in ("", "psycopg2"):
        resolved = resolved.set(drivername="postgresql+psycopg")
    kwargs.setdefault("pool_pre_ping", True)  # a connection the server dropped is replaced, not handed out
    engine = create_engine(resolved, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def foreign_keys_off(connection: Connection) -> Iterator[None]:
    """Switch SQLite's foreign-key enforcement off for a migration (it must happen outside BEGIN).

    A SQLite table rebuild drops the old table; with enforcement on, that fires ON DELETE actions on
    child rows. Enforcement is switched back on afterwards; call ``PRAGMA foreign_key_check`` before
    committing to prove the data is still consistent.
    """
    if not is_sqlite(connection):
        yield
        return
    if connection.in_transaction():
        raise RuntimeError("foreign_keys_off() must be entered before the transaction begins")
    raw = connection.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")
