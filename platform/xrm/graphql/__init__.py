"""GraphQL: the schema generated from the installed model, its resolvers, errors and limits."""

from xrm.graphql.context import GraphQLContext, context_for
from xrm.graphql.gateway import ReadGateway
from xrm.graphql.naming import NameConverter
from xrm.graphql.relay import decode_global_id, encode_global_id
from xrm.graphql.schema import XrmSchema, build_schema, build_schema_for
from xrm.graphql.settings import GraphQLSettings

__all__ = [
    "GraphQLContext",
    "GraphQLSettings",
    "NameConverter",
    "ReadGateway",
    "XrmSchema",
    "build_schema",
    "build_schema_for",
    "context_for",
    "decode_global_id",
    "encode_global_id",
]
