"""System users, teams and business units, as the server and the CLI name them.

A user is named by its user name (``domainname``) or id, a team or business unit by its name or
id. Lookups read the tables directly (they only turn names into ids); what is done with the ids
goes through the organization service.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from xrm.data import ROOT_BUSINESS_UNIT_ID, SYSTEM_USER_ID, Entity, EntityReference, Environment
from xrm.errors import InvalidOperationError, NotFoundError

__all__ = [
    "ACCESS_TEAM",
    "OWNER_TEAM",
    "create_team",
    "create_user",
    "find_business_unit",
    "find_principal",
    "find_team",
    "find_user",
]

OWNER_TEAM, ACCESS_TEAM = 0, 1  # team.teamtype


def create_user(
    environment: Environment,
    domainname: str,
    fullname: str | None = None,
    *,
    acting_user: uuid.UUID | None = None,
) -> uuid.UUID:
    """Create a system user in the root business unit through the organization service."""
    values = {
        "domainname": domainname,
        "fullname": fullname or domainname,
        "businessunitid": EntityReference("businessunit", ROOT_BUSINESS_UNIT_ID),
    }
    return environment.service(acting_user).create(Entity("systemuser", values))


def create_team(
    environment: Environment,
    name: str,
    business_unit: uuid.UUID = ROOT_BUSINESS_UNIT_ID,
    *,
    access: bool = False,
    administrator: uuid.UUID = SYSTEM_USER_ID,
    acting_user: uuid.UUID | None = None,
) -> uuid.UUID:
    """Create an owner team (or, with ``access``, an access team) through the organization service."""
    values = {
        "name": name,
        "teamtype": ACCESS_TEAM if access else OWNER_TEAM,
        "businessunitid": EntityReference("businessunit", business_unit),
        "administratorid": EntityReference("systemuser", administrator),
    }
    return environment.service(acting_user).create(Entity("team", values))


def _find(environment: Environment, entity: str, name_attribute: str, named: str | uuid.UUID) -> list[uuid.UUID]:
    """The ids of the ``entity`` records whose id or ``name_attribute`` is ``named``."""
    table = environment.table(entity)
    primary_id = table.c[environment.model.entity(entity).primary_id]
    try:
        condition = primary_id == uuid.UUID(str(named))
    except ValueError:
        condition = table.c[name_attribute] == str(named)
    with environment.engine.connect() as connection:
        return list(connection.execute(select(primary_id).where(condition).order_by(primary_id)).scalars())


def _one(found: list[uuid.UUID], kind: str, named: str | uuid.UUID) -> uuid.UUID:
    if not found:
        raise NotFoundError(f"no {kind} '{named}'")
    if len(found) > 1:
        ids = ", ".join(str(item) for item in found)
        raise InvalidOperationError(f"{len(found)} {kind}s are named '{named}'; name one by id ({ids})")
    return found[0]


def find_user(environment: Environment, user: str | uuid.UUID) -> uuid.UUID:
    """The id of the user named ``user`` (user name or id); raises NotFoundError."""
    return _one(_find(environment, "systemuser", "domainname", user), "user", user)


def find_team(environment: Environment, team: str | uuid.UUID) -> uuid.UUID:
    """The id of the team named ``team`` (name or id); NotFoundError, or InvalidOperationError if ambiguous."""
    return _one(_find(environment, "team", "name", team), "team", team)


def find_business_unit(environment: Environment, unit: str | uuid.UUID) -> uuid.UUID:
    """The id of the business unit named ``unit`` (name or id)."""
    return _one(_find(environment, "businessunit", "name", unit), "business unit", unit)


def find_principal(environment: Environment, principal: str | uuid.UUID) -> EntityReference:
    """The user (by user name or id) or team (by name or id) called ``principal``.

    A name that is both a user name and a team name is ambiguous: name it by id.
    """
    users = _find(environment, "systemuser", "domainname", principal)
    teams = _find(environment, "team", "name", principal)
    if users and teams:
        raise InvalidOperationError(f"'{principal}' names both a user and a team; name one by id")
    if teams:
        return EntityReference("team", _one(teams, "team", principal))
    if not users:
        raise NotFoundError(f"no user or team '{principal}'")
    return EntityReference("systemuser", _one(users, "user", principal))
