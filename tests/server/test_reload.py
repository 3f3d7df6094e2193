"""Schema hot-swap: a new metadata version, from any process, is noticed and swapped in atomically."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from xrm.server import Reloader, create_app
from xrm.solution import SolutionManager

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "solutions"


def xrm_in_another_process(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "xrm", *args], capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def sdl(http: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await http.get("/graphql/schema.graphql", headers=headers)
    assert response.status_code == 200, response.text
    return response.text


@pytest.mark.anyio
async def test_a_solution_installed_by_another_process_appears_without_a_restart(client, caller, database_url) -> None:
    headers = caller().headers
    reloader: Reloader = client.app.state.reloader  # type: ignore[attr-defined]
    before = reloader.current
    count_cases = {"query": "{ incidents { totalCount } }"}
    assert "type Incident implements Node" not in await sdl(client, headers)
    assert (await client.post("/graphql", json=count_cases, headers=headers)).status_code == 400

    xrm_in_another_process("solution", "install", "case", "--database", database_url)

    assert "type Incident implements Node" in await sdl(client, headers)
    response = await client.post("/graphql", json=count_cases, headers=headers)
    assert response.json() == {"data": {"incidents": {"totalCount": 0}}}
    assert reloader.current is not before and reloader.current.version > before.version
    ready = (await client.get("/readyz")).json()
    assert ready["metadata_version"] == ready["schema_version"] == reloader.current.version


@pytest.mark.anyio
async def test_an_upgrade_by_another_process_is_swapped_in(client, caller, database_url) -> None:
    headers = caller().headers
    xrm_in_another_process("solution", "install", str(FIXTURES / "alltypes"), "--database", database_url)
    query = {"query": "{ tstProjects { edges { node { tstSponsorname } } } }"}
    assert "tstSponsorname: String" not in await sdl(client, headers)
    assert (await client.post("/graphql", json=query, headers=headers)).status_code == 400

    xrm_in_another_process("solution", "upgrade", str(FIXTURES / "alltypes_v2"), "--database", database_url)

    assert "tstSponsorname: String" in await sdl(client, headers)
    response = await client.post("/graphql", json=query, headers=headers)
    assert response.json() == {"data": {"tstProjects": {"edges": []}}}


def test_the_version_is_checked_at_most_once_per_interval(initialized: Engine, settings) -> None:
    now = [100.0]
    builds: list[int] = []
    reloader = CountingReloader(initialized, lambda engine: builds.append(1) or (None, object()), interval=1.0,
                                clock=lambda: now[0])  # fmt: skip
    first = reloader.refresh()
    assert reloader.checks == 1 and len(builds) == 1
    for _ in range(50):
        assert reloader.refresh() is first
    assert reloader.checks == 1, "no database read within the interval"
    now[0] += 1.0
    assert reloader.refresh() is first and reloader.checks == 2 and len(builds) == 1, "same version: no rebuild"

    SolutionManager(initialized).install("case")
    assert reloader.refresh() is first, "not due yet"
    now[0] += 1.0
    second = reloader.refresh()
    assert second is not first and second.version == first.version + 1 and len(builds) == 2


def test_one_build_per_version_and_the_old_schema_serves_meanwhile(initialized: Engine) -> None:
    builds: list[int] = []
    building, gate = threading.Event(), threading.Event()

    def slow_build(engine):  # type: ignore[no-untyped-def]
        builds.append(1)
        building.set()
        gate.wait(10)
        return None, object()

    reloader = Reloader(initialized, slow_build, interval=0.0)
    gate.set()
    old = reloader.refresh()
    gate.clear()
    building.clear()
    SolutionManager(initialized).install("case")
    noticed: list[object] = []
    builder = threading.Thread(target=lambda: noticed.append(reloader.refresh()))
    builder.start()
    assert building.wait(10)
    meanwhile = [reloader.refresh() for _ in range(5)]
    assert all(runtime is old for runtime in meanwhile), "requests during the build keep the old schema"
    gate.set()
    builder.join()
    assert len(builds) == 2 and noticed == [reloader.current] and reloader.current is not old
    assert reloader.refresh() is reloader.current and len(builds) == 2, "built once per version"


def test_a_failed_rebuild_keeps_serving_the_old_schema(initialized: Engine) -> None:
    fail = [False]

    def build(engine):  # type: ignore[no-untyped-def]
        if fail[0]:
            raise RuntimeError("plugin not importable here")
        return None, object()

    reloader = Reloader(initialized, build, interval=0.0)
    old = reloader.refresh()
    fail[0] = True
    SolutionManager(initialized).install("case")
    assert reloader.refresh() is old and isinstance(reloader.last_error, RuntimeError)
    fail[0] = False
    assert reloader.refresh() is not old and reloader.last_error is None


def test_a_change_committed_during_a_build_is_not_missed(initialized: Engine) -> None:
    manager = SolutionManager(initialized)
    installs = iter(["case"])

    def build(engine):  # type: ignore[no-untyped-def]
        name = next(installs, None)
        if name:  # another process commits while this one reads the model
            manager.install(name)
        return None, object()

    reloader = Reloader(initialized, build, interval=0.0)
    first = reloader.refresh()
    second = reloader.refresh()
    assert second is not first and second.version == first.version + 1


def test_create_app_refuses_an_empty_database(tmp_path) -> None:
    from xrm.errors import XrmError
    from xrm.server import ServerSettings

    with pytest.raises(XrmError, match="xrm init") as error:
        create_app(ServerSettings(database=f"sqlite:///{tmp_path / 'empty.db'}"))
    assert error.value.code == "NOT_INITIALIZED"


class CountingReloader(Reloader):
    checks = 0

    def database_version(self) -> int:
        self.checks += 1
        return super().database_version()
