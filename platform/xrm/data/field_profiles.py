"""Field security profiles given to users and teams (``_xrm_field_profile_member``).

The profiles themselves are metadata (``field_security_profiles/*.yaml``); who holds one is data.
Giving or taking one needs the global privilege ``manage_roles``, as roles do. A change applies
to the holder's next transaction (and to the rest of this one).
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_, delete, insert, select

from xrm.data.access import access_policy
from xrm.data.entity import EntityReference
from xrm.data.environment import Environment
from xrm.data.scope import Scope
from xrm.errors import AttributeProblem, NotFoundError, ValidationError
from xrm.schema.platform_tables import field_profile_member_table

__all__ = ["PRINCIPAL_TYPES", "add_field_profile", "remove_field_profile"]

PRINCIPAL_TYPES = ("systemuser", "team")
_MEMBERS = field_profile_member_table.c


def _held(principal: EntityReference, profile: str) -> ColumnElement[bool]:
    return and_(_MEMBERS.principalid == principal.id, _MEMBERS.profile == profile)


def _check(
    environment: Environment,
    scope: Scope,
    user_id: uuid.UUID | None,
    principal: EntityReference,
    profile: str,
    *,
    taking: bool,
) -> None:
    """The caller may manage profiles, the principal is a user or team that exists, and the
    profile is installed (or, to take it, still held after its solution went away)."""
    policy = access_policy(environment, scope, user_id)
    if policy is not None:
        policy.require_global("manage_roles")
    if principal.logical_name not in PRINCIPAL_TYPES:
        reason = f"a field security profile is given to a user or a team, not to a {principal.logical_name}"
        raise ValidationError(principal.logical_name, [AttributeProblem("principal", reason)])
    table = environment.table(principal.logical_name)
    primary_id = table.c[environment.model.entity(principal.logical_name).primary_id]
    if scope.connection.execute(select(primary_id).where(primary_id == principal.id)).first() is None:
        raise NotFoundError(f"{principal.logical_name} with id {principal.id} does not exist")
    if profile not in environment.model.field_profiles and not (taking and _holds(scope, principal, profile)):
        known = ", ".join(sorted(environment.model.field_profiles)) or "none"
        raise NotFoundError(f"no field security profile '{profile}' is installed (installed: {known})")


def _holds(scope: Scope, principal: EntityReference, profile: str) -> bool:
    return scope.connection.execute(select(_MEMBERS.profile).where(_held(principal, profile))).first() is not None


def _forget_policies(scope: Scope) -> None:
    """Drop the policies read in this transaction: the profiles they were built from changed."""
    for key in [key for key in scope.memo if isinstance(key, tuple) and key[:1] == ("access_policy",)]:
        del scope.memo[key]


def add_field_profile(
    environment: Environment, scope: Scope, user_id: uuid.UUID | None, principal: EntityReference, profile: str
) -> None:
    """As ``user_id``, give ``profile`` to the user or team ``principal`` (nothing to do if it holds it)."""
    _check(environment, scope, user_id, principal, profile, taking=False)
    if _holds(scope, principal, profile):
        return
    scope.connection.execute(
        insert(field_profile_member_table).values(
            principalid=principal.id,
            profile=profile,
            principaltype=principal.logical_name,
            createdon=environment.clock(),
        )
    )
    _forget_policies(scope)


def remove_field_profile(
    environment: Environment, scope: Scope, user_id: uuid.UUID | None, principal: EntityReference, profile: str
) -> None:
    """As ``user_id``, take ``profile`` from the user or team ``principal`` (nothing to do if it
    does not hold it)."""
    _check(environment, scope, user_id, principal, profile, taking=True)
    scope.connection.execute(delete(field_profile_member_table).where(_held(principal, profile)))
    _forget_policies(scope)
