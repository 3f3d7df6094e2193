"""Rollup attributes kept current inside the writing transaction.

count, sum and avg change by deltas: O(1) statements per changed child row (per ancestor for
hierarchical rollups). min and max are recomputed only when the changed row held the extreme.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select, update
from sqlalchemy.sql.elements import ColumnElement

from xrm.data.environment import Environment
from xrm.metadata import CompiledEntity
from xrm.metadata.attributes import RollupAttribute, RollupFilter

__all__ = ["RollupSpec", "rollups_over", "on_change", "initial_values", "recalculate"]

Row = Mapping[str, Any]


@dataclass(frozen=True)
class RollupSpec:
    parent: str
    attribute: str
    child: str
    lookup: str
    polymorphic: bool
    aggregate: str
    source: str | None
    filters: tuple[RollupFilter, ...]
    hierarchy_lookup: str | None  # the parent entity's own hierarchical lookup, when aggregated along it


def _hierarchy_lookup(env: Environment, entity: str) -> str | None:
    for rel in env.model.relationships.values():
        if rel.hierarchical and rel.referenced_entity == rel.referencing_entity == entity:
            return rel.lookup
    return None


def _all_specs(env: Environment) -> list[RollupSpec]:
    cached = getattr(env, "_rollup_specs", None)
    if cached is not None:
        return cached
    specs = []
    for entity in env.model.entities.values():
        for attr in entity.attributes.values():
            meta = attr.metadata
            if isinstance(meta, RollupAttribute):
                lookup = env.model.entity(meta.related_entity).attributes[meta.lookup]
                specs.append(
                    RollupSpec(
                        entity.logical_name,
                        attr.name,
                        meta.related_entity,
                        meta.lookup,
                        lookup.is_polymorphic,
                        meta.aggregate.value,
                        meta.attribute,
                        meta.filters,
                        _hierarchy_lookup(env, entity.logical_name) if meta.hierarchy else None,
                    )  # fmt: skip
                )
    env._rollup_specs = specs  # type: ignore[attr-defined]
    return specs


def rollups_over(env: Environment, child: str) -> list[RollupSpec]:
    return [spec for spec in _all_specs(env) if spec.child == child]


def initial_values(env: Environment, entity: CompiledEntity) -> dict[str, Any]:
    """Rollup columns of a new record: zero for count and sum, empty for the others."""
    values: dict[str, Any] = {}
    for spec in _all_specs(env):
        if spec.parent != entity.logical_name:
            continue
        if spec.aggregate in ("count", "sum"):
            values[spec.attribute] = 0
        if spec.aggregate == "avg":
            values.update({f"{spec.attribute}_sum": 0, f"{spec.attribute}_count": 0})
    return values


def _matches(row: Row, filters: tuple[RollupFilter, ...]) -> bool:
    for condition in filters:
        value, wanted, op = row.get(condition.attribute), condition.value, condition.operator
        if op == "null" and value is not None or op == "not_null" and value is None:
            return False
        if op in ("null", "not_null"):
            continue
        if value is None:
            return False
        ok = {
            "eq": lambda: value == wanted, "ne": lambda: value != wanted, "gt": lambda: value > wanted,
            "ge": lambda: value >= wanted, "lt": lambda: value < wanted, "le": lambda: value <= wanted,
            "in": lambda: value in wanted, "not_in": lambda: value not in wanted,
        }[op]()  # fmt: skip
        if not ok:
            return False
    return True


def _contribution(spec: RollupSpec, row: Row | None) -> tuple[uuid.UUID | None, Any]:
    """(parent id, value) this row adds to the rollup, or (None, None) when it adds nothing."""
    if row is None or row.get(spec.lookup) is None or not _matches(row, spec.filters):
        return None, None
    if spec.polymorphic and row.get(f"{spec.lookup}type") != spec.parent:
        return None, None
    value = 1 if spec.source is None else row.get(spec.source)
    if value is None:
        return None, None
    return row[spec.lookup], value


def on_change(
    env: Environment, connection: Connection, entity: CompiledEntity, old: Row | None, new: Row | None
) -> None:
    """Apply the rollup effects of one row going from ``old`` to ``new`` (None: absent).

    count, sum and avg deltas for one parent record are folded into a single UPDATE.
    """
    deltas: dict[tuple[str, uuid.UUID, str | None], dict[str, Any]] = {}
    for spec in rollups_over(env, entity.logical_name):
        old_parent, old_value = _contribution(spec, old)
        new_parent, new_value = _contribution(spec, new)
        if (old_parent, old_value) == (new_parent, new_value):
            continue
        for parent, value, sign in ((old_parent, old_value, -1), (new_parent, new_value, 1)):
            if parent is None:
                continue
            if spec.aggregate in ("min", "max"):
                _apply(env, connection, spec, parent, value, removing=sign < 0)
                continue
            bucket = deltas.setdefault((spec.parent, parent, spec.hierarchy_lookup), {})
            amount = sign * (Decimal(str(value)) if spec.aggregate != "count" else 1)
            if spec.aggregate == "avg":
                bucket[f"{spec.attribute}_sum"] = bucket.get(f"{spec.attribute}_sum", 0) + amount
                bucket[f"{spec.attribute}_count"] = bucket.get(f"{spec.attribute}_count", 0) + sign
                bucket.setdefault("_averages", set()).add(spec.attribute)
            else:
                bucket[spec.attribute] = bucket.get(spec.attribute, 0) + amount
    for (parent_entity, parent_id, hierarchy), bucket in deltas.items():
        _add_deltas(env, connection, parent_entity, parent_id, hierarchy, bucket)
    _move_subtree(env, connection, entity, old, new)


def _add_deltas(
    env: Environment,
    connection: Connection,
    entity: str,
    record: uuid.UUID,
    hierarchy: str | None,
    bucket: dict[str, Any],
) -> None:
    averages = tuple(sorted(bucket.pop("_averages", set())))
    deltas = dict(bucket)
    if not any(deltas.values()):
        return
    targets = [record]
    if hierarchy is not None:
        probe = RollupSpec(entity, "", "", "", False, "count", None, (), hierarchy)
        targets = _ancestors(env, connection, probe, record)
    table = env.table(entity)
    statement = _delta_statement(
        table, env.model.entity(entity).primary_id, tuple(sorted(deltas)), averages, connection.dialect.name == "sqlite"
    )
    connection.execute(statement, {**{f"_d_{name}": delta for name, delta in deltas.items()}, "_targets": targets})


@lru_cache(maxsize=1024)
def _delta_statement(
    table: Any, pk_name: str, columns: tuple[str, ...], averages: tuple[str, ...], sqlite: bool
) -> Any:
    """``UPDATE parent SET col = coalesce(col, 0) + :delta, ...`` built once per shape, run with parameters."""
    values: dict[Any, Any] = {
        table.c[name]: func.coalesce(table.c[name], 0) + bindparam(f"_d_{name}") for name in columns
    }
    for name in averages:
        total = func.coalesce(table.c[f"{name}_sum"], 0) + bindparam(f"_d_{name}_sum")
        count = func.coalesce(table.c[f"{name}_count"], 0) + bindparam(f"_d_{name}_count")
        values[table.c[name]] = (total * 1.0 if sqlite else total) / func.nullif(count, 0)
    return update(table).where(table.c[pk_name].in_(bindparam("_targets", expanding=True))).values(values)


def _ancestors(env: Environment, connection: Connection, spec: RollupSpec, start: uuid.UUID) -> list[uuid.UUID]:
    """``start`` and, for hierarchical rollups, every ancestor above it."""
    chain = [start]
    if spec.hierarchy_lookup is None:
        return chain
    table = env.table(spec.parent)
    pk = table.c[env.model.entity(spec.parent).primary_id]
    seen = {start}
    current: uuid.UUID | None = start
    while current is not None:
        current = connection.execute(select(table.c[spec.hierarchy_lookup]).where(pk == current)).scalar_one_or_none()
        if current is None or current in seen:
            break
        seen.add(current)
        chain.append(current)
    return chain


def _apply(
    env: Environment, connection: Connection, spec: RollupSpec, parent: uuid.UUID, value: Any, *, removing: bool
) -> None:
    table = env.table(spec.parent)
    pk = table.c[env.model.entity(spec.parent).primary_id]
    for target in _ancestors(env, connection, spec, parent):
        where = pk == target
        column = table.c[spec.attribute]
        if spec.aggregate in ("count", "sum"):
            delta = -value if removing else value
            connection.execute(update(table).where(where).values({column: func.coalesce(column, 0) + delta}))
        elif spec.aggregate == "avg":
            _apply_avg(connection, table, where, spec.attribute, value, removing)
        elif removing:
            current = connection.execute(select(column).where(where)).scalar_one_or_none()
            if current is not None and _same(current, value):
                connection.execute(update(table).where(where).values({column: _extreme(env, connection, spec, target)}))
        else:
            better = column > value if spec.aggregate == "min" else column < value
            connection.execute(update(table).where(and_(where, (column.is_(None)) | better)).values({column: value}))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float | Decimal) and isinstance(b, int | float | Decimal):
        return Decimal(str(a)) == Decimal(str(b))
    return bool(a == b)


def _apply_avg(
    connection: Connection, table: Any, where: ColumnElement[bool], name: str, value: Any, removing: bool
) -> None:
    total, count = table.c[f"{name}_sum"], table.c[f"{name}_count"]
    sign = -1 if removing else 1
    new_total = func.coalesce(total, 0) + sign * Decimal(str(value))
    new_count = func.coalesce(count, 0) + sign
    connection.execute(update(table).where(where).values({total: new_total, count: new_count}))
    row = connection.execute(select(total, count).where(where)).first()
    average = (Decimal(str(row[0])) / row[1]) if row and row[1] else None
    connection.execute(update(table).where(where).values({table.c[name]: average}))


def _filter_clause(env: Environment, spec: RollupSpec) -> list[ColumnElement[bool]]:
    child = env.table(spec.child)
    clauses: list[ColumnElement[bool]] = []
    for condition in spec.filters:
        column, value = child.c[condition.attribute], condition.value
        clauses.append(
            {
                "eq": lambda: column == value, "ne": lambda: column != value, "gt": lambda: column > value,
                "ge": lambda: column >= value, "lt": lambda: column < value, "le": lambda: column <= value,
                "null": lambda: column.is_(None), "not_null": lambda: column.is_not(None),
                "in": lambda: column.in_(value), "not_in": lambda: column.not_in(value),
            }[condition.operator]()
        )  # fmt: skip
    if spec.polymorphic:
        clauses.append(child.c[f"{spec.lookup}type"] == spec.parent)
    return clauses


def _aggregate_expression(spec: RollupSpec, child: Any) -> Any:
    if spec.aggregate == "count":
        return func.count() if spec.source is None else func.count(child.c[spec.source])
    functions: dict[str, Any] = {"sum": func.sum, "avg": func.avg, "min": func.min, "max": func.max}
    return functions[spec.aggregate](child.c[str(spec.source)])


def _extreme(env: Environment, connection: Connection, spec: RollupSpec, parent: uuid.UUID) -> Any:
    """min/max over the direct rows of ``parent`` and, along a hierarchy, its children's values."""
    child = env.table(spec.child)
    value = connection.execute(
        select(_aggregate_expression(spec, child)).where(child.c[spec.lookup] == parent, *_filter_clause(env, spec))
    ).scalar_one_or_none()
    if spec.hierarchy_lookup is not None:
        table = env.table(spec.parent)
        fn = func.min if spec.aggregate == "min" else func.max
        below = connection.execute(
            select(fn(table.c[spec.attribute])).where(table.c[spec.hierarchy_lookup] == parent)
        ).scalar_one_or_none()
        candidates = [v for v in (value, below) if v is not None]
        value = (min if spec.aggregate == "min" else max)(candidates) if candidates else None
    return value


