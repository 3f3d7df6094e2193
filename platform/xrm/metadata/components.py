"""Option sets, forms, views, security roles, field security profiles, plugin steps and custom actions."""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from xrm.metadata._base import LogicalName, MetadataModel
from xrm.metadata.attributes import OptionMetadata

__all__ = [
    "OptionSetMetadata",
    "FormType",
    "SubgridMetadata",
    "QuickViewMetadata",
    "FormCell",
    "FormSectionMetadata",
    "FormTabMetadata",
    "FormMetadata",
    "ViewType",
    "ConditionOperator",
    "ConditionMetadata",
    "FilterMetadata",
    "ViewColumnMetadata",
    "OrderMetadata",
    "LinkEntityMetadata",
    "ViewMetadata",
    "Depth",
    "GlobalPrivilege",
    "Privilege",
    "EntityPrivilegesMetadata",
    "RoleMetadata",
    "FieldPermissionMetadata",
    "FieldSecurityProfileMetadata",
    "Stage",
    "StepMode",
    "StepImageMetadata",
    "PluginStepMetadata",
    "PluginStepsMetadata",
    "ActionParameterType",
    "ActionParameterMetadata",
    "ActionMetadata",
]


class OptionSetMetadata(MetadataModel):
    """A global option set; with ``extends: true`` it adds values to another solution's set."""

    name: LogicalName
    id: uuid.UUID | None = None
    extends: bool = False
    display_name: str | None = None
    description: str | None = None
    options: tuple[OptionMetadata, ...] = Field(min_length=1)

    @field_validator("options")
    @classmethod
    def _unique_values(cls, options: tuple[OptionMetadata, ...]) -> tuple[OptionMetadata, ...]:
        values = [option.value for option in options]
        duplicates = sorted({value for value in values if values.count(value) > 1})
        if duplicates:
            raise ValueError(f"option value(s) {duplicates} appear more than once")
        return options


# --- forms -------------------------------------------------------------------------------------


class FormType(str, Enum):
    MAIN = "main"
    QUICK_CREATE = "quick_create"
    QUICK_VIEW = "quick_view"
    CARD = "card"


class SubgridMetadata(MetadataModel):
    """Related records shown on a form: a relationship and the view that lists them."""

    name: LogicalName
    relationship: LogicalName
    view: str | None = None
    label: str | None = None


class QuickViewMetadata(MetadataModel):
    """A quick-view form of the record a lookup points to."""

    name: LogicalName
    lookup: LogicalName
    form: str


class FormCell(MetadataModel):
    field: LogicalName | None = None
    subgrid: SubgridMetadata | None = None
    quick_view: QuickViewMetadata | None = None
    label: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: object) -> object:
        return {"field": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one_kind(self) -> FormCell:
        kinds = [kind for kind in (self.field, self.subgrid, self.quick_view) if kind is not None]
        if len(kinds) != 1:
            raise ValueError("a form cell is exactly one of 'field', 'subgrid' or 'quick_view'")
        return self


class FormSectionMetadata(MetadataModel):
    name: LogicalName
    label: str | None = None
    rows: tuple[tuple[FormCell, ...], ...] = ()


class FormTabMetadata(MetadataModel):
    name: LogicalName
    label: str | None = None
    sections: tuple[FormSectionMetadata, ...] = Field(min_length=1)


class FormMetadata(MetadataModel):
    name: str = Field(min_length=1)
    id: uuid.UUID | None = None
    entity: LogicalName
    type: FormType = FormType.MAIN
    description: str | None = None
    header: tuple[LogicalName, ...] = ()
    tabs: tuple[FormTabMetadata, ...] = Field(min_length=1)
    is_default: bool = False


# --- views -------------------------------------------------------------------------------------


class ViewType(str, Enum):
    PUBLIC = "public"
    ASSOCIATED = "associated"
    LOOKUP = "lookup"
    QUICK_FIND = "quick_find"
    ADVANCED_FIND = "advanced_find"


class ConditionOperator(str, Enum):
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GE = "ge"
    LT = "lt"
    LE = "le"
    LIKE = "like"
    NOT_LIKE = "not_like"
    BEGINS_WITH = "begins_with"
    IN = "in"
    NOT_IN = "not_in"
    NULL = "null"
    NOT_NULL = "not_null"
    BETWEEN = "between"
    LAST_X_DAYS = "last_x_days"
    NEXT_X_DAYS = "next_x_days"
    ON_OR_AFTER = "on_or_after"
    ON_OR_BEFORE = "on_or_before"
    EQ_USERID = "eq_userid"
    NE_USERID = "ne_userid"
    EQ_BUSINESSID = "eq_businessid"
    UNDER = "under"
    EQ_OR_UNDER = "eq_or_under"
    ABOVE = "above"
    EQ_OR_ABOVE = "eq_or_above"
    CONTAIN_VALUES = "contain_values"
    NOT_CONTAIN_VALUES = "not_contain_values"


_NO_VALUE = {
    ConditionOperator.NULL,
    ConditionOperator.NOT_NULL,
    ConditionOperator.EQ_USERID,
    ConditionOperator.NE_USERID,
    ConditionOperator.EQ_BUSINESSID,
}
_LIST_VALUE = {
    ConditionOperator.IN,
    ConditionOperator.NOT_IN,
    ConditionOperator.CONTAIN_VALUES,
    ConditionOperator.NOT_CONTAIN_VALUES,
}


class ConditionMetadata(MetadataModel):
    attribute: LogicalName
    operator: ConditionOperator = ConditionOperator.EQ
    value: Any = None
    entity: LogicalName | None = Field(default=None, description="alias of a link-entity, for its columns")

    @model_validator(mode="after")
    def _value_fits(self) -> ConditionMetadata:
        op = self.operator
        if op in _NO_VALUE and self.value is not None:
            raise ValueError(f"operator '{op.value}' takes no value")
        if op not in _NO_VALUE and self.value is None:
            raise ValueError(f"operator '{op.value}' needs a value")
        if op in _LIST_VALUE and not isinstance(self.value, list | tuple):
            raise ValueError(f"operator '{op.value}' needs a list of values")
        if op is ConditionOperator.BETWEEN and (not isinstance(self.value, list | tuple) or len(self.value) != 2):
            raise ValueError("operator 'between' needs a list of two values")
        if op in {ConditionOperator.LAST_X_DAYS, ConditionOperator.NEXT_X_DAYS} and not isinstance(self.value, int):
            raise ValueError(f"operator '{op.value}' needs a whole number of days")
        return self


class FilterMetadata(MetadataModel):
    """A group of conditions and nested groups joined by ``and`` or ``or``."""

    type: Literal["and", "or"] = "and"
    conditions: tuple[ConditionMetadata, ...] = ()
    filters: tuple[FilterMetadata, ...] = ()


class ViewColumnMetadata(MetadataModel):
    name: LogicalName
    width: int = Field(default=100, ge=10, le=2000)
    entity: LogicalName | None = Field(default=None, description="alias of a link-entity")

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: object) -> object:
        return {"name": data} if isinstance(data, str) else data


