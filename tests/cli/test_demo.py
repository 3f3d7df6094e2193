"""``xrm demo``: one command from nothing to a served API with sample data and a token."""

from __future__ import annotations

from sqlalchemy import func, select
from typer.testing import CliRunner

from xrm.cli import app
from xrm.data import EntityReference
from xrm.plugin import open_environment
from xrm.schema import open_engine
from xrm.server.tokens import authenticate_token
from xrm.server.users import find_user

runner = CliRunner()


def demo(database_url: str) -> str:
    result = runner.invoke(app, ["demo", "--no-serve", "--database", database_url])
    assert result.exit_code == 0, result.output
    return result.output


def token_of(output: str) -> str:
    (line,) = [line for line in output.splitlines() if line.startswith("token: ")]
    return line.removeprefix("token: ")


def counts(environment) -> dict[str, int]:  # type: ignore[no-untyped-def]
    entities = ("account", "contact", "incident", "task", "phonecall", "email", "appointment")
    with environment.engine.connect() as connection:
        return {
            name: connection.execute(select(func.count()).select_from(environment.table(name))).scalar_one()
            for name in entities
        }


def test_demo_sets_everything_up_once(database_url) -> None:
    first = demo(database_url)
    assert "installed case" in first and "installed ticket" in first
    assert "sample data: 5 accounts, 8 contacts, 8 cases, 10 activities" in first
    assert "http://127.0.0.1:8000/graphql" in first

    engine = open_engine(database_url)
    environment = open_environment(engine)
    user = find_user(environment, "demo")
    assert authenticate_token(environment, token_of(first)) == user
    assert environment.service().roles_of(EntityReference("systemuser", user)) == ["system_administrator"]
    loaded = counts(environment)
    assert loaded["account"] == 5 and loaded["contact"] == 8 and loaded["incident"] == 8
    assert sum(loaded[name] for name in ("task", "phonecall", "email", "appointment")) == 10

    case = environment.service().retrieve_multiple(_cases()).entities[0]
    assert case["createdby"].id == user, "sample data is created by the demo user, through the service"
    assert case["ticketnumber"].startswith("CAS-"), "plugins ran (autonumber)"
    assert [a.user_id for a in environment.service().audit_history("incident", case.id)][0] == user

    second = demo(database_url)
    assert "installed" not in second and "sample data: already there" in second
    assert counts(environment) == loaded, "nothing loaded twice"
    assert token_of(second) != token_of(first) and authenticate_token(environment, token_of(second)) == user
    engine.dispose()


def _cases():  # type: ignore[no-untyped-def]
    from xrm.query import QueryExpression

    return QueryExpression("incident", columns=("createdby", "ticketnumber"))


def test_demo_upgrades_shipped_layers_set_up_by_an_older_xrm(database_url, tmp_path) -> None:
    import shutil

    from xrm.solution import SolutionManager, system_layer_path

    older = tmp_path / "system"
    shutil.copytree(system_layer_path(), older)
    manifest = older / "solution.yaml"
    current = next(line for line in manifest.read_text().splitlines() if line.startswith("version: "))
    manifest.write_text(manifest.read_text().replace(current, "version: 0.9.0"))
    SolutionManager(open_engine(database_url)).install(older)

    output = demo(database_url)
    assert f"upgraded system {current.removeprefix('version: ')} (was 0.9.0)" in output
    assert output.index("upgraded system") < output.index("installed case")
