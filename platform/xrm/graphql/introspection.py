"""Introspection results are cached per schema: tools ask the same question on every page load.

The full introspection of a large generated schema (500 entities: ~10k types, ~120k fields)
takes seconds; the answer only changes with the schema, so an operation made only of
introspection fields (``__schema``, ``__type``, ``__typename``) is answered from a small cache
keyed by its text, operation name and variables.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from graphql import FieldNode, OperationDefinitionNode

__all__ = ["IntrospectionCache"]

_SIZE = 16


def _introspection_only(document: Any, operation_name: str | None) -> bool:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [op for op in operations if operation_name is None or (op.name and op.name.value == operation_name)]
    if len(chosen) != 1:
        return False
    selections = chosen[0].selection_set.selections
    return all(isinstance(s, FieldNode) and s.name.value.startswith("__") and not s.directives for s in selections)


class IntrospectionCache(SchemaExtension):
    """Serves repeated introspection operations from ``store`` (shared by every request of a schema)."""

    def __init__(self, store: OrderedDict[str, Any]) -> None:
        self.store = store

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        key = None
        if context.graphql_document is not None and _introspection_only(
            context.graphql_document, context.operation_name
        ):
            key = json.dumps([context.query, context.operation_name, context.variables], sort_keys=True, default=str)
            if key in self.store:
                context.result = self.store[key]
        yield
        result = context.result
        if key is not None and key not in self.store and result is not None and not result.errors:
            self.store[key] = result
            while len(self.store) > _SIZE:
                self.store.popitem(last=False)
