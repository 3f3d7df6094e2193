"""Asynchronous steps: written to a job table in the operation's transaction (an outbox) and run
after commit by a worker, at least once, with retries and backoff."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Connection, insert

from xrm.data.context import ExecutionContext
from xrm.data.entity import Entity, EntityReference
from xrm.data.environment import Environment
from xrm.data.pipeline import RegisteredStep
from xrm.schema.platform_tables import job_table

__all__ = ["enqueue_job", "serialize_target", "deserialize_target", "DEFAULT_MAX_ATTEMPTS"]

DEFAULT_MAX_ATTEMPTS = 5


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
    return {"entity": target.logical_name, "id": str(target.id) if target.id else None, "values": {k: _plain(v) for k, v in target.items()}}


def deserialize_target(data: dict[str, Any] | None) -> Entity | EntityReference | None:
    if data is None:
        return None
    if "reference" in data:
        return EntityReference(data["reference"], uuid.UUID(data["id"]))
    return Entity(data["entity"], {k: _restore(v) for k, v in data["values"].items()}, id=data["id"])


def enqueue_job(env: Environment, connection: Connection, step: RegisteredStep, context: ExecutionContext) -> uuid.UUID:
    """Record an async step to run after commit; it commits or rolls back with the operation."""
    now = env.clock()
    job_id = uuid.uuid4()
    connection.execute(
        insert(job_table).values(
            jobid=job_id, step=step.name, message=context.message, entity=context.entity,
            recordid=context.primary_id, status="pending", attempts=0, max_attempts=DEFAULT_MAX_ATTEMPTS,
            next_run_at=now, createdon=now, modifiedon=now,
            context={
                "target": serialize_target(context.target),
                "user_id": str(context.user_id) if context.user_id else None,
                "shared_variables": {k: _plain(v) for k, v in context.shared_variables.items()},
                "output_parameters": {k: _plain(v) for k, v in context.output_parameters.items() if k != "entity"},
            },
        )
    )  # fmt: skip
    return job_id
