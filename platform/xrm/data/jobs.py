"""Asynchronous steps: written to a job table in the operation's transaction (an outbox) and run
after commit by a worker, at least once, with retries and backoff."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from xrm.data.context import ExecutionContext
from xrm.data.entity import Entity, EntityReference
from xrm.data.environment import Environment
from xrm.data.pipeline import RegisteredStep
from xrm.metadata.components import Stage, StepMode
from xrm.schema.platform_tables import job_table

__all__ = [
    "enqueue_job",
    "serialize_target",
    "deserialize_target",
    "DEFAULT_MAX_ATTEMPTS",
    "JobStatus",
    "run_due_jobs",
    "job_statuses",
    "TIMER_MESSAGE",
    "run_timers",
]

DEFAULT_MAX_ATTEMPTS = 5

log = logging.getLogger(__name__)


def _plain(value: Any) -> Any:
    if isinstance(value, EntityReference):
        return {"$ref": value.logical_name, "id": str(value.id)}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, dt.datetime | dt.date):
        return {"$date": value.isoformat()}
    if hasattr(value, "as_tuple"):  # Decimal
        return {"$decimal": str(value)}
    return value


def _restore(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, dict):
        if "$ref" in value:
            return EntityReference(value["$ref"], uuid.UUID(value["id"]))
        if "$uuid" in value:
            return uuid.UUID(value["$uuid"])
        if "$date" in value:
            text = value["$date"]
            return dt.datetime.fromisoformat(text) if "T" in text else dt.date.fromisoformat(text)
        if "$decimal" in value:
            return Decimal(value["$decimal"])
    return value


def serialize_target(target: Entity | EntityReference | None) -> dict[str, Any] | None:
    if target is None:
        return None
    if isinstance(target, EntityReference):
        return {"reference": target.logical_name, "id": str(target.id)}
    return {
        "entity": target.logical_name,
        "id": str(target.id) if target.id else None,
        "values": {k: _plain(v) for k, v in target.items()},
    }


def deserialize_target(data: dict[str, Any] | None) -> Entity | EntityReference | None:
    if data is None:
        return None
    if "reference" in data:
        return EntityReference(data["reference"], uuid.UUID(data["id"]))
    return Entity(data["entity"], {k: _restore(v) for k, v in data["values"].items()}, id=data["id"])


def enqueue_job(
    env: Environment,
    connection: Connection,
    step: RegisteredStep,
    context: ExecutionContext,
    *,
    run_at: dt.datetime | None = None,
    record_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Record an async step to run after commit (not before ``run_at``); it commits or rolls back
    with the operation. ``record_id`` files the job under another record than the context's."""
    now = env.clock()
    job_id = uuid.uuid4()
    connection.execute(
        insert(job_table).values(
            jobid=job_id, step=step.name, message=context.message, entity=context.entity,
            recordid=record_id or context.primary_id, status="pending", attempts=0,
            max_attempts=DEFAULT_MAX_ATTEMPTS, next_run_at=run_at or now, createdon=now, modifiedon=now,
            context={
                "target": serialize_target(context.target),
                "user_id": str(context.user_id) if context.user_id else None,
                "shared_variables": {k: _plain(v) for k, v in context.shared_variables.items()},
                "output_parameters": {k: _plain(v) for k, v in context.output_parameters.items() if k != "entity"},
            },
        )
    )  # fmt: skip
    return job_id


# --- the worker --------------------------------------------------------------------------------

BACKOFF_SECONDS = 2.0
LOCK_SECONDS = 300


@dataclass(frozen=True)
class JobStatus:
    job_id: uuid.UUID
    step: str
    status: str  # pending | running | succeeded | failed
    attempts: int
    last_error: str | None
    next_run_at: dt.datetime


def _claim(env: Environment, worker: str, limit: int) -> list[dict[str, Any]]:
    """Take up to ``limit`` due jobs. PostgreSQL: row locks with SKIP LOCKED, so several workers on
    several hosts never take the same job; SQLite: the write lock (BEGIN IMMEDIATE) serializes them."""
    now = env.clock()
    due = (job_table.c.status == "pending") & (job_table.c.next_run_at <= now)
    stale = (job_table.c.status == "running") & (job_table.c.locked_until < now)
    with env.engine.connect() as connection:
        connection = connection.execution_options(sqlite_begin="IMMEDIATE")
        with connection.begin():
            query = select(job_table).where(due | stale).order_by(job_table.c.next_run_at).limit(limit)
            if connection.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = [dict(r) for r in connection.execute(query).mappings()]
            for row in rows:
                connection.execute(
                    update(job_table).where(job_table.c.jobid == row["jobid"]).values(
                        status="running", locked_by=worker, locked_until=now + dt.timedelta(seconds=LOCK_SECONDS),
                        attempts=job_table.c.attempts + 1, modifiedon=now,
                    )
                )  # fmt: skip
                row["attempts"] += 1
    return rows


