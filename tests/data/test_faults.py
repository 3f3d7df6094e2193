"""Faults: a writer killed with SIGKILL leaves only whole records; a dropped connection is a clean error."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from xrm.data import Entity, ExecutionContext
from xrm.data.rollup import recalculate
from xrm.errors import DatabaseUnavailableError
from xrm.plugin import PluginRegistry
from xrm.schema.platform_tables import audit_table

SVC = Path(__file__).resolve().parents[1] / "fixtures" / "solutions" / "svc"

WRITER = """
import sys
from xrm.data import Entity, EntityReference
from xrm.data.messages import CreateRequest
from xrm.plugin import open_environment
from xrm.schema import open_engine

env = open_environment(open_engine(sys.argv[1]))
service = env.service()
root = EntityReference("tsv_parent", sys.argv[2])
print("ready", flush=True)
n = 0
while True:
    n += 1
    parent = Entity("tsv_parent", tsv_name=f"w{n}", tsv_upid=root)
    parent.id = __import__("uuid").uuid4()
    child = Entity("tsv_child", tsv_name=f"c{n}", tsv_amount=n % 7, tsv_parentid=EntityReference("tsv_parent", parent.id))
    service.execute_multiple([CreateRequest(parent), CreateRequest(child)], transactional=True)
    print(parent.id, flush=True)
"""


def test_sigkilled_writer_leaves_only_whole_records(svc_environment, database_url) -> None:
    env = svc_environment
    if env.engine.dialect.name == "sqlite":
        with env.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    service = env.service()
    root = service.create(Entity("tsv_parent", tsv_name="root"))
    committed: list[str] = []
    rng = random.Random(7)
    for _ in range(3):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, database_url, str(root)], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.3, 1.2))
        os.kill(writer.pid, signal.SIGKILL)
        out, _ = writer.communicate()
        committed += [line.strip() for line in out.splitlines() if line.strip()]
    assert committed, "the writer committed something before being killed"

    parents, children = env.table("tsv_parent"), env.table("tsv_child")
    with env.engine.connect() as connection:
        rows = connection.execute(select(parents).where(parents.c.tsv_upid == root)).mappings().all()
        stored = {str(r["tsv_parentid"]) for r in rows}
        assert set(committed) <= stored, "every acknowledged record is there"
        for row in rows:
            assert row["tsv_number"] and row["tsv_number"].startswith("SVC-"), "autonumber present"
            assert row["tsv_childcount"] == 1, "its child and the rollup delta committed together"
        audited = set(
            connection.execute(select(audit_table.c.recordid).where(audit_table.c.operation == "create")).scalars()
        )
        assert {r["tsv_parentid"] for r in rows} <= audited
        orphans = connection.execute(
            select(func.count()).select_from(children).where(children.c.tsv_parentid.is_(None))
        ).scalar_one()
        assert orphans == 0, "no child without its parent"
        tree = connection.execute(select(parents.c.tsv_treecount).where(parents.c.tsv_parentid == root)).scalar_one()
    assert tree == len(rows), "hierarchical rollup on the root matches what committed"
    with env.engine.begin() as connection:
        recalculate(env, connection, "tsv_parent", "tsv_treecount")
        assert (
            connection.execute(select(parents.c.tsv_treecount).where(parents.c.tsv_parentid == root)).scalar_one()
            == tree
        )


def test_postgres_connection_terminated_mid_request_is_a_clean_error(environment, write_solution, engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    from sqlalchemy import create_engine, text

    registry = PluginRegistry()

    def cut(context: ExecutionContext) -> None:
        if context.target.get("tsv_name") != "cut":  # type: ignore[union-attr]
            return
        pid = context.service._scope.connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()  # type: ignore[union-attr]
        admin = create_engine(engine.url.set(query={}), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()

    registry.register("t_cut", cut)
    steps = {"steps": [{"name": "cut", "plugin": "t_cut", "message": "create", "entity": "tsv_tag", "stage": 20}]}
    manifest = {"name": "cutter", "display_name": "Cut", "version": "1.0.0", "publisher": {"name": "T", "prefix": "tsv"},
                "dependencies": [{"name": "svc"}]}  # fmt: skip
    env = environment(SVC, write_solution(manifest, {"plugins.yaml": steps}), registry=registry)
    service = env.service()
    with pytest.raises(DatabaseUnavailableError) as error:
        service.create(Entity("tsv_tag", tsv_name="cut"))
    assert error.value.code == "SERVICE_UNAVAILABLE" and "SELECT" not in error.value.message
    record_id = service.create(Entity("tsv_tag", tsv_name="fine"))
    assert service.retrieve("tsv_tag", record_id)["tsv_name"] == "fine"
    with env.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(env.table("tsv_tag"))).scalar_one() == 1
