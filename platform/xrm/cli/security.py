"""``xrm team``, ``xrm role`` and ``xrm share``: who holds which security role, and record shares.

Commands act as the system user, through the organization service (so changes are validated,
audited and run their plugin steps). Users are named by user name or id, teams and business
units by name or id.
"""

from __future__ import annotations

from typing import Annotated

import typer

from xrm.cli.options import Database, environment, user_errors
from xrm.data import EntityReference
from xrm.data.sharing import AccessRights
from xrm.metadata import RoleMetadata

__all__ = ["role_app", "share", "team_app"]

team_app = typer.Typer(
    help="Owner teams (hold roles, own records) and access teams (get shares).", no_args_is_help=True
)
role_app = typer.Typer(help="Security roles held by users and owner teams.", no_args_is_help=True)

MEMBERSHIP = "teammembership_association"
Principal = Annotated[str, typer.Argument(help="User name, team name, or the id of either.")]
Role = Annotated[str, typer.Argument(help="Security role name (see 'xrm role list').")]
RIGHTS = {str(right.name).lower(): right for right in AccessRights if right and right is not AccessRights.CREATE}


@team_app.command("create")
@user_errors
def team_create(
    name: Annotated[str, typer.Argument(help="Team name.")],
    business_unit: Annotated[
        str | None, typer.Option("--business-unit", help="Business unit name or id (default: the root unit).")
    ] = None,
    access: Annotated[bool, typer.Option("--access", help="An access team: gets shares, holds no roles.")] = False,
    administrator: Annotated[
        str | None, typer.Option("--administrator", help="User name or id (default: the system user).")
    ] = None,
    database: Database = None,
) -> None:
    """Create an owner team (or, with --access, an access team)."""
    from xrm.data import ROOT_BUSINESS_UNIT_ID, SYSTEM_USER_ID
    from xrm.server import create_team, find_business_unit, find_user

    env = environment(database)
    unit = find_business_unit(env, business_unit) if business_unit else ROOT_BUSINESS_UNIT_ID
    admin = find_user(env, administrator) if administrator else SYSTEM_USER_ID
    team = create_team(env, name, unit, access=access, administrator=admin)
    typer.echo(f"created {'access' if access else 'owner'} team {name} ({team})")


def _members(team: str, users: list[str], database: str | None, method: str) -> tuple[str, list[str]]:
    from xrm.server import find_team, find_user

    env = environment(database)
    team_id = find_team(env, team)
    references = [EntityReference("systemuser", find_user(env, user)) for user in users]
    getattr(env.service(), method)("team", team_id, MEMBERSHIP, references)
    return str(team_id), users


@team_app.command("add-member")
@user_errors
def team_add_member(
    team: Annotated[str, typer.Argument(help="Team name or id.")],
    users: Annotated[list[str], typer.Argument(help="User names or ids.")],
    database: Database = None,
) -> None:
    """Add users to a team; they get its roles (owner team) and its shares."""
    team_id, added = _members(team, users, database, "associate")
    typer.echo(f"team {team} ({team_id}): added {', '.join(added)}")


@team_app.command("remove-member")
@user_errors
def team_remove_member(
    team: Annotated[str, typer.Argument(help="Team name or id.")],
    users: Annotated[list[str], typer.Argument(help="User names or ids.")],
    database: Database = None,
) -> None:
    """Take users off a team."""
    team_id, removed = _members(team, users, database, "disassociate")
    typer.echo(f"team {team} ({team_id}): removed {', '.join(removed)}")


@role_app.command("assign")
@user_errors
def role_assign(principal: Principal, role: Role, database: Database = None) -> None:
    """Give a security role to a user or an owner team."""
    from xrm.server import find_principal

    env = environment(database)
    reference = find_principal(env, principal)
    env.service().assign_role(reference, role)
    typer.echo(f"{reference.logical_name} {principal} holds {role}")


@role_app.command("remove")
@user_errors
def role_remove(principal: Principal, role: Role, database: Database = None) -> None:
    """Take a security role from a user or an owner team."""
    from xrm.server import find_principal

    env = environment(database)
    reference = find_principal(env, principal)
    env.service().remove_role(reference, role)
    typer.echo(f"{reference.logical_name} {principal} no longer holds {role}")


@role_app.command("list")
@user_errors
def role_list(
    principal: Annotated[str | None, typer.Argument(help="A user or team: list the roles it holds.")] = None,
    database: Database = None,
) -> None:
    """List the installed security roles, or those a user or team holds itself."""
    from xrm.server import find_principal

    env = environment(database)
    if principal is not None:
        for role in env.service().roles_of(find_principal(env, principal)):
            typer.echo(role)
        return
    for name, component in sorted(env.model.roles.items()):
        role = component.metadata
        assert isinstance(role, RoleMetadata)
        kind = "administrator" if role.administrator else f"{len(role.privileges)} entities"
        typer.echo(f"{name:<36} {role.display_name or '':<36} {kind:<16} [{component.solution}]")


def _rights(text: str) -> AccessRights:
    rights = AccessRights.NONE
    for name in (part.strip().lower() for part in text.split(",") if part.strip()):
        if name not in RIGHTS:
            raise typer.BadParameter(f"unknown right '{name}' (rights: {', '.join(RIGHTS)})", param_hint="--rights")
        rights |= RIGHTS[name]
    return rights


@user_errors
def share(
    entity: Annotated[str, typer.Argument(help="The record's entity (logical name).")],
    record_id: Annotated[str, typer.Argument(help="The record's id.")],
    principal: Principal,
    rights: Annotated[
        str | None,
        typer.Option("--rights", help=f"Comma-separated, added to what it has: {', '.join(RIGHTS)}."),
    ] = None,
    revoke: Annotated[bool, typer.Option("--revoke", help="Stop sharing the record with the principal.")] = False,
    database: Database = None,
) -> None:
    """Share a record with a user or team (or, with --revoke, stop sharing it)."""
    from xrm.server import find_principal

    if revoke == (rights is not None):
        raise typer.BadParameter("give either --rights or --revoke")
    try:
        target = EntityReference(entity, record_id)
    except ValueError:
        raise typer.BadParameter(f"'{record_id}' is not a record id", param_hint="RECORD_ID") from None
    env = environment(database)
    env.model.entity(entity)  # an unknown entity is a clear error, not a missing record
    reference = find_principal(env, principal)
    service = env.service()
    if rights is None:
        service.revoke_access(entity, target.id, reference)
        typer.echo(f"{entity} {target.id} is no longer shared with {reference.logical_name} {principal}")
        return
    service.grant_access(entity, target.id, reference, _rights(rights))
    held = next((s for s in service.shared_principals(entity, target.id) if s.principal.id == reference.id), None)
    names = [name for name, right in RIGHTS.items() if held is not None and right & held.rights]
    typer.echo(f"{entity} {target.id} is shared with {reference.logical_name} {principal}: {', '.join(names)}")
