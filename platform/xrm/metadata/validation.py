"""Cross-reference checks for one layer, against everything installed up to and including it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from xrm.errors import MetadataIssue
from xrm.metadata.autonumber import parse_format
from xrm.metadata.calendar import check_calendar
from xrm.metadata.components import (
    ActionMetadata,
    FieldSecurityProfileMetadata,
    FilterMetadata,
    FormMetadata,
    LinkEntityMetadata,
    RoleMetadata,
    ViewMetadata,
)
from xrm.metadata.entity import MAX_ALTERNATE_KEYS, Ownership
from xrm.metadata.expressions import (
    ExpressionError,
    check_calculated_chain,
    check_expression,
    entity_resolver,
    parse_expression,
)
from xrm.metadata.model import CompiledEntity, Model
from xrm.metadata.process import check_process
from xrm.metadata.sla import check_sla
from xrm.metadata.solution import SolutionDefinition
from xrm.metadata.source import Locator
from xrm.metadata.workflow import check_workflow

__all__ = ["validate_layer", "STANDARD_MESSAGES", "check_filter", "check_links"]

STANDARD_MESSAGES = frozenset(
    {
        "create", "retrieve", "update", "delete", "retrieve_multiple", "associate", "disassociate",
        "assign", "set_state", "merge", "share", "unshare",
    }
)  # fmt: skip
_NUMERIC = {"integer", "bigint", "decimal", "money", "float", "rollup"}
_KEYABLE = {"string", "integer", "bigint", "decimal", "datetime", "lookup", "choice", "uniqueidentifier", "autonumber"}

Path_ = tuple[str | int, ...]


def validate_layer(model: Model, definition: SolutionDefinition) -> list[MetadataIssue]:
    issues: list[MetadataIssue] = []
    for entity in definition.entities:
        compiled = model.entities.get(entity.logical_name)
        if compiled is not None:
            issues += _check_entity(model, compiled, definition, definition.locate("entities", entity.logical_name))
    issues += _check_relationships(model, definition)
    for form in definition.forms:
        issues += _check_form(model, form, definition.locate("forms", form.name))
    for view in definition.views:
        issues += _check_view(model, view, definition.locate("views", view.name))
    issues += _check_defaults(model, definition)
    for role in definition.roles:
        issues += _check_role(model, role, definition.locate("roles", role.name))
    for profile in definition.field_security_profiles:
        issues += _check_field_profile(model, profile, definition.locate("field_security_profiles", profile.name))
    for action in definition.actions:
        issues += _check_action(model, action, definition.locate("actions", action.name))
    named_checks: list[tuple[str, Callable[[Model, Any, Locator], list[MetadataIssue]]]] = [
        ("calendars", check_calendar), ("slas", check_sla), ("processes", check_process), ("workflows", check_workflow),
    ]  # fmt: skip
    for kind, check in named_checks:
        for component in getattr(definition, kind):
            issues += check(model, component, definition.locate(kind, component.name))
    for step in definition.steps:
        locator = definition.locate("steps", step.name)
        if step.entity is not None:
            target = model.entities.get(step.entity)
            if target is None:
                issues.append(locator.issue(("entity",), f"unknown entity '{step.entity}'"))
                continue
            for index, attr in enumerate(step.filtering_attributes):
                if attr not in target.attributes:
                    issues.append(
                        locator.issue(("filtering_attributes", index), f"'{step.entity}' has no attribute '{attr}'")
                    )
            for i, image in enumerate(step.images):
                for j, attr in enumerate(image.attributes):
                    if attr not in target.attributes:
                        issues.append(
                            locator.issue(("images", i, "attributes", j), f"'{step.entity}' has no attribute '{attr}'")
                        )
    return issues


def _check_action(model: Model, action: ActionMetadata, locator: Locator) -> list[MetadataIssue]:
    """The action's own references; whether a plugin step implements it is checked when it runs."""
    issues: list[MetadataIssue] = []
    if action.name in STANDARD_MESSAGES:
        issues.append(locator.issue(("name",), f"'{action.name}' is a standard message"))
    if action.entity is not None and action.entity not in model.entities:
        issues.append(locator.issue(("entity",), f"unknown entity '{action.entity}'"))
    for section in ("parameters", "outputs"):
        for name, parameter in getattr(action, section).items():
            if parameter.entity is not None and parameter.entity not in model.entities:
                issues.append(locator.issue((section, name, "entity"), f"unknown entity '{parameter.entity}'"))
    return issues