class OrderMetadata(MetadataModel):
    attribute: LogicalName
    descending: bool = False


class LinkEntityMetadata(MetadataModel):
    """A join to another entity: ``from`` is the linked entity's column, ``to`` this one's."""

    entity: LogicalName
    from_attribute: LogicalName = Field(alias="from")
    to_attribute: LogicalName = Field(alias="to")
    alias: LogicalName | None = None
    link_type: Literal["inner", "outer"] = "inner"
    columns: tuple[LogicalName, ...] = ()
    filter: FilterMetadata | None = None
    links: tuple[LinkEntityMetadata, ...] = ()


class ViewMetadata(MetadataModel):
    """A saved query."""

    name: str = Field(min_length=1)
    id: uuid.UUID | None = None
    entity: LogicalName
    type: ViewType = ViewType.PUBLIC
    is_default: bool = False
    description: str | None = None
    columns: tuple[ViewColumnMetadata, ...] = Field(min_length=1)
    filter: FilterMetadata | None = None
    links: tuple[LinkEntityMetadata, ...] = ()
    order: tuple[OrderMetadata, ...] = ()


# --- security roles ----------------------------------------------------------------------------


class Depth(str, Enum):
    NONE = "none"
    USER = "user"
    BUSINESS_UNIT = "business_unit"
    PARENT_CHILD = "parent_child"
    ORGANIZATION = "organization"


class Privilege(str, Enum):
    CREATE = "create"
    READ = "read"
    WRITE = "write"
    DELETE = "delete"
    APPEND = "append"
    APPEND_TO = "append_to"
    ASSIGN = "assign"
    SHARE = "share"


class GlobalPrivilege(str, Enum):
    """The platform's privileges not tied to an entity."""

    MANAGE_USERS = "manage_users"
    MANAGE_TEAMS = "manage_teams"
    MANAGE_ROLES = "manage_roles"
    MANAGE_SOLUTIONS = "manage_solutions"
    VIEW_AUDIT = "view_audit"


class EntityPrivilegesMetadata(MetadataModel):
    entity: LogicalName
    create: Depth = Depth.NONE
    read: Depth = Depth.NONE
    write: Depth = Depth.NONE
    delete: Depth = Depth.NONE
    append: Depth = Depth.NONE
    append_to: Depth = Depth.NONE
    assign: Depth = Depth.NONE
    share: Depth = Depth.NONE


class RoleMetadata(MetadataModel):
    name: LogicalName
    id: uuid.UUID | None = None
    display_name: str | None = None
    description: str | None = None
    # every privilege on every entity at organization depth, every global privilege and every
    # secured field (Dataverse's System Administrator)
    administrator: bool = False
    privileges: tuple[EntityPrivilegesMetadata, ...] = ()
    # the platform's own are listed in GlobalPrivilege; a solution may name its own for its plugins
    global_privileges: tuple[LogicalName, ...] = ()


