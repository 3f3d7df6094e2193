"""Entity (table) definitions: attributes, keys, state model and relationships."""

from __future__ import annotations

import uuid
from enum import Enum

from pydantic import Field, field_validator, model_validator

from xrm.metadata._base import LogicalName, MetadataModel
from xrm.metadata.attributes import AttributeMetadata

__all__ = [
    "Ownership",
    "CascadeType",
    "DeleteBehavior",
    "MergeBehavior",
    "ActivityRollup",
    "CascadeConfiguration",
    "OneToManyRelationshipMetadata",
    "ManyToManyRelationshipMetadata",
    "AlternateKeyMetadata",
    "StatusMetadata",
    "StateMetadata",
    "StatusTransitionMetadata",
    "StateModelMetadata",
    "AccessTeamRight",
    "AccessTeamTemplateMetadata",
    "EntityMetadata",
    "MAX_ALTERNATE_KEYS",
    "MAX_KEY_COLUMNS",
]

MAX_ALTERNATE_KEYS = 10
MAX_KEY_COLUMNS = 16


class Ownership(str, Enum):
    USER = "user"
    ORGANIZATION = "organization"
    NONE = "none"


class CascadeType(str, Enum):
    CASCADE = "cascade"
    ACTIVE = "active"
    USER_OWNED = "user_owned"
    NONE = "none"


class DeleteBehavior(str, Enum):
    CASCADE = "cascade"
    REMOVE_LINK = "remove_link"
    RESTRICT = "restrict"


class MergeBehavior(str, Enum):
    CASCADE = "cascade"
    NONE = "none"


class ActivityRollup(str, Enum):
    """How activities regarding the child roll up to the parent (Dataverse's rollup view cascade)."""

    NONE = "none"
    RELATED = "related"
    EXTENDED = "extended"


class CascadeConfiguration(MetadataModel):
    """What an operation on the parent does to the children of a 1:N relationship."""

    assign: CascadeType = CascadeType.NONE
    share: CascadeType = CascadeType.NONE
    unshare: CascadeType = CascadeType.NONE
    reparent: CascadeType = CascadeType.NONE
    delete: DeleteBehavior = DeleteBehavior.REMOVE_LINK
    merge: MergeBehavior = MergeBehavior.NONE

    @property
    def is_parental(self) -> bool:
        """Parental: every cascade is 'cascade' (Dataverse's parental behaviour)."""
        return (
            self.assign is self.share is self.unshare is self.reparent is CascadeType.CASCADE
            and self.delete is DeleteBehavior.CASCADE
        )


class OneToManyRelationshipMetadata(MetadataModel):
    """Declared on the referencing (child) entity, naming its lookup attribute."""

    name: LogicalName
    id: uuid.UUID | None = None
    lookup: LogicalName
    target: LogicalName | None = Field(
        default=None, description="the referenced entity; needed for customer/owner/regarding lookups"
    )
    cascade: CascadeConfiguration = CascadeConfiguration()
    hierarchical: bool = False
    activity_rollup: ActivityRollup = ActivityRollup.NONE
    description: str | None = None


class ManyToManyRelationshipMetadata(MetadataModel):
    """An N:N relationship with its intersect table, declared on either entity."""

    name: LogicalName
    id: uuid.UUID | None = None
    entity: LogicalName = Field(description="the other entity")
    intersect: LogicalName | None = Field(default=None, description="intersect table; defaults to the name")
    description: str | None = None


class AlternateKeyMetadata(MetadataModel):
    name: LogicalName
    attributes: tuple[LogicalName, ...] = Field(min_length=1, max_length=MAX_KEY_COLUMNS)
    display_name: str | None = None


class StatusMetadata(MetadataModel):
    value: int
    label: str
    color: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{6}$")


class StateMetadata(MetadataModel):
    value: int
    name: LogicalName
    label: str
    default_status: int
    statuses: tuple[StatusMetadata, ...] = Field(min_length=1)
    closed: bool | None = Field(
        default=None, description="records in a closed state are read-only; default: every state but 0"
    )

    @property
    def is_closed(self) -> bool:
        return self.closed if self.closed is not None else self.value != 0

    @model_validator(mode="after")
    def _default_is_own(self) -> StateMetadata:
        if self.default_status not in {status.value for status in self.statuses}:
            raise ValueError(f"default_status {self.default_status} is not a status of state '{self.name}'")
        return self


class StatusTransitionMetadata(MetadataModel):
    """From one status reason, the status reasons that may follow it."""

    from_status: int = Field(alias="from")
    to: tuple[int, ...] = Field(min_length=1)


