"""Attribute (column) definitions: one model per attribute type, discriminated by ``type``."""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from xrm.metadata._base import LogicalName, MetadataModel

__all__ = [
    "RequiredLevel",
    "StringFormat",
    "DateTimeBehavior",
    "OptionMetadata",
    "AttributeBase",
    "StringAttribute",
    "MemoAttribute",
    "IntegerAttribute",
    "BigIntAttribute",
    "DecimalAttribute",
    "MoneyAttribute",
    "FloatAttribute",
    "BooleanAttribute",
    "DateTimeAttribute",
    "ChoiceAttribute",
    "MultiChoiceAttribute",
    "LookupAttribute",
    "CustomerAttribute",
    "OwnerAttribute",
    "RegardingAttribute",
    "UniqueIdentifierAttribute",
    "AutoNumberAttribute",
    "CalculatedAttribute",
    "RollupAttribute",
    "RollupAggregate",
    "RollupFilter",
    "AttributeMetadata",
    "POLYMORPHIC_TYPES",
    "LOOKUP_TYPES",
]

MAX_STRING_LENGTH = 4000
MAX_MEMO_LENGTH = 1_048_576


class RequiredLevel(str, Enum):
    NONE = "none"
    RECOMMENDED = "recommended"
    REQUIRED = "required"
    SYSTEM_REQUIRED = "system_required"


class StringFormat(str, Enum):
    TEXT = "text"
    EMAIL = "email"
    URL = "url"
    PHONE = "phone"
    TEXTAREA = "textarea"


class DateTimeBehavior(str, Enum):
    USER_LOCAL = "user_local"
    DATE_ONLY = "date_only"
    TIME_ZONE_INDEPENDENT = "time_zone_independent"


class OptionMetadata(MetadataModel):
    """One value of an option set (or a status reason when ``state`` is set)."""

    value: int
    label: str
    color: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{6}$")
    description: str | None = None
    state: int | None = None


class AttributeBase(MetadataModel):
    """What every attribute has. ``name`` is the column name (filled from the mapping key)."""

    name: LogicalName
    id: uuid.UUID | None = None
    display_name: str | None = None
    description: str | None = None
    required: RequiredLevel = RequiredLevel.NONE
    searchable: bool = True
    audited: bool = True
    create_only: bool = False
    secured: bool = False


class StringAttribute(AttributeBase):
    type: Literal["string"]
    max_length: int = Field(default=100, ge=1, le=MAX_STRING_LENGTH)
    format: StringFormat = StringFormat.TEXT
    default: str | None = None


class MemoAttribute(AttributeBase):
    type: Literal["memo"]
    max_length: int = Field(default=2000, ge=1, le=MAX_MEMO_LENGTH)
    default: str | None = None


class IntegerAttribute(AttributeBase):
    type: Literal["integer"]
    min: int = Field(default=-2_147_483_648, ge=-2_147_483_648)
    max: int = Field(default=2_147_483_647, le=2_147_483_647)
    default: int | None = None

    @model_validator(mode="after")
    def _check_range(self) -> IntegerAttribute:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class BigIntAttribute(AttributeBase):
    type: Literal["bigint"]
    default: int | None = None


class DecimalAttribute(AttributeBase):
    type: Literal["decimal"]
    precision: int = Field(default=2, ge=0, le=10)
    min: float | None = None
    max: float | None = None
    default: float | None = None


class MoneyAttribute(AttributeBase):
    type: Literal["money"]
    precision: int = Field(default=2, ge=0, le=4)
    min: float | None = None
    max: float | None = None
    default: float | None = None


class FloatAttribute(AttributeBase):
    type: Literal["float"]
    precision: int = Field(default=2, ge=0, le=5)
    min: float | None = None
    max: float | None = None
    default: float | None = None


class BooleanAttribute(AttributeBase):
    type: Literal["boolean"]
    true_label: str = "Yes"
    false_label: str = "No"
    default: bool | None = None


class DateTimeAttribute(AttributeBase):
    type: Literal["datetime"]
    behavior: DateTimeBehavior = DateTimeBehavior.USER_LOCAL


class ChoiceAttribute(AttributeBase):
    """A single choice: either a global option set (``optionset``) or local ``options``."""

    type: Literal["choice"]
    optionset: LogicalName | None = None
    options: tuple[OptionMetadata, ...] = ()
    default: int | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ChoiceAttribute:
        if self.optionset and self.options:
            raise ValueError("give either 'optionset' (global) or 'options' (local), not both")
        if not self.optionset and not self.options:
            raise ValueError("a choice needs 'optionset' (a global option set) or local 'options'")
        return self


