"""Who is calling: the user's business unit, teams and the roles held by the user and its teams."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, select

from xrm.data import Environment
from xrm.errors import AccessDeniedError
from xrm.schema.platform_tables import field_profile_member_table, role_member_table

__all__ = ["Principal", "TeamMembership", "load_principal", "business_unit_tree"]

OWNER_TEAM, ACCESS_TEAM = 0, 1


@dataclass(frozen=True)
class TeamMembership:
    team_id: uuid.UUID
    business_unit: uuid.UUID
    owner_team: bool


@dataclass(frozen=True)
class Principal:
    """The facts security decisions are made from, read once per transaction."""

    user_id: uuid.UUID
    business_unit: uuid.UUID
    teams: tuple[TeamMembership, ...]
    user_roles: frozenset[str]
    team_roles: dict[uuid.UUID, frozenset[str]]
    field_profiles: frozenset[str]

    @property
    def principal_ids(self) -> tuple[uuid.UUID, ...]:
        """The user and every team it belongs to: the principals a record can be shared with."""
        return (self.user_id, *(t.team_id for t in self.teams))


def business_unit_tree(connection: Connection, environment: Environment) -> dict[uuid.UUID, uuid.UUID | None]:
    """Every business unit with its parent."""
    units = environment.table("businessunit")
    rows = connection.execute(select(units.c.businessunitid, units.c.parentbusinessunitid))
    return {row[0]: row[1] for row in rows}


def load_principal(connection: Connection, environment: Environment, user_id: uuid.UUID) -> Principal:
    """Read what security needs to know about ``user_id``; a missing or disabled user is refused."""
    users = environment.table("systemuser")
    row = connection.execute(
        select(users.c.businessunitid, users.c.isdisabled).where(users.c.systemuserid == user_id)
    ).first()
    if row is None:
        raise AccessDeniedError(f"user {user_id} does not exist")
    if row.isdisabled:
        raise AccessDeniedError(f"user {user_id} is disabled")
    if row.businessunitid is None:
        raise AccessDeniedError(f"user {user_id} belongs to no business unit; give it one first")
    teams = _teams(connection, environment, user_id)
    principals = [user_id, *(t.team_id for t in teams)]
    members = role_member_table.c
    roles: dict[uuid.UUID, set[str]] = {}
    for principal_id, role in connection.execute(
        select(members.principalid, members.role).where(members.principalid.in_(principals))
    ):
        roles.setdefault(principal_id, set()).add(role)
    owner_teams = {t.team_id for t in teams if t.owner_team}
    profiles = field_profile_member_table.c
    field_profiles = frozenset(
        connection.execute(select(profiles.profile).where(profiles.principalid.in_(principals))).scalars()
    )
    return Principal(
        user_id=user_id,
        business_unit=row.businessunitid,
        teams=teams,
        user_roles=frozenset(roles.get(user_id, ())),
        team_roles={team: frozenset(roles.get(team, ())) for team in owner_teams},
        field_profiles=field_profiles,
    )


def _teams(connection: Connection, environment: Environment, user_id: uuid.UUID) -> tuple[TeamMembership, ...]:
    if "team" not in environment.model.entities or "teammembership" not in environment.tables.tables:
        return ()
    teams, membership = environment.table("team"), environment.tables.tables["teammembership"]
    rows = connection.execute(
        select(teams.c.teamid, teams.c.businessunitid, teams.c.teamtype)
        .join(membership, membership.c.teamid == teams.c.teamid)
        .where(membership.c.systemuserid == user_id)
    )
    return tuple(TeamMembership(r.teamid, r.businessunitid, r.teamtype == OWNER_TEAM) for r in rows)
