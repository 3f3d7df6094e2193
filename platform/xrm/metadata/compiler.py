"""Compile solution definitions, layer by layer, into one :class:`Model`.

Each layer is applied in dependency order over the ones below it and then validated against what
is installed so far, so a lower layer can never depend on a higher one. Every problem found is
collected; :func:`compile_model` raises one :class:`MetadataError` listing them all.
"""

from __future__ import annotations

from dataclasses import replace
from graphlib import CycleError, TopologicalSorter
from typing import Any

from xrm.errors import MetadataError, MetadataIssue
from xrm.metadata._base import stable_id
from xrm.metadata.attributes import (
    AttributeMetadata,
    BigIntAttribute,
    ChoiceAttribute,
    DateTimeAttribute,
    LookupAttribute,
    OptionMetadata,
    OwnerAttribute,
    RequiredLevel,
    UniqueIdentifierAttribute,
)
from xrm.metadata.entity import (
    CascadeConfiguration,
    CascadeType,
    DeleteBehavior,
    EntityMetadata,
    MergeBehavior,
    Ownership,
)
from xrm.metadata.model import (
    CompiledAttribute,
    CompiledComponent,
    CompiledEntity,
    CompiledKey,
    CompiledOptionSet,
    CompiledRelationship,
    Model,
)
from xrm.metadata.reserved import SYSTEM_ATTRIBUTES, is_reserved
from xrm.metadata.solution import SolutionDefinition, version_satisfies
from xrm.metadata.validation import validate_layer

__all__ = ["compile_model", "order_solutions"]

SYSTEM_SOLUTION = "system"
# the system layer's hierarchical category entity that ``has_categories`` links records to
CATEGORY_ENTITY = "category"


def order_solutions(definitions: list[SolutionDefinition]) -> tuple[list[SolutionDefinition], list[MetadataIssue]]:
    """Dependency order (the system layer first); missing or mismatched dependencies and cycles are issues."""
    by_name = {definition.name: definition for definition in definitions}
    issues: list[MetadataIssue] = []
    graph: dict[str, set[str]] = {}
    for definition in definitions:
        locator = definition.locate("manifest", definition.name)
        needs = {dep.name for dep in definition.manifest.dependencies}
        if definition.name != SYSTEM_SOLUTION and SYSTEM_SOLUTION in by_name:
            needs.add(SYSTEM_SOLUTION)
        for index, dep in enumerate(definition.manifest.dependencies):
            other = by_name.get(dep.name)
            if other is None:
                issues.append(
                    locator.issue(("dependencies", index), f"depends on '{dep.name}', which is not installed")
                )
            elif not version_satisfies(other.version, dep.version):
                issues.append(
                    locator.issue(
                        ("dependencies", index),
                        f"needs '{dep.name}' {dep.version}, but version {other.version} is installed",
                    )
                )
        graph[definition.name] = {name for name in needs if name in by_name}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        cycle = " -> ".join(error.args[1])
        for name in dict.fromkeys(error.args[1]):
            issues.append(by_name[name].locate("manifest", name).issue(("dependencies",), f"dependency cycle: {cycle}"))
        return definitions, issues
    return [by_name[name] for name in order], issues


def compile_model(definitions: list[SolutionDefinition] | tuple[SolutionDefinition, ...]) -> Model:
    """Apply every solution in dependency order and validate the result."""
    ordered, issues = order_solutions(list(definitions))
    model = Model()
    if not issues:
        for definition in ordered:
            issues.extend(_apply_layer(model, definition))
    if issues:
        raise MetadataError(issues)
    _resolve_global_options(model)
    model.solutions = tuple(ordered)
    return model


def _resolve_global_options(model: Model) -> None:
    """Choice attributes on a global option set see every value, including later layers' additions."""
    for entity in model.entities.values():
        for name, attribute in entity.attributes.items():
            optionset = getattr(attribute.metadata, "optionset", None)
            if optionset and optionset in model.optionsets:
                entity.attributes[name] = replace(attribute, options=model.optionsets[optionset].options)


