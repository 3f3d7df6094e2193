"""``xrm user`` and ``xrm token``: users created through the service, API keys shown once, stored hashed."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from xrm.cli import app
from xrm.plugin import open_environment
from xrm.schema import open_engine
from xrm.schema.platform_tables import token_table
from xrm.server.tokens import authenticate_token, token_digest

runner = CliRunner()


def xrm(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_users_and_their_tokens(database_url) -> None:
    db = ("--database", database_url)
    assert xrm("init", *db).exit_code == 0
    created = xrm("user", "create", "alice", "--name", "Alice Liddell", *db)
    assert created.exit_code == 0 and created.output.startswith("created user alice (")
    again = xrm("user", "create", "alice", *db)
    assert again.exit_code == 1 and "error [CONFLICT]: user 'alice' already exists" in again.output

    issued = xrm("token", "create", "alice", "--name", "ci", *db)
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip()
    assert token.startswith("xrm_") and "\n" not in token, "stdout holds the token alone, for scripts"
    assert "not shown again" in issued.stderr

    engine = open_engine(database_url)
    environment = open_environment(engine)
    with engine.connect() as connection:
        (row,) = connection.execute(select(token_table)).mappings()
    assert row["hash"] == token_digest(token) and token not in str(dict(row)), "only the digest is stored"
    assert row["name"] == "ci"
    assert authenticate_token(environment, token) == row["systemuserid"]
    record = environment.service().retrieve("systemuser", row["systemuserid"], ["fullname", "domainname", "createdby"])
    assert (record["fullname"], record["domainname"]) == ("Alice Liddell", "alice")

    listed = xrm("token", "list", "alice", *db)
    assert listed.exit_code == 0 and listed.output.split()[:2] == [str(row["id"]), "ci"] and "active" in listed.output
    assert token not in listed.output

    revoked = xrm("token", "revoke", str(row["id"]), *db)
    assert revoked.exit_code == 0 and f"revoked token {row['id']}" in revoked.output
    assert authenticate_token(environment, token) is None
    assert "revoked" in xrm("token", "list", "alice", *db).output
    assert xrm("token", "revoke", str(row["id"]), *db).exit_code == 0, "revoking twice is harmless"
    engine.dispose()


def test_tokens_name_users_by_user_name_or_id(database_url) -> None:
    db = ("--database", database_url)
    xrm("init", *db)
    user_id = xrm("user", "create", "bob", *db).output.strip().split("(")[1].rstrip(")")
    assert xrm("token", "create", user_id, *db).stdout.startswith("xrm_")
    assert len(xrm("token", "list", "bob", *db).output.splitlines()) == 1


def test_unknown_users_and_tokens_are_user_errors(database_url) -> None:
    db = ("--database", database_url)
    xrm("init", *db)
    for args, message in [
        (("token", "create", "nobody"), "error [NOT_FOUND]: no user 'nobody'"),
        (("token", "list", "nobody"), "error [NOT_FOUND]: no user 'nobody'"),
        (("token", "revoke", "not-an-id"), "error [NOT_FOUND]: no token 'not-an-id'"),
        (("token", "revoke", "00000000-0000-4000-8000-00000000beef"), "no token"),
    ]:
        result = xrm(*args, *db)
        assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
