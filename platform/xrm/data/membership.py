"""Security roles held by users and owner teams (``_xrm_role_member``).

The roles themselves are metadata (``roles/*.yaml``); who holds one is data. Giving or taking a
role, or listing another principal's roles, needs the global privilege ``manage_roles`` (a user
may list its own). Only users and owner teams hold roles: an access team only gets records
shared with it. A change applies to the holder's next transaction (and to the rest of this one).
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_, delete, insert, select

from xrm.data.access import access_policy
from xrm.data.entity import EntityReference
from xrm.data.environment import Environment
from xrm.data.scope import Scope
from xrm.errors import AttributeProblem, InvalidOperationError, NotFoundError, ValidationError
from xrm.metadata import Model
from xrm.metadata.components import RoleMetadata
from xrm.schema.platform_tables import role_member_table

__all__ = ["OWNER_TEAM", "PRINCIPAL_TYPES", "assign_role", "remove_role", "require_role", "roles_of"]

PRINCIPAL_TYPES = ("systemuser", "team")
OWNER_TEAM = 0  # team.teamtype; 1 is an access team
_MEMBERS = role_member_table.c


def require_role(model: Model, role: str) -> None:
    """Refuse a role that is not installed, naming it and the installed ones."""
    if role not in model.roles:
        known = ", ".join(sorted(model.roles)) or "none"
        raise NotFoundError(f"no security role '{role}' is installed (installed: {known})")


def _held(principal: EntityReference, role: str) -> ColumnElement[bool]:
    return and_(_MEMBERS.principalid == principal.id, _MEMBERS.role == role)


def _holds(scope: Scope, principal: EntityReference, role: str) -> bool:
    return scope.connection.execute(select(_MEMBERS.role).where(_held(principal, role))).first() is not None


def _require_principal(
    environment: Environment, scope: Scope, principal: EntityReference, *, holding: bool = True
) -> None:
    """``principal`` is an existing user or team; with ``holding``, one that may hold roles (no access team)."""
    if principal.logical_name not in PRINCIPAL_TYPES:
        reason = f"a security role is held by a user or an owner team, not by a '{principal.logical_name}' record"
        raise ValidationError(principal.logical_name, [AttributeProblem("principal", reason)])
    table = environment.table(principal.logical_name)
    primary_id = table.c[environment.model.entity(principal.logical_name).primary_id]
    is_team = principal.logical_name == "team"
    columns = [primary_id, table.c.teamtype, table.c.name] if is_team else [primary_id]
    row = scope.connection.execute(select(*columns).where(primary_id == principal.id)).first()
    if row is None:
        raise NotFoundError(f"{principal.logical_name} with id {principal.id} does not exist")
    if holding and is_team and row.teamtype != OWNER_TEAM:
        raise InvalidOperationError(
            f"team '{row.name}' ({principal.id}) is an access team and cannot hold security roles; "
            "give the role to its members or to an owner team"
        )


def _require_manager(environment: Environment, scope: Scope, user_id: uuid.UUID | None) -> None:
    policy = access_policy(environment, scope, user_id)
    if policy is not None:
        policy.require_global("manage_roles")


def _forget_policies(scope: Scope) -> None:
    """Drop the policies read in this transaction: the roles they were built from changed."""
    for key in [key for key in scope.memo if isinstance(key, tuple) and key[:1] == ("access_policy",)]:
        del scope.memo[key]


def assign_role(
    environment: Environment, scope: Scope, user_id: uuid.UUID | None, principal: EntityReference, role: str
) -> None:
    """As ``user_id``, give ``role`` to the user or owner team ``principal`` (nothing to do if it holds it)."""
    _require_manager(environment, scope, user_id)
    _require_principal(environment, scope, principal)
    require_role(environment.model, role)
    policy = access_policy(environment, scope, user_id)
    if policy is not None:
        component = environment.model.roles[role]
        assert isinstance(component.metadata, RoleMetadata)
        policy.require_assignable(component.metadata)
    if _holds(scope, principal, role):
        return
    scope.connection.execute(
        insert(role_member_table).values(
            principalid=principal.id, role=role, principaltype=principal.logical_name, createdon=environment.clock()
        )
    )
    _forget_policies(scope)


def remove_role(
    environment: Environment, scope: Scope, user_id: uuid.UUID | None, principal: EntityReference, role: str
) -> None:
    """As ``user_id``, take ``role`` from ``principal``.

    A role no longer installed may still be taken from whoever kept it; any other unknown role is
    an error, so a typo does not pass for success.
    """
    _require_manager(environment, scope, user_id)
    _require_principal(environment, scope, principal, holding=False)
    if not _holds(scope, principal, role):
        require_role(environment.model, role)
        return
    scope.connection.execute(delete(role_member_table).where(_held(principal, role)))
    _forget_policies(scope)


def roles_of(
    environment: Environment, scope: Scope, user_id: uuid.UUID | None, principal: EntityReference
) -> list[str]:
    """The roles ``principal`` holds itself (not through its teams), by name; a user may list its own."""
    if principal.id != user_id:
        _require_manager(environment, scope, user_id)
    _require_principal(environment, scope, principal, holding=False)
    rows = scope.connection.execute(
        select(_MEMBERS.role).where(_MEMBERS.principalid == principal.id).order_by(_MEMBERS.role)
    )
    return list(rows.scalars())
