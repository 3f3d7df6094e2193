"""Calculated attributes, evaluated on read from the record and its N:1 parents."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from xrm.data.entity import Entity, EntityReference
from xrm.data.environment import Environment
from xrm.data.records import from_row
from xrm.data.rows import fetch_row
from xrm.metadata import CompiledEntity
from xrm.metadata.expressions import Expression, evaluate, parse_expression, references

__all__ = ["evaluate_calculated", "calculated_names", "as_result_type"]


def _parsed(env: Environment, entity: str, name: str) -> Expression:
    cache: dict[tuple[str, str], Expression] = env.__dict__.setdefault("_expressions", {})
    key = (entity, name)
    if key not in cache:
        cache[key] = parse_expression(env.model.entity(entity).attributes[name].metadata.expression)  # type: ignore[union-attr]
    return cache[key]


def calculated_names(entity: CompiledEntity, columns: Iterable[str] | None) -> list[str]:
    wanted = set(columns) if columns is not None else None
    return [n for n, a in entity.attributes.items() if a.type == "calculated" and (wanted is None or n in wanted)]


def evaluate_calculated(
    env: Environment,
    connection: Connection,
    entity: CompiledEntity,
    record: Entity,
    columns: Iterable[str] | None,
    *,
    hidden: Callable[[str], frozenset[str]] | None = None,
) -> None:
    """Fill the requested calculated attributes of ``record`` (all of them when ``columns`` is None).

    ``hidden(entity)`` names attributes the caller may not read (field security): expressions see
    them as null, on the record and on its parents, and a hidden calculated attribute is null.
    """
    names = calculated_names(entity, columns)
    if not names:
        return
    values: dict[str, Any] = {k: (v.id if isinstance(v, EntityReference) else v) for k, v in record.items()}
    missing = [n for n in entity.attributes if n not in values and entity.attributes[n].type != "calculated"]
    if missing and record.id is not None:
        row = fetch_row(env, connection, entity.logical_name, record.id)
        if row is not None:
            full = from_row(entity, row)
            values.update(
                {k: (v.id if isinstance(v, EntityReference) else v) for k, v in full.items() if k not in values}
            )
    own_hidden = hidden(entity.logical_name) if hidden is not None else frozenset()
    values.update(dict.fromkeys(own_hidden))
    parents: dict[str, dict[str, Any] | None] = {}
    done: dict[str, Any] = dict.fromkeys(own_hidden)

    def value_of(name: str, depth: int = 0) -> Any:
        if name in done:
            return done[name]
        expression = _parsed(env, entity.logical_name, name)
        for ref in references(expression):
            if (
                ref.lookup is None
                and entity.attributes.get(ref.attribute) is not None
                and entity.attributes[ref.attribute].type == "calculated"
                and depth < 6
            ):
                values[ref.attribute] = value_of(ref.attribute, depth + 1)
            elif ref.lookup is not None and ref.lookup not in parents:
                parents[ref.lookup] = _parent(env, connection, entity, ref.lookup, values.get(ref.lookup), hidden)
        meta: Any = entity.attributes[name].metadata
        result_type: str = meta.result_type
        done[name] = as_result_type(result_type, evaluate(expression, values, parents, now=env.clock()))
        return done[name]

    for name in names:
        record[name] = value_of(name)


def _parent(
    env: Environment,
    connection: Connection,
    entity: CompiledEntity,
    lookup: str,
    parent_id: Any,
    hidden: Callable[[str], frozenset[str]] | None = None,
) -> dict[str, Any] | None:
    attr = entity.attributes.get(lookup)
    if attr is None or parent_id is None or not attr.targets:
        return None
    target = env.model.entity(attr.targets[0])
    row = fetch_row(env, connection, target.logical_name, parent_id)
    if row is None:
        return None
    parent = from_row(target, row)
    masked = hidden(target.logical_name) if hidden is not None else frozenset()
    return {k: (None if k in masked else v.id if isinstance(v, EntityReference) else v) for k, v in parent.items()}


def as_result_type(result_type: str, value: Any) -> Any:
    """Convert an expression's raw value to the attribute's declared result type."""
    if value is None:
        return None
    if result_type == "integer":
        number = int(value)
        return number if -(2**31) <= number < 2**31 else None
    if result_type in ("decimal", "money"):
        amount = Decimal(str(value))
        return amount.quantize(Decimal("0.0001")) if result_type == "money" else amount
    if result_type == "float":
        return float(value)
    return value
