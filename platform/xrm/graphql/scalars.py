"""Custom scalars: UUID, DateTime, Date, Decimal, BigInt and JSON.

- ``DateTime``: ISO 8601 with an offset; output is always UTC (``2024-05-01T09:30:00+00:00``). An
  input without an offset is taken as UTC.
- ``Date``: ``YYYY-MM-DD`` (date-only attributes).
- ``Decimal``: a string (``"1234.50"``) so that no precision is lost; input may be a string or a number.
- ``BigInt``: a whole number up to 64 bits; output is a JSON number, input a number or a numeric string.
- ``JSON``: any JSON value; UUIDs, decimals and dates inside it come out as strings.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql.language import IntValueNode
from graphql.utilities import value_from_ast_untyped

from graphql import GraphQLError, GraphQLScalarType, StringValueNode, ValueNode

__all__ = [
    "UUIDScalar",
    "DateTimeScalar",
    "DateScalar",
    "DecimalScalar",
    "BigIntScalar",
    "JSONScalar",
    "to_json",
    "parse_datetime",
]

_INT64 = (-(2**63), 2**63 - 1)


def _literal(parse: Callable[[Any], Any], name: str) -> Callable[..., Any]:
    """A literal parser for a scalar given as a string."""

    def parse_literal(node: ValueNode, _variables: Any = None) -> Any:
        if not isinstance(node, StringValueNode):
            raise GraphQLError(f"{name} must be given as a string")
        return parse(node.value)

    return parse_literal


def _any(value: Any) -> Any:
    return value


def _any_literal(node: ValueNode, variables: Any = None) -> Any:
    return value_from_ast_untyped(node, variables)


def _uuid_out(value: Any) -> str:
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


def _uuid_in(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise GraphQLError(f"'{value}' is not a UUID") from None


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _datetime_out(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return _utc(value).isoformat()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).isoformat()
    return _utc(parse_datetime(value)).isoformat()


def parse_datetime(value: Any) -> dt.datetime:
    """An ISO 8601 date-time (or date) as an aware UTC datetime; a GraphQLError otherwise."""
    if isinstance(value, dt.datetime):
        return _utc(value)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return _utc(parsed)
    raise GraphQLError(f"'{value}' is not an ISO 8601 date-time")


def _date_out(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return _utc(value).date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return _date_in(value).isoformat()


def _date_in(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise GraphQLError(f"'{value}' is not an ISO 8601 date (YYYY-MM-DD)")


def _decimal_out(value: Any) -> str:
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return format(number, "f")


def _decimal_in(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise GraphQLError(f"'{value}' is not a decimal number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise GraphQLError(f"'{value}' is not a decimal number") from None
    if not number.is_finite():
        raise GraphQLError("a decimal must be finite")
    return number


def _decimal_literal(node: ValueNode, _variables: Any = None) -> Decimal:
    value = getattr(node, "value", None)
    if value is None or not isinstance(value, str):
        raise GraphQLError("a Decimal is a string or a number")
    return _decimal_in(value)


def _bigint_in(value: Any) -> int:
    if isinstance(value, bool):
        raise GraphQLError(f"'{value}' is not a whole number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise GraphQLError(f"'{value}' is not a whole number") from None
    if not isinstance(value, int) or not _INT64[0] <= value <= _INT64[1]:
        raise GraphQLError(f"'{value}' is not a 64-bit whole number")
    return value


def _bigint_literal(node: ValueNode, _variables: Any = None) -> int:
    if isinstance(node, IntValueNode | StringValueNode):
        return _bigint_in(node.value)
    raise GraphQLError("a BigInt is a whole number")


def to_json(value: Any) -> Any:
    """``value`` with UUIDs, decimals, dates and records turned into JSON values."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return _utc(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    logical_name = getattr(value, "logical_name", None)
    if isinstance(logical_name, str) and hasattr(value, "id"):  # an Entity or an EntityReference
        record = {"entity": logical_name, "id": to_json(value.id)}
        if isinstance(value, Mapping):
            record["attributes"] = {str(key): to_json(item) for key, item in value.items()}
        return record
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(item) for item in value]
    return str(value)


UUIDScalar = GraphQLScalarType(
    "UUID",
    description="A unique identifier such as 3f2504e0-4f89-11d3-9a0c-0305e82c3301.",
    serialize=_uuid_out,
    parse_value=_uuid_in,
    parse_literal=_literal(_uuid_in, "a UUID"),
)
DateTimeScalar = GraphQLScalarType(
    "DateTime",
    description="An ISO 8601 date and time; returned in UTC, an input without offset is UTC.",
    serialize=_datetime_out,
    parse_value=parse_datetime,
    parse_literal=_literal(parse_datetime, "a DateTime"),
)
DateScalar = GraphQLScalarType(
    "Date",
    description="An ISO 8601 calendar date (YYYY-MM-DD).",
    serialize=_date_out,
    parse_value=_date_in,
    parse_literal=_literal(_date_in, "a Date"),
)
DecimalScalar = GraphQLScalarType(
    "Decimal",
    description="An exact decimal number, returned as a string; given as a string or a number.",
    serialize=_decimal_out,
    parse_value=_decimal_in,
    parse_literal=_decimal_literal,
)
BigIntScalar = GraphQLScalarType(
    "BigInt",
    description="A 64-bit whole number.",
    serialize=_bigint_in,
    parse_value=_bigint_in,
    parse_literal=_bigint_literal,
)
JSONScalar = GraphQLScalarType(
    "JSON",
    description="Any JSON value.",
    serialize=to_json,
    parse_value=_any,
    parse_literal=_any_literal,
)
