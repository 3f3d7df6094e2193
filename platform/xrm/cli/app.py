"""``xrm``: environments, solutions, entities and schemas from the command line.

User errors (bad metadata, refused migrations, unknown names) print a clear message and exit with
status 1, without a traceback; status 2 is a usage error (typer's own).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import typer

from xrm.cli.options import Database, user_errors
from xrm.cli.options import environment as _environment
from xrm.cli.security import role_app, share, team_app
from xrm.data import EntityReference, Environment
from xrm.errors import XrmError
from xrm.metadata import load_solution, parse_version
from xrm.schema import database_url, open_engine
from xrm.solution import SolutionManager, available_solutions, system_layer_path

__all__ = ["app", "main", "solution_app", "entity_app", "schema_app", "user_app", "token_app", "team_app", "role_app"]

app = typer.Typer(help="xrm: a metadata-driven entity platform.", no_args_is_help=True, add_completion=False)
solution_app = typer.Typer(help="Validate, install, upgrade, uninstall and export solutions.", no_args_is_help=True)
entity_app = typer.Typer(help="Inspect the installed entities.", no_args_is_help=True)
schema_app = typer.Typer(help="JSON Schemas for the metadata files.", no_args_is_help=True)
autonumber_app = typer.Typer(help="Auto-number sequences.", no_args_is_help=True)
rollup_app = typer.Typer(help="Rollup attributes.", no_args_is_help=True)
app.add_typer(autonumber_app, name="autonumber")
app.add_typer(rollup_app, name="rollup")
app.add_typer(solution_app, name="solution")
app.add_typer(entity_app, name="entity")
app.add_typer(schema_app, name="schema")
user_app = typer.Typer(help="System users.", no_args_is_help=True)
token_app = typer.Typer(help="API keys (bearer tokens) of system users.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(team_app, name="team")
app.add_typer(role_app, name="role")

Host = Annotated[str, typer.Option("--host", help="Interface to listen on.")]
Port = Annotated[int, typer.Option("--port", help="Port to listen on.")]
AllowDataLoss = Annotated[bool, typer.Option("--allow-data-loss", help="Accept steps that drop or narrow data.")]


def manager(database: str | None) -> SolutionManager:
    return SolutionManager(open_engine(database_url(database)))


@app.command()
@user_errors
def init(database: Database = None) -> None:
    """Create the database tables of the platform and install the system layer."""
    result = manager(database).initialize()
    typer.echo(result.summary() if result else "already initialized")


@app.command()
@user_errors
def demo(
    database: Database = None,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Set everything up, print the token, do not serve.")
    ] = False,
    host: Host = "127.0.0.1",
    port: Port = 8000,
) -> None:
    """Set up a demo environment (solutions, sample data, a user with a token) and serve GraphQL."""
    from xrm.cli.sample import load_sample_data
    from xrm.plugin import open_environment
    from xrm.server import issue_token

    url = database_url(database)
    solutions = manager(url)
    solutions.initialize()
    installed = {s.name: s.version for s in solutions.installed()}
    # a database set up by an older xrm gets the newer shipped layers, the system layer first
    for name, path in [("system", system_layer_path()), *sorted(available_solutions().items())]:
        version = load_solution(path).version
        if name not in installed:
            typer.echo(solutions.install(path).summary().splitlines()[0])
        elif parse_version(version) > parse_version(installed[name]):
            typer.echo(solutions.upgrade(path).summary().splitlines()[0])
    environment = open_environment(solutions.engine)
    user = _demo_user(environment)
    # every time, so a database set up before roles were enforced gets it too (assigning is idempotent)
    environment.service().assign_role(EntityReference("systemuser", user), DEMO_ROLE)
    loaded = load_sample_data(environment, user)
    if loaded:
        typer.echo("sample data: " + ", ".join(f"{count} {entity}" for entity, count in loaded.items()))
    else:
        typer.echo("sample data: already there")
    issued = issue_token(solutions.engine, user, "demo")
    endpoint = f"http://{host}:{port}/graphql"
    typer.echo(f"database: {url}")
    typer.echo(f"user: {DEMO_USER} ({user}), role {DEMO_ROLE}")
    typer.echo(f"token: {issued.token}")
    typer.echo(f"GraphQL: {endpoint} (GraphiQL in a browser: {_graphiql_link(endpoint, issued.token)})")
    typer.echo(
        f"try: curl -s {endpoint} -H 'Authorization: Bearer {issued.token}' "
        "-H 'Content-Type: application/json' -d '{\"query\": \"{ __typename }\"}'"
    )
    if not no_serve:
        from xrm.server import ServerSettings, serve

        serve(ServerSettings(database=url, host=host, port=port))


DEMO_USER = "demo"
DEMO_ROLE = "system_administrator"


def _demo_user(environment: Environment) -> uuid.UUID:
    from xrm.errors import NotFoundError
    from xrm.server import create_user, find_user

    try:
        return find_user(environment, DEMO_USER)
    except NotFoundError:
        return create_user(environment, DEMO_USER, "Demo User")


def _graphiql_link(endpoint: str, token: str) -> str:
    import json
    from urllib.parse import quote

    return f"{endpoint}?headers={quote(json.dumps({'Authorization': f'Bearer {token}'}))}"


@solution_app.command("validate")
@user_errors
def solution_validate(
    source: Annotated[str, typer.Argument(help="Solution folder or name.")], database: Database = None
) -> None:
    """Check a solution folder: every problem is reported with file and line; nothing is written."""
    definition = manager(database).validate(source)
    typer.echo(f"{definition.name} {definition.version}: valid")


@solution_app.command("install")
@user_errors
def solution_install(
    source: Annotated[str, typer.Argument(help="Solution folder or name.")],
    allow_data_loss: AllowDataLoss = False,
    database: Database = None,
) -> None:
    """Install a solution (and the system layer on an empty database)."""
    typer.echo(manager(database).install(source, allow_data_loss=allow_data_loss).summary())


@solution_app.command("upgrade")
@user_errors
def solution_upgrade(
    source: Annotated[str, typer.Argument(help="Solution folder or name.")],
    allow_data_loss: AllowDataLoss = False,
    database: Database = None,
) -> None:
    """Upgrade an installed solution to a newer version of it."""
    typer.echo(manager(database).upgrade(source, allow_data_loss=allow_data_loss).summary())


@solution_app.command("uninstall")
@user_errors
def solution_uninstall(
    name: str,
    delete_data: Annotated[
        bool, typer.Option("--delete-data", help="Drop the tables instead of archiving them.")
    ] = False,
    allow_data_loss: AllowDataLoss = False,
    database: Database = None,
) -> None:
    """Remove a solution's layer; its data is kept in archive tables unless --delete-data."""
    result = manager(database).uninstall(name, keep_data=not delete_data, allow_data_loss=allow_data_loss)
    typer.echo(result.summary())


