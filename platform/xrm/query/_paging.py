"""Keyset paging: a total order over the result, and opaque cursors that resume after a row.

NULL ordering is fixed the same way on every engine: null sorts as the lowest value, so it comes
first in ascending and last in descending order (SQL Server's and so Dataverse's behaviour, and
SQLite's default; PostgreSQL's default is the opposite, so ``NULLS FIRST``/``NULLS LAST`` is
always spelled out). The keyset predicate uses the same rule, so every row is visited exactly once.

A cursor is url-safe base64 (no padding) of compact JSON ``{"v": 1, "q": <fingerprint>, "k": [...]}``
where each key value is tagged with its type (``["u", "<uuid>"]``, ``["t", "<iso datetime>"]``...)
and the fingerprint hashes the query's sort keys, so a cursor cannot resume a different ordering.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, false, literal, or_

from xrm.query.expression import QueryError

__all__ = ["SortKey", "order_clauses", "after", "fingerprint", "encode_cursor", "decode_cursor"]

_VERSION = 1


@dataclass(frozen=True)
class SortKey:
    """One sort key: the output label it is read back from, the expression, its direction, and what it is."""

    label: str
    expression: ColumnElement[Any]
    descending: bool = False
    name: str = ""  # the attribute or alias sorted by; identifies the ordering in cursors


def order_clauses(keys: Sequence[SortKey]) -> list[ColumnElement[Any]]:
    """ORDER BY with nulls lowest: ``NULLS FIRST`` ascending, ``NULLS LAST`` descending."""
    return [
        key.expression.desc().nulls_last() if key.descending else key.expression.asc().nulls_first() for key in keys
    ]


def _bound(key: SortKey, value: Any) -> ColumnElement[Any]:
    # A typed parameter, so that booleans compare as values rather than as IS TRUE / IS FALSE.
    return literal(value, type_=key.expression.type)


def _equal(key: SortKey, value: Any) -> ColumnElement[bool]:
    return key.expression.is_(None) if value is None else key.expression == _bound(key, value)


def _beyond(key: SortKey, value: Any) -> ColumnElement[bool]:
    """Strictly after ``value`` in this key's direction, nulls being the lowest value."""
    expression = key.expression
    if not key.descending:
        return expression.is_not(None) if value is None else expression > _bound(key, value)
    if value is None:
        return false()
    return or_(expression < _bound(key, value), expression.is_(None))


def after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values``: ``k1 > v1 OR (k1 = v1 AND k2 > v2) OR ...``, null-aware."""
    branches = []
    for index, key in enumerate(keys):
        equal = [_equal(previous, value) for previous, value in zip(keys[:index], values[:index], strict=True)]
        branches.append(and_(*equal, _beyond(key, values[index])))
    return or_(*branches)


def fingerprint(entity: str, keys: Sequence[SortKey]) -> str:
    shape = "|".join(f"{key.name or key.label}:{'d' if key.descending else 'a'}" for key in keys)
    return hashlib.sha256(f"{entity}|{shape}".encode()).hexdigest()[:12]


_ENCODERS: list[tuple[type, str, Callable[[Any], Any]]] = [
    (bool, "b", lambda value: value),
    (int, "i", lambda value: value),
    (float, "f", lambda value: value),
    (Decimal, "d", str),
    (str, "s", lambda value: value),
    (uuid.UUID, "u", str),
    (datetime, "t", lambda value: value.isoformat()),
    (date, "D", lambda value: value.isoformat()),
]
_DECODERS: dict[str, Callable[[Any], Any]] = {
    "b": bool,
    "i": int,
    "f": float,
    "d": Decimal,
    "s": str,
    "u": uuid.UUID,
    "t": datetime.fromisoformat,
    "D": date.fromisoformat,
}


def _encode_value(value: Any) -> Any:
    if value is None:
        return None
    for kind, tag, encode in _ENCODERS:
        if isinstance(value, kind):
            return [tag, encode(value)]
    raise QueryError(f"cannot page on a value of type {type(value).__name__}")


def encode_cursor(query_fingerprint: str, values: Sequence[Any]) -> str:
    payload = {"v": _VERSION, "q": query_fingerprint, "k": [_encode_value(value) for value in values]}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, query_fingerprint: str, count: int) -> list[Any]:
    """The key values of ``cursor``; a :class:`QueryError` if it is malformed or from another query."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        if payload.get("v") != _VERSION or payload.get("q") != query_fingerprint:
            raise QueryError("the cursor belongs to a different query (or ordering); start again without one")
        values = payload["k"]
        if not isinstance(values, list) or len(values) != count:
            raise ValueError("wrong number of key values")
        return [None if value is None else _DECODERS[value[0]](value[1]) for value in values]
    except QueryError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, binascii.Error) as error:
        raise QueryError(f"malformed cursor: {error}") from None
