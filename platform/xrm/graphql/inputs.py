"""Input types: typed filters, ordering, and the create/update inputs of every entity.

``<Type>Filter`` has one operator input per attribute (``StringFilter``, ``DateTimeFilter``, an
enum filter per choice...), the related record's filter per lookup (cases whose customer's name
begins with "A": ``{customer: {account: {name: {beginsWith: "A"}}}}``), ``some``/``none``/``every``
per relationship, and ``and``/``or``/``not``. ``<Type>OrderBy`` takes one attribute per list item,
or a lookup's ordering (``{customer: {account: {name: ASC}}}``). Calculated attributes filter and
sort like stored ones of their result type: the query layer compiles their expressions to SQL.

Create and update inputs are nullable throughout: required attributes are checked by the service,
so that every missing or invalid attribute comes back at once in ``extensions.problems``.
"""

from __future__ import annotations

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
)
from xrm.graphql.bindings import READ_ONLY_INPUTS, EntityBinding
from xrm.graphql.naming import camel
from xrm.graphql.scalars import UUIDScalar
from xrm.graphql.typemap import SCALARS, TypeMap
from xrm.metadata import CompiledAttribute, CompiledEntity

__all__ = ["build_inputs", "sort_direction", "date_grouping", "FILTER_OPERATORS"]

sort_direction = GraphQLEnumType("SortDirection", {"ASC": GraphQLEnumValue(False), "DESC": GraphQLEnumValue(True)})
date_grouping = GraphQLEnumType(
    "DateGrouping", {name.upper(): GraphQLEnumValue(name) for name in ("year", "quarter", "month", "week", "day")}
)

# GraphQL operator -> (query-layer operator, how its value is given)
FILTER_OPERATORS: dict[str, tuple[str, str]] = {
    "eq": ("eq", "one"), "ne": ("ne", "one"), "in": ("in", "list"), "notIn": ("not_in", "list"),
    "lt": ("lt", "one"), "le": ("le", "one"), "gt": ("gt", "one"), "ge": ("ge", "one"),
    "between": ("between", "list"), "like": ("like", "one"), "notLike": ("not_like", "one"),
    "beginsWith": ("begins_with", "one"), "isNull": ("null", "flag"), "onOrAfter": ("on_or_after", "one"),
    "onOrBefore": ("on_or_before", "one"), "lastXDays": ("last_x_days", "one"),
    "nextXDays": ("next_x_days", "one"), "under": ("under", "one"), "eqOrUnder": ("eq_or_under", "one"),
    "above": ("above", "one"), "eqOrAbove": ("eq_or_above", "one"), "currentUser": ("eq_userid", "flag"),
    "containValues": ("contain_values", "list"), "notContainValues": ("not_contain_values", "list"),
}  # fmt: skip
_EQUALITY = ("eq", "ne", "in", "notIn", "isNull")
_ORDERED = (*_EQUALITY, "lt", "le", "gt", "ge", "between")


def _operator_filter(
    name: str, value_type: GraphQLInputType, operators: tuple[str, ...], description: str
) -> GraphQLInputObjectType:
    def field(operator: str) -> GraphQLInputField:
        if operator in ("isNull", "currentUser"):
            return GraphQLInputField(GraphQLBoolean)
        if operator in ("lastXDays", "nextXDays"):
            return GraphQLInputField(GraphQLInt)
        if operator in ("onOrAfter", "onOrBefore"):
            return GraphQLInputField(SCALARS["date"])
        if FILTER_OPERATORS[operator][1] == "list":
            return GraphQLInputField(GraphQLList(GraphQLNonNull(value_type)))
        return GraphQLInputField(value_type)

    return GraphQLInputObjectType(
        name, lambda: {operator: field(operator) for operator in operators}, description=description
    )


