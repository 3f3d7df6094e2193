"""The seam between the service and record security.

The data layer does not know how access is decided; it asks an :class:`AccessPolicy` for the
calling user (built by the security layer, ``xrm.security``) before every message, and hands its
:meth:`~AccessPolicy.read_filter` to every query it compiles, so reads are restricted in SQL.
An environment without an :class:`AccessControl` (or a call as the system user) is unrestricted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import ColumnElement, Connection, FromClause

from xrm.data.entity import EntityReference
from xrm.metadata.components import RoleMetadata

if TYPE_CHECKING:
    from xrm.data.environment import Environment
    from xrm.data.scope import Scope

# created with the system layer: the principal that acts when no user is given; never restricted
SYSTEM_USER_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")

__all__ = [
    "AccessControl",
    "AccessPolicy",
    "access_policy",
    "SYSTEM_USER_ID",
    "READ",
    "WRITE",
    "DELETE",
    "APPEND",
    "APPEND_TO",
    "ASSIGN",
    "SHARE",
]

READ, WRITE, DELETE, APPEND, APPEND_TO, ASSIGN, SHARE, CREATE = (
    "read", "write", "delete", "append", "append_to", "assign", "share", "create",
)  # fmt: skip


class AccessPolicy(Protocol):
    """What one user may do; every check raises ``AccessDeniedError`` (or ``NotFoundError``)."""

    user_id: uuid.UUID

    def read_filter(self, entity: str, table: FromClause) -> ColumnElement[bool] | None:
        """The rows of ``table`` (entity ``entity``, maybe aliased) the user may read; None = all."""
        ...

    def filter_for(self, privilege: str, entity: str, table: FromClause) -> ColumnElement[bool] | None:
        """The rows the user holds ``privilege`` on (read, write, delete, append, ...)."""
        ...

    def require_privilege(self, privilege: str, entity: str) -> None:
        """Refuse unless the user holds ``privilege`` on ``entity`` at some depth."""
        ...

    def require_record(self, connection: Connection, privilege: str, entity: str, record_id: uuid.UUID) -> None:
        """Refuse unless the user holds ``privilege`` on that record (checked in SQL).

        A record the user cannot even read is answered as missing, so existence is not revealed.
        """
        ...

    def require_create(self, entity: str, owner: EntityReference | None, business_unit: uuid.UUID | None) -> None:
        """Refuse unless the user may create ``entity`` records owned by ``owner`` in ``business_unit``."""
        ...

    def require_assignable(self, role: RoleMetadata) -> None:
        """Refuse handing on ``role`` unless the user holds all of it (no escalation by assignment)."""
        ...

    def require_global(self, privilege: str) -> None:
        """Refuse unless the user holds the global privilege (e.g. ``manage_roles``)."""
        ...

    def hidden_attributes(self, entity: str) -> frozenset[str]:
        """Secured attributes of ``entity`` the user may not read (they read as null)."""
        ...

    def require_fields(self, entity: str, attributes: Iterable[str], operation: str) -> None:
        """Refuse writing secured ``attributes`` without the ``create`` / ``update`` field permission."""
        ...


class AccessControl(Protocol):
    """Builds the policy of a user; one per environment."""

    def policy(self, environment: Environment, connection: Connection, user_id: uuid.UUID) -> AccessPolicy:
        """The policy of ``user_id``, reading what it needs (roles, teams, units) on ``connection``."""
        ...


def access_policy(environment: Environment, scope: Scope, user_id: uuid.UUID | None) -> AccessPolicy | None:
    """The policy of ``user_id`` in this transaction (read once, shared by nested calls).

    None means unrestricted: no access control in the environment, or the system user.
    """
    if environment.access is None or user_id is None or user_id == SYSTEM_USER_ID:
        return None
    key = ("access_policy", "SYSTEM_USER_ID", user_id)
    if key not in scope.memo:
        scope.memo[key] = environment.access.policy(environment, scope.connection, user_id)
    policy: AccessPolicy = scope.memo[key]
    return policy
