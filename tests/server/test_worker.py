"""The asynchronous job worker runs inside the server process (unless switched off)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import anyio
import httpx
import pytest

from xrm.data import Entity
from xrm.data.jobs import job_statuses
from xrm.plugin import PluginRegistry
from xrm.server import create_app
from xrm.solution import SolutionManager

pytestmark = pytest.mark.anyio

SVC = Path(__file__).resolve().parents[1] / "fixtures" / "solutions" / "svc"


def install_async_step(solutions: SolutionManager, write_solution) -> None:  # type: ignore[no-untyped-def]
    manifest = {"name": "svcsteps", "display_name": "Steps", "version": "1.0.0",
                "publisher": {"name": "T", "prefix": "tsv"}, "dependencies": [{"name": "svc"}]}  # fmt: skip
    step = {
        "name": "later",
        "plugin": "t_later",
        "message": "create",
        "entity": "tsv_parent",
        "stage": 40,
        "mode": "async",
    }
    solutions.install(SVC)
    solutions.install(write_solution(manifest, {"plugins.yaml": {"steps": [step]}}))


async def statuses_until(environment, record: uuid.UUID, wanted: list[str], seconds: float = 20.0) -> list[str]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while True:
        found = [job.status for job in job_statuses(environment, record_id=record)]
        if found == wanted or time.monotonic() > deadline:
            return found
        await anyio.sleep(0.05)


async def test_async_jobs_run_in_the_server_process_as_the_calling_user(
    settings, solutions, write_solution, caller
) -> None:
    alice = caller("alice", roles=["system_administrator"])
    ran: list[uuid.UUID | None] = []
    registry = PluginRegistry()
    registry.register("t_later", lambda context: ran.append(context.user_id))
    install_async_step(solutions, write_solution)
    app = create_app(settings(registry=registry, run_worker=True, worker_interval=0.05))

    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://xrm.test") as http:
            assert (await http.get("/healthz")).status_code == 200
        environment = app.state.reloader.current.environment
        record = environment.service(alice.user_id).create(Entity("tsv_parent", tsv_name="a"))
        assert await statuses_until(environment, record, ["succeeded"]) == ["succeeded"]
    assert ran == [alice.user_id]


async def test_no_worker_leaves_jobs_to_others(settings, solutions, write_solution) -> None:
    registry = PluginRegistry()
    registry.register("t_later", lambda context: None)
    install_async_step(solutions, write_solution)
    app = create_app(settings(registry=registry, run_worker=False, worker_interval=0.05))

    async with app.router.lifespan_context(app):
        environment = app.state.reloader.current.environment
        record = environment.service().create(Entity("tsv_parent", tsv_name="a"))
        assert await statuses_until(environment, record, ["succeeded"], seconds=0.5) == ["pending"]


async def test_the_worker_calls_the_plugins_timers_with_the_current_environment(settings, monkeypatch) -> None:
    import xrm.server.worker

    seen: list[object] = []

    def failing(environment: object) -> None:
        raise RuntimeError("a broken timer is logged, the others still run")

    timers = {"broken": failing, "t_timer": seen.append}
    monkeypatch.setattr(xrm.server.worker, "load_timers", lambda: timers)
    app = create_app(settings(run_worker=True, worker_interval=0.05))

    async with app.router.lifespan_context(app):
        deadline = time.monotonic() + 20
        while len(seen) < 2 and time.monotonic() < deadline:
            await anyio.sleep(0.05)
        environment = app.state.reloader.current.environment
    assert len(seen) >= 2 and seen[-1] is environment, "called every round, with the environment in use"