def _shared_filters() -> dict[str, GraphQLInputObjectType]:
    dates = ("onOrAfter", "onOrBefore", "lastXDays", "nextXDays")
    text = (*_ORDERED[:-1], "like", "notLike", "beginsWith")
    filters = {
        "string": _operator_filter("StringFilter", SCALARS["string"], text, "like/beginsWith ignore case; like takes % and _."),
        "int": _operator_filter("IntFilter", SCALARS["int"], _ORDERED, "between takes two values."),
        "bigint": _operator_filter("BigIntFilter", SCALARS["bigint"], _ORDERED, "between takes two values."),
        "float": _operator_filter("FloatFilter", SCALARS["float"], _ORDERED, "between takes two values."),
        "decimal": _operator_filter("DecimalFilter", SCALARS["decimal"], _ORDERED, "between takes two values."),
        "boolean": _operator_filter("BooleanFilter", SCALARS["boolean"], ("eq", "ne", "isNull"), "A yes/no value."),
        "datetime": _operator_filter("DateTimeFilter", SCALARS["datetime"], (*_ORDERED, *dates), "Days are UTC days."),
        "date": _operator_filter("DateFilter", SCALARS["date"], (*_ORDERED, *dates), "A date-only value."),
        "uuid": _operator_filter("UUIDFilter", UUIDScalar, _EQUALITY, "A unique identifier."),
        "lookup": _operator_filter(
            "LookupIdFilter", UUIDScalar, (*_EQUALITY, "currentUser"), "currentUser: the caller (true) or not (false)."
        ),
        "hierarchy": _operator_filter(
            "HierarchyIdFilter", UUIDScalar, (*_EQUALITY, "under", "eqOrUnder", "above", "eqOrAbove"),
            "under/above walk the entity's hierarchy from the given record.",
        ),
    }  # fmt: skip
    return filters


def _hierarchical(types: TypeMap) -> set[str]:
    """Entities with a hierarchical (self-referential) relationship: their ids take under/above."""
    return {
        rel.referenced_entity
        for rel in types.index.model.relationships.values()
        if rel.hierarchical and rel.referenced_entity == rel.referencing_entity
    }


def _value_filter(
    types: TypeMap, shared: dict[str, GraphQLInputObjectType], entity: CompiledEntity, attribute: CompiledAttribute
) -> GraphQLInputObjectType | None:
    kind = types.kind(attribute)
    if kind in ("choice", "multichoice"):
        enum = types.enum(entity, attribute)
        key = enum.name + ("ListFilter" if kind == "multichoice" else "Filter")
        if key not in types.shared:
            operators = ("isNull", "containValues", "notContainValues") if kind == "multichoice" else _EQUALITY
            types.shared[key] = _operator_filter(key, enum, operators, f"Filter on {enum.name} values.")
        return types.shared[key]  # type: ignore[return-value]
    if attribute.name == entity.primary_id:
        if "hierarchical" not in types.shared:
            types.shared["hierarchical"] = _hierarchical(types)
        hierarchical = entity.logical_name in types.shared["hierarchical"]  # type: ignore[operator]
        return shared["hierarchy" if hierarchical else "uuid"]
    if attribute.targets:
        return shared["lookup"]
    return shared[kind]


_UNION_INPUTS = {
    "Filter": ("The record matches the filter of its entity (one entity per key; any key may match).", False),
    "OrderBy": ("Sort by the attributes of the record's entity (records of other entities sort as nulls).", False),
    "Reference": ("Exactly one: the entity of the record and its id.", True),
}


def _union_input(types: TypeMap, union: str, suffix: str) -> GraphQLInputObjectType:
    """``<Union>Filter``, ``<Union>OrderBy`` or the oneOf ``<Union>Reference``: one field per target."""
    name = union + suffix
    if name not in types.shared:
        targets = types.index.unions[union]
        per_target = {"Filter": types.filters, "OrderBy": types.orders}.get(suffix)
        description, one_of = _UNION_INPUTS[suffix]
        types.shared[name] = GraphQLInputObjectType(
            name,
            lambda: {
                camel(target): GraphQLInputField(per_target[target] if per_target is not None else UUIDScalar)
                for target in targets
            },
            is_one_of=one_of,
            description=description,
        )
    return types.shared[name]  # type: ignore[return-value]