def _apply_layer(model: Model, definition: SolutionDefinition) -> list[MetadataIssue]:
    issues: list[MetadataIssue] = []
    name = definition.name
    publisher = definition.manifest.publisher
    prefix = None if publisher.native else f"{publisher.prefix}_"

    def needs_prefix(kind: str, component: str, path: tuple[str | int, ...], value: str) -> None:
        if prefix and not value.startswith(prefix):
            issues.append(
                definition.locate(kind, component).issue(
                    path, f"'{value}' must start with the publisher prefix '{prefix}'"
                )
            )

    for optionset in definition.optionsets:
        locator = definition.locate("optionsets", optionset.name)
        existing = model.optionsets.get(optionset.name)
        if optionset.extends:
            if existing is None:
                issues.append(locator.issue(("name",), f"extends unknown option set '{optionset.name}'"))
                continue
            owners = dict(existing.option_owners)
            taken = {option.value for option in existing.options}
            for index, option in enumerate(optionset.options):
                if option.value in taken:
                    issues.append(
                        locator.issue(("options", index, "value"), f"option value {option.value} already exists")
                    )
                owners[option.value] = name
            model.optionsets[optionset.name] = CompiledOptionSet(
                existing.name, existing.id, existing.solution, existing.options + optionset.options, owners
            )
            continue
        if existing is not None:
            issues.append(
                locator.issue(("name",), f"option set '{optionset.name}' is already defined by '{existing.solution}'")
            )
            continue
        needs_prefix("optionsets", optionset.name, ("name",), optionset.name)
        model.optionsets[optionset.name] = CompiledOptionSet(
            optionset.name,
            optionset.id or stable_id("optionset", optionset.name),
            name,
            optionset.options,
            {option.value: name for option in optionset.options},
        )

    new_entities: list[CompiledEntity] = []
    for entity in definition.entities:
        locator = definition.locate("entities", entity.logical_name)
        existing_entity = model.entities.get(entity.logical_name)
        if entity.extends:
            if existing_entity is None:
                issues.append(locator.issue(("logical_name",), f"extends unknown entity '{entity.logical_name}'"))
            continue
        if existing_entity is not None:
            issues.append(
                locator.issue(
                    ("logical_name",),
                    f"entity '{entity.logical_name}' is already defined by solution '{existing_entity.solution}'"
                    " (use 'extends: true' to add to it)",
                )
            )
            continue
        if is_reserved(entity.logical_name):
            issues.append(locator.issue(("logical_name",), f"'{entity.logical_name}' is a reserved word"))
        needs_prefix("entities", entity.logical_name, ("logical_name",), entity.logical_name)
        compiled = CompiledEntity(
            entity.logical_name, entity.id or stable_id("entity", entity.logical_name), name, entity
        )
        model.entities[entity.logical_name] = compiled
        new_entities.append(compiled)

    for compiled in new_entities:
        _add_system_attributes(model, compiled)
    for entity in definition.entities:
        target = model.entities.get(entity.logical_name)
        if target is None or (not entity.extends and target.solution != name):
            continue
        issues.extend(_add_attributes(model, definition, entity, target, needs_prefix))
    flagged = _attach_flagged_targets(model)
    issues.extend(_add_relationships(model, definition, needs_prefix))
    for compiled in new_entities:
        _add_implicit_relationships(model, compiled.attributes.values(), name)
    for entity in definition.entities:
        if entity.extends and entity.logical_name in model.entities:
            added = [attr for attr in model.entities[entity.logical_name].attributes.values() if attr.solution == name]
            _add_implicit_relationships(model, added, name)
    _add_implicit_relationships(model, flagged, name)
    issues.extend(_add_category_relationships(model, definition, new_entities))

    for action in definition.actions:
        needs_prefix("actions", action.name, ("name",), action.name)
    issues.extend(_register_components(model, definition))

    # Validate even when applying found problems (a missing prefix, a reserved name), so one run
    # reports every issue; a skipped component may cause follow-on 'unknown' reports.
    issues.extend(validate_layer(model, definition))
    return issues


