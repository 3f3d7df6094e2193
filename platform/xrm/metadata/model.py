"""The compiled model: every layer applied, each component knowing the solution that owns it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from xrm.errors import XrmError
from xrm.metadata.attributes import AttributeMetadata, OptionMetadata
from xrm.metadata.components import (
    ActionMetadata,
    FieldSecurityProfileMetadata,
    FormMetadata,
    PluginStepMetadata,
    RoleMetadata,
    ViewMetadata,
)
from xrm.metadata.entity import (
    ActivityRollup,
    AlternateKeyMetadata,
    CascadeConfiguration,
    EntityMetadata,
    Ownership,
    StateModelMetadata,
)
from xrm.metadata.solution import SolutionDefinition

__all__ = [
    "CompiledAttribute",
    "CompiledKey",
    "CompiledEntity",
    "CompiledRelationship",
    "CompiledOptionSet",
    "CompiledComponent",
    "Model",
    "UnknownComponentError",
]


class UnknownComponentError(XrmError, KeyError):
    code = "NOT_FOUND"

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class CompiledAttribute:
    name: str
    id: uuid.UUID
    entity: str
    solution: str
    metadata: AttributeMetadata
    system: bool = False
    options: tuple[OptionMetadata, ...] = ()
    flagged_targets: tuple[str, ...] = ()  # entities added through ``targets_with``

    @property
    def type(self) -> str:
        return self.metadata.type

    @property
    def targets(self) -> tuple[str, ...]:
        """Target entities of a lookup-like attribute (empty for other types)."""
        metadata = self.metadata
        if metadata.type == "lookup":
            return (metadata.target,)
        return tuple(getattr(metadata, "targets", ())) + self.flagged_targets

    @property
    def is_polymorphic(self) -> bool:
        return self.type in ("customer", "owner", "regarding")


@dataclass(frozen=True)
class CompiledKey:
    name: str
    entity: str
    solution: str
    metadata: AlternateKeyMetadata


@dataclass(frozen=True)
class CompiledRelationship:
    """A 1:N (``referenced`` parent, ``referencing`` child with ``lookup``) or an N:N relationship."""

    name: str
    id: uuid.UUID
    solution: str
    kind: str  # "one_to_many" | "many_to_many"
    referenced_entity: str
    referencing_entity: str
    lookup: str | None = None
    cascade: CascadeConfiguration = CascadeConfiguration()
    hierarchical: bool = False
    activity_rollup: ActivityRollup = ActivityRollup.NONE
    implicit: bool = False
    intersect: str | None = None

    @property
    def intersect_columns(self) -> tuple[str, str]:
        """Column names of an N:N intersect table (``<entity>idone/idtwo`` when self-referential)."""
        one, two = self.referenced_entity, self.referencing_entity
        if one == two:
            return f"{one}idone", f"{one}idtwo"
        return f"{one}id", f"{two}id"


@dataclass(frozen=True)
class CompiledOptionSet:
    name: str
    id: uuid.UUID
    solution: str
    options: tuple[OptionMetadata, ...]
    option_owners: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CompiledComponent:
    """A form, view, role, field security profile, plugin step or custom action with its owner and stable id."""

    name: str
    id: uuid.UUID
    solution: str
    metadata: (
        FormMetadata | ViewMetadata | RoleMetadata | FieldSecurityProfileMetadata | PluginStepMetadata | ActionMetadata
    )


@dataclass
class CompiledEntity:
    logical_name: str
    id: uuid.UUID
    solution: str
    definition: EntityMetadata
    attributes: dict[str, CompiledAttribute] = field(default_factory=dict)
    keys: dict[str, CompiledKey] = field(default_factory=dict)

    @property
    def primary_id(self) -> str:
        return self.definition.primary_id_name

    @property
    def primary_name(self) -> str:
        assert self.definition.primary_name is not None
        return self.definition.primary_name

    @property
    def ownership(self) -> Ownership:
        return self.definition.ownership

    @property
    def states(self) -> StateModelMetadata | None:
        return self.definition.states

    @property
    def is_activity(self) -> bool:
        return self.definition.is_activity

    @property
    def display_name(self) -> str:
        return self.definition.display_name or self.logical_name

    def attribute(self, name: str) -> CompiledAttribute:
        try:
            return self.attributes[name]
        except KeyError:
            raise UnknownComponentError(f"entity '{self.logical_name}' has no attribute '{name}'") from None


@dataclass
class Model:
    """Everything installed, in install order. Built by :func:`xrm.metadata.compile_model`."""

    solutions: tuple[SolutionDefinition, ...] = ()
    entities: dict[str, CompiledEntity] = field(default_factory=dict)
    relationships: dict[str, CompiledRelationship] = field(default_factory=dict)
    optionsets: dict[str, CompiledOptionSet] = field(default_factory=dict)
    forms: dict[tuple[str, str], CompiledComponent] = field(default_factory=dict)
    views: dict[tuple[str, str], CompiledComponent] = field(default_factory=dict)
    roles: dict[str, CompiledComponent] = field(default_factory=dict)
    steps: dict[str, CompiledComponent] = field(default_factory=dict)
    actions: dict[str, CompiledComponent] = field(default_factory=dict)
    field_profiles: dict[str, CompiledComponent] = field(default_factory=dict)
    calendars: dict[str, CompiledComponent] = field(default_factory=dict)
    slas: dict[str, CompiledComponent] = field(default_factory=dict)
    processes: dict[str, CompiledComponent] = field(default_factory=dict)
    workflows: dict[str, CompiledComponent] = field(default_factory=dict)

    def entity(self, name: str) -> CompiledEntity:
        try:
            return self.entities[name]
        except KeyError:
            raise UnknownComponentError(f"unknown entity '{name}'") from None

    def solution(self, name: str) -> SolutionDefinition:
        for definition in self.solutions:
            if definition.name == name:
                return definition
        raise UnknownComponentError(f"solution '{name}' is not installed")

    def has_solution(self, name: str) -> bool:
        return any(definition.name == name for definition in self.solutions)

    def relationships_of(self, entity: str) -> list[CompiledRelationship]:
        """Relationships in which ``entity`` takes part, on either side."""
        return [rel for rel in self.relationships.values() if entity in (rel.referenced_entity, rel.referencing_entity)]
