"""Bearer tokens on requests: which user a request acts for."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from xrm.server.reload import Reloader, Runtime
from xrm.server.tokens import authenticate_token

__all__ = ["bearer_token", "authenticate"]


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if there is one."""
    scheme, _, token = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(reloader: Reloader, headers: Mapping[str, str]) -> tuple[Runtime, uuid.UUID | None]:
    """The runtime to serve with (checking the metadata version if due) and the calling user.

    Blocking (database reads): call it from a worker thread. The token is looked up on every
    request, so a revocation by any process applies at once.
    """
    runtime = reloader.refresh()
    token = bearer_token(headers)
    return runtime, authenticate_token(runtime.environment, token) if token else None