def _check_entity(
    model: Model, entity: CompiledEntity, definition: SolutionDefinition, locator: Locator
) -> list[MetadataIssue]:
    issues: list[MetadataIssue] = []
    if entity.solution == definition.name:
        primary = entity.attributes.get(entity.primary_name)
        if primary is None or primary.type != "string":
            issues.append(
                locator.issue(
                    ("primary_name",), f"'{entity.primary_name}' is not a string attribute of '{entity.logical_name}'"
                )
            )
        if entity.definition.access_team_templates and entity.ownership is not Ownership.USER:
            message = (
                f"'{entity.logical_name}' has '{entity.ownership.value}' ownership: only user-owned entities "
                "can have access team templates (ownership: user)"
            )
            issues.append(locator.issue(("access_team_templates",), message))
    own = [attr for attr in entity.attributes.values() if attr.solution == definition.name and not attr.system]
    for attr in own:
        issues += _check_attribute(model, entity, attr, locator, ("attributes", attr.name))
    if len(entity.keys) > MAX_ALTERNATE_KEYS:
        issues.append(
            locator.issue(
                ("keys",),
                f"'{entity.logical_name}' would have {len(entity.keys)} alternate keys (at most {MAX_ALTERNATE_KEYS})",
            )
        )
    for key in entity.keys.values():
        if key.solution != definition.name:
            continue
        for index, column in enumerate(key.metadata.attributes):
            key_attr = entity.attributes.get(column)
            path = ("keys", key.name, "attributes", index)
            if key_attr is None:
                issues.append(locator.issue(path, f"unknown attribute '{column}'"))
            elif key_attr.type not in _KEYABLE:
                issues.append(locator.issue(path, f"a {key_attr.type} attribute cannot be part of a key"))
    return issues


def _check_attribute(model: Model, entity: CompiledEntity, attr, locator: Locator, path: Path_) -> list[MetadataIssue]:
    issues: list[MetadataIssue] = []
    meta = attr.metadata
    optionset = getattr(meta, "optionset", None)
    if optionset and optionset not in model.optionsets:
        issues.append(locator.issue((*path, "optionset"), f"unknown option set '{optionset}'"))
    default = getattr(meta, "default", None)
    if (
        meta.type == "choice"
        and default is not None
        and attr.options
        and default not in {o.value for o in attr.options}
    ):
        issues.append(locator.issue((*path, "default"), f"default {default} is not one of the options"))
    if meta.type in ("choice", "multichoice") and meta.options:
        counts = Counter(option.value for option in meta.options)
        for value in sorted(v for v, n in counts.items() if n > 1):
            issues.append(locator.issue((*path, "options"), f"option value {value} appears more than once"))
    if meta.type == "lookup" and meta.target not in model.entities:
        issues.append(locator.issue((*path, "target"), f"lookup target '{meta.target}' is not an entity"))
    if meta.type in ("customer", "owner", "regarding"):
        for index, target in enumerate(meta.targets):
            if target not in model.entities:
                issues.append(locator.issue((*path, "targets", index), f"target '{target}' is not an entity"))
    if meta.type == "autonumber":
        try:
            parse_format(meta.format)
        except ValueError as error:
            issues.append(locator.issue((*path, "format"), str(error)))
    if meta.type == "rollup":
        issues += _check_rollup(model, entity, meta, locator, path)
    if meta.type == "calculated":
        issues += _check_calculated(model, entity, meta, locator, path)
    return issues


