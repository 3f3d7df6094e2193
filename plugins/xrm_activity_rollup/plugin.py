"""The plugin class: the ``retrieve_activities`` action and activity rollup attributes."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, update

from xrm.data import Entity, EntityReference, ExecutionContext
from xrm_activity_rollup.query import activity_query, rollup_parents

__all__ = ["ActivityRollupPlugin"]

_OPEN_STATES = {"open": 0}


class ActivityRollupPlugin:
    """Configuration ``rollups``: a list of ``{entity, attribute, aggregate: count|sum, source?, open_only?}``.

    Bound to ``retrieve_activities`` (any stage) it answers with ``activities``: the rows of
    :func:`activity_query` for the target. Bound to create/update/delete/set_state (post-operation,
    with a pre-image named ``before``) it recomputes the configured attributes of every record the
    changed activity rolls up to.
    """

    def __init__(self, configuration: dict[str, Any]) -> None:
        self.rollups = list(configuration.get("rollups", ()))

    def execute(self, context: ExecutionContext) -> None:
        if context.message == "retrieve_activities":
            self._retrieve(context)
            return
        model = context.service.environment.model
        if context.entity is None or not model.entity(context.entity).is_activity or not self.rollups:
            return
        regarding = set()
        for image in (
            context.pre_images.get("before"),
            context.target if context.message in ("create", "update") else None,
        ):
            if isinstance(image, Entity):
                value = image.get("regardingobjectid")
                if isinstance(value, EntityReference):
                    regarding.add(value)
        if (
            context.message == "update"
            and isinstance(context.target, Entity)
            and "regardingobjectid" not in context.target
        ):
            before = context.pre_images.get("before")
            if before is not None and isinstance(before.get("regardingobjectid"), EntityReference):
                regarding.add(before["regardingobjectid"])
        for reference in regarding:
            self._refresh(context, reference)

    def _retrieve(self, context: ExecutionContext) -> None:
        target = context.target
        if not isinstance(target, EntityReference):
            raise ValueError("retrieve_activities needs a target record")
        service = context.service
        env = service.environment
        # the service already refused a target the caller cannot read; list only activities it may
        # read too (the stored rollup counts are computed as the system, like Dataverse rollups)
        statement = activity_query(env.model, env.tables, target.logical_name, target.id, service.read_filter)
        connection = service.connection
        rows = connection.execute(statement.order_by(statement.selected_columns.createdon.desc())).mappings().all()
        context.output_parameters["activities"] = [dict(row) for row in rows]

    def _refresh(self, context: ExecutionContext, reference: EntityReference) -> None:
        env = context.service.environment
        connection = context.service.connection
        for entity, record_id in rollup_parents(
            env.model, connection, env.tables, reference.logical_name, reference.id
        ):
            for rollup in self.rollups:
                if rollup["entity"] == entity:
                    self._recompute(env, connection, entity, record_id, rollup)

    @staticmethod
    def _recompute(env: Any, connection: Any, entity: str, record_id: uuid.UUID, rollup: dict[str, Any]) -> None:
        activities = activity_query(env.model, env.tables, entity, record_id).subquery()
        value: Any
        if rollup.get("aggregate", "count") == "count":
            value = func.count()
        else:
            value = func.coalesce(func.sum(activities.c[rollup["source"]]), 0)
        statement = select(value).select_from(activities)
        if rollup.get("open_only"):
            statement = statement.where(activities.c.statecode == _OPEN_STATES["open"])
        total = connection.execute(statement).scalar_one()
        table = env.table(entity)
        pk = table.c[env.model.entity(entity).primary_id]
        connection.execute(update(table).where(pk == record_id).values({rollup["attribute"]: total}))
