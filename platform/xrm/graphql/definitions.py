"""The metadata part of the API: entity definitions, option sets, forms and views.

Enough for a UI to render forms and views from the API alone: each attribute says its type,
requirement, limits, options (with their labels and enum value names) and the GraphQL fields that
carry it; each form its tabs, sections and cells; each view its columns and order (its filter and
links as JSON, in the solution-file shape). Built from the model on first use, then cached.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
)
from xrm.graphql.bindings import SchemaIndex
from xrm.graphql.scalars import JSONScalar
from xrm.metadata import CompiledAttribute, CompiledEntity, FormMetadata, OptionMetadata, ViewMetadata

__all__ = ["definition_fields", "view_column_type"]


def _list(of: GraphQLOutputType) -> GraphQLNonNull:
    return GraphQLNonNull(GraphQLList(GraphQLNonNull(of)))


def _object(name: str, fields: dict[str, GraphQLOutputType], description: str | None = None) -> GraphQLObjectType:
    return GraphQLObjectType(
        name, lambda: {key: GraphQLField(value) for key, value in fields.items()}, description=description
    )


S, INT, B = GraphQLString, GraphQLInt, GraphQLBoolean
NS, NI, NB = GraphQLNonNull(S), GraphQLNonNull(INT), GraphQLNonNull(B)

option_type = _object(
    "OptionDefinition",
    {"value": NI, "label": NS, "name": NS, "color": S, "description": S, "state": INT},
    "A value of a choice; `name` is its GraphQL enum value.",
)
view_column_type = _object(
    "ViewColumnDefinition",
    {"name": NS, "entity": S, "width": NI, "key": NS},
    "A view column; `key` names it in a view edge's `values` (`alias.attribute` for a linked entity).",
)
_view_order = _object("ViewOrder", {"attribute": NS, "descending": NB})
_view = _object(
    "ViewDefinition",
    {"name": NS, "entity": NS, "type": NS, "isDefault": NB, "description": S, "columns": _list(view_column_type),
     "order": _list(_view_order), "query": GraphQLNonNull(JSONScalar)},
)  # fmt: skip
_subgrid = _object("FormSubgrid", {"name": NS, "relationship": NS, "view": S, "label": S})
_quick_view = _object("FormQuickView", {"name": NS, "lookup": NS, "form": NS})
_cell = _object("FormCell", {"field": S, "label": S, "subgrid": _subgrid, "quickView": _quick_view})
_section = _object("FormSection", {"name": NS, "label": S, "rows": GraphQLNonNull(GraphQLList(_list(_cell)))})
_tab = _object("FormTab", {"name": NS, "label": S, "sections": _list(_section)})
_form = _object(
    "FormDefinition",
    {"name": NS, "entity": NS, "type": NS, "isDefault": NB, "description": S, "header": _list(S), "tabs": _list(_tab)},
)
_attribute = _object(
    "AttributeDefinition",
    {"logicalName": NS, "displayName": S, "description": S, "type": NS, "required": NS, "field": S,
     "recordField": S, "maxLength": INT, "precision": INT, "minValue": GraphQLFloat, "maxValue": GraphQLFloat,
     "format": S, "behavior": S, "targets": _list(S), "optionSet": S, "options": _list(option_type),
     "isSystem": NB, "createOnly": NB, "expression": S, "defaultValue": JSONScalar},
)  # fmt: skip
_state = _object(
    "StateDefinition",
    {"value": NI, "name": NS, "label": NS, "defaultStatus": NI, "closed": NB, "statuses": _list(option_type)},
)
_relationship = _object(
    "RelationshipDefinition",
    {"name": NS, "kind": NS, "referencedEntity": NS, "referencingEntity": NS, "lookup": S, "intersect": S, "field": S},
    "`field` is the connection field on this entity's type, if any.",
)
_key = _object("KeyDefinition", {"name": NS, "attributes": _list(S)})
_entity = _object(
    "EntityDefinition",
    {"logicalName": NS, "displayName": S, "pluralName": S, "description": S, "primaryIdAttribute": NS,
     "primaryNameAttribute": S, "ownership": NS, "isActivity": NB, "solution": NS, "typeName": NS,
     "singleField": NS, "listField": NS, "attributes": _list(_attribute), "states": _list(_state),
     "relationships": _list(_relationship), "keys": _list(_key), "forms": _list(_form), "views": _list(_view)},
)  # fmt: skip
_option_set = _object(
    "OptionSetDefinition", {"name": NS, "displayName": S, "description": S, "enum": S, "options": _list(option_type)}
)


def _options(
    index: SchemaIndex, options: tuple[OptionMetadata, ...], enum: tuple[OptionMetadata, ...] | None = None
) -> list[dict[str, Any]]:
    """Options with their enum value names (computed over ``enum``, the enum's full option list)."""
    names = index.names.enum_values(enum if enum is not None else options)
    return [
        {"value": o.value, "label": o.label, "name": names[o.value], "color": o.color,
         "description": o.description, "state": o.state}
        for o in options
    ]  # fmt: skip


def _states(index: SchemaIndex, entity: CompiledEntity) -> list[dict[str, Any]]:
    if entity.states is None:
        return []
    status = entity.attributes.get("statuscode")
    states = []
    for state in entity.states.states:
        statuses = tuple(
            OptionMetadata(value=s.value, label=s.label, color=s.color, state=state.value) for s in state.statuses
        )
        states.append(
            {"value": state.value, "name": state.name, "label": state.label, "defaultStatus": state.default_status,
             "closed": state.is_closed, "statuses": _options(index, statuses, status.options if status else None)}
        )  # fmt: skip
    return states


def _attribute_dict(index: SchemaIndex, entity: CompiledEntity, attribute: CompiledAttribute) -> dict[str, Any]:
    meta, names = attribute.metadata, index.names.entity(entity.logical_name)
    value = lambda key: getattr(meta, key, None)  # noqa: E731
    enum_value = lambda key: getattr(value(key), "value", None)  # noqa: E731
    return {
        "logicalName": attribute.name, "displayName": meta.display_name, "description": meta.description,
        "type": meta.type, "required": meta.required.value, "field": names.values.get(attribute.name),
        "recordField": names.records.get(attribute.name), "maxLength": value("max_length"),
        "precision": value("precision"), "minValue": value("min"), "maxValue": value("max"),
        "format": enum_value("format"), "behavior": enum_value("behavior"), "targets": list(attribute.targets),
        "optionSet": value("optionset"), "options": _options(index, attribute.options), "isSystem": attribute.system,
        "createOnly": meta.create_only, "expression": value("expression"), "defaultValue": value("default"),
    }  # fmt: skip


def _form_dict(form: FormMetadata) -> dict[str, Any]:
    def cell(item: Any) -> dict[str, Any]:
        return {
            "field": item.field, "label": item.label,
            "subgrid": item.subgrid.model_dump() if item.subgrid else None,
            "quickView": item.quick_view.model_dump() if item.quick_view else None,
        }  # fmt: skip

    tabs = [
        {"name": tab.name, "label": tab.label, "sections": [
            {"name": section.name, "label": section.label, "rows": [[cell(c) for c in row] for row in section.rows]}
            for section in tab.sections
        ]}
        for tab in form.tabs
    ]  # fmt: skip
    return {
        "name": form.name, "entity": form.entity, "type": form.type.value, "isDefault": form.is_default,
        "description": form.description, "header": list(form.header), "tabs": tabs,
    }  # fmt: skip


def _view_dict(view: ViewMetadata) -> dict[str, Any]:
    query = view.model_dump(mode="json", by_alias=True, exclude_none=True, include={"filter", "links"})
    return {
        "name": view.name, "entity": view.entity, "type": view.type.value, "isDefault": view.is_default,
        "description": view.description,
        "columns": [
            {"name": c.name, "entity": c.entity, "width": c.width, "key": f"{c.entity}.{c.name}" if c.entity else c.name}
            for c in view.columns
        ],
        "order": [{"attribute": o.attribute, "descending": o.descending} for o in view.order], "query": query,
    }  # fmt: skip


class _Definitions:
    """The definitions of one model, computed once each."""

    def __init__(self, index: SchemaIndex) -> None:
        self.index = index
        self.entity = cache(self._entity)

    def _entity(self, name: str) -> dict[str, Any] | None:
        index, model = self.index, self.index.model
        entity = model.entities.get(name)
        if entity is None:
            return None
        names, definition = index.names.entity(name), entity.definition
        fields: dict[str, str] = {}
        for (relationship, _reverse), field_name in sorted(names.relations.items()):
            fields.setdefault(relationship, field_name)
        relationships = [
            {"name": rel.name, "kind": rel.kind, "referencedEntity": rel.referenced_entity,
             "referencingEntity": rel.referencing_entity, "lookup": rel.lookup, "intersect": rel.intersect,
             "field": fields.get(rel.name)}
            for rel in model.relationships_of(name)
        ]  # fmt: skip
        return {
            "logicalName": name, "displayName": definition.display_name, "pluralName": definition.plural_name,
            "description": definition.description, "primaryIdAttribute": entity.primary_id,
            "primaryNameAttribute": definition.primary_name, "ownership": entity.ownership.value,
            "isActivity": entity.is_activity, "solution": entity.solution, "typeName": names.base,
            "singleField": names.single, "listField": names.list,
            "attributes": [_attribute_dict(index, entity, a) for a in entity.attributes.values()],
            "states": _states(index, entity), "relationships": relationships,
            "keys": [{"name": k.name, "attributes": list(k.metadata.attributes)} for k in entity.keys.values()],
            "forms": [_form_dict(f.metadata) for (e, _), f in model.forms.items() if e == name],  # type: ignore[arg-type]
            "views": [_view_dict(v.metadata) for (e, _), v in model.views.items() if e == name],  # type: ignore[arg-type]
        }  # fmt: skip

    def option_set(self, name: str) -> dict[str, Any] | None:
        optionset = self.index.model.optionsets.get(name)
        if optionset is None:
            return None
        enum = self.index.names.optionset_enum(name)
        return {
            "name": name,
            "displayName": None,
            "description": None,
            "enum": enum,
            "options": _options(self.index, optionset.options),
        }


def definition_fields(index: SchemaIndex) -> dict[str, GraphQLField]:
    """The metadata root fields of the query type."""
    definitions = _Definitions(index)
    model = index.model
    names_arg = {
        "names": GraphQLArgument(GraphQLList(GraphQLNonNull(S)), description="Logical names; all when omitted.")
    }
    entity_arg = {"entity": GraphQLArgument(S, description="Only this entity's; all when omitted.")}

    def entities(_root: Any, _info: Any, names: list[str] | None = None) -> list[dict[str, Any]]:
        wanted = names if names is not None else sorted(model.entities)
        return [d for d in map(definitions.entity, wanted) if d is not None]

    def option_sets(_root: Any, _info: Any, names: list[str] | None = None) -> list[dict[str, Any]]:
        wanted = names if names is not None else sorted(model.optionsets)
        return [d for d in map(definitions.option_set, wanted) if d is not None]

    def forms(_root: Any, _info: Any, entity: str | None = None) -> list[dict[str, Any]]:
        return [_form_dict(f.metadata) for (e, _), f in model.forms.items() if entity in (None, e)]  # type: ignore[arg-type]

    def views(_root: Any, _info: Any, entity: str | None = None) -> list[dict[str, Any]]:
        return [_view_dict(v.metadata) for (e, _), v in model.views.items() if entity in (None, e)]  # type: ignore[arg-type]

    return {
        "entityDefinition": GraphQLField(
            _entity, {"name": GraphQLArgument(NS)}, resolve=lambda _r, _i, name: definitions.entity(name)
        ),
        "entityDefinitions": GraphQLField(_list(_entity), names_arg, resolve=entities),
        "optionSets": GraphQLField(_list(_option_set), names_arg, resolve=option_sets),
        "forms": GraphQLField(_list(_form), entity_arg, resolve=forms),
        "views": GraphQLField(_list(_view), entity_arg, resolve=views),
    }
