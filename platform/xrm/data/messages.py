"""Requests and responses: one dataclass per message the organization service handles."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from xrm.data.entity import Entity, EntityReference

__all__ = [
    "Request",
    "CreateRequest",
    "RetrieveRequest",
    "UpdateRequest",
    "DeleteRequest",
    "RetrieveMultipleRequest",
    "AssociateRequest",
    "DisassociateRequest",
    "AssignRequest",
    "SetStateRequest",
    "MergeRequest",
    "ShareRequest",
    "ExecuteActionRequest",
    "ExecuteMultipleRequest",
    "Response",
    "CreateResponse",
    "RetrieveResponse",
    "RetrieveMultipleResponse",
    "ExecuteMultipleItem",
    "ExecuteMultipleResponse",
    "EntityCollection",
    "MAX_BATCH",
]

MAX_BATCH = 1000


@dataclass
class Request:
    """Base of every request; ``message`` names it in plugin step registrations."""

    message = ""


@dataclass
class CreateRequest(Request):
    target: Entity
    message = "create"


@dataclass
class RetrieveRequest(Request):
    target: EntityReference
    columns: tuple[str, ...] | None = None
    message = "retrieve"


@dataclass
class UpdateRequest(Request):
    target: Entity
    expected_version: int | None = None
    message = "update"


@dataclass
class DeleteRequest(Request):
    target: EntityReference
    message = "delete"


@dataclass
class RetrieveMultipleRequest(Request):
    query: Any  # xrm.query.QueryExpression
    message = "retrieve_multiple"


@dataclass
class AssociateRequest(Request):
    target: EntityReference
    relationship: str
    related: tuple[EntityReference, ...]
    message = "associate"


@dataclass
class DisassociateRequest(Request):
    target: EntityReference
    relationship: str
    related: tuple[EntityReference, ...]
    message = "disassociate"


@dataclass
class AssignRequest(Request):
    target: EntityReference
    assignee: EntityReference
    message = "assign"


@dataclass
class SetStateRequest(Request):
    target: EntityReference
    state: int
    status: int | None = None
    message = "set_state"


@dataclass
class MergeRequest(Request):
    """Merge ``subordinate`` into ``target``: children move per the merge cascade, the subordinate closes."""

    target: EntityReference
    subordinate: EntityReference
    update_content: dict[str, Any] = field(default_factory=dict)
    subordinate_state: int | None = None
    subordinate_status: int | None = None
    message = "merge"


@dataclass
class ShareRequest(Request):
    """Grant (add rights), modify (replace them) or revoke access on one record for a user or team."""

    target: EntityReference
    principal: EntityReference
    rights: int = 0
    mode: str = "grant"  # grant | modify | revoke

    @property
    def message(self) -> str:  # type: ignore[override]
        return f"{self.mode}_access"


@dataclass
class ExecuteActionRequest(Request):
    """A custom action registered by a solution (plugin steps on the action's message name)."""

    action: str
    parameters: dict[str, Any] = field(default_factory=dict)
    target: EntityReference | None = None

    @property
    def message(self) -> str:  # type: ignore[override]
        return self.action


@dataclass
class ExecuteMultipleRequest(Request):
    requests: tuple[Request, ...]
    continue_on_error: bool = False
    transactional: bool = False
    message = "execute_multiple"


@dataclass
class Response:
    results: dict[str, Any] = field(default_factory=dict)


@dataclass
class CreateResponse(Response):
    id: uuid.UUID | None = None


@dataclass
class RetrieveResponse(Response):
    entity: Entity | None = None


@dataclass
class EntityCollection:
    entities: list[Entity]
    more_records: bool = False
    cursor: str | None = None
    total_count: int | None = None

    def __iter__(self):
        return iter(self.entities)

    def __len__(self) -> int:
        return len(self.entities)


@dataclass
class RetrieveMultipleResponse(Response):
    collection: EntityCollection = field(default_factory=lambda: EntityCollection([]))


@dataclass
class ExecuteMultipleItem:
    index: int
    response: Response | None = None
    fault: Exception | None = None


@dataclass
class ExecuteMultipleResponse(Response):
    items: list[ExecuteMultipleItem] = field(default_factory=list)
    is_faulted: bool = False
