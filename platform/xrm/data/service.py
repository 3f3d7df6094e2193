"""The organization service: every client (Python, GraphQL, CLI) writes and reads through it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

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

__all__ = ["OrganizationService"]

_READS = (RetrieveRequest, RetrieveMultipleRequest)


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

        with self.environment.engine.connect() as connection:
            return shared_principals(connection, EntityReference(logical_name, record_id))

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

    def audit_history(self, logical_name: str, record_id: uuid.UUID | str) -> list[Any]:
        """The audit records of one record, oldest first."""
        from xrm.data.audit import read_history

        with self.environment.engine.connect() as connection:
            return read_history(connection, logical_name, uuid.UUID(str(record_id)))

    # --- execution -----------------------------------------------------------------------------

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
