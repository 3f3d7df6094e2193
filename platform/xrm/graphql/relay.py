"""Relay conventions: global ids, the ``Node`` interface and ``PageInfo``.

A global id is the url-safe base64 (no padding) of ``<logical name>:<uuid>``, so it names the
entity as well as the record; ``node(id)`` fetches any record by it.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
)
from xrm.graphql.errors import InputError

__all__ = ["TYPE_KEY", "encode_global_id", "decode_global_id", "node_interface", "page_info_type"]

TYPE_KEY = "__xrm_type"
"""Key of a record dict that holds its GraphQL type name (read by the abstract types' resolve_type)."""


def encode_global_id(entity: str, record_id: uuid.UUID | str) -> str:
    raw = f"{entity}:{record_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_global_id(global_id: str) -> tuple[str, uuid.UUID]:
    """``(logical name, id)`` of a global id; BAD_USER_INPUT when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
        entity, _, value = raw.partition(":")
        if not entity:
            raise ValueError("no entity")
        return entity, uuid.UUID(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InputError(f"'{global_id}' is not a global id") from None


def resolve_record_type(value: Any, *_: Any) -> str:
    return value[TYPE_KEY]


node_interface = GraphQLInterfaceType(
    "Node",
    lambda: {"id": GraphQLField(GraphQLNonNull(GraphQLID), description="The global id of the record.")},
    resolve_type=resolve_record_type,
    description="A record with a global id, fetched by `node(id)`.",
)

page_info_type = GraphQLObjectType(
    "PageInfo",
    lambda: {
        "hasNextPage": GraphQLField(GraphQLNonNull(GraphQLBoolean)),
        "hasPreviousPage": GraphQLField(GraphQLNonNull(GraphQLBoolean)),
        "startCursor": GraphQLField(GraphQLString),
        "endCursor": GraphQLField(GraphQLString),
    },
    description="Where a page of a connection sits (Relay cursor connections).",
)
