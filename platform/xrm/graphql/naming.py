"""The one name converter: every GraphQL name of the generated schema comes from here.

Rules (applied once per model, in sorted order of logical names, so the result is deterministic):

- Types: PascalCase of the logical name (``tst_project`` -> ``TstProject``); each entity also owns
  the derived names in :data:`ENTITY_SUFFIXES` (``TstProjectConnection``, ``TstProjectFilter``...).
  If the type or any derived name is taken (a built-in type, an earlier entity), the entity's base
  gets the first free number: ``TstProject2``.
- Fields: camelCase of the logical name (``address1_line1`` -> ``address1Line1``). A lookup has two
  fields: its raw id under the attribute's name and the related record under the name without a
  trailing ``id`` (``customerid`` -> ``customer``); a lookup whose name does not end in ``id`` keeps
  its name for the record and its raw id gets ``Id`` (``createdby`` -> ``createdby``, ``createdbyId``).
  Relationship connections use the camelCase relationship name (``incident_customer_accounts`` ->
  ``incidentCustomerAccounts``); the reverse side of a self-referential N:N adds ``Reverse``.
  The platform's own lookups (createdby, modifiedby, ownerid, owningbusinessunit) get no connection.
  ``id`` (the global id) and ``and``/``or``/``not`` (filter operators) are reserved; a clash gets
  the first free number (attributes first, then lookup records, then connections).
- Enums: ``<Type>State`` / ``<Type>Status`` for ``statecode``/``statuscode``, the PascalCase option
  set name for a global option set, ``<Type><Attribute>`` for local options. Values are the labels
  in CONSTANT_CASE (``In Progress`` -> ``IN_PROGRESS``); a repeated name gets ``_<value>``.
- Polymorphic lookups share a union per name and target set: ``Customer`` (account, contact),
  ``Owner`` (systemuser, team), ``Regarding`` (``targets_with: has_activities``), ``NoteRegarding``
  (``has_notes``), ``QueueItemObject`` (``queue_enabled``), ``SlaRegarding`` (``sla_enabled``), else the targets joined by ``Or`` (``AccountOrContact``), so installing a
  solution does not rename the unions of another.
- Root fields: camelCase entity (``incident``), its plural (``incidents``), ``incidentsAggregate``;
  mutations ``create<Type>``, ``update<Type>``, ``delete<Type>``.
- Declared custom actions (named after every entity, so an action never renames one): the mutation
  is the camelCase action name (``tst_escalate`` -> ``tstEscalate``), its types ``<Action>Input``
  and ``<Action>Result``; parameter and output fields are camelCase.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from xrm.metadata import CompiledAttribute, CompiledEntity, CompiledRelationship, Model, OptionMetadata

__all__ = [
    "ENTITY_SUFFIXES",
    "RESERVED_TYPES",
    "RESERVED_QUERY_FIELDS",
    "RESERVED_MUTATION_FIELDS",
    "EntityNames",
    "ActionNames",
    "NameConverter",
    "camel",
    "pascal",
    "plural",
    "constant",
]

ENTITY_SUFFIXES = (
    "",
    "Connection",
    "Edge",
    "Filter",
    "ListFilter",
    "OrderBy",
    "CreateInput",
    "UpdateInput",
    "Aggregate",
    "GroupBy",
    "GroupField",
    "GroupKey",
    "Sums",
    "Averages",
    "Extremes",
)
RESERVED_TYPES = frozenset(
    {
        "String", "Int", "Float", "Boolean", "ID", "Query", "Mutation", "Subscription",
        "UUID", "DateTime", "Date", "Decimal", "BigInt", "JSON",
        "Node", "PageInfo", "SortDirection", "DateGrouping", "EntityName", "RecordReference", "AccessRight",
        "StringFilter", "IntFilter", "BigIntFilter", "FloatFilter", "DecimalFilter", "BooleanFilter",
        "DateTimeFilter", "DateFilter", "UUIDFilter", "LookupIdFilter", "HierarchyIdFilter",
        "ViewConnection", "ViewEdge", "ViewColumnDefinition", "ServiceRequest", "ServiceError",
        "AttributeProblem", "ExecuteMultipleResult", "ExecuteMultipleItem",
        "CreateRequest", "UpdateRequest", "DeleteRequest", "AssignRequest", "SetStateRequest",
        "AssociateRequest", "ActionRequest",
        "EntityDefinition", "AttributeDefinition", "OptionDefinition", "StateDefinition",
        "RelationshipDefinition", "OptionSetDefinition", "FormDefinition", "FormTab", "FormSection",
        "FormCell", "FormSubgrid", "FormQuickView", "ViewDefinition", "ViewOrder", "KeyDefinition",
        "PrincipalReference", "SecurityRoleDefinition", "RolePrivilegeDefinition",
    }
)  # fmt: skip
RESERVED_QUERY_FIELDS = frozenset(
    {
        "node", "nodes", "view", "entityDefinition", "entityDefinitions", "optionSets", "forms", "views",
        "securityRoles", "rolesOf",
    }
)  # fmt: skip
RESERVED_MUTATION_FIELDS = frozenset(
    {
        "assign", "setState", "associate", "disassociate", "merge", "executeMultiple", "executeAction",
        "grantAccess", "modifyAccess", "revokeAccess", "assignRole", "removeRole",
    }
)  # fmt: skip
_RESERVED_FIELDS = ("id", "and", "or", "not")
_INVALID_ENUM_VALUES = {"true", "false", "null"}
_POLYMORPHIC_NAMES = {"customer": "Customer", "owner": "Owner", "regarding": "Regarding"}
_FLAGGED_UNION_NAMES = {
    "has_activities": "Regarding",
    "has_notes": "NoteRegarding",
    "queue_enabled": "QueueItemObject",
    "sla_enabled": "SlaRegarding",
}


def pascal(name: str) -> str:
    """``tst_project`` -> ``TstProject``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def camel(name: str) -> str:
    """``address1_line1`` -> ``address1Line1``."""
    value = pascal(name)
    return value[:1].lower() + value[1:]