def _finish(env: Environment, job: dict[str, Any], error: BaseException | None) -> None:
    now = env.clock()
    if error is None:
        values: dict[str, Any] = {"status": "succeeded", "last_error": None}
    else:
        message = f"{type(error).__name__}: {error}"
        exhausted = job["attempts"] >= job["max_attempts"]
        delay = dt.timedelta(seconds=BACKOFF_SECONDS * 2 ** (job["attempts"] - 1))
        values = {"status": "failed" if exhausted else "pending", "last_error": message, "next_run_at": now + delay}
    with env.engine.begin() as connection:
        connection.execute(
            update(job_table)
            .where(job_table.c.jobid == job["jobid"])
            .values(locked_by=None, locked_until=None, modifiedon=now, **values)
        )


def _run_job(env: Environment, job: dict[str, Any]) -> None:
    from xrm.data.scope import transaction
    from xrm.data.service import OrganizationService

    step = next(
        (
            s
            for s in env.pipeline.steps_for(job["message"], job["entity"], Stage.POST_OPERATION, StepMode.ASYNC)
            if s.name == job["step"]
        ),
        None,
    )
    if step is None:
        raise LookupError(f"step '{job['step']}' is no longer registered")
    data = job["context"]
    user = uuid.UUID(data["user_id"]) if data.get("user_id") else None
    with transaction(env.engine, user) as scope:
        context = ExecutionContext(
            job["message"], job["entity"], deserialize_target(data.get("target")), user, user, 1,
            OrganizationService(env, user, scope=scope.nested()), stage=Stage.POST_OPERATION,
            shared_variables={k: _restore(v) for k, v in data.get("shared_variables", {}).items()},
            output_parameters={k: _restore(v) for k, v in data.get("output_parameters", {}).items()},
            configuration=step.configuration, step_name=step.name,
        )  # fmt: skip
        step.handler(context)


def run_due_jobs(env: Environment, *, worker: str | None = None, limit: int = 20) -> int:
    """Run the async jobs that are due (at least once each); returns how many ran."""
    name = worker or f"worker-{uuid.uuid4().hex[:8]}"
    jobs = _claim(env, name, limit)
    for job in jobs:
        try:
            _run_job(env, job)
        except Exception as error:  # recorded on the job, retried with backoff
            _finish(env, job, error)
        else:
            _finish(env, job, None)
    return len(jobs)


def job_statuses(env: Environment, *, record_id: uuid.UUID | None = None) -> list[JobStatus]:
    """Jobs (optionally of one record), oldest first: status, attempts and last error."""
    query = select(job_table).order_by(job_table.c.createdon, job_table.c.jobid)
    if record_id is not None:
        query = query.where(job_table.c.recordid == record_id)
    with env.engine.connect() as connection:
        return [
            JobStatus(r["jobid"], r["step"], r["status"], r["attempts"], r["last_error"], r["next_run_at"])
            for r in connection.execute(query).mappings()
        ]


# --- timers ------------------------------------------------------------------------------------

TIMER_MESSAGE = "timer"


def run_timers(env: Environment) -> int:
    """Run once the sync steps bound to the ``timer`` message (recurring work, such as scheduled
    workflows that queue their next run), as the system user, each in a transaction of its own.
    The worker calls it on every pass; returns how many steps ran."""
    from xrm.data.scope import transaction
    from xrm.data.service import OrganizationService

    steps = env.pipeline.steps_for(TIMER_MESSAGE, None, Stage.POST_OPERATION)
    for step in steps:
        try:
            with transaction(env.engine, None) as scope:
                context = ExecutionContext(
                    TIMER_MESSAGE, None, None, None, None, 1, OrganizationService(env, None, scope=scope.nested()),
                    stage=Stage.POST_OPERATION, configuration=step.configuration, step_name=step.name,
                )  # fmt: skip
                step.handler(context)
        except Exception:  # one failing timer must not stop the others nor the job worker
            log.exception("timer step '%s' failed", step.name)
    return len(steps)
