"""The plugin class: starts workflows from the pipeline, the job worker, the timer and on demand."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from xrm.data import Entity, EntityReference, ExecutionContext
from xrm.data.jobs import TIMER_MESSAGE
from xrm.errors import InvalidOperationError, NotFoundError
from xrm.metadata.workflow import WorkflowMetadata, WorkflowMode, WorkflowTrigger
from xrm.schema.platform_tables import job_table
from xrm_workflow.evaluation import matching_query
from xrm_workflow.index import schedule_id, workflow_index
from xrm_workflow.runner import RUN_MESSAGE, queue_run, run_workflow

__all__ = ["WorkflowPlugin", "ON_DEMAND_MESSAGE"]

ON_DEMAND_MESSAGE = "run_workflow"
_FRESH = {"rule": -1, "index": 0, "check": True}


class WorkflowPlugin:
    """Bound (post-operation, as the system user) to create, update, set_state and assign of every
    entity it starts the workflows those messages trigger; bound to ``workflow_run`` (async) it runs
    queued workflows and their continuations; to ``timer`` it keeps scheduled workflows queued; to
    ``run_workflow`` (parameter ``workflow``, target the record) it runs a workflow on demand, as
    the calling user (as Dataverse runs on-demand workflows), later too when the workflow is async."""

    def __init__(self, configuration: dict[str, Any]) -> None:
        self.configuration = configuration

    def execute(self, context: ExecutionContext) -> None:
        message = context.message
        if message == RUN_MESSAGE:
            self._continue(context)
        elif message == TIMER_MESSAGE:
            self._schedule(context)
        elif message == ON_DEMAND_MESSAGE:
            self._on_demand(context)
        elif (
            context.entity is not None and context.entity in workflow_index(context.service.environment.model).entities
        ):
            self._triggered(context)

    # --- triggers ------------------------------------------------------------------------------

    def _triggered(self, context: ExecutionContext) -> None:
        index = workflow_index(context.service.environment.model)
        assert context.entity is not None and context.target is not None
        reference = EntityReference(context.entity, context.target.id)  # type: ignore[arg-type]
        for event in _events(context):
            for workflow in index.for_trigger(context.entity, event):
                if _fires(workflow, context):
                    _start(context, workflow, reference)

    def _on_demand(self, context: ExecutionContext) -> None:
        name = context.input_parameters.get("workflow")
        workflow = workflow_index(context.service.environment.model).by_name.get(str(name))
        target = context.target
        if workflow is None or workflow.trigger.event is not WorkflowTrigger.ON_DEMAND:
            raise NotFoundError(f"no on-demand workflow '{name}'")
        if not isinstance(target, EntityReference) or target.logical_name != workflow.entity:
            raise InvalidOperationError(f"workflow '{workflow.name}' runs on a {workflow.entity} record (the target)")
        context.output_parameters["status"] = _start(context, workflow, target)

    # --- the job worker ------------------------------------------------------------------------

    def _continue(self, context: ExecutionContext) -> None:
        state = dict(context.shared_variables)
        workflow = workflow_index(context.service.environment.model).by_name.get(str(state.pop("workflow", "")))
        if workflow is None:
            return  # the workflow was removed since the run was queued
        if state.pop("schedule", False):
            self._scheduled_run(context, workflow)
        elif isinstance(context.target, EntityReference):
            run_workflow(context.service, workflow, context.target, state)

    def _schedule(self, context: ExecutionContext) -> None:
        """Queue the first run of every scheduled workflow that has none pending or running."""
        for workflow in workflow_index(context.service.environment.model).scheduled():
            if not _queued(context, workflow, ("pending", "running")):
                queue_run(context.service, workflow, None, {"schedule": True}, record_id=schedule_id(workflow))

    def _scheduled_run(self, context: ExecutionContext, workflow: WorkflowMetadata) -> None:
        """Queue the next run, then run the workflow on every record its filter selects."""
        service = context.service
        every = dt.timedelta(minutes=workflow.trigger.every_minutes or 1)
        # two workers' timers may both have queued a first run: only a run with no other pending
        # queues the next one, so the schedule settles on a single chain of runs
        if not _queued(context, workflow, ("pending",)):
            next_run = service.environment.clock() + every
            queue_run(service, workflow, None, {"schedule": True}, next_run, record_id=schedule_id(workflow))
        query = matching_query(service, workflow.entity, workflow.filter, workflow.links)
        while True:  # page by page (keyset cursor), so records the run changes are not skipped
            page = service.retrieve_multiple(query)
            for record in page:
                run_workflow(service, workflow, record.to_reference(), {"rule": -1, "index": 0})
            if not page.more_records:
                break
            query = replace(query, cursor=page.cursor)


def _queued(context: ExecutionContext, workflow: WorkflowMetadata, statuses: tuple[str, ...]) -> bool:
    """Whether a run of the scheduled ``workflow`` is in the job table with one of ``statuses``."""
    query = select(job_table.c.jobid).where(
        job_table.c.recordid == schedule_id(workflow), job_table.c.status.in_(statuses)
    )
    return context.service.connection.execute(query.limit(1)).first() is not None


def _start(context: ExecutionContext, workflow: WorkflowMetadata, reference: EntityReference) -> str:
    if workflow.mode is WorkflowMode.ASYNC:
        queue_run(context.service, workflow, reference, _FRESH)
        return "queued"
    return run_workflow(context.service, workflow, reference)


def _events(context: ExecutionContext) -> list[WorkflowTrigger]:
    message = context.message
    if message == "create":
        return [WorkflowTrigger.CREATE]
    if message == "set_state":
        return [WorkflowTrigger.STATUS_CHANGE]
    if message == "assign":
        return [WorkflowTrigger.ASSIGN]
    if message == "update":
        events = [WorkflowTrigger.UPDATE]
        target, before = context.target, context.pre_images.get("workflow")
        if isinstance(target, Entity) and "ownerid" in target and before is not None:
            if before.get("ownerid") != target["ownerid"]:
                events.append(WorkflowTrigger.ASSIGN)  # a change of owner through update is an assignment too
        return events
    return []


def _fires(workflow: WorkflowMetadata, context: ExecutionContext) -> bool:
    trigger = workflow.trigger
    if trigger.event is WorkflowTrigger.UPDATE and trigger.attributes:
        return isinstance(context.target, Entity) and bool(set(trigger.attributes) & set(context.target))
    if trigger.event is WorkflowTrigger.STATUS_CHANGE:
        before = context.pre_images.get("workflow")
        previous = before.get("statuscode") if before is not None else None
        status = context.input_parameters.get("status")
        if previous == status:
            return False
        if trigger.from_status and previous not in trigger.from_status:
            return False
        if trigger.to_status and status not in trigger.to_status:
            return False
    return True
