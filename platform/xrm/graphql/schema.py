"""``build_schema(environment)``: the GraphQL schema of an installed model, generated at run time.

The types are graphql-core types generated from the model (see :mod:`xrm.graphql.typemap` for why),
served by a :class:`strawberry.Schema` subclass, so the server gets strawberry's execution
pipeline, extensions and HTTP integrations: ``schema.execute(query, context_value=context_for(...))``.
The schema depends only on the model: build it once per metadata version and reuse it for every
request (the environment to run against comes with each request's context).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import strawberry
from strawberry.types import ExecutionContext

from graphql import (
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    print_schema,
    validate_schema,
)
from xrm.data import Environment
from xrm.graphql.aggregates import aggregate_fields
from xrm.graphql.bindings import SchemaIndex, build_index
from xrm.graphql.definitions import definition_fields
from xrm.graphql.documents import DocumentCache
from xrm.graphql.errors import translate_errors
from xrm.graphql.inputs import build_inputs
from xrm.graphql.introspection import IntrospectionCache
from xrm.graphql.mutations import mutation_fields
from xrm.graphql.naming import NameConverter
from xrm.graphql.objects import build_enums, build_objects
from xrm.graphql.protection import ProtectionExtension
from xrm.graphql.queries import Reads, query_fields
from xrm.graphql.roles import role_fields
from xrm.graphql.settings import GraphQLSettings
from xrm.graphql.typemap import TypeMap
from xrm.metadata import Model

__all__ = ["XrmSchema", "build_schema", "build_schema_for"]


@strawberry.type
class _Shell:
    """Placeholder root: strawberry builds it, then the generated schema replaces it."""

    ok: bool = True


class XrmSchema(strawberry.Schema):
    """A strawberry schema serving a generated graphql-core schema.

    ``index`` says how the schema maps onto the model; ``settings`` are its limits; ``documents``
    keeps the documents that passed its checks (see :mod:`xrm.graphql.protection`). Errors get
    their ``extensions.code`` in :meth:`process_errors` (see :mod:`xrm.graphql.errors`).
    """

    def __init__(self, graphql_schema: GraphQLSchema, index: SchemaIndex) -> None:
        settings = index.settings
        introspected: OrderedDict[str, Any] = OrderedDict()
        documents = DocumentCache()
        super().__init__(
            query=_Shell,
            extensions=[lambda: ProtectionExtension(settings, documents), lambda: IntrospectionCache(introspected)],
            config=strawberry.schema.config.StrawberryConfig(disable_field_suggestions=not settings.introspection),
        )
        self._schema = graphql_schema
        graphql_schema._strawberry_schema = self  # type: ignore[attr-defined]
        self.index = index
        self.settings = settings
        self.documents = documents

    @property
    def model(self) -> Model:
        return self.index.model

    def as_str(self) -> str:
        """The SDL of the generated schema."""
        return print_schema(self._schema)

    __str__ = as_str

    def _field_of(self, entity: str, attribute: str) -> str | None:
        binding = self.index.entities.get(entity)
        if binding is not None:
            return binding.field_of.get(attribute)
        action = self.index.names.actions.get(entity)  # a declared action's parameters
        return action.parameters.get(attribute) if action is not None else None

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        request_id = getattr(getattr(execution_context, "context", None), "request_id", None)
        translate_errors(errors, self._field_of, request_id)

    def _get_custom_context_kwargs(
        self, operation_extensions: dict[str, Any] | None = None, *, sync: bool = False
    ) -> dict[str, Any]:
        # strawberry's hook for graphql-core execute() options: no suggestions in variable errors either
        kwargs = super()._get_custom_context_kwargs(operation_extensions, sync=sync)
        if not self.settings.introspection:
            kwargs["hide_suggestions"] = True
        return kwargs


def build_schema_for(model: Model, settings: GraphQLSettings | None = None) -> XrmSchema:
    """The schema of ``model`` (no database needed: requests bring their environment)."""
    settings = settings or GraphQLSettings()
    names = NameConverter(model)
    index = build_index(model, names, settings)
    types = TypeMap(index)
    build_enums(types)
    build_objects(types)
    build_inputs(types)
    reads = Reads(index)
    entity_names = GraphQLEnumType(
        "EntityName",
        {names.entity_value(name): GraphQLEnumValue(name) for name in sorted(model.entities)},
        description="The logical name of an entity.",
    )
    role_queries, role_mutations = role_fields(model, entity_names)
    query = GraphQLObjectType(
        "Query",
        lambda: {
            **query_fields(types, reads, entity_names),
            **aggregate_fields(types, reads),
            **definition_fields(index),
            **role_queries,
        },
    )
    mutation = GraphQLObjectType("Mutation", lambda: {**mutation_fields(types, reads, entity_names), **role_mutations})
    schema = GraphQLSchema(query, mutation, types=list(types.objects.values()))
    errors = validate_schema(schema)
    if errors:
        raise ValueError("generated an invalid GraphQL schema:\n" + "\n".join(error.message for error in errors[:20]))
    return XrmSchema(schema, index)


def build_schema(environment: Environment, settings: GraphQLSettings | None = None) -> XrmSchema:
    """The schema of the model installed in ``environment``."""
    return build_schema_for(environment.model, settings)
