"""The plugin class: the queue actions and the queue item rules behind them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from xrm.data import Entity, EntityReference, ExecutionContext
from xrm.errors import AttributeProblem, InvalidOperationError, ValidationError
from xrm_queue.items import ACTIVE, INACTIVE, active_item, record_name, require_queue_access

__all__ = ["QueuePlugin"]


class QueuePlugin:
    """No configuration. Bound (post-operation) to the actions ``add_to_queue``, ``route_to``,
    ``pick_from_queue``, ``release_to_queue`` and ``remove_from_queue``; (pre-operation) to
    queueitem create/update, where it fills the platform's fields and enforces private queues; and
    (post-operation, as the system) to ``set_state`` of any entity, where closing a queue-enabled
    record deactivates its queue items."""

    def __init__(self, configuration: dict[str, Any]) -> None:
        self.configuration = configuration

    def execute(self, context: ExecutionContext) -> None:
        handlers: dict[str, Callable[[ExecutionContext], None]] = {
            "add_to_queue": _add_to_queue,
            "route_to": _route_to,
            "pick_from_queue": _pick,
            "release_to_queue": _release,
            "remove_from_queue": _remove,
            "create": _on_create,
            "update": _on_update,
            "set_state": _on_set_state,
        }
        handler = handlers.get(context.message)
        if handler is not None:
            handler(context)


def _record(context: ExecutionContext) -> EntityReference:
    target = context.target
    assert isinstance(target, EntityReference)  # the action metadata requires a target
    return target


def _put_in_queue(context: ExecutionContext, record: EntityReference, queue: EntityReference) -> uuid.UUID:
    """The record's active item moved to ``queue`` (worker cleared), or a new one; its id."""
    service = context.service
    item = active_item(service.environment, service.connection, record)
    if item is None:
        return service.create(Entity("queueitem", {"queueid": queue, "objectid": record}))
    if item.queueid != queue.id:
        service.update(Entity("queueitem", {"queueid": queue, "workerid": None}, id=item.queueitemid))
    return uuid.UUID(str(item.queueitemid))


def _add_to_queue(context: ExecutionContext) -> None:
    queue = context.input_parameters["queue"]
    item = _put_in_queue(context, _record(context), queue)
    context.output_parameters["queueitemid"] = EntityReference("queueitem", item)


def _route_to(context: ExecutionContext) -> None:
    given: dict[str, EntityReference] = {
        name: value for name in ("queue", "user", "team") if (value := context.input_parameters.get(name)) is not None
    }
    chosen = list(given)
    if len(chosen) != 1:
        problem = AttributeProblem("queue", f"give exactly one of queue, user and team (got {chosen or 'none'})")
        raise ValidationError("route_to", [problem])
    record, service = _record(context), context.service
    if chosen == ["queue"]:
        item_id = _put_in_queue(context, record, given["queue"])
        context.output_parameters["queueitemid"] = EntityReference("queueitem", item_id)
        return
    owner = given[chosen[0]]
    service.assign(record.logical_name, record.id, owner)
    item = active_item(service.environment, service.connection, record)
    if item is None:
        return
    worker = owner if owner.logical_name == "systemuser" else None
    service.update(Entity("queueitem", {"workerid": worker}, id=item.queueitemid))
    context.output_parameters["queueitemid"] = EntityReference("queueitem", item.queueitemid)


def _require_active(context: ExecutionContext) -> EntityReference:
    """The target queue item, active, in a queue the caller may work."""
    item = _record(context)
    service = context.service
    row = service.retrieve("queueitem", item.id, ["statecode", "queueid"])
    if row.get("statecode") != ACTIVE:
        raise InvalidOperationError(f"queue item {item.id} is not in a queue any more (inactive)")
    require_queue_access(service.environment, service.connection, row["queueid"].id, {"caller": context.user_id})
    return item


def _pick(context: ExecutionContext) -> None:
    item = _require_active(context)
    worker = context.input_parameters.get("worker")
    if worker is None:
        if context.user_id is None:
            raise ValidationError("pick_from_queue", [AttributeProblem("worker", "is required for the system user")])
        worker = EntityReference("systemuser", context.user_id)
    context.service.update(Entity("queueitem", {"workerid": worker}, id=item.id))
    if context.input_parameters.get("remove"):
        context.service.set_state("queueitem", item.id, INACTIVE)


def _release(context: ExecutionContext) -> None:
    item = _require_active(context)
    context.service.update(Entity("queueitem", {"workerid": None}, id=item.id))


def _remove(context: ExecutionContext) -> None:
    item = _require_active(context)
    context.service.set_state("queueitem", item.id, INACTIVE)


def _reference_id(value: Any) -> uuid.UUID | None:
    return value.id if isinstance(value, EntityReference) else None


def _on_create(context: ExecutionContext) -> None:
    """Fill objecttypecode, title and enteredon; one active item per record; private queues."""
    target = context.target
    if not isinstance(target, Entity) or context.entity != "queueitem":
        return
    service = context.service
    env, connection, now = service.environment, service.connection, service.environment.clock()
    record, queue = target.get("objectid"), target.get("queueid")
    if isinstance(record, EntityReference):
        existing = active_item(env, connection, record)
        if existing is not None:
            raise InvalidOperationError(
                f"{record.logical_name} {record.id} is already in queue {existing.queueid}: use add_to_queue to move it"
            )
        target["objecttypecode"] = record.logical_name
        if not target.get("title"):
            target["title"] = record_name(env, connection, record)
    target["enteredon"] = now
    if target.get("workerid") is not None:
        target["workeridmodifiedon"] = now
    if (queue_id := _reference_id(queue)) is not None:
        require_queue_access(
            env, connection, queue_id, {"caller": context.user_id, "worker": _reference_id(target.get("workerid"))}
        )


def _on_update(context: ExecutionContext) -> None:
    """A new queue resets enteredon, a new worker sets workeridmodifiedon; private queues."""
    target = context.target
    if not isinstance(target, Entity) or context.entity != "queueitem":
        return
    service = context.service
    env, now = service.environment, service.environment.clock()
    before = context.pre_images.get("before")
    if "queueid" in target:
        target["enteredon"] = now
    if "workerid" in target:
        target["workeridmodifiedon"] = now
    queue = target.get("queueid") if "queueid" in target else (before.get("queueid") if before else None)
    if (queue_id := _reference_id(queue)) is not None:
        users = {"caller": context.user_id, "worker": _reference_id(target.get("workerid"))}
        require_queue_access(env, service.connection, queue_id, users)


def _on_set_state(context: ExecutionContext) -> None:
    """Closing a queue-enabled record deactivates its active queue item (Dataverse's default)."""
    target = context.target
    if context.entity is None or not isinstance(target, EntityReference):
        return
    entity = context.service.environment.model.entity(context.entity)
    if not entity.definition.queue_enabled or entity.states is None:
        return
    state = next((s for s in entity.states.states if s.value == context.input_parameters.get("state")), None)
    if state is None or not state.is_closed:
        return
    service = context.service
    while (item := active_item(service.environment, service.connection, target)) is not None:
        service.set_state("queueitem", item.queueitemid, INACTIVE)
