"""Bearer tokens on requests: which user a request acts for."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping

from xrm.data import Environment
from xrm.server.reload import Reloader, Runtime
from xrm.server.tokens import authenticate_token, token_digest

__all__ = ["MAX_TOKEN_TTL", "TokenCache", "bearer_token", "authenticate"]

MAX_TOKEN_TTL = 5.0
"""The longest a process trusts a token lookup, in seconds, whatever the setting."""


class TokenCache:
    """Tokens a process looked up recently, and their users, trusted for ``ttl`` seconds.

    Looking a token up is a database read on every request; within ``ttl`` of a successful
    lookup the answer is reused instead. So a revoked token, or the token of a user just
    disabled, is refused by every process at most ``ttl`` seconds later (each process expires
    its own entries; nothing needs telling). With ``ttl`` 0 every request reads the database.
    Only successful lookups are kept, by digest (never the token), at most ``max_entries``.
    """

    def __init__(self, ttl: float, *, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = min(max(ttl, 0.0), MAX_TOKEN_TTL)
        self.max_entries = max_entries
        self._clock = clock
        self._users: OrderedDict[str, tuple[uuid.UUID, float]] = OrderedDict()
        self._lock = threading.Lock()

    def user(self, environment: Environment, token: str) -> uuid.UUID | None:
        """The user ``token`` acts for (see :func:`~xrm.server.tokens.authenticate_token`)."""
        if self.ttl <= 0:
            return authenticate_token(environment, token)
        digest = token_digest(token)
        with self._lock:
            cached = self._users.get(digest)
        if cached is not None and self._clock() < cached[1]:
            return cached[0]
        expires = self._clock() + self.ttl  # from before the read: never trusted longer than ttl
        user = authenticate_token(environment, token)
        with self._lock:
            if user is None:
                self._users.pop(digest, None)
                return None
            self._users[digest] = (user, expires)
            self._users.move_to_end(digest)
            while len(self._users) > self.max_entries:
                self._users.popitem(last=False)
        return user


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if there is one."""
    scheme, _, token = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(
    reloader: Reloader, headers: Mapping[str, str], tokens: TokenCache | None = None
) -> tuple[Runtime, uuid.UUID | None]:
    """The runtime to serve with (checking the metadata version if due) and the calling user.

    Blocking (database reads): call it from a worker thread. Without ``tokens`` the token is
    looked up on every request; with them, a revocation applies within their ``ttl``.
    """
    runtime = reloader.refresh()
    token = bearer_token(headers)
    if not token:
        return runtime, None
    lookup = tokens.user if tokens is not None else authenticate_token
    return runtime, lookup(runtime.environment, token)