class MultiChoiceAttribute(AttributeBase):
    type: Literal["multichoice"]
    optionset: LogicalName | None = None
    options: tuple[OptionMetadata, ...] = ()

    @model_validator(mode="after")
    def _one_source(self) -> MultiChoiceAttribute:
        if bool(self.optionset) == bool(self.options):
            raise ValueError("give exactly one of 'optionset' (global) or 'options' (local)")
        return self


class LookupAttribute(AttributeBase):
    """A reference to one row of one target entity (N:1)."""

    type: Literal["lookup"]
    target: LogicalName


class CustomerAttribute(AttributeBase):
    """A polymorphic reference to an account or a contact."""

    type: Literal["customer"]
    targets: tuple[LogicalName, ...] = ("account", "contact")


class OwnerAttribute(AttributeBase):
    type: Literal["owner"]
    targets: tuple[LogicalName, ...] = ("systemuser", "team")


class RegardingAttribute(AttributeBase):
    """A polymorphic reference over many target entities.

    ``targets_with: has_activities`` (or ``has_notes``, ``queue_enabled``, ``sla_enabled``) also targets every entity,
    in any layer, that sets that flag, as Dataverse's activity ``regardingobjectid``, note
    ``objectid`` queue item ``objectid`` and SLA KPI instance ``regarding`` do.
    """

    type: Literal["regarding"]
    targets: tuple[LogicalName, ...] = ()
    targets_with: Literal["has_activities", "has_notes", "queue_enabled", "sla_enabled"] | None = None

    @model_validator(mode="after")
    def _some_target(self) -> RegardingAttribute:
        if not self.targets and self.targets_with is None:
            raise ValueError("a regarding attribute needs 'targets' or 'targets_with'")
        return self


class UniqueIdentifierAttribute(AttributeBase):
    type: Literal["uniqueidentifier"]


class AutoNumberAttribute(AttributeBase):
    """A string filled on create from a format such as ``CAS-{SEQNUM:5}-{RANDSTRING:6}``."""

    type: Literal["autonumber"]
    format: str = Field(min_length=1)
    max_length: int = Field(default=100, ge=1, le=MAX_STRING_LENGTH)


class CalculatedAttribute(AttributeBase):
    """Evaluated on read from an expression over the record and its N:1 parents."""

    type: Literal["calculated"]
    expression: str = Field(min_length=1)
    result_type: Literal["string", "integer", "decimal", "money", "float", "boolean", "datetime"]


class RollupAggregate(str, Enum):
    COUNT = "count"
    SUM = "sum"
    MIN = "min"
    MAX = "max"
    AVG = "avg"


class RollupFilter(MetadataModel):
    """A condition on the related rows a rollup aggregates."""

    attribute: LogicalName
    operator: Literal["eq", "ne", "gt", "ge", "lt", "le", "null", "not_null", "in", "not_in"] = "eq"
    value: Any = None


class RollupAttribute(AttributeBase):
    """An aggregate of a related entity's attribute over a 1:N relationship, kept current."""

    type: Literal["rollup"]
    related_entity: LogicalName
    lookup: LogicalName = Field(description="the lookup on the related entity that points at this entity")
    aggregate: RollupAggregate
    attribute: LogicalName | None = Field(default=None, description="aggregated attribute; none for count")
    filters: tuple[RollupFilter, ...] = ()
    hierarchy: bool = False

    @model_validator(mode="after")
    def _attribute_needed(self) -> RollupAttribute:
        if self.aggregate is not RollupAggregate.COUNT and self.attribute is None:
            raise ValueError(f"a '{self.aggregate.value}' rollup needs 'attribute'")
        return self


AttributeMetadata = Annotated[
    StringAttribute
    | MemoAttribute
    | IntegerAttribute
    | BigIntAttribute
    | DecimalAttribute
    | MoneyAttribute
    | FloatAttribute
    | BooleanAttribute
    | DateTimeAttribute
    | ChoiceAttribute
    | MultiChoiceAttribute
    | LookupAttribute
    | CustomerAttribute
    | OwnerAttribute
    | RegardingAttribute
    | UniqueIdentifierAttribute
    | AutoNumberAttribute
    | CalculatedAttribute
    | RollupAttribute,
    Field(discriminator="type"),
]

POLYMORPHIC_TYPES = (CustomerAttribute, OwnerAttribute, RegardingAttribute)
LOOKUP_TYPES = (LookupAttribute, *POLYMORPHIC_TYPES)
