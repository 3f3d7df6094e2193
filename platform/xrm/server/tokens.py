"""API keys: bearer tokens mapped to system users, stored as SHA-256 digests only.

A token is ``xrm_`` followed by 32 random bytes (URL-safe base64). It is shown once, when issued;
the database keeps its digest, so a leaked database does not leak usable keys. The secret has
256 bits of entropy, so a fast digest suffices (no password stretching); lookups go by digest
through a unique index. A server reads the token row again at most a few seconds after it last
did (see :class:`xrm.server.auth.TokenCache`), so a revocation made by any process takes effect on
every server within that time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, Select, Table, bindparam, insert, or_, select, update

from xrm.data import Environment
from xrm.errors import NotFoundError
from xrm.schema.platform_tables import token_table

__all__ = [
    "TOKEN_PREFIX",
    "IssuedToken",
    "TokenInfo",
    "authenticate_token",
    "ensure_token_table",
    "issue_token",
    "list_tokens",
    "revoke_token",
    "token_digest",
]

TOKEN_PREFIX = "xrm_"


@dataclass(frozen=True)
class TokenInfo:
    """What is stored about a token: never the token itself."""

    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    created: dt.datetime
    revoked: dt.datetime | None


@dataclass(frozen=True)
class IssuedToken:
    """A new token; ``token`` is the secret, available only here."""

    info: TokenInfo
    token: str


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def ensure_token_table(engine: Engine) -> None:
    """Create the token table in a database initialized before it existed."""
    with engine.begin() as connection:
        token_table.create(connection, checkfirst=True)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write(engine: Engine) -> Connection:
    """A connection whose transactions take SQLite's write lock at once (writers queue, never fail)."""
    return engine.connect().execution_options(sqlite_begin="IMMEDIATE")


def issue_token(engine: Engine, user_id: uuid.UUID, name: str = "") -> IssuedToken:
    """Create a token for ``user_id``; the returned secret is not stored anywhere."""
    ensure_token_table(engine)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    info = TokenInfo(uuid.uuid4(), user_id, name, _now(), None)
    with _write(engine) as connection, connection.begin():
        connection.execute(
            insert(token_table).values(
                id=info.id, systemuserid=user_id, name=name, hash=token_digest(token), created=info.created
            )
        )
    return IssuedToken(info, token)


def revoke_token(engine: Engine, token_id: uuid.UUID | str) -> TokenInfo:
    """Revoke a token (idempotent); raises NotFoundError for an unknown id."""
    try:
        key = uuid.UUID(str(token_id))
    except ValueError:
        raise NotFoundError(f"no token '{token_id}'") from None
    with _write(engine) as connection, connection.begin():
        connection.execute(
            update(token_table).where(token_table.c.id == key, token_table.c.revoked.is_(None)).values(revoked=_now())
        )
        row = connection.execute(select(token_table).where(token_table.c.id == key)).mappings().first()
    if row is None:
        raise NotFoundError(f"no token '{token_id}'")
    return _info(row)


def list_tokens(engine: Engine, user_id: uuid.UUID) -> list[TokenInfo]:
    """The tokens of one user, oldest first, revoked ones included."""
    query = select(token_table).where(token_table.c.systemuserid == user_id)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(token_table.c.created, token_table.c.id)).mappings()
        return [_info(row) for row in rows]


@lru_cache(maxsize=4)
def _lookup(users: Table) -> Select[Any]:
    """The user of a token digest (``:digest``), built once per user table (per metadata version)."""
    query = (
        select(users.c.systemuserid)
        .join(token_table, token_table.c.systemuserid == users.c.systemuserid)
        .where(token_table.c.hash == bindparam("digest"), token_table.c.revoked.is_(None))
    )
    if "isdisabled" in users.c:
        query = query.where(or_(users.c.isdisabled.is_(None), users.c.isdisabled.is_(False)))
    return query


def authenticate_token(environment: Environment, token: str) -> uuid.UUID | None:
    """The user a token acts for; None when it is unknown, revoked, or its user is disabled."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    query = _lookup(environment.table("systemuser"))
    with environment.engine.connect() as connection:
        user: uuid.UUID | None = connection.execute(query, {"digest": token_digest(token)}).scalar_one_or_none()
        return user


def _info(row: RowMapping) -> TokenInfo:
    return TokenInfo(row["id"], row["systemuserid"], row["name"], row["created"], row["revoked"])