class StateModelMetadata(MetadataModel):
    states: tuple[StateMetadata, ...] = Field(min_length=1)
    enforce_transitions: bool = False
    transitions: tuple[StatusTransitionMetadata, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> StateModelMetadata:
        seen: set[int] = set()
        for state in self.states:
            for status in state.statuses:
                if status.value in seen:
                    raise ValueError(f"status value {status.value} appears twice")
                seen.add(status.value)
        for transition in self.transitions:
            unknown = [v for v in (transition.from_status, *transition.to) if v not in seen]
            if unknown:
                raise ValueError(f"transition names unknown status value(s) {unknown}")
        if self.enforce_transitions and not self.transitions:
            raise ValueError("enforce_transitions is set but no transitions are declared")
        return self

    @property
    def all_statuses(self) -> dict[int, int]:
        """Status value -> state value."""
        return {status.value: state.value for state in self.states for status in state.statuses}


class AccessTeamRight(str, Enum):
    """A right a team template gives a record's access team (Dataverse's access rights, less create)."""

    READ = "read"
    WRITE = "write"
    APPEND = "append"
    APPEND_TO = "append_to"
    DELETE = "delete"
    SHARE = "share"
    ASSIGN = "assign"


class AccessTeamTemplateMetadata(MetadataModel):
    """A team template: each record gets an access team of its own, which the record is shared with.

    Dataverse's record-based access teams: members are added per record, and the team is created
    on first use with the template's ``rights``. Keyed by name in ``access_team_templates``.
    """

    display_name: str | None = None
    description: str | None = None
    rights: tuple[AccessTeamRight, ...] = Field(min_length=1)

    @field_validator("rights")
    @classmethod
    def _distinct(cls, rights: tuple[AccessTeamRight, ...]) -> tuple[AccessTeamRight, ...]:
        repeated = sorted({r.value for r in rights if rights.count(r) > 1})
        if repeated:
            raise ValueError(f"rights repeat {repeated}")
        return rights


_EXTENSION_FIELDS = frozenset({"logical_name", "extends", "attributes", "keys", "relationships", "many_to_many"})


class EntityMetadata(MetadataModel):
    """A table. With ``extends: true`` it adds to an entity that another solution owns."""

    logical_name: LogicalName
    id: uuid.UUID | None = None
    extends: bool = False
    display_name: str | None = None
    plural_name: str | None = None
    description: str | None = None
    ownership: Ownership = Ownership.USER
    primary_id: LogicalName | None = None
    primary_name: LogicalName | None = None
    is_activity: bool = False
    has_activities: bool = False
    has_notes: bool = False
    audited: bool = False
    queue_enabled: bool = Field(default=False, description="records can be put in queues (queue items)")
    sla_enabled: bool = Field(default=False, description="SLAs may be defined for the entity (slas/)")
    has_categories: bool = Field(default=False, description="records can be tagged with categories (N:N)")
    master_attribute: LogicalName | None = Field(
        default=None, description="self-lookup that a merge sets on the subordinate (default: 'masterid' if present)"
    )
    attributes: dict[str, AttributeMetadata] = Field(default_factory=dict)
    keys: dict[str, AlternateKeyMetadata] = Field(default_factory=dict)
    states: StateModelMetadata | None = None
    relationships: dict[str, OneToManyRelationshipMetadata] = Field(default_factory=dict)
    many_to_many: dict[str, ManyToManyRelationshipMetadata] = Field(default_factory=dict)
    access_team_templates: dict[LogicalName, AccessTeamTemplateMetadata] = Field(
        default_factory=dict, description="access team templates by name (user-owned entities only)"
    )

    @model_validator(mode="before")
    @classmethod
    def _names_from_keys(cls, data: object) -> object:
        """Mappings are keyed by name; copy each key into the item's ``name``."""
        if isinstance(data, dict):
            data = dict(data)
            for section in ("attributes", "keys", "relationships", "many_to_many"):
                items = data.get(section)
                if isinstance(items, dict):
                    for key, value in items.items():
                        if isinstance(value, dict) and value.get("name", key) != key:
                            raise ValueError(
                                f"{section}.{key}: 'name' ({value['name']}) differs from its key; drop 'name'"
                            )
                    data[section] = {
                        key: ({**value, "name": key} if isinstance(value, dict) else value)
                        for key, value in items.items()
                    }
        return data

    @model_validator(mode="after")
    def _check(self) -> EntityMetadata:
        if self.extends:
            extra = sorted(self.model_fields_set - _EXTENSION_FIELDS)
            if extra:
                raise ValueError(f"an extension may only add attributes, keys and relationships; remove {extra}")
            return self
        if self.primary_name is None:
            raise ValueError("'primary_name' is required (a string attribute naming the record)")
        if len(self.keys) > MAX_ALTERNATE_KEYS:
            raise ValueError(f"at most {MAX_ALTERNATE_KEYS} alternate keys per entity ({len(self.keys)} given)")
        return self

    @property
    def primary_id_name(self) -> str:
        return self.primary_id or f"{self.logical_name}id"
