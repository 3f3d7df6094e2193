"""Validate request values against metadata before anything is written.

Every failing attribute is collected into one :class:`ValidationError`.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from xrm.data.entity import EntityReference
from xrm.errors import AttributeProblem
from xrm.metadata import CompiledAttribute, CompiledEntity
from xrm.metadata.attributes import RequiredLevel

__all__ = ["READ_ONLY", "InvalidValue", "normalize_values", "missing_required", "parse_number"]

# Columns the platform maintains; callers never write them directly.
READ_ONLY = frozenset(
    {"createdon", "modifiedon", "createdby", "modifiedby", "versionnumber", "owningbusinessunit", "statecode"}
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$", re.IGNORECASE)
_INT64 = (-(2**63), 2**63 - 1)


class InvalidValue(ValueError):
    """A value that does not fit its attribute or parameter; the message says why."""


_Invalid = InvalidValue


def parse_number(value: Any) -> Decimal:
    """A finite ``Decimal`` from an int, float, Decimal or numeric string (booleans refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise _Invalid(f"expected a number, got {type(value).__name__}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _Invalid(f"'{value}' is not a number") from None
    if not number.is_finite():
        raise _Invalid("must be a finite number")
    return number


def _check_range(number: Decimal | int, meta: Any) -> None:
    low, high = getattr(meta, "min", None), getattr(meta, "max", None)
    if low is not None and number < Decimal(str(low)):
        raise _Invalid(f"{number} is below the minimum {low}")
    if high is not None and number > Decimal(str(high)):
        raise _Invalid(f"{number} is above the maximum {high}")


def _text(value: Any, meta: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"expected text, got {type(value).__name__}")
    if len(value) > meta.max_length:
        raise _Invalid(f"{len(value)} characters, at most {meta.max_length} allowed")
    fmt = getattr(getattr(meta, "format", None), "value", None)
    if fmt == "email" and value and not _EMAIL.match(value):
        raise _Invalid(f"'{value}' is not an e-mail address")
    if fmt == "url" and value and not _URL.match(value):
        raise _Invalid(f"'{value}' is not a URL")
    return value


def _integer(value: Any, meta: Any, bounds: tuple[int, int] | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"expected a whole number, got {type(value).__name__}")
    if bounds and not bounds[0] <= value <= bounds[1]:
        raise _Invalid(f"{value} is out of range")
    _check_range(value, meta)
    return value


def _decimal(value: Any, meta: Any, places: int) -> Decimal:
    number = parse_number(value)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise _Invalid(f"{value} has more than {places} decimal places")
    _check_range(number, meta)
    return number


def _datetime(value: Any, meta: Any) -> dt.date | dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value) if "T" in value or " " in value else dt.date.fromisoformat(value)
        except ValueError:
            raise _Invalid(f"'{value}' is not an ISO date or date-time") from None
    if meta.behavior.value == "date_only":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        raise _Invalid(f"expected a date, got {type(value).__name__}")
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    raise _Invalid(f"expected a date-time, got {type(value).__name__}")


def _choice(value: Any, attr: CompiledAttribute) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"expected an option value (a whole number), got {type(value).__name__}")
    allowed = {option.value for option in attr.options}
    if value not in allowed:
        raise _Invalid(f"{value} is not one of the option values {sorted(allowed)}")
    return value


def _reference(value: Any, attr: CompiledAttribute) -> EntityReference:
    if isinstance(value, uuid.UUID | str) and len(attr.targets) == 1:
        try:
            value = EntityReference(attr.targets[0], uuid.UUID(str(value)))
        except ValueError:
            raise _Invalid(f"'{value}' is not a record id") from None
    if not isinstance(value, EntityReference):
        raise _Invalid(f"expected a reference to {' or '.join(attr.targets)}")
    if value.logical_name not in attr.targets:
        raise _Invalid(
            f"a reference to '{value.logical_name}' is not allowed here (targets: {', '.join(attr.targets)})"
        )
    return value


def _convert(attr: CompiledAttribute, value: Any) -> Any:
    meta: Any = attr.metadata  # the attribute type's own model; ``kind`` tells which
    kind = attr.type
    if kind in ("string", "memo", "autonumber"):
        return _text(value, meta)
    if kind == "integer":
        return _integer(value, meta, (-(2**31), 2**31 - 1))
    if kind == "bigint":
        return _integer(value, meta, _INT64)
    if kind in ("decimal", "money"):
        return _decimal(value, meta, meta.precision if kind == "decimal" else 4)
    if kind == "float":
        number = parse_number(value)
        _check_range(number, meta)
        return float(number)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _Invalid(f"expected true or false, got {type(value).__name__}")
        return value
    if kind == "datetime":
        return _datetime(value, meta)
    if kind == "choice":
        return _choice(value, attr)
    if kind == "multichoice":
        if not isinstance(value, list | tuple | set):
            raise _Invalid("expected a list of option values")
        values = sorted({_choice(item, attr) for item in value})
        return values
    if attr.targets:
        return _reference(value, attr)
    if kind == "uniqueidentifier":
        try:
            return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        except ValueError:
            raise _Invalid(f"'{value}' is not a UUID") from None
    raise _Invalid(f"a {kind} attribute cannot be written")


def normalize_values(
    entity: CompiledEntity, values: Mapping[str, Any], *, creating: bool, system: bool = False
) -> tuple[dict[str, Any], list[AttributeProblem]]:
    """Check and convert ``values``; returns the converted values and every problem found.

    ``system`` writes (the platform itself: state changes, owner assignment) may set read-only columns.
    """
    converted: dict[str, Any] = {}
    problems: list[AttributeProblem] = []
    for name, value in values.items():
        attr = entity.attributes.get(name)
        if attr is None:
            problems.append(AttributeProblem(name, f"'{entity.logical_name}' has no attribute '{name}'"))
            continue
        if not system:
            reason = _write_refusal(entity, attr, creating)
            if reason:
                problems.append(AttributeProblem(name, reason))
                continue
        if value is None:
            if not creating and attr.metadata.required in (RequiredLevel.REQUIRED, RequiredLevel.SYSTEM_REQUIRED):
                problems.append(AttributeProblem(name, "is required and cannot be cleared"))
                continue
            converted[name] = None
            continue
        try:
            converted[name] = _convert(attr, value)
        except _Invalid as invalid:
            problems.append(AttributeProblem(name, str(invalid)))
    return converted, problems


def _write_refusal(entity: CompiledEntity, attr: CompiledAttribute, creating: bool) -> str | None:
    if attr.name == entity.primary_id:
        return None if creating else "the primary id cannot change"
    if attr.name in READ_ONLY:
        return "is maintained by the platform" + (" (use set_state)" if attr.name == "statecode" else "")
    if attr.type in ("calculated", "rollup"):
        return f"a {attr.type} attribute is computed by the platform"
    if not creating and (attr.metadata.create_only or attr.type == "autonumber"):
        return "can only be set when the record is created"
    if attr.name == "statuscode" and not creating:
        return "use set_state to change the status"
    return None


def missing_required(entity: CompiledEntity, values: Mapping[str, Any]) -> list[AttributeProblem]:
    """Required attributes that a create leaves empty (system columns are filled by the platform)."""
    problems = []
    for attr in entity.attributes.values():
        if attr.system or attr.type in ("calculated", "rollup", "autonumber"):
            continue
        if (
            attr.metadata.required in (RequiredLevel.REQUIRED, RequiredLevel.SYSTEM_REQUIRED)
            and values.get(attr.name) is None
        ):
            problems.append(AttributeProblem(attr.name, "is required"))
    return problems