def _move_subtree(
    env: Environment, connection: Connection, entity: CompiledEntity, old: Row | None, new: Row | None
) -> None:
    """A record moved in its own hierarchy: its whole subtree's totals move between ancestors."""
    for spec in _all_specs(env):
        if spec.parent != entity.logical_name or spec.hierarchy_lookup is None or old is None or new is None:
            continue
        before, after = old.get(spec.hierarchy_lookup), new.get(spec.hierarchy_lookup)
        if before == after:
            continue
        if spec.aggregate in ("count", "sum"):
            amount = old.get(spec.attribute) or 0
            if before is not None:
                _apply(env, connection, spec, before, amount, removing=True)
            if after is not None:
                _apply(env, connection, spec, after, amount, removing=False)
        else:
            for start in (before, after):
                if start is not None:
                    for ancestor in _ancestors(env, connection, spec, start):
                        _recalculate_one(env, connection, spec, ancestor)


def _recalculate_one(env: Environment, connection: Connection, spec: RollupSpec, parent: uuid.UUID) -> None:
    table = env.table(spec.parent)
    pk = table.c[env.model.entity(spec.parent).primary_id]
    if spec.aggregate in ("min", "max"):
        connection.execute(
            update(table).where(pk == parent).values({table.c[spec.attribute]: _extreme(env, connection, spec, parent)})
        )
        return
    raise NotImplementedError(spec.aggregate)


