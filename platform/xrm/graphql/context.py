"""What every resolver sees: :class:`GraphQLContext`, built by the server once per request.

The server authenticates the caller, then passes ``context_for(environment, user_id)`` as the
``context_value`` of ``schema.execute(...)`` / ``schema.execute_sync(...)``. The environment must be
the one the schema was built from (same metadata version): swap both together. Writes go through
``service`` (the organization service bound to the caller, so plugins and audit see who acts);
reads go through :class:`xrm.graphql.gateway.ReadGateway`, which applies :meth:`GraphQLContext.row_filter`
(the caller's record security, or an explicit ``read_predicate``) to every statement.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from xrm.data import Environment, OrganizationService
from xrm.data.access import AccessPolicy, access_policy
from xrm.data.scope import transaction
from xrm.query import Hidden, Predicate

__all__ = ["GraphQLContext", "context_for"]


@dataclass
class GraphQLContext:
    """The environment, the caller, and the caller's service for one GraphQL request."""

    environment: Environment
    service: OrganizationService
    user_id: uuid.UUID | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    read_predicate: Predicate | None = None
    _policy: AccessPolicy | None = field(default=None, init=False, repr=False)
    _policy_loaded: bool = field(default=False, init=False, repr=False)

    def access_policy(self) -> AccessPolicy | None:
        """The caller's record security (read once per request); None when unrestricted."""
        if not self._policy_loaded:
            with transaction(self.environment.engine, self.user_id, write=False) as scope:
                self._policy = access_policy(self.environment, scope, self.user_id)
            self._policy_loaded = True
        return self._policy

    def row_filter(self) -> Predicate | None:
        """The row filter every read applies: the explicit ``read_predicate``, else the caller's policy."""
        if self.read_predicate is not None:
            return self.read_predicate
        policy = self.access_policy()
        return policy.read_filter if policy is not None else None

    def hidden_attributes(self) -> Hidden | None:
        """The caller's field security: ``hidden(entity)`` -> attributes that read as null; None = none."""
        policy = self.access_policy()
        return policy.hidden_attributes if policy is not None else None


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