def _check_rollup(model: Model, entity: CompiledEntity, meta, locator: Locator, path: Path_) -> list[MetadataIssue]:
    related = model.entities.get(meta.related_entity)
    if related is None:
        return [locator.issue((*path, "related_entity"), f"unknown entity '{meta.related_entity}'")]
    issues: list[MetadataIssue] = []
    lookup = related.attributes.get(meta.lookup)
    if lookup is None or entity.logical_name not in lookup.targets:
        issues.append(
            locator.issue(
                (*path, "lookup"), f"'{meta.related_entity}.{meta.lookup}' is not a lookup to '{entity.logical_name}'"
            )
        )
    if meta.attribute is not None:
        source = related.attributes.get(meta.attribute)
        if source is None:
            issues.append(
                locator.issue((*path, "attribute"), f"'{meta.related_entity}' has no attribute '{meta.attribute}'")
            )
        elif source.type == "rollup":
            issues.append(
                locator.issue(
                    (*path, "attribute"), f"'{meta.attribute}' is itself a rollup; a rollup cannot aggregate a rollup"
                )
            )
        elif meta.aggregate.value in ("sum", "avg") and source.type not in _NUMERIC:
            issues.append(
                locator.issue((*path, "attribute"), f"cannot {meta.aggregate.value} a {source.type} attribute")
            )
        elif source.type not in _NUMERIC | {"datetime"} and meta.aggregate.value != "count":
            issues.append(locator.issue((*path, "attribute"), f"cannot aggregate a {source.type} attribute"))
    for index, condition in enumerate(meta.filters):
        if condition.attribute not in related.attributes:
            issues.append(
                locator.issue(
                    (*path, "filters", index, "attribute"),
                    f"'{meta.related_entity}' has no attribute '{condition.attribute}'",
                )
            )
    if meta.hierarchy and not any(
        rel.hierarchical and rel.referenced_entity == rel.referencing_entity == entity.logical_name
        for rel in model.relationships.values()
    ):
        issues.append(locator.issue((*path, "hierarchy"), f"'{entity.logical_name}' has no hierarchical relationship"))
    return issues


def _check_calculated(model: Model, entity: CompiledEntity, meta, locator: Locator, path: Path_) -> list[MetadataIssue]:
    """The expression parses, type-checks against the entity and its parents, fits result_type,
    and builds on at most a short chain of other calculated attributes, without a cycle."""
    try:
        expression = parse_expression(meta.expression)
        check_expression(expression, entity_resolver(model, entity), result_type=meta.result_type)
        check_calculated_chain(model, entity, meta.name, expression)
    except ExpressionError as error:
        return [locator.issue((*path, "expression"), error.message)]
    return []


def _check_relationships(model: Model, definition: SolutionDefinition) -> list[MetadataIssue]:
    issues: list[MetadataIssue] = []
    # One parent per row: at most one lookup per entity may be parental. The relationships of one
    # polymorphic lookup (regarding, customer) share it, as Account_Tasks and Contact_Tasks do.
    parental: Counter[str] = Counter(
        entity
        for entity, _ in {
            (rel.referencing_entity, rel.lookup)
            for rel in model.relationships.values()
            if rel.kind == "one_to_many" and rel.cascade.is_parental
        }
    )
    tables = set(model.entities)
    for entity in definition.entities:
        locator = definition.locate("entities", entity.logical_name)
        for name, rel in entity.relationships.items():
            if rel.hierarchical:
                compiled = model.relationships.get(name)
                if compiled is not None and compiled.referenced_entity != compiled.referencing_entity:
                    issues.append(
                        locator.issue(
                            ("relationships", name, "hierarchical"),
                            "only a self-referential relationship can be hierarchical",
                        )
                    )
            if rel.cascade.is_parental and parental[entity.logical_name] > 1:
                issues.append(
                    locator.issue(
                        ("relationships", name, "cascade"),
                        f"'{entity.logical_name}' is already the child of a parental relationship through another lookup (at most one)",
                    )
                )
        for name, nn in entity.many_to_many.items():
            path = ("many_to_many", name)
            if nn.entity not in model.entities:
                issues.append(locator.issue((*path, "entity"), f"unknown entity '{nn.entity}'"))
            intersect = nn.intersect or name
            if intersect in tables:
                issues.append(
                    locator.issue((*path, "intersect"), f"intersect table '{intersect}' clashes with an entity")
                )
            tables.add(intersect)
    return issues