@solution_app.command("diff")
@user_errors
def solution_diff(
    source: Annotated[str, typer.Argument(help="Solution folder or name.")],
    uninstall: Annotated[bool, typer.Option("--uninstall", help="Show what uninstalling it would do.")] = False,
    database: Database = None,
) -> None:
    """Print the migration plan an install, upgrade or uninstall would run; changes nothing."""
    plan = manager(database).diff(source, uninstall=uninstall)
    typer.echo(str(plan))
    if plan.losses:
        typer.echo("would lose data (refused without --allow-data-loss):")
        for loss in plan.losses:
            typer.echo(f"  - {loss}")


@solution_app.command("list")
@user_errors
def solution_list(database: Database = None) -> None:
    """List the installed solutions in install order."""
    for item in manager(database).installed():
        typer.echo(
            f"{item.name:<20} {item.version:<10} {item.publisher:<20} installed {item.installed_on:%Y-%m-%d %H:%M}"
        )


@solution_app.command("export")
@user_errors
def solution_export(name: str, folder: Path, database: Database = None) -> None:
    """Write an installed solution's published metadata as a solution folder."""
    written = manager(database).export(name, folder)
    typer.echo(f"wrote {len(written)} files to {folder}")


def _print_entities(solutions: SolutionManager) -> None:
    for entity in sorted(solutions.model().entities.values(), key=lambda e: e.logical_name):
        typer.echo(
            f"{entity.logical_name:<28} {entity.display_name:<28} {len(entity.attributes):>3} attributes  [{entity.solution}]"
        )