def _filter_fields(
    types: TypeMap, shared: dict[str, GraphQLInputObjectType], binding: EntityBinding
) -> dict[str, GraphQLInputField]:
    entity, names = binding.entity, types.index.names
    own = types.filters[binding.logical_name]
    fields: dict[str, GraphQLInputField] = {
        "and": GraphQLInputField(GraphQLList(GraphQLNonNull(own)), description="Every filter matches."),
        "or": GraphQLInputField(GraphQLList(GraphQLNonNull(own)), description="At least one filter matches."),
        "not": GraphQLInputField(own, description="The filter does not match."),
    }
    for field_name, attribute_name in sorted({**binding.values, **binding.calculated}.items()):
        value_filter = _value_filter(types, shared, entity, entity.attributes[attribute_name])
        if value_filter is not None:
            fields[field_name] = GraphQLInputField(value_filter)
    for field_name, attribute_name in sorted(binding.records.items()):
        attribute = entity.attributes[attribute_name]
        union = names.union(attribute)
        if union is None:
            target = names.polymorphic_targets(attribute)[0]
            fields[field_name] = GraphQLInputField(types.filters[target], description="The related record matches.")
        else:
            fields[field_name] = GraphQLInputField(_union_input(types, union, "Filter"))
    for field_name, link in sorted(binding.relations.items()):
        fields[field_name] = GraphQLInputField(types.list_filters[link.child])
    return fields


def _order_fields(types: TypeMap, binding: EntityBinding) -> dict[str, GraphQLInputField]:
    entity, names = binding.entity, types.index.names
    fields: dict[str, GraphQLInputField] = {}
    for field_name, attribute_name in sorted({**binding.values, **binding.calculated}.items()):
        if types.kind(entity.attributes[attribute_name]) != "multichoice":
            fields[field_name] = GraphQLInputField(sort_direction)
    for field_name, attribute_name in sorted(binding.records.items()):
        attribute = entity.attributes[attribute_name]
        union = names.union(attribute)
        if union is None:
            fields[field_name] = GraphQLInputField(types.orders[names.polymorphic_targets(attribute)[0]])
        else:
            fields[field_name] = GraphQLInputField(_union_input(types, union, "OrderBy"))
    return fields


def writable(entity: CompiledEntity, attribute: CompiledAttribute, *, creating: bool) -> bool:
    """Whether an attribute is part of the create (or update) input."""
    if attribute.name in READ_ONLY_INPUTS or attribute.type in ("calculated", "rollup", "autonumber"):
        return False
    if creating:
        return True
    return attribute.name not in (entity.primary_id, "ownerid") and not attribute.metadata.create_only


def _write_fields(types: TypeMap, binding: EntityBinding, *, creating: bool) -> dict[str, GraphQLInputField]:
    entity, names = binding.entity, types.index.names
    fields: dict[str, GraphQLInputField] = {}
    for field_name, attribute_name in sorted(binding.values.items()):
        attribute = entity.attributes[attribute_name]
        if not writable(entity, attribute, creating=creating):
            continue
        union = names.union(attribute) if attribute.is_polymorphic else None
        if union is not None:
            field_type: GraphQLInputType = _union_input(types, union, "Reference")
        elif attribute.targets or attribute.name == entity.primary_id:
            field_type = UUIDScalar
        else:
            field_type = types.value_type(entity, attribute)  # type: ignore[assignment]
        required = attribute.metadata.required.value in ("required", "system_required")
        fields[field_name] = GraphQLInputField(field_type, description="Required." if required and creating else None)
    return fields


def build_inputs(types: TypeMap) -> None:
    """Filter, list filter, order and write inputs of every entity."""
    shared = _shared_filters()
    for logical_name, binding in types.index.entities.items():
        names = binding.names
        types.filters[logical_name] = GraphQLInputObjectType(
            names.type("Filter"),
            lambda b=binding: _filter_fields(types, shared, b),  # type: ignore[misc]
        )
        types.list_filters[logical_name] = GraphQLInputObjectType(
            names.type("ListFilter"),
            lambda n=logical_name: {  # type: ignore[misc]
                "some": GraphQLInputField(types.filters[n], description="At least one related record matches."),
                "none": GraphQLInputField(types.filters[n], description="No related record matches."),
                "every": GraphQLInputField(types.filters[n], description="Every related record matches."),
            },
        )
        types.orders[logical_name] = GraphQLInputObjectType(
            names.type("OrderBy"),
            lambda b=binding: _order_fields(types, b),  # type: ignore[misc]
            description="One attribute per item; list items apply in turn.",
        )
        types.creates[logical_name] = GraphQLInputObjectType(
            names.type("CreateInput"),
            lambda b=binding: _write_fields(types, b, creating=True),  # type: ignore[misc]
        )
        types.updates[logical_name] = GraphQLInputObjectType(
            names.type("UpdateInput"),
            lambda b=binding: _write_fields(types, b, creating=False),  # type: ignore[misc]
        )
