"""The main operation of each message, wrapped in the plugin pipeline stages."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from xrm.data import audit, rollup
from xrm.data.access import AccessPolicy, access_policy
from xrm.data.actions import action_outputs, action_parameters
from xrm.data.context import MAX_DEPTH, ExecutionContext
from xrm.data.entity import Entity, EntityReference
from xrm.data.environment import SYSTEM_USER_ID, Environment
from xrm.data.jobs import enqueue_job
from xrm.data.messages import (
    AssignRequest,
    AssociateRequest,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DisassociateRequest,
    EntityCollection,
    ExecuteActionRequest,
    MergeRequest,
    Request,
    Response,
    RetrieveMultipleRequest,
    RetrieveMultipleResponse,
    RetrieveRequest,
    RetrieveResponse,
    SetStateRequest,
    ShareRequest,
    UpdateRequest,
)
from xrm.data.pipeline import RegisteredStep
from xrm.data.records import from_row, to_columns
from xrm.data.relations import RelationHandlers
from xrm.data.rows import (
    business_unit_of,
    delete_row,
    ids_where,
    insert_row,
    missing_references,
    require_row,
    update_row,
)
from xrm.data.scope import Scope
from xrm.data.states import StateHandlers, check_open, initial_state, is_closed
from xrm.data.validation import missing_required, normalize_values
from xrm.errors import (
    AttributeProblem,
    ConcurrencyError,
    InvalidOperationError,
    LoopDetectedError,
    NotFoundError,
    PluginExecutionError,
    ValidationError,
    XrmError,
)
from xrm.metadata import ActionMetadata, CompiledEntity, CompiledRelationship
from xrm.metadata.components import Stage, StepMode
from xrm.metadata.entity import CascadeType, DeleteBehavior

__all__ = ["MessageHandlers"]

Core = Callable[[ExecutionContext], Response]


class MessageHandlers:
    """Handles one request inside ``scope``: pipeline stages around the platform's own work."""

    def __init__(self, env: Environment, user_id: uuid.UUID | None, scope: Scope, *, checked: bool = True) -> None:
        self.env = env
        self.user_id = user_id
        self.scope = scope
        self.connection = scope.connection
        self.relations = RelationHandlers(self)
        self.states = StateHandlers(self)
        # the caller's record security; None when unrestricted (system user, no access control)
        # or for the platform's own follow-up work (cascades), which Dataverse runs unchecked too
        self.policy: AccessPolicy | None = access_policy(env, scope, user_id) if checked else None

    def platform(self) -> MessageHandlers:
        """Handlers for work the platform does on the caller's behalf (cascades): not access-checked."""
        return MessageHandlers(self.env, self.user_id, self.scope, checked=False)

    def require(self, privilege: str, entity: str, record_id: uuid.UUID) -> None:
        """Refuse unless the caller holds ``privilege`` on the record (no-op when unrestricted)."""
        if self.policy is not None:
            self.policy.require_record(self.connection, privilege, entity, record_id)

    def _require_links(self, entity: CompiledEntity, values: Mapping[str, Any]) -> None:
        """Setting a lookup needs append on the record and append-to on the record it points to."""
        if self.policy is None:
            return
        references = {
            k: v for k, v in values.items() if isinstance(v, EntityReference) and k != "ownerid" and v.id is not None
        }
        if references:
            self.policy.require_privilege("append", entity.logical_name)
        for attribute, reference in references.items():
            try:
                self.policy.require_record(self.connection, "append_to", reference.logical_name, reference.id)
            except NotFoundError:  # answered like a missing record, so the error reveals nothing
                problem = f"{reference.logical_name} with id {reference.id} does not exist"
                raise ValidationError(entity.logical_name, [AttributeProblem(attribute, problem)]) from None

    # --- pipeline ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if self.scope.depth > MAX_DEPTH:
            raise LoopDetectedError(
                f"'{request.message}' was called at depth {self.scope.depth}: more than {MAX_DEPTH} nested calls "
                "(a plugin probably triggers itself)"
            )
        handler = {
            CreateRequest: self._create, RetrieveRequest: self._retrieve, UpdateRequest: self._update,
            DeleteRequest: self._delete, RetrieveMultipleRequest: self._retrieve_multiple,
            AssociateRequest: self.relations.associate, DisassociateRequest: self.relations.disassociate, AssignRequest: self._assign,
            SetStateRequest: self.states.set_state, MergeRequest: self.relations.merge, ExecuteActionRequest: self._action,
            ShareRequest: self.relations.share,
        }.get(type(request))  # fmt: skip
        if handler is None:
            raise InvalidOperationError(f"unknown request {type(request).__name__}")
        return handler(request)  # type: ignore[operator]

    def _context(
        self, message: str, entity: str | None, target: Entity | EntityReference | None, **inputs: Any
    ) -> ExecutionContext:
        from xrm.data.service import OrganizationService

        nested = OrganizationService(self.env, self.user_id, scope=self.scope.nested())
        return ExecutionContext(
            message, entity, target, self.user_id, self.scope.initiating_user_id, self.scope.depth, nested,
            input_parameters=dict(inputs),
        )  # fmt: skip

    def _run(self, context: ExecutionContext, core: Core, changed: set[str] | None = None) -> Response:
        pipeline = self.env.pipeline
        for stage in (Stage.PRE_VALIDATION, Stage.PRE_OPERATION):
            context.stage = stage
            for step in pipeline.steps_for(context.message, context.entity, stage, changed=changed):
                self._invoke(step, context)
        response = core(context)
        context.stage = Stage.POST_OPERATION
        context.output_parameters.update(response.results)
        for step in pipeline.steps_for(context.message, context.entity, Stage.POST_OPERATION, changed=changed):
            self._invoke(step, context)
        for step in pipeline.steps_for(
            context.message, context.entity, Stage.POST_OPERATION, StepMode.ASYNC, changed=changed
        ):
            enqueue_job(self.env, self.connection, step, context)
        response.results.update(context.output_parameters)
        return response

    def _invoke(self, step: RegisteredStep, context: ExecutionContext) -> None:
        context.configuration = step.configuration
        context.step_name = step.name
        service = context.service
        if step.run_as_system:  # the step's own calls act as the system user; the context still says who called
            from xrm.data.service import OrganizationService

            context.service = OrganizationService(self.env, None, scope=self.scope.nested())
        try:
            step.handler(context)
        except XrmError:
            raise
        except Exception as error:  # a plugin's own exception: its message reaches the caller
            raise PluginExecutionError(str(error) or type(error).__name__, step=step.name) from error
        finally:
            context.service = service

    def _images(self, context: ExecutionContext, kind: str, row: Mapping[str, Any] | None) -> None:
        if row is None or context.entity is None:
            return
        entity = self.env.model.entity(context.entity)
        for key, columns in self.env.pipeline.images_needed(context.message, context.entity).items():
            image_type, name = key.split(":", 1)
            if image_type == kind:
                target = context.pre_images if kind == "pre" else context.post_images
                target[name] = from_row(entity, row, columns)

    # --- helpers -------------------------------------------------------------------------------

    def _meta(self, name: str) -> CompiledEntity:
        return self.env.model.entity(name)

    def _business_unit(self, owner: EntityReference | None) -> uuid.UUID | None:
        """The owner's business unit, looked up once per transaction."""
        key = ("business_unit", owner)
        if key not in self.scope.memo:
            self.scope.memo[key] = business_unit_of(self.env, self.connection, owner)
        return self.scope.memo[key]

    def _acting_user(self) -> uuid.UUID:
        return self.user_id or SYSTEM_USER_ID

    def _write(
        self, entity: CompiledEntity, values: Mapping[str, Any], *, creating: bool, system: bool = False
    ) -> dict[str, Any]:
        converted, problems = normalize_values(entity, values, creating=creating, system=system)
        if creating:
            given = {name for name, value in values.items() if value is not None}
            problems += [p for p in missing_required(entity, converted) if p.attribute not in given]
        problems += missing_references(
            self.env, self.connection, {k: v for k, v in converted.items() if k not in {p.attribute for p in problems}}
        )
        if problems:
            raise ValidationError(entity.logical_name, sorted(problems, key=lambda p: p.attribute))
        return converted

    # --- create / retrieve / update / delete ---------------------------------------------------

    def _create(self, request: CreateRequest) -> Response:
        target = request.target
        entity = self._meta(target.logical_name)
        if target.id is None:
            target.id = uuid.uuid4()
        context = self._context("create", entity.logical_name, target)
        return self._run(context, lambda ctx: self._create_core(entity, target))

    def _create_core(self, entity: CompiledEntity, target: Entity) -> Response:
        assert target.id is not None  # given by the caller or set by _create
        values = dict(target)
        values.pop(entity.primary_id, None)
        converted = self._write(entity, values, creating=True)
        if self.policy is not None:
            self.policy.require_fields(
                entity.logical_name, [k for k, v in converted.items() if v is not None], "create"
            )
            self._require_links(entity, converted)
        for attr in entity.attributes.values():
            default = getattr(attr.metadata, "default", None)
            if default is not None and attr.name not in converted:
                converted[attr.name] = default
        now = self.env.clock()
        system: dict[str, Any] = {entity.primary_id: target.id, "createdon": now, "modifiedon": now, "versionnumber": 1}
        if "createdby" in entity.attributes:
            system["createdby"] = system["modifiedby"] = self._acting_user()
        if "ownerid" in entity.attributes:
            owner = converted.get("ownerid") or EntityReference("systemuser", self._acting_user())
            converted["ownerid"] = owner
            if "owningbusinessunit" in entity.attributes:
                system["owningbusinessunit"] = self._business_unit(owner)
        if self.policy is not None:
            self.policy.require_create(entity.logical_name, converted.get("ownerid"), system.get("owningbusinessunit"))
        system.update(initial_state(entity, converted))
        system.update(rollup.initial_values(self.env, entity))
        row = {**to_columns(entity, converted), **system}
        insert_row(self.env, self.connection, entity.logical_name, row)
        rollup.on_change(self.env, self.connection, entity, None, row)
        audit.record(self.env, self.connection, entity, target.id, "create", self.user_id, None, row)
        return CreateResponse(results={"id": target.id}, id=target.id)

    def _retrieve(self, request: RetrieveRequest) -> Response:
        target = request.target
        entity = self._meta(target.logical_name)
        context = self._context("retrieve", entity.logical_name, target, columns=request.columns)
        self.require("read", entity.logical_name, target.id)

        def core(ctx: ExecutionContext) -> Response:
            row = require_row(self.env, self.connection, entity.logical_name, target.id)
            if self.policy is not None and (hidden := self.policy.hidden_attributes(entity.logical_name)):
                row = {k: (None if k in hidden else v) for k, v in row.items()}
            record = from_row(entity, row, request.columns)
            masked = self.policy.hidden_attributes if self.policy is not None else None
            _add_calculated(self.env, entity, record, request.columns, self.connection, masked)
            return RetrieveResponse(results={"entity": record}, entity=record)

        return self._run(context, core)

    def _update(self, request: UpdateRequest) -> Response:
        target = request.target
        entity = self._meta(target.logical_name)
        if target.id is None:
            raise ValidationError(
                entity.logical_name, [AttributeProblem(entity.primary_id, "an update needs the record id")]
            )
        if entity.states is not None and ("statuscode" in target or "statecode" in target):
            return self.states.update_with_state(request, entity)
        context = self._context("update", entity.logical_name, target, expected_version=request.expected_version)
        self.require("write", entity.logical_name, target.id)
        if "ownerid" in target:
            self.require("assign", entity.logical_name, target.id)
        current = require_row(self.env, self.connection, entity.logical_name, target.id)
        self._images(context, "pre", current)
        return self._run(
            context,
            lambda ctx: self._update_core(ctx, entity, target, current, request.expected_version),
            changed=set(target),
        )

    def _update_core(
        self,
        ctx: ExecutionContext,
        entity: CompiledEntity,
        target: Entity,
        current: Mapping[str, Any],
        expected: int | None,
        *,
        system: bool = False,
    ) -> Response:
        if expected is not None and current.get("versionnumber") != expected:
            raise ConcurrencyError(
                f"{entity.logical_name} {target.id} was changed by someone else (version {current.get('versionnumber')}, "
                f"expected {expected}); read it again and retry"
            )
        if not system:
            check_open(entity, current)
        values = {k: v for k, v in target.items() if k != entity.primary_id}
        converted = self._write(entity, values, creating=False, system=system)
        if self.policy is not None and not system:
            self.policy.require_fields(entity.logical_name, converted, "update")
            self._require_links(entity, converted)
        if "ownerid" in converted and "owningbusinessunit" in entity.attributes:
            converted_bu = self._business_unit(converted["ownerid"])
        else:
            converted_bu = None
        changes = to_columns(entity, converted)
        if "ownerid" in converted and "owningbusinessunit" in entity.attributes:
            changes["owningbusinessunit"] = converted_bu
        changes.update(modifiedon=self.env.clock(), versionnumber=(current.get("versionnumber") or 0) + 1)
        if "modifiedby" in entity.attributes:
            changes["modifiedby"] = self._acting_user()
        update_row(self.env, self.connection, entity.logical_name, target.id, changes)  # type: ignore[arg-type]
        self.relations.reparent(entity, target.id, current, changes)  # type: ignore[arg-type]
        if "businessunitid" in changes:  # a principal moved: forget business units looked up so far
            self.scope.memo.clear()
        new_row = {**current, **changes}
        rollup.on_change(self.env, self.connection, entity, current, new_row)
        audit.record(self.env, self.connection, entity, target.id, "update", self.user_id, current, new_row)  # type: ignore[arg-type]
        self._images(ctx, "post", new_row)
        return Response()

    def _delete(self, request: DeleteRequest) -> Response:
        target = request.target
        entity = self._meta(target.logical_name)
        self.require("delete", entity.logical_name, target.id)
        current = require_row(self.env, self.connection, entity.logical_name, target.id)
        context = self._context("delete", entity.logical_name, target)
        self._images(context, "pre", current)
        return self._run(context, lambda ctx: self._delete_core(entity, target, current))

    def _delete_core(self, entity: CompiledEntity, target: EntityReference, current: Mapping[str, Any]) -> Response:
        for rel in self.env.model.relationships_of(entity.logical_name):
            if rel.kind == "many_to_many":
                self.relations.clear_intersect(rel, entity.logical_name, target.id)
            elif rel.referenced_entity == entity.logical_name and rel.lookup is not None:
                self._cascade_delete(rel, target)
        delete_row(self.env, self.connection, entity.logical_name, target.id)
        rollup.on_change(self.env, self.connection, entity, current, None)
        audit.record(self.env, self.connection, entity, target.id, "delete", self.user_id, current, None)
        return Response()

    def _children(self, rel: CompiledRelationship, parent: EntityReference) -> list[uuid.UUID]:
        child = self._meta(rel.referencing_entity)
        lookup = child.attributes[str(rel.lookup)]
        type_column = f"{lookup.name}type" if lookup.is_polymorphic else None
        return ids_where(
            self.env, self.connection, child.logical_name, lookup.name, parent.id, type_column, parent.logical_name
        )

    def _cascade_delete(self, rel: CompiledRelationship, parent: EntityReference) -> None:
        children = [
            c
            for c in self._children(rel, parent)
            if not (rel.referencing_entity == parent.logical_name and c == parent.id)
        ]
        if not children:
            return
        behavior = rel.cascade.delete
        if behavior is DeleteBehavior.RESTRICT:
            raise InvalidOperationError(
                f"cannot delete {parent.logical_name} {parent.id}: {len(children)} {rel.referencing_entity} record(s) "
                f"refer to it through '{rel.name}' (delete is restricted)"
            )
        for child_id in children:
            reference = EntityReference(rel.referencing_entity, child_id)
            if behavior is DeleteBehavior.CASCADE:
                self.platform().handle(DeleteRequest(reference))
            else:
                self._system_update(Entity(rel.referencing_entity, {str(rel.lookup): None}, id=child_id))

    def _system_update(self, target: Entity) -> None:
        """A platform-made change (cascade, state change): runs the update pipeline, skips read-only checks."""
        entity = self._meta(target.logical_name)
        assert target.id is not None
        current = require_row(self.env, self.connection, entity.logical_name, target.id)
        context = self._context("update", entity.logical_name, target)
        self._images(context, "pre", current)
        self._run(
            context, lambda ctx: self._update_core(ctx, entity, target, current, None, system=True), changed=set(target)
        )

    # --- assign / set_state --------------------------------------------------------------------

    def _assign(self, request: AssignRequest) -> Response:
        target, owner = request.target, request.assignee
        entity = self._meta(target.logical_name)
        if "ownerid" not in entity.attributes:
            raise InvalidOperationError(f"{entity.logical_name} is organization-owned and cannot be assigned")
        self.require("assign", entity.logical_name, target.id)
        current = require_row(self.env, self.connection, entity.logical_name, target.id)
        context = self._context("assign", entity.logical_name, target, assignee=owner)
        self._images(context, "pre", current)

        def core(ctx: ExecutionContext) -> Response:
            previous = current.get("ownerid")
            self._update_core(
                ctx, entity, Entity(entity.logical_name, {"ownerid": owner}, id=target.id), current, None, system=True
            )
            self._cascade(
                entity, target, "assign", lambda child: self.platform().handle(AssignRequest(child, owner)), previous
            )
            audit.record(
                self.env,
                self.connection,
                entity,
                target.id,
                "assign",
                self.user_id,
                {"ownerid": previous},
                {"ownerid": owner.id},
            )
            return Response()

        return self._run(context, core)

    def _cascade(
        self,
        entity: CompiledEntity,
        parent: EntityReference,
        kind: str,
        apply: Callable[[EntityReference], Any],
        previous_owner: Any = None,
    ) -> None:
        """Apply an operation to children per each relationship's cascade setting for ``kind``."""
        for rel in self.env.model.relationships_of(entity.logical_name):
            if rel.kind != "one_to_many" or rel.referenced_entity != entity.logical_name:
                continue
            setting: CascadeType = getattr(rel.cascade, kind)
            if setting is CascadeType.NONE:
                continue
            child_meta = self._meta(rel.referencing_entity)
            for child_id in self._children(rel, parent):
                if child_meta.logical_name == parent.logical_name and child_id == parent.id:
                    continue
                row = require_row(self.env, self.connection, child_meta.logical_name, child_id)
                if setting is CascadeType.ACTIVE and child_meta.states is not None and is_closed(child_meta, row):
                    continue
                if setting is CascadeType.USER_OWNED and row.get("ownerid") != previous_owner:
                    continue
                apply(EntityReference(child_meta.logical_name, child_id))

    def _action(self, request: ExecuteActionRequest) -> Response:
        declared = self.env.model.actions.get(request.action)
        action = declared.metadata if declared and isinstance(declared.metadata, ActionMetadata) else None
        parameters = request.parameters
        if action is not None:
            flag = action.targets_with
            flagged = [e.logical_name for e in self.env.model.entities.values() if flag and getattr(e.definition, flag)]
            parameters = action_parameters(action, parameters, request.target, flagged)
        entity = request.target.logical_name if request.target else None
        if request.target is not None:
            self.require("read", request.target.logical_name, request.target.id)
        if not self.env.pipeline.has_steps(request.action, entity):
            raise NotFoundError(f"no action '{request.action}' is registered" + (f" for {entity}" if entity else ""))
        context = self._context(request.action, entity, request.target)
        context.input_parameters.update(parameters)  # a parameter may be called 'entity' or 'target'
        response = self._run(context, lambda ctx: Response())
        if action is not None:
            response.results = action_outputs(action, response.results)
        return response

    def _retrieve_multiple(self, request: RetrieveMultipleRequest) -> Response:
        from xrm.data.reading import retrieve_multiple

        context = self._context("retrieve_multiple", getattr(request.query, "entity", None), None, query=request.query)

        def core(ctx: ExecutionContext) -> Response:
            query = ctx.input_parameters.get("query", request.query)  # a pre-operation step may replace it
            if self.policy is not None:
                self.policy.require_privilege("read", query.entity)
            return retrieve_multiple(self.env, self.connection, query, self.user_id, policy=self.policy)

        return self._run(context, core)

    def run_read(
        self,
        request: RetrieveRequest | RetrieveMultipleRequest,
        read: Callable[[ExecutionContext], Entity | EntityCollection],
    ) -> Response:
        """``request``'s pipeline with ``read`` as the main operation (see ``OrganizationService.run_read``)."""
        if isinstance(request, RetrieveRequest):
            target = request.target
            context = self._context("retrieve", target.logical_name, target, columns=request.columns)
        else:
            context = self._context("retrieve_multiple", request.query.entity, None, query=request.query)

        def core(ctx: ExecutionContext) -> Response:
            result = read(ctx)
            if isinstance(result, Entity):
                return RetrieveResponse(results={"entity": result}, entity=result)
            return RetrieveMultipleResponse(results={"entities": result}, collection=result)

        return self._run(context, core)


def _add_calculated(
    env: Environment,
    entity: CompiledEntity,
    record: Entity,
    columns: tuple[str, ...] | None,
    connection: Any,
    hidden: Callable[[str], frozenset[str]] | None = None,
) -> None:
    from xrm.data.calculated import evaluate_calculated

    evaluate_calculated(env, connection, entity, record, columns, hidden=hidden)