@entity_app.command("list")
@user_errors
def entity_list(database: Database = None) -> None:
    """List installed entities with the solution that owns each."""
    _print_entities(manager(database))


@entity_app.command("show")
@user_errors
def entity_show(name: str, database: Database = None) -> None:
    """Show an entity's attributes, keys and relationships, with ids and owning solutions."""
    model = manager(database).model()
    entity = model.entity(name)
    typer.echo(
        f"{entity.logical_name} ({entity.display_name}) id={entity.id} solution={entity.solution} ownership={entity.ownership.value}"
    )
    typer.echo(f"primary id: {entity.primary_id}  primary name: {entity.primary_name}")
    typer.echo("attributes:")
    for attr in entity.attributes.values():
        extra = f" -> {','.join(attr.targets)}" if attr.targets else ""
        typer.echo(f"  {attr.name:<28} {attr.type:<16}{extra:<24} {attr.solution:<10} {attr.id}")
    for key in entity.keys.values():
        typer.echo(f"key {key.name}: {', '.join(key.metadata.attributes)}")
    typer.echo("relationships:")
    for rel in model.relationships_of(name):
        typer.echo(
            f"  {rel.name:<44} {rel.kind:<12} {rel.referenced_entity} -> {rel.referencing_entity}"
            + (f".{rel.lookup}" if rel.lookup else "")
        )


@schema_app.command("export")
@user_errors
def schema_export(folder: Path) -> None:
    """Write a JSON Schema for every metadata file kind, for editors to validate YAML while typing."""
    from xrm.metadata.jsonschema import export_schemas

    for path in export_schemas(folder):
        typer.echo(str(path))


def _attribute(path: str) -> tuple[str, str]:
    entity, _, attribute = path.partition(".")
    if not entity or not attribute:
        raise typer.BadParameter(f"'{path}': expected ENTITY.ATTRIBUTE")
    return entity, attribute


@autonumber_app.command("seed")
@user_errors
def autonumber_seed(
    target: Annotated[str, typer.Argument(help="ENTITY.ATTRIBUTE")], value: int, database: Database = None
) -> None:
    """Make VALUE the next number of an autonumber attribute (seeds are per environment)."""
    from xrm.data.sequences import seed

    entity, attribute = _attribute(target)
    model = manager(database).model()
    if model.entity(entity).attribute(attribute).type != "autonumber":
        raise typer.BadParameter(f"{target} is not an autonumber attribute")
    engine = open_engine(database_url(database))
    with engine.begin() as connection:
        seed(connection, entity, attribute, value)
    typer.echo(f"{target}: next number is {value}")


@rollup_app.command("recalculate")
@user_errors
def rollup_recalculate(
    target: Annotated[str, typer.Argument(help="ENTITY.ATTRIBUTE")], database: Database = None
) -> None:
    """Recompute a rollup attribute from scratch for every record."""
    from xrm.data.rollup import recalculate
    from xrm.plugin import open_environment

    entity, attribute = _attribute(target)
    env = open_environment(open_engine(database_url(database)))
    with env.engine.begin() as connection:
        rows = recalculate(env, connection, entity, attribute)
    typer.echo(f"{target}: recalculated for {rows} record(s)")


