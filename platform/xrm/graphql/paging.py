"""Relay paging on top of the query layer's keyset cursors.

``first``/``after`` page forward as the query layer does. ``last``/``before`` run the same query
with every sort key reversed (nulls stay the lowest value, so the reversed order is exactly the
mirror image) and reverse the page. Cursors handed to clients are always those of the forward
query: the query layer's cursor (``{"v", "q": fingerprint, "k": keys}``, see
:mod:`xrm.query._paging`) is moved between the two orderings by swapping its fingerprint, since
both list the same keys in the same positions.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from xrm.graphql.errors import InputError
from xrm.graphql.settings import GraphQLSettings
from xrm.query import CompiledQuery, OrderExpression, QueryExpression

__all__ = ["Orderings", "Paging", "paging_of", "with_tiebreaker", "reverse_orders", "retarget_cursor", "page_info"]


@dataclass(frozen=True)
class Paging:
    """``size`` records forward from ``cursor``, or backward when ``backward``."""

    size: int
    cursor: str | None = None
    backward: bool = False


def paging_of(arguments: Mapping[str, Any], settings: GraphQLSettings) -> Paging:
    """The paging of a connection's ``first``/``after``/``last``/``before`` arguments."""
    first, after = arguments.get("first"), arguments.get("after")
    last, before = arguments.get("last"), arguments.get("before")
    if first is not None and last is not None:
        raise InputError("give 'first' or 'last', not both")
    if after is not None and before is not None:
        raise InputError("give 'after' or 'before', not both")
    backward = last is not None or before is not None
    if backward and (first is not None or after is not None):
        raise InputError("'last'/'before' page backward; do not mix them with 'first'/'after'")
    size = last if backward else first
    if size is None:
        size = settings.default_page_size
    if not 0 <= size <= settings.max_page_size:
        raise InputError(f"a page holds 0 to {settings.max_page_size} records, not {size}")
    return Paging(size, before if backward else after, backward)


def with_tiebreaker(orders: list[OrderExpression], primary_id: str) -> list[OrderExpression]:
    """The orders, then the primary id (explicit, so that it can be reversed too)."""
    if any(order.attribute == primary_id and order.entity_alias is None for order in orders):
        return orders
    return [*orders, OrderExpression(primary_id)]


def reverse_orders(orders: list[OrderExpression]) -> list[OrderExpression]:
    return [replace(order, descending=not order.descending) for order in orders]


def _decode(cursor: str) -> dict[str, Any]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InputError("malformed cursor") from None
    if not isinstance(payload, dict):
        raise InputError("malformed cursor")
    return payload


def retarget_cursor(cursor: str, source: str, target: str) -> str:
    """A cursor of the ordering fingerprinted ``source`` as one of the ordering ``target``."""
    payload = _decode(cursor)
    if payload.get("q") != source:
        raise InputError("the cursor belongs to a different query (or ordering); start again without one")
    payload["q"] = target
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class Orderings:
    """The query to run, and the fingerprints that translate cursors between directions."""

    query: QueryExpression
    forward: str
    actual: str

    def client_cursor(self, compiled: CompiledQuery, row: Any) -> str:
        cursor = compiled.next_cursor(row)
        return cursor if self.forward == self.actual else retarget_cursor(cursor, self.actual, self.forward)


def page_info(cursors: list[str | None], paging: Paging, more: bool) -> dict[str, Any]:
    """``pageInfo`` of a page whose edges have ``cursors`` (first to last)."""
    has_more_before = paging.backward and more
    has_more_after = not paging.backward and more
    return {
        "hasNextPage": has_more_after or (paging.backward and paging.cursor is not None),
        "hasPreviousPage": has_more_before or (not paging.backward and paging.cursor is not None),
        "startCursor": cursors[0] if cursors else None,
        "endCursor": cursors[-1] if cursors else None,
    }