def _register_components(model: Model, definition: SolutionDefinition) -> list[MetadataIssue]:
    """Forms and views (keyed by entity and name); roles, field security profiles, plugin steps,
    actions, calendars, SLAs, business process flows and workflows (by name)."""
    issues: list[MetadataIssue] = []
    kinds: list[tuple[str, dict[Any, CompiledComponent], list[tuple[Any, Any]]]] = [
        ("forms", model.forms, [((f.entity, f.name), f) for f in definition.forms]),
        ("views", model.views, [((v.entity, v.name), v) for v in definition.views]),
        ("roles", model.roles, [(r.name, r) for r in definition.roles]),
        (
            "field_security_profiles",
            model.field_profiles,
            [(p.name, p) for p in definition.field_security_profiles],
        ),
        ("steps", model.steps, [(s.name, s) for s in definition.steps]),
        ("actions", model.actions, [(a.name, a) for a in definition.actions]),
        ("calendars", model.calendars, [(c.name, c) for c in definition.calendars]),
        ("slas", model.slas, [(s.name, s) for s in definition.slas]),
        ("processes", model.processes, [(p.name, p) for p in definition.processes]),
        ("workflows", model.workflows, [(w.name, w) for w in definition.workflows]),
    ]
    for kind, registry, items in kinds:
        for key, component in items:
            where = f" of '{key[0]}'" if isinstance(key, tuple) else ""
            if key in registry:
                message = f"{kind[:-1]} '{component.name}'{where} already exists in '{registry[key].solution}'"
                issues.append(definition.locate(kind, component.name).issue(("name",), message))
                continue
            parts = key if isinstance(key, tuple) else (key,)
            identity = component.id or stable_id(kind[:-1], *parts)
            registry[key] = CompiledComponent(component.name, identity, definition.name, component)
    return issues


def _system(entity: CompiledEntity, attribute: AttributeMetadata) -> CompiledAttribute:
    name = attribute.name
    # The primary id is named after the entity; its identity must survive an entity rename.
    role = "primary_id" if name == entity.primary_id else name
    return CompiledAttribute(
        name,
        stable_id(entity.id, "system", role),
        entity.logical_name,
        entity.solution,
        attribute,
        system=True,
    )


def _add_system_attributes(model: Model, entity: CompiledEntity) -> None:
    """Columns every table gets: primary id, audit stamps, owner, state, version."""
    required = RequiredLevel.SYSTEM_REQUIRED
    attributes: list[AttributeMetadata] = [
        UniqueIdentifierAttribute(type="uniqueidentifier", name=entity.primary_id, required=required)
    ]
    attributes += [DateTimeAttribute(type="datetime", name=stamp) for stamp in ("createdon", "modifiedon")]
    if "systemuser" in model.entities:
        attributes += [
            LookupAttribute(type="lookup", name=who, target="systemuser") for who in ("createdby", "modifiedby")
        ]
    if entity.ownership is Ownership.USER:
        attributes.append(OwnerAttribute(type="owner", name="ownerid", required=required))
        if "businessunit" in model.entities:
            attributes.append(LookupAttribute(type="lookup", name="owningbusinessunit", target="businessunit"))
    states = entity.states
    if states is not None:
        state_options = tuple(OptionMetadata(value=s.value, label=s.label) for s in states.states)
        status_options = tuple(
            OptionMetadata(value=status.value, label=status.label, color=status.color, state=state.value)
            for state in states.states
            for status in state.statuses
        )
        attributes.append(ChoiceAttribute(type="choice", name="statecode", options=state_options, required=required))
        attributes.append(ChoiceAttribute(type="choice", name="statuscode", options=status_options))
    attributes.append(BigIntAttribute(type="bigint", name="versionnumber"))
    for attribute in attributes:
        compiled = _system(entity, attribute)
        if isinstance(attribute, ChoiceAttribute):
            compiled = CompiledAttribute(**{**compiled.__dict__, "options": attribute.options})
        entity.attributes[attribute.name] = compiled


