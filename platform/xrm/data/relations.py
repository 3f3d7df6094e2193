"""Messages about relationships: associate, disassociate, merge, share, and the reparent cascade.

Used by :class:`xrm.data.handlers.MessageHandlers`, whose pipeline helpers they call.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import insert, select

from xrm.data import audit, sharing
from xrm.data.context import ExecutionContext
from xrm.data.entity import Entity, EntityReference
from xrm.data.messages import (
    AssociateRequest,
    DisassociateRequest,
    MergeRequest,
    Response,
    SetStateRequest,
    ShareRequest,
    UpdateRequest,
)
from xrm.data.rows import require_row
from xrm.data.states import check_open
from xrm.errors import AttributeProblem, InvalidOperationError, NotFoundError, ValidationError
from xrm.metadata import CompiledEntity, CompiledRelationship
from xrm.metadata.entity import CascadeType, MergeBehavior

if TYPE_CHECKING:
    from xrm.data.handlers import MessageHandlers

__all__ = ["RelationHandlers"]

_PRINCIPALS = ("systemuser", "team")
_SHARED_RIGHTS = {
    "read": sharing.AccessRights.READ, "write": sharing.AccessRights.WRITE, "append": sharing.AccessRights.APPEND,
    "append_to": sharing.AccessRights.APPEND_TO, "delete": sharing.AccessRights.DELETE,
    "assign": sharing.AccessRights.ASSIGN, "share": sharing.AccessRights.SHARE,
}  # fmt: skip


class RelationHandlers:
    """Relationship and sharing messages (see the module docstring), run through ``handlers``'s pipeline."""

    def __init__(self, handlers: MessageHandlers) -> None:
        self.h = handlers

    def _relationship(self, name: str, entity: str) -> CompiledRelationship:
        rel = self.h.env.model.relationships.get(name)
        if rel is None or entity not in (rel.referenced_entity, rel.referencing_entity):
            raise NotFoundError(f"'{name}' is not a relationship of {entity}")
        return rel

    def associate(self, request: AssociateRequest) -> Response:
        return self._link(request, associate=True)

    def disassociate(self, request: DisassociateRequest) -> Response:
        return self._link(request, associate=False)

    def _link(self, request: AssociateRequest | DisassociateRequest, *, associate: bool) -> Response:
        target = request.target
        rel = self._relationship(request.relationship, target.logical_name)
        if rel.kind == "many_to_many":  # N:N needs append on both sides (a 1:N link is an update of the lookup)
            for record in (target, *request.related):
                self.h.require("append", record.logical_name, record.id)
        require_row(self.h.env, self.h.connection, target.logical_name, target.id)
        message = "associate" if associate else "disassociate"
        context = self.h._context(message, target.logical_name, target, relationship=rel.name, related=request.related)

        def core(ctx: ExecutionContext) -> Response:
            for related in request.related:
                if rel.kind == "many_to_many":
                    self._link_many(rel, target, related, associate)
                else:
                    self._link_one(rel, target, related, associate)
            return Response()

        return self.h._run(context, core)

    def _link_one(
        self, rel: CompiledRelationship, target: EntityReference, related: EntityReference, associate: bool
    ) -> None:
        parent, child = (target, related) if target.logical_name == rel.referenced_entity else (related, target)
        if child.logical_name != rel.referencing_entity or parent.logical_name != rel.referenced_entity:
            raise ValidationError(
                rel.referencing_entity,
                [
                    AttributeProblem(
                        str(rel.lookup), f"'{rel.name}' links {rel.referenced_entity} to {rel.referencing_entity}"
                    )
                ],
            )
        self.h.handle(
            UpdateRequest(Entity(child.logical_name, {str(rel.lookup): parent if associate else None}, id=child.id))
        )

    def _link_many(
        self, rel: CompiledRelationship, target: EntityReference, related: EntityReference, associate: bool
    ) -> None:
        one, two = rel.intersect_columns
        if target.logical_name == rel.referenced_entity and related.logical_name == rel.referencing_entity:
            values = {one: target.id, two: related.id}
        elif target.logical_name == rel.referencing_entity and related.logical_name == rel.referenced_entity:
            values = {one: related.id, two: target.id}
        else:
            raise ValidationError(
                target.logical_name,
                [AttributeProblem(rel.name, f"cannot link {related.logical_name} through '{rel.name}'")],
            )
        require_row(self.h.env, self.h.connection, related.logical_name, related.id)
        table = self.h.env.tables.tables[str(rel.intersect)]
        condition = (table.c[one] == values[one]) & (table.c[two] == values[two])
        exists = self.h.connection.execute(select(table.c[one]).where(condition)).first() is not None
        if associate:
            if exists:
                raise InvalidOperationError(
                    f"{related.logical_name} {related.id} is already associated through '{rel.name}'"
                )
            self.h.connection.execute(insert(table).values(**values))
        elif exists:
            self.h.connection.execute(sql_delete(table).where(condition))
        audit.record(
            self.h.env,
            self.h.connection,
            self.h._meta(target.logical_name),
            target.id,
            "associate" if associate else "disassociate",
            self.h.user_id,
            None,
            {rel.name: str(related.id)},
        )

    def clear_intersect(self, rel: CompiledRelationship, entity: str, record_id: uuid.UUID) -> None:
        table = self.h.env.tables.tables[str(rel.intersect)]
        one, two = rel.intersect_columns
        columns = [table.c[one]] if rel.referenced_entity == entity else []
        if rel.referencing_entity == entity:
            columns.append(table.c[two])
        for column in columns:
            self.h.connection.execute(sql_delete(table).where(column == record_id))

    def merge(self, request: MergeRequest) -> Response:
        target, subordinate = request.target, request.subordinate
        entity = self.h._meta(target.logical_name)
        if subordinate.logical_name != entity.logical_name or subordinate.id == target.id:
            raise InvalidOperationError("merge needs two different records of the same entity")
        for record in (target, subordinate):
            self.h.require("write", entity.logical_name, record.id)
        master_row = require_row(self.h.env, self.h.connection, entity.logical_name, target.id)
        sub_row = require_row(self.h.env, self.h.connection, entity.logical_name, subordinate.id)
        for row in (master_row, sub_row):
            check_open(entity, row)
        context = self.h._context(
            "merge", entity.logical_name, target, subordinate=subordinate, update_content=request.update_content
        )

        def core(ctx: ExecutionContext) -> Response:
            moved = 0
            for rel in self.h.env.model.relationships_of(entity.logical_name):
                if (
                    rel.kind != "one_to_many"
                    or rel.referenced_entity != entity.logical_name
                    or rel.cascade.merge is not MergeBehavior.CASCADE
                ):
                    continue
                for child_id in self.h._children(rel, subordinate):
                    if rel.referencing_entity == entity.logical_name and child_id in (target.id, subordinate.id):
                        continue
                    self.h._system_update(Entity(rel.referencing_entity, {str(rel.lookup): target}, id=child_id))
                    moved += 1
            if request.update_content:
                self.h.handle(UpdateRequest(Entity(entity.logical_name, dict(request.update_content), id=target.id)))
            master = entity.definition.master_attribute or ("masterid" if "masterid" in entity.attributes else None)
            link = {master: target} if master else {}
            if link:
                self.h._system_update(Entity(entity.logical_name, link, id=subordinate.id))
            if entity.states is not None:
                closed = next((s for s in entity.states.states if s.is_closed), None)
                state = (
                    request.subordinate_state
                    if request.subordinate_state is not None
                    else (closed.value if closed else None)
                )
                if state is not None:
                    self.h.handle(SetStateRequest(subordinate, state, request.subordinate_status))
            audit.record(
                self.h.env,
                self.h.connection,
                entity,
                target.id,
                "merge",
                self.h.user_id,
                None,
                {"subordinate": str(subordinate.id), "moved": moved},
            )
            return Response(results={"moved": moved})

        return self.h._run(context, core)

    # --- sharing -------------------------------------------------------------------------------

    def share(self, request: ShareRequest) -> Response:
        target, principal = request.target, request.principal
        entity = self.h._meta(target.logical_name)
        if principal.logical_name not in _PRINCIPALS:
            raise ValidationError(
                entity.logical_name, [AttributeProblem("principal", "records are shared with a systemuser or a team")]
            )
        self.h.require("share", target.logical_name, target.id)
        for privilege, bit in _SHARED_RIGHTS.items():  # one can only share what one holds (Dataverse)
            if request.mode != "revoke" and int(request.rights) & bit:
                self.h.require(privilege, target.logical_name, target.id)
        require_row(self.h.env, self.h.connection, target.logical_name, target.id)
        require_row(self.h.env, self.h.connection, principal.logical_name, principal.id)
        context = self.h._context(
            request.message, entity.logical_name, target, principal=principal, rights=int(request.rights)
        )
        kind = "unshare" if request.mode == "revoke" else "share"

        def core(ctx: ExecutionContext) -> Response:
            before, after = sharing.set_rights(
                self.h.env, self.h.connection, target, principal, int(request.rights), mode=request.mode
            )
            self.h._cascade(
                entity,
                target,
                kind,
                lambda child: self.h.platform().handle(ShareRequest(child, principal, request.rights, request.mode)),
            )
            change = {f"{principal.logical_name}:{principal.id}": after}
            audit.record(
                self.h.env,
                self.h.connection,
                entity,
                target.id,
                kind,
                self.h.user_id,
                {f"{principal.logical_name}:{principal.id}": before},
                change,
            )
            return Response(results={"rights": after})

        return self.h._run(context, core)

    def reparent(
        self,
        entity: CompiledEntity,
        record_id: uuid.UUID,
        current: Mapping[str, Any],
        changes: Mapping[str, Any],
    ) -> None:
        """A child moved to another parent: the parents' owners gain / lose inherited read access."""
        for rel in self.h.env.model.relationships.values():
            name = rel.lookup
            if (
                rel.kind != "one_to_many"
                or rel.referencing_entity != entity.logical_name
                or name is None
                or name not in changes
            ):
                continue
            setting = rel.cascade.reparent
            if setting is CascadeType.NONE or changes[name] == current.get(name):
                continue
            lookup = entity.attributes[name]
            child = EntityReference(entity.logical_name, record_id)
            for parent_id, parent_type, add in (
                (current.get(name), current.get(f"{name}type"), False),
                (changes[name], changes.get(f"{name}type"), True),
            ):
                if parent_id is None or (lookup.is_polymorphic and parent_type != rel.referenced_entity):
                    continue
                parent = require_row(self.h.env, self.h.connection, rel.referenced_entity, parent_id)
                owner_id = parent.get("ownerid")
                if owner_id is None or owner_id == {**current, **changes}.get("ownerid"):
                    continue  # the child's own owner needs no inherited access
                if setting is CascadeType.USER_OWNED and current.get("ownerid") != owner_id:
                    continue
                if (
                    setting is CascadeType.ACTIVE
                    and entity.states is not None
                    and _closed(entity, {**current, **changes})
                ):
                    continue
                owner = EntityReference(str(parent.get("owneridtype") or "systemuser"), owner_id)
                sharing.set_inherited(self.h.env, self.h.connection, child, owner, sharing.AccessRights.READ, add=add)


def _closed(entity: CompiledEntity, row: Mapping[str, Any]) -> bool:
    assert entity.states is not None
    state = next((s for s in entity.states.states if s.value == row.get("statecode")), None)
    return state is not None and state.is_closed
