"""The plugin class: process instances started on create, moved by the process actions."""

from __future__ import annotations

import uuid
from typing import Any

from xrm.data import Entity, EntityReference, ExecutionContext, OrganizationService
from xrm.errors import AttributeProblem, InvalidOperationError, ValidationError
from xrm.metadata.components import ConditionMetadata, FilterMetadata, ViewColumnMetadata, ViewMetadata
from xrm.metadata.process import BusinessProcessFlowMetadata
from xrm.query import query_from_view
from xrm_process.stages import StageNavigator, processes_of

__all__ = ["ProcessPlugin", "INSTANCE", "ACTIVE", "FINISHED", "ABORTED"]

INSTANCE = "processinstance"
ACTIVE, INACTIVE = 0, 1  # statecode
FINISHED, ABORTED = 2, 3  # statuscode of the inactive state
_SEPARATOR = ","
_GUARDED = ("create", "update", "set_state")
_FREE = frozenset({"name"})  # what a client may change on an instance directly


class ProcessPlugin:
    """Bound to ``create`` and ``delete`` (every entity, post-operation, as the system) it starts the
    default process of a new record and removes a deleted record's instances; bound to the actions
    ``move_next_stage``, ``move_previous_stage``, ``finish_process``, ``abort_process``,
    ``reactivate_process`` (on a process instance) and ``set_process`` it runs them."""

    def __init__(self, configuration: dict[str, Any] | None = None) -> None:
        self.configuration = dict(configuration or {})

    def execute(self, context: ExecutionContext) -> None:
        if context.entity == INSTANCE and context.message in _GUARDED:
            _guard(context)
            return
        handler = {
            "create": self._start, "delete": self._remove, "set_process": self._set_process,
            "move_next_stage": self._move_next, "move_previous_stage": self._move_previous,
            "finish_process": self._finish, "abort_process": self._abort, "reactivate_process": self._reactivate,
        }.get(context.message)  # fmt: skip
        if handler is not None:
            handler(context)

    # --- record lifecycle ----------------------------------------------------------------------

    def _start(self, context: ExecutionContext) -> None:
        if context.entity is None or context.entity == INSTANCE or context.primary_id is None:
            return
        flows = processes_of(context.service, context.entity)
        if flows:
            _create_instance(context.service, flows[0], EntityReference(context.entity, context.primary_id))

    def _remove(self, context: ExecutionContext) -> None:
        """A record's process instances go with it (Dataverse's parental relationship to the BPF entity)."""
        if context.entity is None or context.primary_id is None or not processes_of(context.service, context.entity):
            return
        for instance in _instances(context.service, EntityReference(context.entity, context.primary_id)):
            assert instance.id is not None
            context.service.delete(INSTANCE, instance.id)

    # --- actions -------------------------------------------------------------------------------

    def _set_process(self, context: ExecutionContext) -> None:
        service, inputs = context.service, context.input_parameters
        entity, name = inputs["entity"], inputs["process"]
        component = service.environment.model.processes.get(name)
        flow = component.metadata if component is not None else None
        if not isinstance(flow, BusinessProcessFlowMetadata) or flow.entity != entity:
            reason = f"'{entity}' has no business process flow '{name}'"
            raise ValidationError("set_process", [AttributeProblem("process", reason)])
        record = EntityReference(entity, inputs["record"])
        service.retrieve(entity, record.id, [service.environment.model.entity(entity).primary_id])  # readable?
        instances = _instances(service, record)
        chosen = next((i for i in instances if i["processname"] == name), None)
        for instance in instances:
            if instance["iscurrent"] and instance is not chosen:
                service.update(Entity(INSTANCE, {"iscurrent": False}, id=instance.id))
        if chosen is None:
            chosen = _create_instance(service, flow, record)
        elif not chosen["iscurrent"]:
            service.update(Entity(INSTANCE, {"iscurrent": True}, id=chosen.id))
        assert chosen.id is not None
        context.output_parameters.update(
            instance=EntityReference(INSTANCE, chosen.id), activestage=chosen["activestage"]
        )

    def _move_next(self, context: ExecutionContext) -> None:
        instance, navigator = _open(context)
        stage = navigator.process.stage(instance["activestage"])
        on = _stage_on(instance)
        following = navigator.next_stage(stage, on)
        if following is None:
            raise navigator.refuse(f"'{navigator.label(stage)}' is the last stage: finish the process instead")
        navigator.missing_steps(stage, on)
        target = navigator.stage_record(following, context.input_parameters.get("related"))
        path = [*_path(instance), following.name]
        _enter(context.service, instance, following.name, target, path)
        context.output_parameters.update(activestage=following.name, traversedpath=_SEPARATOR.join(path))

    def _move_previous(self, context: ExecutionContext) -> None:
        instance, navigator = _open(context)
        path = _path(instance)
        if len(path) < 2:
            raise navigator.refuse(f"'{instance['activestage']}' is the first stage: there is no previous stage")
        previous = navigator.process.stage(path[-2])
        target = navigator.stage_record(previous)
        _enter(context.service, instance, previous.name, target, path[:-1])
        context.output_parameters.update(activestage=previous.name, traversedpath=_SEPARATOR.join(path[:-1]))

    def _finish(self, context: ExecutionContext) -> None:
        instance, navigator = _open(context)
        stage = navigator.process.stage(instance["activestage"])
        on = _stage_on(instance)
        navigator.missing_steps(stage, on)
        if navigator.next_stage(stage, on) is not None:
            raise navigator.refuse(f"'{navigator.label(stage)}' is not the last stage: move to the next stage first")
        _close(context.service, instance, FINISHED)

    def _abort(self, context: ExecutionContext) -> None:
        instance, _ = _open(context)
        _close(context.service, instance, ABORTED)

    def _reactivate(self, context: ExecutionContext) -> None:
        instance, navigator = _open(context, active=False)
        if instance["statecode"] == ACTIVE:
            raise navigator.refuse("the process is already active")
        assert instance.id is not None
        context.service.update(Entity(INSTANCE, {"completedon": None}, id=instance.id))
        context.service.set_state(INSTANCE, instance.id, ACTIVE, 1)


