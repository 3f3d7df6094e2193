"""Look-ahead: a field's selection, read from the document, becomes a plan of what to fetch.

The root resolver of a query reads the whole selection below it (fragments, inline fragments with
their type conditions, ``@skip``/``@include``, aliases) and turns it into a tree of plans: which
columns of each entity, which lookups to follow, which connections to page through and with
what arguments. :mod:`xrm.graphql.loader` then runs one statement per plan node, whatever the
number of records; the resolvers below the root only read the dicts it built.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from graphql.language import DirectiveNode
from graphql.utilities import value_from_ast

from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    VariableNode,
    is_abstract_type,
)
from xrm.graphql.bindings import EntityBinding, RelationLink, SchemaIndex

__all__ = ["RecordPlan", "LookupPlan", "ConnectionPlan", "Planner"]

Collected = dict[str, list[FieldNode]]


@dataclass
class RecordPlan:
    """What to read of the records of one entity, and what to load below them."""

    binding: EntityBinding
    values: dict[str, str] = field(default_factory=dict)  # field -> attribute
    calculated: dict[str, str] = field(default_factory=dict)
    global_id: bool = False
    records: dict[str, LookupPlan] = field(default_factory=dict)  # field -> lookup to follow
    connections: dict[str, ConnectionPlan] = field(default_factory=dict)  # response key -> connection

    def columns(self, extra: set[str] | None = None) -> tuple[str, ...]:
        """Stored attributes to select: the primary id, the values, the lookups followed, ``extra``."""
        entity = self.binding.entity
        wanted = {entity.primary_id, *self.values.values(), *(plan.attribute for plan in self.records.values())}
        wanted |= extra or set()
        return tuple(sorted(wanted))


@dataclass
class LookupPlan:
    attribute: str
    targets: dict[str, RecordPlan] = field(default_factory=dict)  # target entity -> its plan


@dataclass
class ConnectionPlan:
    """A page of records of ``entity`` (below a parent through ``link``, or at the root)."""

    entity: str
    link: RelationLink | None
    arguments: dict[str, Any]
    node: RecordPlan
    edges: bool = False
    cursors: bool = False
    nodes: bool = False
    page_info: set[str] = field(default_factory=set)
    total_count: bool = False
    edge_fields: set[str] = field(default_factory=set)  # every field asked of the edges


class Planner:
    """Builds plans from the field nodes of one resolver call (see the module docstring)."""

    def __init__(self, index: SchemaIndex, info: GraphQLResolveInfo) -> None:
        self.index = index
        self.schema: GraphQLSchema = info.schema
        self.fragments: dict[str, FragmentDefinitionNode] = dict(info.fragments)
        variables: Any = info.variable_values  # a dict under strawberry; graphql-core's own passes VariableValues
        self.variables: dict[str, Any] = dict(getattr(variables, "coerced", variables) or {})

    # --- collecting ----------------------------------------------------------------------------

    def _included(self, directives: Any) -> bool:
        for directive in directives or ():
            assert isinstance(directive, DirectiveNode)
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            argument = next((arg.value for arg in directive.arguments or () if arg.name.value == "if"), None)
            if isinstance(argument, VariableNode):
                value = bool(self.variables.get(argument.name.value))
            else:
                value = isinstance(argument, BooleanValueNode) and argument.value
            if (name == "skip") == value:
                return False
        return True

    def _matches(self, condition: str | None, type_name: str) -> bool:
        if condition is None or condition == type_name:
            return True
        named = self.schema.type_map.get(condition)
        runtime = self.schema.type_map.get(type_name)
        if named is None or runtime is None or not is_abstract_type(named):
            return False
        return self.schema.is_sub_type(named, runtime)

    def collect(self, nodes: list[FieldNode], type_name: str) -> Collected:
        """Sub-fields of ``nodes`` for an object of type ``type_name``, grouped by response key."""
        collected: Collected = defaultdict(list)
        for node in nodes:
            if node.selection_set is not None:
                self._visit(node.selection_set, type_name, collected, set())
        return collected

    def _visit(self, selection_set: SelectionSetNode, type_name: str, collected: Collected, seen: set[str]) -> None:
        for selection in selection_set.selections:
            if not self._included(selection.directives):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                collected[key].append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition.name.value if selection.type_condition else None
                if self._matches(condition, type_name):
                    self._visit(selection.selection_set, type_name, collected, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if name in seen or fragment is None:
                    continue
                seen.add(name)
                if self._matches(fragment.type_condition.name.value, type_name):
                    self._visit(fragment.selection_set, type_name, collected, seen)

    def arguments(self, type_name: str, node: FieldNode) -> dict[str, Any]:
        """The coerced arguments of ``node``, a field of ``type_name``; omitted ones are left out."""
        definition: GraphQLField = self.schema.type_map[type_name].fields[node.name.value]  # type: ignore[attr-defined]
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        values: dict[str, Any] = {}
        for name, argument in definition.args.items():
            value_node = given.get(name)
            if value_node is None:
                continue
            if isinstance(value_node, VariableNode) and value_node.name.value not in self.variables:
                continue
            values[name] = value_from_ast(value_node, argument.type, self.variables)
        return values

    # --- plans ---------------------------------------------------------------------------------

    def record(self, binding: EntityBinding, nodes: list[FieldNode]) -> RecordPlan:
        """The plan of records of ``binding``'s type, selected by ``nodes``."""
        plan = RecordPlan(binding)
        by_record: dict[str, list[FieldNode]] = defaultdict(list)
        for key, fields in self.collect(nodes, binding.type_name).items():
            name = fields[0].name.value
            if name == "id":
                plan.global_id = True
            elif name in binding.values:
                plan.values[name] = binding.values[name]
            elif name in binding.calculated:
                plan.calculated[name] = binding.calculated[name]
            elif name in binding.records:
                by_record[name] += fields  # aliases of one lookup share its record (it has no arguments)
            elif name in binding.relations:
                link = binding.relations[name]
                arguments = self.arguments(binding.type_name, fields[0])
                plan.connections[key] = self.connection(link.child, link, fields, arguments)
        for name, fields in by_record.items():
            plan.records[name] = self.lookup(binding, binding.records[name], fields)
        return plan

    def lookup(self, binding: EntityBinding, attribute: str, nodes: list[FieldNode]) -> LookupPlan:
        plan = LookupPlan(attribute)
        for target in self.index.targets(binding.logical_name, attribute):
            plan.targets[target] = self.record(self.index.binding(target), nodes)
        return plan

    def connection(
        self,
        entity: str,
        link: RelationLink | None,
        nodes: list[FieldNode],
        arguments: dict[str, Any],
        types: tuple[str, str] | None = None,
    ) -> ConnectionPlan:
        """The plan of a connection field of ``entity`` records (``types``: connection and edge type names)."""
        binding = self.index.binding(entity)
        connection_type, edge_type = types or (binding.names.type("Connection"), binding.names.type("Edge"))
        node_fields: list[FieldNode] = []
        plan = ConnectionPlan(entity, link, arguments, RecordPlan(binding))
        for fields in self.collect(nodes, connection_type).values():
            name = fields[0].name.value
            if name == "edges":
                plan.edges = True
                for edge_fields in self.collect(fields, edge_type).values():
                    edge_name = edge_fields[0].name.value
                    plan.edge_fields.add(edge_name)
                    plan.cursors |= edge_name == "cursor"
                    if edge_name == "node":
                        node_fields += edge_fields
            elif name == "nodes":
                plan.nodes = True
                node_fields += fields
            elif name == "pageInfo":
                plan.page_info |= {f[0].name.value for f in self.collect(fields, "PageInfo").values()}
            elif name == "totalCount":
                plan.total_count = True
        plan.node = self.record(binding, node_fields)
        return plan

    def abstract(self, entities: list[str], nodes: list[FieldNode]) -> dict[str, RecordPlan]:
        """Plans for a field of an abstract type (``Node``), one per possible entity."""
        return {entity: self.record(self.index.binding(entity), nodes) for entity in entities}