def recalculate(env: Environment, connection: Connection, entity: str, attribute: str) -> int:
    """Recompute one rollup from scratch for every record (``xrm rollup recalculate``); returns rows."""
    spec = next((s for s in _all_specs(env) if s.parent == entity and s.attribute == attribute), None)
    if spec is None:
        from xrm.errors import NotFoundError

        raise NotFoundError(f"{entity}.{attribute} is not a rollup attribute")
    table = env.table(entity)
    pk = table.c[env.model.entity(entity).primary_id]
    ids = list(connection.execute(select(pk)).scalars())
    values = {record: _direct(env, connection, spec, record) for record in ids}
    if spec.hierarchy_lookup is not None:
        parents = dict(connection.execute(select(pk, table.c[spec.hierarchy_lookup])).all())
        values = _fold_hierarchy(spec, values, parents)
    for record, value in values.items():
        connection.execute(update(table).where(pk == record).values(_stored(spec, value)))
    return len(ids)


def _direct(env: Environment, connection: Connection, spec: RollupSpec, parent: uuid.UUID) -> tuple[Any, Any]:
    """(aggregate, count) over the direct rows of ``parent``; sums and counts for avg."""
    child = env.table(spec.child)
    where = [child.c[spec.lookup] == parent, *_filter_clause(env, spec)]
    if spec.aggregate == "avg":
        column = child.c[str(spec.source)]
        total, count = connection.execute(select(func.sum(column), func.count(column)).where(*where)).one()
        return total, count
    return connection.execute(select(_aggregate_expression(spec, child)).where(*where)).scalar_one_or_none(), None