def _add_attributes(
    model, definition, entity: EntityMetadata, target: CompiledEntity, needs_prefix
) -> list[MetadataIssue]:
    issues: list[MetadataIssue] = []
    locator = definition.locate("entities", entity.logical_name)
    for attr_name, attribute in entity.attributes.items():
        path = ("attributes", attr_name)
        if attr_name in SYSTEM_ATTRIBUTES or attr_name == target.primary_id:
            issues.append(locator.issue(path, f"'{attr_name}' is a system attribute that every entity gets"))
            continue
        if is_reserved(attr_name):
            issues.append(locator.issue(path, f"'{attr_name}' is a reserved word"))
            continue
        if attr_name in target.attributes:
            owner = target.attributes[attr_name].solution
            issues.append(
                locator.issue(
                    path, f"attribute '{attr_name}' already exists on '{target.logical_name}' (owned by '{owner}')"
                )
            )
            continue
        needs_prefix("entities", entity.logical_name, path, attr_name)
        options = getattr(attribute, "options", ())
        optionset_name = getattr(attribute, "optionset", None)
        if optionset_name and optionset_name in model.optionsets:
            options = model.optionsets[optionset_name].options
        target.attributes[attr_name] = CompiledAttribute(
            attr_name,
            attribute.id or stable_id(target.id, "attribute", attr_name),
            target.logical_name,
            definition.name,
            attribute,
            options=tuple(options),
        )
    for key_name, key in entity.keys.items():
        if key_name in target.keys:
            issues.append(
                locator.issue(("keys", key_name), f"key '{key_name}' already exists on '{target.logical_name}'")
            )
            continue
        target.keys[key_name] = CompiledKey(key_name, target.logical_name, definition.name, key)
    return issues


def _add_relationships(model: Model, definition: SolutionDefinition, needs_prefix) -> list[MetadataIssue]:
    issues: list[MetadataIssue] = []
    for entity in definition.entities:
        locator = definition.locate("entities", entity.logical_name)
        compiled = model.entities.get(entity.logical_name)
        if compiled is None:
            continue
        for rel_name, rel in entity.relationships.items():
            path = ("relationships", rel_name)
            if rel_name in model.relationships:
                issues.append(locator.issue(path, f"relationship '{rel_name}' already exists"))
                continue
            needs_prefix("entities", entity.logical_name, path, rel_name)
            lookup = compiled.attributes.get(rel.lookup)
            if lookup is None or not lookup.targets:
                issues.append(
                    locator.issue(
                        (*path, "lookup"), f"'{rel.lookup}' is not a lookup attribute of '{entity.logical_name}'"
                    )
                )
                continue
            target = rel.target or (lookup.targets[0] if len(lookup.targets) == 1 else None)
            if target is None or target not in lookup.targets:
                issues.append(locator.issue((*path, "target"), f"give 'target', one of {list(lookup.targets)}"))
                continue
            model.relationships[rel_name] = CompiledRelationship(
                rel_name, rel.id or stable_id("relationship", rel_name), definition.name, "one_to_many",
                target, entity.logical_name, rel.lookup, rel.cascade, rel.hierarchical, rel.activity_rollup,
            )  # fmt: skip
        for rel_name, nn in entity.many_to_many.items():
            path = ("many_to_many", rel_name)
            if rel_name in model.relationships:
                issues.append(locator.issue(path, f"relationship '{rel_name}' already exists"))
                continue
            needs_prefix("entities", entity.logical_name, path, rel_name)
            model.relationships[rel_name] = CompiledRelationship(
                rel_name, nn.id or stable_id("relationship", rel_name), definition.name, "many_to_many",
                entity.logical_name, nn.entity, intersect=nn.intersect or rel_name,
            )  # fmt: skip
    return issues