def _check_fields(entity: CompiledEntity, names: Iterable[tuple[Path_, str]], locator: Locator) -> list[MetadataIssue]:
    return [
        locator.issue(path, f"'{entity.logical_name}' has no attribute '{name}'")
        for path, name in names
        if name not in entity.attributes
    ]


def _check_form(model: Model, form: FormMetadata, locator: Locator) -> list[MetadataIssue]:
    entity = model.entities.get(form.entity)
    if entity is None:
        return [locator.issue(("entity",), f"unknown entity '{form.entity}'")]
    fields: list[tuple[Path_, str]] = [(("header", i), name) for i, name in enumerate(form.header)]
    issues: list[MetadataIssue] = []
    for t, tab in enumerate(form.tabs):
        for s, section in enumerate(tab.sections):
            for r, row in enumerate(section.rows):
                for c, cell in enumerate(row):
                    path: Path_ = ("tabs", t, "sections", s, "rows", r, c)
                    if cell.field is not None:
                        fields.append(((*path, "field"), cell.field))
                    if cell.subgrid is not None:
                        issues += _check_subgrid(model, entity, cell.subgrid, locator, (*path, "subgrid"))
                    if cell.quick_view is not None:
                        fields.append(((*path, "quick_view", "lookup"), cell.quick_view.lookup))
    return issues + _check_fields(entity, fields, locator)


def _check_subgrid(model: Model, entity: CompiledEntity, subgrid, locator: Locator, path: Path_) -> list[MetadataIssue]:
    rel = model.relationships.get(subgrid.relationship)
    if rel is None or entity.logical_name not in (rel.referenced_entity, rel.referencing_entity):
        return [
            locator.issue(
                (*path, "relationship"), f"'{subgrid.relationship}' is not a relationship of '{entity.logical_name}'"
            )
        ]
    other = rel.referencing_entity if rel.referenced_entity == entity.logical_name else rel.referenced_entity
    if subgrid.view is not None and (other, subgrid.view) not in model.views:
        return [locator.issue((*path, "view"), f"'{other}' has no view '{subgrid.view}'")]
    return []


def _check_view(model: Model, view: ViewMetadata, locator: Locator) -> list[MetadataIssue]:
    entity = model.entities.get(view.entity)
    if entity is None:
        return [locator.issue(("entity",), f"unknown entity '{view.entity}'")]
    issues: list[MetadataIssue] = []
    aliases: dict[str, CompiledEntity] = {}
    issues += _check_links(model, entity, view.links, ("links",), locator, aliases)
    for index, column in enumerate(view.columns):
        scope = aliases.get(column.entity) if column.entity else entity
        if scope is None:
            issues.append(locator.issue(("columns", index, "entity"), f"unknown link alias '{column.entity}'"))
        elif column.name not in scope.attributes:
            issues.append(locator.issue(("columns", index), f"'{scope.logical_name}' has no attribute '{column.name}'"))
    if view.filter is not None:
        issues += _check_filter(entity, view.filter, ("filter",), locator, aliases)
    issues += _check_fields(
        entity, [(("order", i, "attribute"), o.attribute) for i, o in enumerate(view.order)], locator
    )
    return issues


def _check_links(
    model: Model,
    entity: CompiledEntity,
    links: tuple[LinkEntityMetadata, ...],
    path: Path_,
    locator: Locator,
    aliases: dict[str, CompiledEntity],
) -> list[MetadataIssue]:
    issues: list[MetadataIssue] = []
    for index, link in enumerate(links):
        here = (*path, index)
        linked = model.entities.get(link.entity)
        if linked is None:
            issues.append(locator.issue((*here, "entity"), f"unknown entity '{link.entity}'"))
            continue
        aliases[link.alias or link.entity] = linked
        if link.from_attribute not in linked.attributes:
            issues.append(locator.issue((*here, "from"), f"'{link.entity}' has no attribute '{link.from_attribute}'"))
        if link.to_attribute not in entity.attributes:
            issues.append(
                locator.issue((*here, "to"), f"'{entity.logical_name}' has no attribute '{link.to_attribute}'")
            )
        issues += _check_fields(linked, [((*here, "columns", i), c) for i, c in enumerate(link.columns)], locator)
        if link.filter is not None:
            issues += _check_filter(linked, link.filter, (*here, "filter"), locator, aliases)
        issues += _check_links(model, linked, link.links, (*here, "links"), locator, aliases)
    return issues


