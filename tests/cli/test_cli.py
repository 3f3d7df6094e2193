"""The ``xrm`` command line, driven as a user would: exit codes, messages, effects on the database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from xrm.cli import app

runner = CliRunner()


def xrm(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_validate_reports_every_planted_mistake_and_writes_nothing(fixture_solution, tmp_path) -> None:
    folder = fixture_solution("planted_mistakes")
    expected = [line.strip() for line in (folder / "EXPECTED.txt").read_text().splitlines() if line.strip()]
    assert len(expected) == 10
    database = tmp_path / "untouched.db"

    code, output = xrm("solution", "validate", str(folder), "--database", f"sqlite:///{database}")

    assert code == 1
    assert "10 metadata errors" in output
    for location in expected:
        assert f"{location}:" in output.replace(str(folder) + "/", ""), f"{location} not reported:\n{output}"
    assert not database.exists() or inspect(create_engine(f"sqlite:///{database}")).get_table_names() == []


def test_validate_a_good_solution(fixture_solution, database_url) -> None:
    code, output = xrm("solution", "validate", str(fixture_solution("alltypes")), "--database", database_url)
    assert code == 0, output
    assert "alltypes 1.0.0: valid" in output


def test_install_list_show_diff_upgrade_uninstall(fixture_solution, database_url) -> None:
    db = ("--database", database_url)
    code, output = xrm("solution", "install", str(fixture_solution("alltypes")), *db)
    assert code == 0, output
    assert output.startswith("installed alltypes 1.0.0") and "create table" in output

    code, output = xrm("solution", "list", *db)
    assert [line.split()[0] for line in output.splitlines()] == ["system", "alltypes"]

    code, output = xrm("solution", "diff", str(fixture_solution("alltypes_v2")), *db)
    assert code == 0 and "add column" in output and "would lose data" not in output

    code, output = xrm("solution", "upgrade", str(fixture_solution("alltypes_v2")), *db)
    assert code == 0 and "upgraded alltypes 1.1.0 (was 1.0.0)" in output

    code, output = xrm("solution", "diff", "alltypes", "--uninstall", *db)
    assert code == 0 and "archive table" in output

    code, output = xrm("entity", "list", *db)
    assert code == 0 and "account" in output

    code, output = xrm("solution", "uninstall", "alltypes", *db)
    assert code == 0 and "data kept in archive tables: arc_" in output
    code, output = xrm("solution", "list", *db)
    assert [line.split()[0] for line in output.splitlines()] == ["system"]


def test_user_errors_have_messages_not_tracebacks(database_url, tmp_path) -> None:
    db = ("--database", database_url)
    code, output = xrm("solution", "install", "no_such_solution", *db)
    assert code == 1 and "no solution 'no_such_solution'" in output and "Traceback" not in output
    code, output = xrm("solution", "uninstall", "system", *db)
    assert code == 1 and "cannot be uninstalled" in output
    code, output = xrm("entity", "show", "nothing", *db)
    assert code == 1 and "unknown entity 'nothing'" in output


def test_entity_show_names_owner_and_ids(database_url) -> None:
    assert xrm("init", "--database", database_url)[0] == 0
    code, output = xrm("entity", "show", "account", "--database", database_url)
    assert code == 0
    assert output.splitlines()[0].startswith("account (Account) id=")
    assert "ownerid" in output and "system" in output


def test_export_writes_a_folder_that_installs_elsewhere(fixture_solution, database_url, tmp_path) -> None:
    db = ("--database", database_url)
    assert xrm("solution", "install", str(fixture_solution("alltypes")), *db)[0] == 0
    out = tmp_path / "exported"
    code, output = xrm("solution", "export", "alltypes", str(out), *db)
    assert code == 0 and (out / "solution.yaml").is_file()
    other = f"sqlite:///{tmp_path / 'other.db'}"
    code, output = xrm("solution", "install", str(out), "--database", other)
    assert code == 0, output


def test_schema_export(tmp_path) -> None:
    code, output = xrm("schema", "export", str(tmp_path))
    assert code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "entity.schema.json" in names and "solution.schema.json" in names


def test_console_script_runs_in_another_process(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'demo.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "xrm", "demo", "--no-serve", "--database", database],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "installed case" in done.stdout and "installed ticket" in done.stdout
    assert any(line.startswith("token: xrm_") for line in done.stdout.splitlines())
    code, output = xrm("entity", "list", "--database", database)
    listed = {line.split()[0] for line in output.splitlines()}
    assert {"incident", "contoso_ticket", "account", "contact"} <= listed


def test_autonumber_seed_and_rollup_recalculate(database_url) -> None:
    from xrm.data import Entity, EntityReference
    from xrm.plugin import open_environment
    from xrm.schema import open_engine

    db = ("--database", database_url)
    assert xrm("solution", "install", "case", *db)[0] == 0
    code, output = xrm("autonumber", "seed", "incident.ticketnumber", "50000", *db)
    assert code == 0 and "next number is 50000" in output
    code, output = xrm("autonumber", "seed", "incident.title", "5", *db)
    assert code == 2 and "not an autonumber attribute" in output
    env = open_environment(open_engine(database_url))
    service = env.service()
    account = EntityReference("account", service.create(Entity("account", name="A")))
    case = service.create(Entity("incident", title="t", customerid=account))
    assert service.retrieve("incident", case)["ticketnumber"].startswith("CAS-50000-")
    code, output = xrm("rollup", "recalculate", "incident.title", *db)
    assert code == 1 and "is not a rollup attribute" in output
    rollups = [a.name for a in env.model.entity("incident").attributes.values() if a.type == "rollup"]
    code, output = xrm("rollup", "recalculate", f"incident.{rollups[0]}", *db)
    assert code == 0 and "recalculated for 1 record(s)" in output
    code, output = xrm("worker", "--once", *db)
    assert code == 0 and "ran 0 job(s)" in output