def _fold_hierarchy(
    spec: RollupSpec, direct: dict[uuid.UUID, tuple[Any, Any]], parents: dict[uuid.UUID, uuid.UUID | None]
) -> dict[uuid.UUID, tuple[Any, Any]]:
    children: dict[uuid.UUID | None, list[uuid.UUID]] = {}
    for record, parent in parents.items():
        children.setdefault(parent, []).append(record)
    folded: dict[uuid.UUID, tuple[Any, Any]] = {}

    def fold(record: uuid.UUID, path: frozenset[uuid.UUID]) -> tuple[Any, Any]:
        if record in folded:
            return folded[record]
        value, count = direct[record]
        for child in children.get(record, []):
            if child in path:
                continue
            child_value, child_count = fold(child, path | {child})
            value, count = (
                _combine(spec, value, child_value),
                (count or 0) + (child_count or 0) if spec.aggregate == "avg" else None,
            )
        folded[record] = (value, count)
        return folded[record]

    for record in direct:
        fold(record, frozenset({record}))
    return folded


def _combine(spec: RollupSpec, a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    if spec.aggregate in ("count", "sum", "avg"):
        return a + b
    return min(a, b) if spec.aggregate == "min" else max(a, b)


def _stored(spec: RollupSpec, value: tuple[Any, Any]) -> dict[str, Any]:
    aggregate, count = value
    if spec.aggregate in ("count", "sum"):
        return {spec.attribute: aggregate or 0}
    if spec.aggregate == "avg":
        total = Decimal(str(aggregate or 0))
        return {
            spec.attribute: (total / count) if count else None,
            f"{spec.attribute}_sum": total,
            f"{spec.attribute}_count": count or 0,
        }
    return {spec.attribute: aggregate}