def _check_filter(
    entity: CompiledEntity, group: FilterMetadata, path: Path_, locator: Locator, aliases: dict[str, CompiledEntity]
) -> list[MetadataIssue]:
    issues: list[MetadataIssue] = []
    for index, condition in enumerate(group.conditions):
        scope = aliases.get(condition.entity) if condition.entity else entity
        here = (*path, "conditions", index)
        if scope is None:
            issues.append(locator.issue((*here, "entity"), f"unknown link alias '{condition.entity}'"))
            continue
        attr = scope.attributes.get(condition.attribute)
        if attr is None:
            issues.append(
                locator.issue((*here, "attribute"), f"'{scope.logical_name}' has no attribute '{condition.attribute}'")
            )
        elif (
            condition.operator.value in ("under", "eq_or_under", "above", "eq_or_above")
            and attr.name != scope.primary_id
        ):
            issues.append(
                locator.issue(
                    (*here, "operator"),
                    f"'{condition.operator.value}' applies to the primary id of a hierarchical entity",
                )
            )
    for index, nested in enumerate(group.filters):
        issues += _check_filter(entity, nested, (*path, "filters", index), locator, aliases)
    return issues


def _check_defaults(model: Model, definition: SolutionDefinition) -> list[MetadataIssue]:
    """At most one default form per (entity, type) and one default view per (entity, type)."""
    issues: list[MetadataIssue] = []
    for kind, components in (("forms", model.forms), ("views", model.views)):
        seen: dict[tuple[str, str], str] = {}
        for (entity, name), component in components.items():
            meta = component.metadata
            if not getattr(meta, "is_default", False):
                continue
            key = (entity, meta.type.value)  # type: ignore[union-attr]
            if key in seen and component.solution == definition.name:
                issues.append(
                    definition.locate(kind, name).issue(
                        ("is_default",), f"'{seen[key]}' is already the default {key[1]} {kind[:-1]} of '{entity}'"
                    )
                )
            seen.setdefault(key, name)
    return issues


def _check_role(model: Model, role: RoleMetadata, locator: Locator) -> list[MetadataIssue]:
    return [
        locator.issue(("privileges", index, "entity"), f"unknown entity '{item.entity}'")
        for index, item in enumerate(role.privileges)
        if item.entity not in model.entities
    ]


def _check_field_profile(model: Model, profile: FieldSecurityProfileMetadata, locator: Locator) -> list[MetadataIssue]:
    """Each permission names an attribute marked ``secured``: on any other it would mean nothing."""
    issues: list[MetadataIssue] = []
    for index, permission in enumerate(profile.permissions):
        path: Path_ = ("permissions", index)
        entity = model.entities.get(permission.entity)
        if entity is None:
            issues.append(locator.issue((*path, "entity"), f"unknown entity '{permission.entity}'"))
            continue
        attribute = entity.attributes.get(permission.attribute)
        if attribute is None:
            message = f"'{permission.entity}' has no attribute '{permission.attribute}'"
            issues.append(locator.issue((*path, "attribute"), message))
        elif not attribute.metadata.secured:
            message = (
                f"'{permission.entity}.{permission.attribute}' is not secured: a field permission on it means "
                "nothing (mark the attribute 'secured: true')"
            )
            issues.append(locator.issue((*path, "attribute"), message))
    return issues


# the view checks, for other components that use the query condition language (workflows)
check_filter = _check_filter
check_links = _check_links
