"""The organization service: every client (Python, GraphQL, CLI) writes and reads through it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, Connection, FromClause
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from xrm.data.context import ExecutionContext
from xrm.data.entity import Entity, EntityReference
from xrm.data.environment import Environment
from xrm.data.messages import (
    MAX_BATCH,
    AssignRequest,
    AssociateRequest,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DisassociateRequest,
    EntityCollection,
    ExecuteActionRequest,
    ExecuteMultipleItem,
    ExecuteMultipleRequest,
    ExecuteMultipleResponse,
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
from xrm.data.scope import Scope, transaction
from xrm.errors import DatabaseUnavailableError, IntegrityViolationError, InvalidOperationError, XrmError

if TYPE_CHECKING:
    from xrm.data.handlers import MessageHandlers

__all__ = ["OrganizationService"]

_READS = (RetrieveRequest, RetrieveMultipleRequest)
_T = TypeVar("_T")


class OrganizationService:
    """Messages on records, each in one transaction, through the plugin pipeline.

    Bound to an :class:`Environment` and a calling user. A service handed to a plugin
    (``context.service``) shares the running transaction and calls one level deeper.
    """

    def __init__(
        self, environment: Environment, user_id: uuid.UUID | None = None, *, scope: Scope | None = None
    ) -> None:
        self.environment = environment
        self.user_id = user_id
        self._scope = scope

    # --- messages ------------------------------------------------------------------------------

    def create(self, entity: Entity) -> uuid.UUID:
        """Create a record; returns its id."""
        response = self.execute(CreateRequest(entity))
        assert isinstance(response, CreateResponse) and response.id is not None
        return response.id

    def retrieve(self, logical_name: str, record_id: uuid.UUID | str, columns: Iterable[str] | None = None) -> Entity:
        """One record with the chosen columns (all when None)."""
        request = RetrieveRequest(
            EntityReference(logical_name, record_id), tuple(columns) if columns is not None else None
        )
        response = self.execute(request)
        assert isinstance(response, RetrieveResponse) and response.entity is not None
        return response.entity

    def update(self, entity: Entity, *, expected_version: int | None = None) -> None:
        """Change the given attributes; with ``expected_version``, fail with CONFLICT if the record changed."""
        self.execute(UpdateRequest(entity, expected_version))

    def delete(self, logical_name: str, record_id: uuid.UUID | str) -> None:
        self.execute(DeleteRequest(EntityReference(logical_name, record_id)))

    def retrieve_multiple(self, query: Any) -> EntityCollection:
        response = self.execute(RetrieveMultipleRequest(query))
        assert isinstance(response, RetrieveMultipleResponse)
        return response.collection

    def associate(
        self, logical_name: str, record_id: uuid.UUID | str, relationship: str, related: Iterable[EntityReference]
    ) -> None:
        self.execute(AssociateRequest(EntityReference(logical_name, record_id), relationship, tuple(related)))

    def disassociate(
        self, logical_name: str, record_id: uuid.UUID | str, relationship: str, related: Iterable[EntityReference]
    ) -> None:
        self.execute(DisassociateRequest(EntityReference(logical_name, record_id), relationship, tuple(related)))

    def assign(self, logical_name: str, record_id: uuid.UUID | str, owner: EntityReference) -> None:
        self.execute(AssignRequest(EntityReference(logical_name, record_id), owner))

    def grant_access(
        self, logical_name: str, record_id: uuid.UUID | str, principal: EntityReference, rights: int
    ) -> None:
        """Share a record: add ``rights`` (see :class:`xrm.data.sharing.AccessRights`) for a user or team."""
        self.execute(ShareRequest(EntityReference(logical_name, record_id), principal, int(rights), "grant"))

    def modify_access(
        self, logical_name: str, record_id: uuid.UUID | str, principal: EntityReference, rights: int
    ) -> None:
        """Replace the rights a user or team was given on a record."""
        self.execute(ShareRequest(EntityReference(logical_name, record_id), principal, int(rights), "modify"))

    def revoke_access(self, logical_name: str, record_id: uuid.UUID | str, principal: EntityReference) -> None:
        self.execute(ShareRequest(EntityReference(logical_name, record_id), principal, 0, "revoke"))

    def shared_principals(self, logical_name: str, record_id: uuid.UUID | str) -> list[Any]:
        """Who a record is shared with, with direct and inherited rights."""
        from xrm.data.sharing import shared_principals

        target = EntityReference(logical_name, record_id)
        with self._reading(target) as handlers:
            return shared_principals(handlers.connection, target)

    def add_user_to_record_team(
        self, logical_name: str, record_id: uuid.UUID | str, user_id: uuid.UUID | str, template: str
    ) -> uuid.UUID:
        """Add a user to the record's access team for ``template`` (created and shared on first use);
        returns the team id. Needs ``share`` on the record (see :mod:`xrm.data.record_teams`)."""
        from xrm.data.record_teams import RecordTeams

        target, user = EntityReference(logical_name, record_id), _uuid(user_id)
        return self._handled(lambda handlers: RecordTeams(handlers).add_member(target, user, template))

    def remove_user_from_record_team(
        self, logical_name: str, record_id: uuid.UUID | str, user_id: uuid.UUID | str, template: str
    ) -> None:
        """Take a user off the record's access team for ``template``; the team and its share stay."""
        from xrm.data.record_teams import RecordTeams

        target, user = EntityReference(logical_name, record_id), _uuid(user_id)
        self._handled(lambda handlers: RecordTeams(handlers).remove_member(target, user, template))

    def record_team_members(self, logical_name: str, record_id: uuid.UUID | str, template: str) -> list[uuid.UUID]:
        """The ids of the users on the record's access team for ``template``."""
        from xrm.data.record_teams import RecordTeams

        target = EntityReference(logical_name, record_id)
        return self._handled(lambda handlers: RecordTeams(handlers).members(target, template), write=False)

    def set_state(self, logical_name: str, record_id: uuid.UUID | str, state: int, status: int | None = None) -> None:
        self.execute(SetStateRequest(EntityReference(logical_name, record_id), state, status))

    def merge(
        self,
        logical_name: str,
        target_id: uuid.UUID | str,
        subordinate_id: uuid.UUID | str,
        *,
        update_content: dict[str, Any] | None = None,
        subordinate_state: int | None = None,
        subordinate_status: int | None = None,
    ) -> None:
        """Merge the subordinate into the target (see :class:`MergeRequest`)."""
        self.execute(
            MergeRequest(
                EntityReference(logical_name, target_id),
                EntityReference(logical_name, subordinate_id),
                dict(update_content or {}),
                subordinate_state,
                subordinate_status,
            )  # fmt: skip
        )

    def execute_action(
        self, action: str, parameters: dict[str, Any] | None = None, target: EntityReference | None = None
    ) -> dict[str, Any]:
        """Run a custom action registered by a solution; returns its output parameters.

        A declared action (``actions/<name>.yaml``) checks and converts ``parameters``, needs a
        ``target`` exactly when it is bound, and returns only its declared outputs.
        """
        return self.execute(ExecuteActionRequest(action, dict(parameters or {}), target)).results

    def execute_multiple(
        self, requests: Iterable[Request], *, continue_on_error: bool = False, transactional: bool = False
    ) -> ExecuteMultipleResponse:
        response = self.execute(ExecuteMultipleRequest(tuple(requests), continue_on_error, transactional))
        assert isinstance(response, ExecuteMultipleResponse)
        return response

    def next_sequence(self, entity: str, attribute: str) -> int:
        """The next auto-number counter value for ``entity.attribute``, in the running transaction."""
        from xrm.data.sequences import next_value

        if self._scope is not None:
            return next_value(self._scope.connection, entity, attribute)
        with transaction(self.environment.engine, self.user_id) as scope:
            return next_value(scope.connection, entity, attribute)

    @property
    def connection(self) -> Connection:
        """The connection of the running transaction (for plugins building their own statements)."""
        if self._scope is None:
            raise InvalidOperationError("only a service handed to a plugin runs inside a transaction")
        return self._scope.connection

    def read_filter(self, entity: str, table: FromClause) -> ColumnElement[bool] | None:
        """The rows of ``table`` (entity ``entity``) the caller may read, as SQL; None when all.

        For plugins that build their own statements: add it to every entity table they read, so
        they reveal only what the calling user may see (the service's own reads already do).
        """
        from xrm.data.access import access_policy

        if self._scope is None:
            raise InvalidOperationError("only a service handed to a plugin runs inside a transaction")
        policy = access_policy(self.environment, self._scope, self.user_id)
        return policy.read_filter(entity, table) if policy is not None else None

    def audit_history(self, logical_name: str, record_id: uuid.UUID | str) -> list[Any]:
        """The audit records of one record, oldest first (secured values the caller may not read as null)."""
        from xrm.data.audit import read_history

        target = EntityReference(logical_name, record_id)
        with self._reading(target) as handlers:
            policy = handlers.policy
            hidden = policy.hidden_attributes(logical_name) if policy is not None else frozenset()
            return read_history(handlers.connection, logical_name, target.id, hidden=hidden)

    def add_field_profile(self, principal: EntityReference, profile: str) -> None:
        """Give the field security profile ``profile`` to a user or team (needs ``manage_roles``)."""
        from xrm.data.field_profiles import add_field_profile

        self._in_transaction(lambda scope: add_field_profile(self.environment, scope, self.user_id, principal, profile))

    def remove_field_profile(self, principal: EntityReference, profile: str) -> None:
        """Take the field security profile ``profile`` from a user or team (needs ``manage_roles``)."""
        from xrm.data.field_profiles import remove_field_profile

        self._in_transaction(
            lambda scope: remove_field_profile(self.environment, scope, self.user_id, principal, profile)
        )

    def assign_role(self, principal: EntityReference, role: str) -> None:
        """Give the security role ``role`` to a user or owner team (needs ``manage_roles``; idempotent)."""
        from xrm.data.membership import assign_role

        self._handled(lambda handlers: assign_role(self.environment, handlers.scope, self.user_id, principal, role))

    def remove_role(self, principal: EntityReference, role: str) -> None:
        """Take the security role ``role`` from a user or owner team (needs ``manage_roles``)."""
        from xrm.data.membership import remove_role

        self._handled(lambda handlers: remove_role(self.environment, handlers.scope, self.user_id, principal, role))

    def roles_of(self, principal: EntityReference) -> list[str]:
        """The security roles a user or team holds itself, by name (a user's own, or with ``manage_roles``)."""
        from xrm.data.membership import roles_of

        return self._handled(
            lambda handlers: roles_of(self.environment, handlers.scope, self.user_id, principal), write=False
        )

    def _in_transaction(self, work: Callable[[Scope], None]) -> None:
        """``work`` in the caller's transaction when nested, else in a new one."""
        if self._scope is not None:
            work(self._scope)
            return
        try:
            with transaction(self.environment.engine, self.user_id) as scope:
                work(scope)
        except DBAPIError as error:
            raise _database_error(error) from error

    # --- execution -----------------------------------------------------------------------------

    @contextmanager
    def _reading(self, target: EntityReference) -> Iterator[MessageHandlers]:
        """A read-only transaction in which the caller may read ``target`` (else NOT_FOUND / FORBIDDEN);
        yields the caller's handlers (their ``connection`` and ``policy``)."""
        from xrm.data.handlers import MessageHandlers

        if self._scope is not None:
            handlers = MessageHandlers(self.environment, self.user_id, self._scope)
            handlers.require("read", target.logical_name, target.id)
            yield handlers
            return
        with transaction(self.environment.engine, self.user_id, write=False) as scope:
            handlers = MessageHandlers(self.environment, self.user_id, scope)
            handlers.require("read", target.logical_name, target.id)
            yield handlers

    def _handled(self, work: Callable[[MessageHandlers], _T], *, write: bool = True) -> _T:
        """Run ``work`` with the caller's handlers, in the caller's transaction when nested, else in a new one."""
        from xrm.data.handlers import MessageHandlers

        if self._scope is not None:
            return work(MessageHandlers(self.environment, self.user_id, self._scope))
        try:
            with transaction(self.environment.engine, self.user_id, write=write) as scope:
                return work(MessageHandlers(self.environment, self.user_id, scope))
        except DBAPIError as error:
            raise _database_error(error) from error

    def execute(self, request: Request) -> Response:
        """Run one request: inside the caller's transaction when nested, else in a new one."""
        if isinstance(request, ExecuteMultipleRequest):
            return self._execute_multiple(request)
        if self._scope is not None:
            return self._dispatch(request, self._scope)
        try:
            with transaction(self.environment.engine, self.user_id, write=not isinstance(request, _READS)) as scope:
                return self._dispatch(request, scope)
        except DBAPIError as error:
            raise _database_error(error) from error

    def run_read(
        self,
        request: RetrieveRequest | RetrieveMultipleRequest,
        read: Callable[[ExecutionContext], Entity | EntityCollection],
    ) -> Response:
        """A read message's plugin stages around ``read`` instead of the platform's own read.

        For clients that read with statements of their own (the GraphQL root fields): pre-stage steps
        see the request's target and ``columns``, or its ``query``, in ``context.input_parameters``
        and may change them; ``read(context)`` reads what they left and returns the record (an
        :class:`Entity`) or the page (an :class:`EntityCollection`); post-stage steps see it as the
        ``entity`` / ``entities`` output, and the response carries what they leave there. Runs in a
        read-only transaction of its own (the caller's when nested), as :meth:`execute` does reads.
        """
        from xrm.data.handlers import MessageHandlers

        if self._scope is not None:
            return MessageHandlers(self.environment, self.user_id, self._scope).run_read(request, read)
        try:
            with transaction(self.environment.engine, self.user_id, write=False) as scope:
                return MessageHandlers(self.environment, self.user_id, scope).run_read(request, read)
        except DBAPIError as error:
            raise _database_error(error) from error

    def _dispatch(self, request: Request, scope: Scope) -> Response:
        from xrm.data.handlers import MessageHandlers

        return MessageHandlers(self.environment, self.user_id, scope).handle(request)

    def _execute_multiple(self, request: ExecuteMultipleRequest) -> ExecuteMultipleResponse:
        if len(request.requests) > MAX_BATCH:
            raise InvalidOperationError(
                f"execute_multiple takes at most {MAX_BATCH} requests ({len(request.requests)} given)"
            )
        if any(isinstance(r, ExecuteMultipleRequest) for r in request.requests):
            raise InvalidOperationError("execute_multiple cannot contain another execute_multiple")
        result = ExecuteMultipleResponse()
        if request.transactional:
            # all or nothing: the first failure rolls back every request
            if self._scope is not None:
                nested = self
            else:
                nested = None
            with (
                transaction(self.environment.engine, self.user_id)
                if nested is None
                else _null_scope(self._scope) as scope
            ):
                for index, item in enumerate(request.requests):
                    result.items.append(ExecuteMultipleItem(index, self._dispatch(item, scope)))
            return result
        for index, item in enumerate(request.requests):
            try:
                result.items.append(ExecuteMultipleItem(index, self.execute(item)))
            except XrmError as error:
                result.items.append(ExecuteMultipleItem(index, fault=error))
                result.is_faulted = True
                if not request.continue_on_error:
                    break
        return result


def _uuid(value: uuid.UUID | str) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _database_error(error: DBAPIError) -> XrmError:
    """A driver error as a clean xrm error: no SQL or internals reach the caller."""
    if isinstance(error, IntegrityError):
        return IntegrityViolationError(
            "the change conflicts with existing data (a unique key or a reference); nothing was written"
        )
    if error.connection_invalidated or isinstance(error, OperationalError | InterfaceError):
        return DatabaseUnavailableError(
            "the database connection was lost during the operation; nothing was committed, retry"
        )
    return DatabaseUnavailableError(
        f"the database refused the operation ({type(error.orig).__name__}); nothing was committed"
    )


class _null_scope:
    def __init__(self, scope: Scope | None) -> None:
        self.scope = scope

    def __enter__(self) -> Scope:
        assert self.scope is not None
        return self.scope

    def __exit__(self, *exc: object) -> None:
        return None
