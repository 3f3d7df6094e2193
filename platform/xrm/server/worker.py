"""Background tasks of a server process: the asynchronous job worker and the version watcher."""

from __future__ import annotations

import logging
import os
import socket

import anyio
import anyio.to_thread

from xrm.data.jobs import run_due_jobs, run_timers
from xrm.plugin.timers import load_timers, run_plugin_timers
from xrm.server.reload import Reloader

__all__ = ["run_job_worker", "watch_metadata_version", "worker_name"]

log = logging.getLogger(__name__)


def worker_name() -> str:
    """Names the process in the job table (``locked_by``): host and process id."""
    return f"{socket.gethostname()}-{os.getpid()}"


async def run_job_worker(reloader: Reloader, *, interval: float = 1.0, name: str | None = None) -> None:
    """Run due asynchronous plugin jobs until cancelled, with the current environment's plugins;
    each pass first runs the ``timer`` steps (see :func:`xrm.data.jobs.run_timers`).

    Jobs are claimed in the database (``SKIP LOCKED`` on PostgreSQL), so the workers of several
    server processes never run the same job twice at once. Each round also calls the plugins'
    timers (entry-point group ``xrm.timers``), such as the SLA check of overdue KPIs.
    """
    name = name or worker_name()
    timers = load_timers()
    while True:
        try:
            environment = reloader.current.environment
            await anyio.to_thread.run_sync(lambda: run_timers(environment))
            await anyio.to_thread.run_sync(lambda: run_plugin_timers(environment, timers))
            ran = await anyio.to_thread.run_sync(lambda: run_due_jobs(environment, worker=name))
        except Exception:
            log.exception("the job worker failed; retrying in %ss", interval)
            ran = 0
        if not ran:
            await anyio.sleep(interval)


async def watch_metadata_version(reloader: Reloader) -> None:
    """Rebuild the schema soon after another process changes the metadata, even while no request comes."""
    while True:
        await anyio.sleep(reloader.interval)
        try:
            await anyio.to_thread.run_sync(reloader.refresh)
        except Exception:
            log.exception("checking the metadata version failed")