def _guard(context: ExecutionContext) -> None:
    """Clients change instances only through the process actions, which check the stages; plugins
    (depth > 1) may write them directly."""
    if context.depth > 1:
        return
    if context.message == "create":
        raise InvalidOperationError("a process instance is started by creating its record or by set_process")
    if context.message == "set_state":
        raise InvalidOperationError("use finish_process, abort_process or reactivate_process")
    changed = sorted(set(context.target or ()) - _FREE - {"processinstanceid"})  # type: ignore[arg-type]
    if changed:
        raise InvalidOperationError(
            f"{', '.join(changed)}: a process instance moves through move_next_stage, move_previous_stage, "
            "set_process, finish_process, abort_process and reactivate_process"
        )


def _open(context: ExecutionContext, *, active: bool = True) -> tuple[Entity, StageNavigator]:
    """The target instance and a navigator of its process; refuses an inactive one when ``active``."""
    service = context.service
    assert isinstance(context.target, EntityReference)
    instance = service.retrieve(INSTANCE, context.target.id)
    component = service.environment.model.processes.get(instance["processname"])
    flow = component.metadata if component is not None else None
    if not isinstance(flow, BusinessProcessFlowMetadata):
        raise ValidationError(INSTANCE, [AttributeProblem("processname", "the process is no longer installed")])
    record = EntityReference(instance["regardingobjecttypecode"], instance["regardingobjectid"])
    navigator = StageNavigator(service, flow, record)
    if active and instance["statecode"] != ACTIVE:
        state = "finished" if instance["statuscode"] == FINISHED else "aborted"
        raise navigator.refuse(f"the process is {state}: reactivate it first")
    return instance, navigator


def _path(instance: Entity) -> list[str]:
    return [name for name in (instance.get("traversedpath") or "").split(_SEPARATOR) if name]


def _stage_on(instance: Entity) -> EntityReference:
    return EntityReference(instance["activestageentity"], instance["activestagerecordid"])


def _enter(service: OrganizationService, instance: Entity, stage: str, on: EntityReference, path: list[str]) -> None:
    values = {
        "activestage": stage, "activestageentity": on.logical_name, "activestagerecordid": on.id,
        "traversedpath": _SEPARATOR.join(path), "activestagestartedon": service.environment.clock(),
    }  # fmt: skip
    service.update(Entity(INSTANCE, values, id=instance.id))


def _close(service: OrganizationService, instance: Entity, status: int) -> None:
    assert instance.id is not None
    service.update(Entity(INSTANCE, {"completedon": service.environment.clock()}, id=instance.id))
    service.set_state(INSTANCE, instance.id, INACTIVE, status)


def _create_instance(
    service: OrganizationService, flow: BusinessProcessFlowMetadata, record: EntityReference
) -> Entity:
    first = flow.stages[0]
    values = {
        "name": flow.display_name or flow.name, "processname": flow.name,
        "regardingobjecttypecode": record.logical_name, "regardingobjectid": record.id,
        "activestage": first.name, "activestageentity": record.logical_name, "activestagerecordid": record.id,
        "traversedpath": first.name, "activestagestartedon": service.environment.clock(), "iscurrent": True,
    }  # fmt: skip
    instance = Entity(INSTANCE, values, id=uuid.uuid4())
    service.create(instance)
    return instance


def _instances(service: OrganizationService, record: EntityReference) -> list[Entity]:
    """Every process instance of ``record``, as the caller may read them."""
    conditions = (
        ConditionMetadata(attribute="regardingobjecttypecode", value=record.logical_name),
        ConditionMetadata(attribute="regardingobjectid", value=str(record.id)),
    )
    view = ViewMetadata(
        name="process instances",
        entity=INSTANCE,
        columns=tuple(ViewColumnMetadata(name=n) for n in ("processname", "activestage", "iscurrent", "statecode")),
        filter=FilterMetadata(conditions=conditions),
    )
    return list(service.retrieve_multiple(query_from_view(view)).entities)
