"""The parent/child plugin: checks a record's parent link, fills inherited fields and applies the
closure policy when a parent closes.

Step configuration (the Case solution binds it to ``incident`` with its parent and child case
settings):

- ``lookup``: the self-lookup naming the parent (required);
- ``max_children``: children a parent may have (default 100, as Dynamics 365);
- ``inherit``: attributes a new child copies from its parent when it leaves them empty;
- ``closure``: ``independent`` (default), ``close_children`` (closing the parent closes its open
  children with the same state and status) or ``block_parent`` (a parent cannot close while a
  child is open). Naming two policies at once is refused.

Bind it, as the system (``run_as_system``: limits count every child, visible or not), to
``create`` and ``update`` (pre-operation) and to ``set_state`` (pre-operation for
``block_parent``, post-operation for ``close_children``).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update

from xrm.data import EntityReference, ExecutionContext
from xrm.errors import AttributeProblem, InvalidOperationError, ValidationError
from xrm.metadata import CompiledEntity
from xrm.metadata.components import Stage
from xrm.query import ConditionExpression, FilterExpression, QueryExpression

__all__ = ["CLOSURE_POLICIES", "ParentChildPlugin"]

CLOSURE_POLICIES = ("independent", "close_children", "block_parent")
DEFAULT_MAX_CHILDREN = 100


class ParentChildPlugin:
    """See the module docstring for the configuration."""

    def __init__(self, configuration: dict[str, Any]) -> None:
        lookup = configuration.get("lookup")
        if not isinstance(lookup, str):
            raise ValueError("parent/child: 'lookup' (the self-lookup to the parent) is required")
        closure = configuration.get("closure", "independent")
        if isinstance(closure, list | tuple):
            if len(closure) != 1:
                raise ValueError(f"parent/child: choose one closure policy, not {list(closure)}")
            closure = closure[0]
        if closure not in CLOSURE_POLICIES:
            raise ValueError(f"parent/child: closure '{closure}' is not one of {', '.join(CLOSURE_POLICIES)}")
        self.lookup = lookup
        self.closure = str(closure)
        self.max_children = int(configuration.get("max_children", DEFAULT_MAX_CHILDREN))
        self.inherit = tuple(configuration.get("inherit", ()))

    def execute(self, context: ExecutionContext) -> None:
        if context.entity is None:
            return
        entity = context.service.environment.model.entity(context.entity)
        if context.message in ("create", "update") and context.stage is not Stage.POST_OPERATION:
            self._on_link(context, entity)
        elif context.message == "set_state":
            self._on_close(context, entity)

    # --- linking a child ------------------------------------------------------------------------

    def _on_link(self, context: ExecutionContext, entity: CompiledEntity) -> None:
        target = context.target
        if target is None or isinstance(target, EntityReference) or self.lookup not in target:
            return
        parent = target[self.lookup]
        if parent is None:
            return
        parent_id = parent.id if isinstance(parent, EntityReference) else uuid.UUID(str(parent))
        name = entity.logical_name
        if target.id is not None and parent_id == target.id:
            self._refuse(name, f"a {name} cannot be its own parent")
        service = context.service
        self._lock(context, entity, parent_id)  # concurrent children of one parent queue here
        values = service.retrieve(name, parent_id, [self.lookup, *self.inherit])
        if values.get(self.lookup) is not None:
            self._refuse(name, f"{name} {parent_id} is itself a child: parent and child go one level deep only")
        if context.message == "update" and target.id is not None and self._children(context, name, target.id):
            self._refuse(name, f"{name} {target.id} has child records of its own, so it cannot get a parent")
        siblings = [c for c in self._children(context, name, parent_id) if c != target.id]
        if len(siblings) >= self.max_children:
            self._refuse(name, f"{name} {parent_id} already has {len(siblings)} children (at most {self.max_children})")
        if context.message == "create":
            for attribute in self.inherit:
                if target.get(attribute) is None and values.get(attribute) is not None:
                    target[attribute] = values[attribute]

    def _refuse(self, entity: str, message: str) -> None:
        raise ValidationError(entity, [AttributeProblem(self.lookup, message)])

    def _lock(self, context: ExecutionContext, entity: CompiledEntity, parent_id: uuid.UUID) -> None:
        """Lock the parent's row for the rest of the transaction (a no-op write)."""
        table = context.service.environment.table(entity.logical_name)
        key = table.c[entity.primary_id]
        statement = update(table).where(key == parent_id).values(versionnumber=table.c.versionnumber)
        context.service.connection.execute(statement)

    def _children(
        self, context: ExecutionContext, entity: str, parent_id: uuid.UUID, *, open_only: bool = False
    ) -> list[uuid.UUID]:
        conditions = [ConditionExpression(self.lookup, "eq", (parent_id,))]
        if open_only:
            conditions.append(ConditionExpression("statecode", "eq", (0,)))
        query = QueryExpression(entity, columns=("statecode",), criteria=FilterExpression(conditions=tuple(conditions)))
        return [record.id for record in context.service.retrieve_multiple(query) if record.id is not None]

    # --- closing a parent -----------------------------------------------------------------------

    def _on_close(self, context: ExecutionContext, entity: CompiledEntity) -> None:
        if self.closure == "independent" or entity.states is None or not isinstance(context.target, EntityReference):
            return
        state_value = context.input_parameters.get("state")
        state = next((s for s in entity.states.states if s.value == state_value), None)
        if state is None or not state.is_closed:
            return
        parent_id = context.target.id
        name = entity.logical_name
        open_children = self._children(context, name, parent_id, open_only=True)
        if not open_children:
            return
        if self.closure == "block_parent" and context.stage is not Stage.POST_OPERATION:
            raise InvalidOperationError(
                f"{name} {parent_id} cannot close while {len(open_children)} child record(s) are open "
                "(closure policy: block_parent); close them first"
            )
        if self.closure == "close_children" and context.stage is Stage.POST_OPERATION:
            status = context.input_parameters.get("status")
            for child in open_children:
                context.service.set_state(name, child, state.value, status)