@app.command()
@user_errors
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run the due jobs once and exit.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 1.0,
    database: Database = None,
) -> None:
    """Run asynchronous plugin steps, the ``timer`` steps (scheduled workflows) and the plugins'
    timers, such as the SLA check of overdue KPIs
    (several workers may share one PostgreSQL database)."""
    import time

    from xrm.data.jobs import run_due_jobs, run_timers
    from xrm.plugin import load_timers, open_environment, run_plugin_timers

    env = open_environment(open_engine(database_url(database)))
    timers = load_timers()
    while True:
        run_timers(env)
        run_plugin_timers(env, timers)
        ran = run_due_jobs(env)
        if once:
            typer.echo(f"ran {ran} job(s)")
            return
        if not ran:
            time.sleep(interval)


@app.command()
@user_errors
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Server processes (they share the database).")] = 1,
    reload: Annotated[bool, typer.Option("--reload", help="Restart when the code changes (development).")] = False,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Do not run asynchronous plugin jobs here.")] = False,
    database: Database = None,
) -> None:
    """Serve the GraphQL API at http://HOST:PORT/graphql (uvicorn)."""
    from xrm.server import ServerSettings
    from xrm.server import serve as run

    run(
        ServerSettings(
            database=database_url(database),
            host=host,
            port=port,
            workers=workers,
            reload=reload,
            run_worker=not no_worker,
        )
    )


@user_app.command("create")
@user_errors
def user_create(
    domainname: Annotated[str, typer.Argument(help="User name (unique).")],
    name: Annotated[str | None, typer.Option("--name", help="Full name (default: the user name).")] = None,
    role: Annotated[
        list[str] | None, typer.Option("--role", help="A security role to give the user (repeatable).")
    ] = None,
    database: Database = None,
) -> None:
    """Create a system user in the root business unit, with the security roles given."""
    from xrm.data.membership import require_role
    from xrm.errors import NotFoundError
    from xrm.server import create_user, find_user

    environment = _environment(database)
    roles = list(dict.fromkeys(role or ()))
    for each in roles:  # refuse a typo before anything is written
        require_role(environment.model, each)
    try:
        find_user(environment, domainname)
    except NotFoundError:
        user = create_user(environment, domainname, name)
        for each in roles:
            environment.service().assign_role(EntityReference("systemuser", user), each)
        typer.echo(f"created user {domainname} ({user})" + (f" with roles {', '.join(roles)}" if roles else ""))
        return
    raise XrmError(f"user '{domainname}' already exists", code="CONFLICT")


@token_app.command("create")
@user_errors
def token_create(
    user: Annotated[str, typer.Argument(help="User name or id.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "",
    database: Database = None,
) -> None:
    """Issue an API key for USER; prints the token once (only its digest is stored)."""
    from xrm.server import find_user, issue_token

    environment = _environment(database)
    issued = issue_token(environment.engine, find_user(environment, user), name)
    typer.echo(f"token {issued.info.id} for {user}; store it now, it is not shown again:", err=True)
    typer.echo(issued.token)


@token_app.command("revoke")
@user_errors
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="Token id (see 'xrm token list').")], database: Database = None
) -> None:
    """Revoke an API key; requests using it are refused by every server within a second."""
    from xrm.server import revoke_token

    info = revoke_token(open_engine(database_url(database)), token_id)
    typer.echo(f"revoked token {info.id}")


@token_app.command("list")
@user_errors
def token_list(user: Annotated[str, typer.Argument(help="User name or id.")], database: Database = None) -> None:
    """List a user's API keys (ids, names, dates; never the tokens)."""
    from xrm.server import find_user, list_tokens

    environment = _environment(database)
    for info in list_tokens(environment.engine, find_user(environment, user)):
        state = f"revoked {info.revoked:%Y-%m-%d %H:%M}" if info.revoked else "active"
        typer.echo(f"{info.id}  {info.name or '-':<20} created {info.created:%Y-%m-%d %H:%M}  {state}")


app.command("share")(share)


def main() -> None:
    app(prog_name="xrm")


if __name__ == "__main__":  # pragma: no cover
    main()
