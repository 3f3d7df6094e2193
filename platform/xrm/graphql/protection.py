"""Protection: refuse documents that are too large, too deep, too aliased or too expensive.

:class:`ProtectionExtension` (a strawberry schema extension) checks, in this order:

1. tokens, while parsing (graphql-core stops the parser past ``max_tokens``);
2. depth and aliases, on the bare document, before the (costlier) validation rules run;
3. the GraphQL validation rules, without "did you mean" suggestions and refusing ``__schema``
   and ``__type`` when introspection is off;
4. the cost of the operation to run: each connection counts its page size multiplied by the
   page sizes of the connections around it, each related record one per parent record; a page
   size above ``max_page_size`` is refused here too.

Steps 1 to 3 depend on the document alone: a document that passed them is kept in the schema's
:class:`~xrm.graphql.documents.DocumentCache` and not parsed or checked again; step 4 depends
on the variables and runs on every request.

Each refusal is a GraphQL error with ``extensions.code`` (``QUERY_TOO_COMPLEX`` with ``limit``,
``maximum`` and ``actual``; ``BAD_USER_INPUT`` for a page size; ``GRAPHQL_VALIDATION_FAILED``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    validate,
)
from xrm.graphql.documents import DocumentCache
from xrm.graphql.errors import TOO_COMPLEX, VALIDATION_FAILED
from xrm.graphql.settings import GraphQLSettings

__all__ = ["ProtectionExtension", "document_depth", "alias_count", "operation_cost"]


def _too_complex(limit: str, maximum: int, actual: int, what: str) -> GraphQLError:
    return GraphQLError(
        f"the document is {what} ({actual}; at most {maximum} allowed)",
        extensions={"code": TOO_COMPLEX, "limit": limit, "maximum": maximum, "actual": actual},
    )


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def document_depth(document: DocumentNode) -> int:
    """The deepest field nesting of any operation (fragments expanded, introspection fields aside)."""
    fragments = _fragments(document)
    memo: dict[str, int] = {}

    def depth(selection_set: SelectionSetNode | None, visiting: frozenset[str]) -> int:
        deepest = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                if not selection.name.value.startswith("__"):
                    deepest = max(deepest, 1 + depth(selection.selection_set, visiting))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, depth(selection.selection_set, visiting))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in visiting or name not in fragments:
                    continue
                if name not in memo:
                    memo[name] = depth(fragments[name].selection_set, visiting | {name})
                deepest = max(deepest, memo[name])
        return deepest

    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return max((depth(operation.selection_set, frozenset()) for operation in operations), default=0)


def _fields(node: Any) -> Iterator[FieldNode]:
    selection_set = getattr(node, "selection_set", None)
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            yield selection
        yield from _fields(selection)


def alias_count(document: DocumentNode) -> int:
    """Aliased fields in the whole document, fragments counted once."""
    return sum(1 for definition in document.definitions for field in _fields(definition) if field.alias is not None)


def _page_size(field: FieldNode, variables: dict[str, Any], default: int) -> int:
    for argument in field.arguments or ():
        if argument.name.value not in ("first", "last"):
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode) and isinstance(variables.get(value.name.value), int):
            return int(variables[value.name.value])
    return default


def _list_length(field: FieldNode, name: str, variables: dict[str, Any]) -> int:
    for argument in field.arguments or ():
        if argument.name.value == name:
            if isinstance(argument.value, ListValueNode):
                return len(argument.value.values)
            if isinstance(argument.value, VariableNode):
                return len(variables.get(argument.value.name.value) or ())
    return 1


class _Cost:
    """The cost of one operation (see the module docstring); fragments are priced once per type."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any], settings: GraphQLSettings
    ) -> None:
        self.schema, self.settings, self.variables = schema, settings, variables
        self.fragments = _fragments(document)
        self.memo: dict[tuple[str, str], int] = {}
        self.oversized: list[tuple[str, int]] = []

    def selection(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, visiting: frozenset[str]
    ) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, visiting)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.type_map.get(condition.name.value) if condition else parent
                total += self.selection(selection.selection_set, target or parent, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in visiting:
                    continue
                target = self.schema.type_map.get(fragment.type_condition.name.value) or parent
                key = (name, target.name)
                if key not in self.memo:
                    self.memo[key] = self.selection(fragment.selection_set, target, visiting | {name})
                total += self.memo[key]
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType, visiting: frozenset[str]) -> int:
        definition = getattr(parent, "fields", {}).get(node.name.value)
        if definition is None:
            return 0
        kind = (definition.extensions or {}).get("xrm")
        below = self.selection(node.selection_set, get_named_type(definition.type), visiting)
        if kind == "connection":
            size = _page_size(node, self.variables, self.settings.default_page_size)
            if size > self.settings.max_page_size:
                self.oversized.append((node.name.value, size))
            return size * (1 + below)
        if kind == "nodes":
            return _list_length(node, "ids", self.variables) * (1 + below)
        if kind == "record":
            return 1 + below
        return below


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any],
    settings: GraphQLSettings,
) -> tuple[int, list[tuple[str, int]]]:
    """``(cost, oversized pages)`` of the operation that runs."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [op for op in operations if operation_name is None or (op.name and op.name.value == operation_name)]
    cost = _Cost(schema, document, variables, settings)
    total = 0
    for operation in chosen[:1]:
        root = schema.get_root_type(operation.operation)
        if root is not None:
            total = cost.selection(operation.selection_set, root, frozenset())
    return total, cost.oversized


class ProtectionExtension(SchemaExtension):
    """Enforces :class:`~xrm.graphql.settings.GraphQLSettings` on every operation.

    With a :class:`~xrm.graphql.documents.DocumentCache` (one per schema), a document that passed
    the depth, alias and validation checks before is taken from it instead of being parsed and
    checked again; the cost and page sizes, which depend on the variables, are checked every time.
    """

    def __init__(self, settings: GraphQLSettings, documents: DocumentCache | None = None) -> None:
        self.settings = settings
        self.documents = documents
        self._from_cache = False

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.settings.max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if self.documents is not None and context.graphql_document is None and context.query:
            document = self.documents.get(context.query)
            if document is not None:  # strawberry does not parse a document that is already set
                context.graphql_document, self._from_cache = document, True
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.pre_execution_errors is None:
            context.pre_execution_errors = self._errors(context.graphql_document)
        yield

    def _errors(self, document: DocumentNode) -> list[GraphQLError]:
        if not self._from_cache:
            errors = self._document_errors(document)
            if errors:
                return errors
            query = self.execution_context.query
            if self.documents is not None and query:
                self.documents.put(query, document)
        return self._cost_errors(document)

    def _document_errors(self, document: DocumentNode) -> list[GraphQLError]:
        """Depth, aliases and the validation rules: what depends on the document alone."""
        settings, context = self.settings, self.execution_context
        depth = document_depth(document)
        if depth > settings.max_depth:
            return [_too_complex("max_depth", settings.max_depth, depth, "too deep")]
        aliases = alias_count(document)
        if aliases > settings.max_aliases:
            return [_too_complex("max_aliases", settings.max_aliases, aliases, "too aliased")]
        rules = list(context.validation_rules)
        if not settings.introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        errors = validate(context.schema._schema, document, rules, hide_suggestions=not settings.introspection)
        for error in errors:
            error.extensions = {**(error.extensions or {}), "code": VALIDATION_FAILED}
        return list(errors)

    def _cost_errors(self, document: DocumentNode) -> list[GraphQLError]:
        """Page sizes and cost of the operation that runs, with this request's variables."""
        settings, context = self.settings, self.execution_context
        cost, oversized = operation_cost(
            context.schema._schema, document, context.operation_name, dict(context.variables or {}), settings
        )
        if oversized:
            field, size = oversized[0]
            message = f"{field}: a page holds at most {settings.max_page_size} records, not {size}"
            return [GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})]
        if cost > settings.max_cost:
            return [_too_complex("max_cost", settings.max_cost, cost, "too costly: it may produce too many records")]
        return []