# --- field security profiles -------------------------------------------------------------------


class FieldPermissionMetadata(MetadataModel):
    """What a profile allows on one secured attribute; anything not granted is refused."""

    entity: LogicalName
    attribute: LogicalName
    read: bool = False
    create: bool = False
    update: bool = False


class FieldSecurityProfileMetadata(MetadataModel):
    """A field security profile: given to users and teams, it opens secured attributes to them."""

    name: LogicalName
    id: uuid.UUID | None = None
    display_name: str | None = None
    description: str | None = None
    permissions: tuple[FieldPermissionMetadata, ...] = ()

    @field_validator("permissions")
    @classmethod
    def _one_per_attribute(
        cls, permissions: tuple[FieldPermissionMetadata, ...]
    ) -> tuple[FieldPermissionMetadata, ...]:
        keys = [f"{p.entity}.{p.attribute}" for p in permissions]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"{', '.join(duplicates)} listed more than once")
        return permissions


# --- plugin steps ------------------------------------------------------------------------------


class Stage(int, Enum):
    PRE_VALIDATION = 10
    PRE_OPERATION = 20
    POST_OPERATION = 40


class StepMode(str, Enum):
    SYNC = "sync"
    ASYNC = "async"


class StepImageMetadata(MetadataModel):
    name: LogicalName
    type: Literal["pre", "post"]
    attributes: tuple[LogicalName, ...] = ()


class PluginStepMetadata(MetadataModel):
    """Binds a plugin to a message, an entity (or all), a stage, with configuration."""

    name: str = Field(min_length=1)
    id: uuid.UUID | None = None
    plugin: str = Field(min_length=1, description="entry point name in group xrm.plugins, or module:attribute")
    message: LogicalName
    entity: LogicalName | None = Field(default=None, description="none: every entity")
    stage: Stage
    mode: StepMode = StepMode.SYNC
    order: int = 1
    filtering_attributes: tuple[LogicalName, ...] = ()
    images: tuple[StepImageMetadata, ...] = ()
    configuration: dict[str, Any] = Field(default_factory=dict)
    run_as_system: bool = False

    @model_validator(mode="after")
    def _check(self) -> PluginStepMetadata:
        if self.mode is StepMode.ASYNC and self.stage is not Stage.POST_OPERATION:
            raise ValueError("async steps run only in post-operation (stage 40)")
        if self.filtering_attributes and self.message != "update":
            raise ValueError("filtering_attributes apply to the update message only")
        for image in self.images:
            if image.type == "post" and self.stage is not Stage.POST_OPERATION:
                raise ValueError(f"post-image '{image.name}' is only available in post-operation")
            if image.type == "pre" and self.message == "create":
                raise ValueError(f"pre-image '{image.name}': there is no pre-image on create")
            if image.type == "post" and self.message == "delete":
                raise ValueError(f"post-image '{image.name}': there is no post-image on delete")
        return self


class PluginStepsMetadata(MetadataModel):
    """The contents of a solution's ``plugins.yaml``."""

    steps: tuple[PluginStepMetadata, ...] = ()


# --- custom actions ----------------------------------------------------------------------------

ActionParameterType = Literal[
    "string", "integer", "decimal", "float", "boolean", "datetime", "uuid", "reference", "json"
]


class ActionParameterMetadata(MetadataModel):
    """A typed request parameter or response property of a custom action."""

    type: ActionParameterType
    entity: LogicalName | None = Field(default=None, description="the entity a reference points to")
    required: bool = False
    description: str | None = None

    @model_validator(mode="after")
    def _entity_for_references(self) -> ActionParameterMetadata:
        if self.type == "reference" and self.entity is None:
            raise ValueError("a reference needs 'entity'")
        if self.type != "reference" and self.entity is not None:
            raise ValueError("'entity' applies to references only")
        return self


class ActionMetadata(MetadataModel):
    """A custom action (Dataverse's Custom API): typed parameters and outputs; plugin steps on the
    message of the same name do the work. With ``entity`` it is bound to records of that entity;
    with ``targets_with`` to records of every entity carrying that flag (e.g. ``queue_enabled``)."""

    name: LogicalName
    id: uuid.UUID | None = None
    display_name: str | None = None
    description: str | None = None
    entity: LogicalName | None = Field(default=None, description="bound: the caller passes a record of it")
    parameters: dict[LogicalName, ActionParameterMetadata] = Field(default_factory=dict)
    outputs: dict[LogicalName, ActionParameterMetadata] = Field(default_factory=dict)
    targets_with: Literal["has_activities", "has_notes", "queue_enabled"] | None = Field(
        default=None, description="bound to a record of any entity with this flag (instead of 'entity')"
    )

    @model_validator(mode="after")
    def _one_binding(self) -> ActionMetadata:
        if self.entity is not None and self.targets_with is not None:
            raise ValueError("give 'entity' or 'targets_with', not both")
        return self