def plural(word: str) -> str:
    """English plural of a camelCase word: ``incident`` -> ``incidents``, ``opportunity`` -> ``opportunities``."""
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if len(word) > 1 and word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def constant(label: str) -> str:
    """``In Progress`` -> ``IN_PROGRESS`` (accents dropped; empty when nothing usable is left)."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", ascii_text)
    return "_".join(word.upper() for word in words)


def _claim(taken: set[str], wanted: str) -> str:
    name, number = wanted, 1
    while name in taken:
        number += 1
        name = f"{wanted}{number}"
    taken.add(name)
    return name


def _claim_group(taken: set[str], base: str, suffixes: Iterable[str]) -> str:
    """The first ``base``, ``base2``... for which every ``base + suffix`` is free; all are claimed."""
    suffixes = tuple(suffixes)
    candidate, number = base, 1
    while any(candidate + suffix in taken for suffix in suffixes):
        number += 1
        candidate = f"{base}{number}"
    taken.update(candidate + suffix for suffix in suffixes)
    return candidate


@dataclass
class EntityNames:
    """The GraphQL names of one entity: its types and the fields of its object type."""

    base: str
    values: dict[str, str] = field(default_factory=dict)  # attribute -> raw value field
    records: dict[str, str] = field(default_factory=dict)  # lookup attribute -> related record field
    relations: dict[tuple[str, bool], str] = field(default_factory=dict)  # (relationship, reverse) -> field
    single: str = ""
    list: str = ""
    aggregate: str = ""

    def type(self, suffix: str = "") -> str:
        return self.base + suffix


@dataclass
class ActionNames:
    """The GraphQL names of one declared custom action."""

    mutation: str
    input: str
    result: str
    parameters: dict[str, str] = field(default_factory=dict)  # parameter -> input field
    outputs: dict[str, str] = field(default_factory=dict)  # output -> result field


def _union_name(attribute: CompiledAttribute, targets: tuple[str, ...]) -> str:
    """Stable as solutions come and go: by the kind of lookup, or by its few targets."""
    meta = attribute.metadata
    if (attribute.type, targets) in (("customer", ("account", "contact")), ("owner", ("systemuser", "team"))):
        return _POLYMORPHIC_NAMES[attribute.type]
    targets_with = getattr(meta, "targets_with", None)
    if targets_with is not None and not getattr(meta, "targets", ()):
        return _FLAGGED_UNION_NAMES[targets_with]
    if len(targets) <= 3:
        return "Or".join(pascal(target) for target in targets)
    return _POLYMORPHIC_NAMES[attribute.type] + "Target"


def _record_field(attribute: str) -> str:
    if attribute.endswith("id") and len(attribute) > 2 and not attribute[:-2].endswith("_"):
        return camel(attribute[:-2])
    return camel(attribute)


def _value_field(attribute: CompiledAttribute) -> str:
    name = camel(attribute.name)
    if attribute.targets and _record_field(attribute.name) == name:
        return name + "Id"
    return name


class NameConverter:
    """All GraphQL names of a model, computed once (see the module docstring for the rules)."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self._types: set[str] = set(RESERVED_TYPES)
        self._query: set[str] = set(RESERVED_QUERY_FIELDS)
        self._mutation: set[str] = set(RESERVED_MUTATION_FIELDS)
        self.entities: dict[str, EntityNames] = {}
        self._enums: dict[tuple[str, ...], str] = {}
        self._unions: dict[tuple[str, tuple[str, ...]], str] = {}
        self._relations: dict[str, list[tuple[CompiledRelationship, bool]]] | None = None
        for name in sorted(model.entities):
            base = _claim_group(self._types, pascal(name), ENTITY_SUFFIXES)
            self.entities[name] = EntityNames(base)
        for name in sorted(model.entities):
            self._name_fields(model.entities[name])
        self._name_enums()
        self._name_unions()
        self.mutations: dict[tuple[str, str], str] = {}
        for name in sorted(model.entities):
            for verb in ("create", "update", "delete"):
                self.mutations[(verb, name)] = _claim(self._mutation, verb + self.entities[name].base)
        self.actions: dict[str, ActionNames] = {}
        for name in sorted(model.actions):
            self.actions[name] = self._name_action(name)

    def _name_action(self, name: str) -> ActionNames:
        metadata = self.model.actions[name].metadata
        base = _claim_group(self._types, pascal(name), ("Input", "Result"))
        names = ActionNames(_claim(self._mutation, camel(name)), base + "Input", base + "Result")
        for section, fields in (("parameters", names.parameters), ("outputs", names.outputs)):
            taken: set[str] = set()
            for item in sorted(getattr(metadata, section)):
                fields[item] = _claim(taken, camel(item))
        return names

    # --- entities ------------------------------------------------------------------------------

    def entity(self, name: str) -> EntityNames:
        return self.entities[name]

    def _name_fields(self, entity: CompiledEntity) -> None:
        names = self.entities[entity.logical_name]
        taken: set[str] = set(_RESERVED_FIELDS)
        attributes = sorted(entity.attributes.values(), key=lambda attr: attr.name)
        for attribute in attributes:
            names.values[attribute.name] = _claim(taken, _value_field(attribute))
        for attribute in attributes:
            if attribute.targets and any(target in self.model.entities for target in attribute.targets):
                names.records[attribute.name] = _claim(taken, _record_field(attribute.name))
        for relationship, reverse in self.relations_of(entity.logical_name):
            self_referencing = relationship.referenced_entity == relationship.referencing_entity
            wanted = camel(relationship.name) + ("Reverse" if reverse and self_referencing else "")
            names.relations[(relationship.name, reverse)] = _claim(taken, wanted)
        names.single = _claim(self._query, camel(entity.logical_name))
        names.list = _claim(self._query, plural(camel(entity.logical_name)))
        names.aggregate = _claim(self._query, names.list + "Aggregate")

    def relations_of(self, entity: str) -> list[tuple[CompiledRelationship, bool]]:
        """The connections of ``entity``: 1:N where it is the parent, N:N on either side.

        ``reverse`` is True for an N:N seen from its referencing entity (it walks the intersect
        the other way); a self-referential N:N has both directions.
        """
        if self._relations is None:
            self._relations = {}
            for relationship in sorted(self.model.relationships.values(), key=lambda rel: rel.name):
                for parent, reverse in self._parents(relationship):
                    self._relations.setdefault(parent, []).append((relationship, reverse))
        return self._relations.get(entity, [])

    def _parents(self, relationship: CompiledRelationship) -> list[tuple[str, bool]]:
        entities = self.model.entities
        if relationship.referencing_entity not in entities or relationship.referenced_entity not in entities:
            return []
        if relationship.kind == "one_to_many":
            return [] if self._platform_lookup(relationship) else [(relationship.referenced_entity, False)]
        return [(relationship.referenced_entity, False), (relationship.referencing_entity, True)]

    def _platform_lookup(self, relationship: CompiledRelationship) -> bool:
        """True for a lookup the platform maintains on every entity (createdby, ownerid...), or none.

        These get no connection on the parent: systemuser, team and businessunit would carry one
        per entity. The child lists filter on them instead (``ownerid: {currentUser: true}``).
        """
        child = self.model.entities[relationship.referencing_entity]
        lookup = child.attributes.get(relationship.lookup or "")
        return lookup is None or lookup.system

    # --- enums ---------------------------------------------------------------------------------

    @staticmethod
    def enum_key(entity: CompiledEntity, attribute: CompiledAttribute) -> tuple[str, ...]:
        """Attributes sharing a global option set share its enum."""
        optionset = getattr(attribute.metadata, "optionset", None)
        if optionset:
            return ("optionset", optionset)
        return ("attribute", entity.logical_name, attribute.name)

    def _name_enums(self) -> None:
        wanted: dict[tuple[str, ...], str] = {}
        for name in sorted(self.model.entities):
            entity = self.model.entities[name]
            for attribute in sorted(entity.attributes.values(), key=lambda attr: attr.name):
                if attribute.type not in ("choice", "multichoice") or not attribute.options:
                    continue
                key = self.enum_key(entity, attribute)
                if key[0] == "optionset":
                    wanted.setdefault(key, pascal(key[1]))
                elif attribute.name == "statecode":
                    wanted[key] = self.entities[name].base + "State"
                elif attribute.name == "statuscode":
                    wanted[key] = self.entities[name].base + "Status"
                else:
                    wanted[key] = self.entities[name].base + pascal(attribute.name)
        for key in sorted(wanted):
            self._enums[key] = _claim_group(self._types, wanted[key], ("", "Filter", "ListFilter"))

    def enum(self, entity: CompiledEntity, attribute: CompiledAttribute) -> str:
        return self._enums[self.enum_key(entity, attribute)]

    def optionset_enum(self, optionset: str) -> str | None:
        """The enum of a global option set, if an attribute uses it."""
        return self._enums.get(("optionset", optionset))

    @staticmethod
    def enum_values(options: Iterable[OptionMetadata]) -> dict[int, str]:
        """Option value -> enum value name (the label in CONSTANT_CASE, unique within the enum)."""
        names: dict[int, str] = {}
        used: set[str] = set()
        for option in options:
            name = constant(option.label) or f"VALUE_{option.value}"
            if name[0].isdigit():
                name = "_" + name
            if name in used:
                name = f"{name}_{str(option.value).replace('-', 'M')}"
            used.add(name)
            names[option.value] = name
        return names

    # --- unions --------------------------------------------------------------------------------

    def polymorphic_targets(self, attribute: CompiledAttribute) -> tuple[str, ...]:
        """The installed targets of a lookup, sorted."""
        return tuple(sorted({target for target in attribute.targets if target in self.model.entities}))

    def _union_key(self, attribute: CompiledAttribute) -> tuple[str, tuple[str, ...]] | None:
        """``(wanted name, targets)`` of a polymorphic lookup with two or more installed targets."""
        targets = self.polymorphic_targets(attribute)
        if not attribute.is_polymorphic or len(targets) < 2:
            return None
        return _union_name(attribute, targets), targets

    def _name_unions(self) -> None:
        keys = set()
        for entity in self.model.entities.values():
            for attribute in entity.attributes.values():
                key = self._union_key(attribute)
                if key is not None:
                    keys.add(key)
        for key in sorted(keys):
            self._unions[key] = _claim_group(self._types, key[0], ("", "Reference", "Filter", "OrderBy"))

    def union(self, attribute: CompiledAttribute) -> str | None:
        """The union of a polymorphic lookup with two or more installed targets, else None."""
        key = self._union_key(attribute)
        return None if key is None else self._unions[key]

    @staticmethod
    def entity_value(logical_name: str) -> str:
        """The ``EntityName`` enum value of an entity (its logical name)."""
        return logical_name + "_" if logical_name in _INVALID_ENUM_VALUES else logical_name
