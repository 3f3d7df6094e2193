"""Condition values converted to the Python type of the column they are compared with."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Float, Integer, Numeric, String, Uuid
from sqlalchemy.types import TypeEngine

from xrm.query._scope import Field
from xrm.query.expression import QueryError

__all__ = ["coerce_value", "to_date", "to_uuid", "to_utc", "start_of_day"]


def to_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def to_uuid(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise ValueError(f"expected a unique identifier, got {value!r}")


def to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return to_utc(value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return to_utc(datetime.fromisoformat(value)).date() if "T" in value else date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected an ISO date (YYYY-MM-DD), got {value!r}")


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, date):
        return start_of_day(value)
    if isinstance(value, str):
        try:
            return to_utc(datetime.fromisoformat(value))
        except ValueError:
            pass
    raise ValueError(f"expected an ISO date and time, got {value!r}")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal) and value == int(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise ValueError(f"expected a whole number, got {value!r}")


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, int | float | Decimal | str):
        try:
            result = Decimal(str(value))
        except InvalidOperation:
            pass
        else:
            if result.is_finite():
                return result
    raise ValueError(f"expected a number, got {value!r}")


def _float(value: Any) -> float:
    return float(_decimal(value))


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1) and isinstance(value, int):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"expected true or false, got {value!r}")


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise ValueError(f"expected text, got {value!r}")


# Most specific first: Float is a Numeric, BigInteger an Integer, DateTime is not a Date.
_CONVERTERS: list[tuple[type[TypeEngine[Any]], Callable[[Any], Any]]] = [
    (Uuid, to_uuid),
    (Boolean, _bool),
    (BigInteger, _int),
    (Integer, _int),
    (Float, _float),
    (Numeric, _decimal),
    (DateTime, _datetime),
    (Date, to_date),
    (String, _str),
]


def coerce_value(field: Field, value: Any) -> Any:
    """``value`` as the Python type of ``field``'s column; a :class:`QueryError` names the attribute."""
    column = field.stored("filters")
    if value is None:
        raise QueryError(f"{field.label}: a value of null is not allowed here (use the 'null' operator)")
    for column_type, convert in _CONVERTERS:
        if isinstance(column.type, column_type):
            try:
                return convert(value)
            except ValueError as error:
                raise QueryError(f"{field.label}: {error}") from None
    raise QueryError(f"{field.label}: values of this attribute cannot be compared")
