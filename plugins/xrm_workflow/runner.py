"""Running a workflow on a record: its filter, its actions, the first matching rule, and waits
(an async run that must wait queues its continuation as a job and ends)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from xrm.data import EntityReference, ExecutionContext, OrganizationService
from xrm.data.jobs import enqueue_job
from xrm.errors import InvalidOperationError, NotFoundError
from xrm.metadata.components import Stage, StepMode
from xrm.metadata.workflow import WaitAction, WorkflowMetadata
from xrm_workflow.actions import WorkflowRun, perform
from xrm_workflow.evaluation import record_matches

__all__ = ["RUN_MESSAGE", "run_workflow", "queue_run"]

RUN_MESSAGE = "workflow_run"

log = logging.getLogger(__name__)


def run_workflow(
    service: OrganizationService,
    workflow: WorkflowMetadata,
    reference: EntityReference,
    state: dict[str, Any] | None = None,
) -> str:
    """Run (or continue, from ``state``) ``workflow`` on the record: ``skipped`` when its filter does
    not hold or the record is gone, ``waiting`` when a wait queued the rest, ``stopped`` or ``completed``."""
    state = dict(state or {"rule": -1, "index": 0, "check": True})
    if state.get("check") and not record_matches(service, reference, workflow.filter, workflow.links):
        return "skipped"
    try:
        run = WorkflowRun(service, workflow, reference)
    except NotFoundError:  # deleted before a queued run or a continuation came round
        return "skipped"
    rule, index = int(state["rule"]), int(state["index"])
    if rule == -1:
        outcome = _steps(run, workflow.actions, -1, index, state)
        if outcome != "completed":
            return outcome
        rule = next(
            (i for i, r in enumerate(workflow.rules) if record_matches(service, reference, r.filter, workflow.links)),
            -1,
        )
        if rule == -1:
            return "completed"
        index = 0
    return _steps(run, workflow.rules[rule].actions, rule, index, state)


def _steps(run: WorkflowRun, actions: tuple[Any, ...], rule: int, start: int, state: dict[str, Any]) -> str:
    for index in range(start, len(actions)):
        action = actions[index]
        if isinstance(action, WaitAction):
            since = state.get("since") if (state.get("rule"), state.get("index")) == (rule, index) else None
            resume_at = _wait(run, action, since)
            if resume_at is not None:
                started = since or run.service.environment.clock().isoformat()
                queue_run(
                    run.service,
                    run.workflow,
                    run.reference,
                    {"rule": rule, "index": index, "since": started},
                    resume_at,
                )
                return "waiting"
            continue
        try:
            if not perform(run, action):
                return "stopped"
        except Exception:
            # the error itself reaches the caller (sync: the operation rolls back) or the job's last_error
            log.warning(
                "workflow '%s': action %s of %s on %s %s failed",
                run.workflow.name, index + 1, "the actions" if rule == -1 else f"rule '{run.workflow.rules[rule].name}'",
                run.reference.logical_name, run.reference.id,
            )  # fmt: skip
            raise
    return "completed"


def _wait(run: WorkflowRun, action: WaitAction, since: str | None) -> dt.datetime | None:
    """When to look again (None: the wait is over)."""
    now = run.service.environment.clock()
    started = dt.datetime.fromisoformat(since) if since else now
    if action.minutes is not None:
        base = run.record.get(action.after) if action.after else started
        if base is None:
            return None  # nothing to wait for (Dataverse skips a wait on an empty date)
        due = _aware(base) + dt.timedelta(minutes=action.minutes)
        return due if due > now else None
    if record_matches(run.service, run.reference, action.until, run.workflow.links):
        return None
    if action.timeout_minutes is not None and now >= started + dt.timedelta(minutes=action.timeout_minutes):
        return None
    return now + dt.timedelta(minutes=action.poll_minutes)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def queue_run(
    service: OrganizationService,
    workflow: WorkflowMetadata,
    reference: EntityReference | None,
    state: dict[str, Any],
    run_at: dt.datetime | None = None,
    *,
    record_id: Any = None,
) -> None:
    """Queue a run of ``workflow`` (its continuation from ``state``) for the job worker, in the running
    transaction: it is queued only if the operation commits. It runs as ``service``'s user."""
    env = service.environment
    step = next(iter(env.pipeline.steps_for(RUN_MESSAGE, workflow.entity, Stage.POST_OPERATION, StepMode.ASYNC)), None)
    if step is None:
        raise InvalidOperationError(
            f"workflow '{workflow.name}' is async but no '{RUN_MESSAGE}' async step is registered"
        )
    user = service.user_id  # None (the system) for triggered runs; the caller's on demand
    context = ExecutionContext(
        RUN_MESSAGE, workflow.entity, reference, user, user, 1, service, stage=Stage.POST_OPERATION,
        shared_variables={"workflow": workflow.name, **state},
    )  # fmt: skip
    enqueue_job(env, service.connection, step, context, run_at=run_at, record_id=record_id)
