"""What every resolver sees: :class:`GraphQLContext`, built by the server once per request.

The server authenticates the caller, then passes ``context_for(environment, user_id)`` as the
``context_value`` of ``schema.execute(...)`` / ``schema.execute_sync(...)``. The environment must be
the one the schema was built from (same metadata version): swap both together. Writes go through
``service`` (the organization service bound to the caller, so plugins and audit see who acts);
reads go through :class:`xrm.graphql.gateway.ReadGateway`, which applies ``read_predicate`` (the
row filter the security layer will supply) to every statement.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from xrm.data import Environment, OrganizationService
from xrm.query import Predicate

__all__ = ["GraphQLContext", "context_for"]


@dataclass
class GraphQLContext:
    """The environment, the caller, and the caller's service for one GraphQL request."""

    environment: Environment
    service: OrganizationService
    user_id: uuid.UUID | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    read_predicate: Predicate | None = None


def context_for(
    environment: Environment,
    user_id: uuid.UUID | None = None,
    *,
    request_id: str | None = None,
    read_predicate: Predicate | None = None,
) -> GraphQLContext:
    """A context acting as ``user_id`` (the system user when None)."""
    return GraphQLContext(
        environment=environment,
        service=environment.service(user_id),
        user_id=user_id,
        request_id=request_id or uuid.uuid4().hex,
        read_predicate=read_predicate,
    )