def _attach_flagged_targets(model: Model) -> list[CompiledAttribute]:
    """Point ``targets_with`` attributes at every entity carrying the flag so far; returns them."""
    attached = []
    for entity in model.entities.values():
        for name, attribute in entity.attributes.items():
            flag = getattr(attribute.metadata, "targets_with", None)
            if flag is None:
                continue
            own = set(attribute.metadata.targets)  # type: ignore[union-attr]
            extra = tuple(e for e, c in model.entities.items() if getattr(c.definition, flag) and e not in own)
            entity.attributes[name] = replace(attribute, flagged_targets=extra)
            attached.append(entity.attributes[name])
    return attached


_PARENTAL = CascadeConfiguration(
    assign=CascadeType.CASCADE, share=CascadeType.CASCADE, unshare=CascadeType.CASCADE,
    reparent=CascadeType.CASCADE, delete=DeleteBehavior.CASCADE, merge=MergeBehavior.CASCADE,
)  # fmt: skip


# a queue item goes with its record, but assigning or sharing the record leaves it alone
_QUEUED = CascadeConfiguration(delete=DeleteBehavior.CASCADE)
# SLA KPI instances follow their record's owner and are deleted with it, but a merge leaves them:
# the master keeps its own KPIs and the subordinate's are canceled when it closes
_TRACKED = CascadeConfiguration(
    assign=CascadeType.CASCADE, share=CascadeType.CASCADE, unshare=CascadeType.CASCADE,
    reparent=CascadeType.CASCADE, delete=DeleteBehavior.CASCADE,
)  # fmt: skip


def _add_implicit_relationships(model: Model, attributes, solution: str) -> None:
    """Every lookup target without a declared relationship gets a 1:N one: referential, or parental
    for activities and notes reached through ``targets_with`` (as Dataverse's Account_Tasks);
    queue items (``targets_with: queue_enabled``) are deleted with their record."""
    declared = {
        (rel.referencing_entity, rel.lookup, rel.referenced_entity)
        for rel in model.relationships.values()
        if rel.kind == "one_to_many"
    }
    for attribute in list(attributes):
        for target in attribute.targets:
            if (attribute.entity, attribute.name, target) in declared:
                continue
            rel_name = f"{target}_{attribute.entity}_{attribute.name}"
            cascade = CascadeConfiguration()
            if target in attribute.flagged_targets:
                flag = getattr(attribute.metadata, "targets_with", None)
                cascade = {"queue_enabled": _QUEUED, "sla_enabled": _TRACKED}.get(str(flag), _PARENTAL)
            model.relationships[rel_name] = CompiledRelationship(
                rel_name, stable_id("relationship", rel_name), solution, "one_to_many",
                target, attribute.entity, attribute.name, cascade=cascade, implicit=True,
            )  # fmt: skip


def _add_category_relationships(
    model: Model, definition: SolutionDefinition, entities: list[CompiledEntity]
) -> list[MetadataIssue]:
    """Each new entity with ``has_categories`` gets an N:N relationship ``<entity>_category`` to the
    system layer's hierarchical ``category`` (its intersect table has the same name)."""
    issues: list[MetadataIssue] = []
    for entity in entities:
        if not entity.definition.has_categories:
            continue
        locator = definition.locate("entities", entity.logical_name)
        rel_name = f"{entity.logical_name}_category"
        if CATEGORY_ENTITY not in model.entities:
            issues.append(locator.issue(("has_categories",), f"has_categories needs the '{CATEGORY_ENTITY}' entity"))
        elif rel_name in model.relationships:
            message = f"relationship '{rel_name}' already exists; has_categories needs the name"
            issues.append(locator.issue(("has_categories",), message))
        else:
            model.relationships[rel_name] = CompiledRelationship(
                rel_name, stable_id("relationship", rel_name), definition.name, "many_to_many",
                entity.logical_name, CATEGORY_ENTITY, intersect=rel_name, implicit=True,
            )  # fmt: skip
    return issues
