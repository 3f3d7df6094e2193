"""State and status: the initial state, set_state, updates that change the status, and the
declared status transitions.

Used by :class:`xrm.data.handlers.MessageHandlers`, whose pipeline helpers they call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from xrm.data.context import ExecutionContext
from xrm.data.entity import Entity, EntityReference
from xrm.data.messages import Response, SetStateRequest, UpdateRequest
from xrm.data.rows import require_row
from xrm.errors import AttributeProblem, ConcurrencyError, InvalidOperationError, ValidationError
from xrm.metadata import CompiledEntity

if TYPE_CHECKING:
    from xrm.data.handlers import MessageHandlers

__all__ = ["StateHandlers", "check_open", "check_transition", "initial_state", "is_closed"]


class StateHandlers:
    """set_state, and updates that set ``statuscode``/``statecode``, run through ``handlers``'s pipeline."""

    def __init__(self, handlers: MessageHandlers) -> None:
        self.h = handlers

    def update_with_state(self, request: UpdateRequest, entity: CompiledEntity) -> Response:
        """An update that sets ``statuscode`` (and/or ``statecode``), as Dataverse allows: the other
        fields are updated and the state changes through ``set_state`` in the same transaction
        (reopening first, so fields of a closed record can be set in the same call)."""
        target = request.target
        assert entity.states is not None and target.id is not None
        fields = Entity(entity.logical_name, dict(target), id=target.id)
        status, state = fields.pop("statuscode", None), fields.pop("statecode", None)
        if state is None and status is not None:
            state = entity.states.all_statuses.get(status)
            if state is None:
                problem = f"{status} is not a status of {entity.logical_name}"
                raise ValidationError(entity.logical_name, [AttributeProblem("statuscode", problem)])
        if state is None:
            raise ValidationError(entity.logical_name, [AttributeProblem("statecode", "cannot be empty")])
        if request.expected_version is not None:
            current = require_row(self.h.env, self.h.connection, entity.logical_name, target.id)
            if current.get("versionnumber") != request.expected_version:
                raise ConcurrencyError(
                    f"{entity.logical_name} {target.id} was changed by someone else (version "
                    f"{current.get('versionnumber')}, expected {request.expected_version}); read it again and retry"
                )
        change = SetStateRequest(EntityReference(entity.logical_name, target.id), state, status)
        target_state = next((s for s in entity.states.states if s.value == state), None)
        closing = target_state is not None and target_state.is_closed
        others = len(fields) > int(entity.primary_id in fields)
        if closing and others:
            self.h._update(UpdateRequest(fields))
        response = self.set_state(change)
        if not closing and others:
            self.h._update(UpdateRequest(fields))
        return response

    def set_state(self, request: SetStateRequest) -> Response:
        """Move a record to a state and status, checking the declared transitions."""
        target = request.target
        entity = self.h._meta(target.logical_name)
        states = entity.states
        if states is None:
            raise InvalidOperationError(f"{entity.logical_name} has no state model")
        state = next((s for s in states.states if s.value == request.state), None)
        if state is None:
            raise ValidationError(
                entity.logical_name,
                [AttributeProblem("statecode", f"{request.state} is not a state of {entity.logical_name}")],
            )
        status = request.status if request.status is not None else state.default_status
        if status not in {s.value for s in state.statuses}:
            raise ValidationError(
                entity.logical_name,
                [AttributeProblem("statuscode", f"{status} is not a status of state '{state.label}'")],
            )
        self.h.require("write", entity.logical_name, target.id)
        current = require_row(self.h.env, self.h.connection, entity.logical_name, target.id)
        check_transition(entity, current.get("statuscode"), status)
        context = self.h._context("set_state", entity.logical_name, target, state=request.state, status=status)
        self.h._images(context, "pre", current)

        def core(ctx: ExecutionContext) -> Response:
            change = Entity(entity.logical_name, {"statecode": request.state, "statuscode": status}, id=target.id)
            self.h._update_core(ctx, entity, change, current, None, system=True)
            return Response()

        return self.h._run(context, core)


def check_open(entity: CompiledEntity, row: Mapping[str, Any]) -> None:
    """Refuse to change a record in a closed state (Dataverse: inactive records are read-only)."""
    states = entity.states
    if states is None:
        return
    state = next((s for s in states.states if s.value == row.get("statecode")), None)
    if state is not None and state.is_closed:
        raise InvalidOperationError(
            f"{entity.logical_name} {row[entity.primary_id]} is {state.label.lower()} and read-only; reactivate it first"
        )


def initial_state(entity: CompiledEntity, values: dict[str, Any]) -> dict[str, Any]:
    """State and status of a new record: the first state, with the given status if it belongs to it."""
    states = entity.states
    if states is None:
        return {}
    initial = states.states[0]
    status = values.pop("statuscode", None)
    if status is None:
        status = initial.default_status
    elif status not in {s.value for s in initial.statuses}:
        raise ValidationError(
            entity.logical_name,
            [AttributeProblem("statuscode", f"{status} is not a status of the initial state '{initial.label}'")],
        )
    return {"statecode": initial.value, "statuscode": status}


def check_transition(entity: CompiledEntity, current: int | None, status: int) -> None:
    """Refuse a status change that the entity's declared transitions do not allow."""
    states = entity.states
    assert states is not None
    if not states.enforce_transitions or current == status:
        return
    allowed = next((t.to for t in states.transitions if t.from_status == current), ())
    if status in allowed:
        return
    labels = {s.value: s.label for state in states.states for s in state.statuses}

    def named(value: int | None) -> str:
        return f"'{labels.get(value, value)}' ({value})" if value is not None else "no status"

    choices = ", ".join(named(value) for value in allowed) or "none, it is final"
    raise InvalidOperationError(
        f"{entity.logical_name}: status {named(current)} cannot change to {named(status)} (allowed: {choices})"
    )


def is_closed(entity: CompiledEntity, row: Mapping[str, Any]) -> bool:
    """Whether the record is in a closed state."""
    assert entity.states is not None
    state = next((s for s in entity.states.states if s.value == row.get("statecode")), None)
    return state is not None and state.is_closed
