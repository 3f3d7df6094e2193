"""Rollups kept current by deltas equal a full recalculation, after 1000 random operations."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import select

from xrm.data import Entity, EntityReference
from xrm.data.rollup import recalculate

ROLLUPS = [
    "tsv_childcount",
    "tsv_billable",
    "tsv_average",
    "tsv_smallest",
    "tsv_latest",
    "tsv_treecount",
    "tsv_treemax",
]


def snapshot(env) -> dict:  # type: ignore[no-untyped-def,type-arg]
    table = env.table("tsv_parent")
    with env.engine.connect() as connection:
        rows = connection.execute(select(table.c.tsv_parentid, *[table.c[name] for name in ROLLUPS])).all()
    return {row[0]: tuple(_normal(value) for value in row[1:]) for row in rows}


def _normal(value):  # type: ignore[no-untyped-def]
    if isinstance(value, Decimal | float):
        return round(Decimal(str(value)), 6)
    return value


def test_incremental_rollups_equal_a_full_recalculation(svc_environment) -> None:
    env = svc_environment
    service = env.service()
    rng = random.Random(20261128)
    parents: dict = {}  # id -> parent id in the hierarchy  # type: ignore[type-arg]
    children: dict = {}  # id -> open?  # type: ignore[type-arg]

    def descendants(node):  # type: ignore[no-untyped-def]
        found, frontier = {node}, [node]
        while frontier:
            current = frontier.pop()
            for child, parent in parents.items():
                if parent == current and child not in found:
                    found.add(child)
                    frontier.append(child)
        return found

    def child_values() -> dict:  # type: ignore[type-arg]
        return {
            "tsv_amount": Decimal(rng.randint(-500, 5000)) / 100 if rng.random() > 0.1 else None,
            "tsv_billable": rng.choice([True, False, None]),
            "tsv_due": dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 400)) if rng.random() > 0.2 else None,
        }

    for n in range(1000):
        roll = rng.random()
        if not parents or roll < 0.08:
            up = rng.choice([None, *parents]) if parents else None
            new = service.create(
                Entity("tsv_parent", tsv_name=f"p{n}", tsv_upid=EntityReference("tsv_parent", up) if up else None)
            )
            parents[new] = up
        elif roll < 0.45 or not children:
            parent = rng.choice([*parents, None])
            ref = EntityReference("tsv_parent", parent) if parent else None
            children[service.create(Entity("tsv_child", tsv_name=f"c{n}", tsv_parentid=ref, **child_values()))] = True
        elif roll < 0.70:
            child = rng.choice([c for c, is_open in children.items() if is_open] or [None])
            if child is None:
                continue
            change = {k: v for k, v in child_values().items() if rng.random() < 0.6}
            if rng.random() < 0.3:
                parent = rng.choice([*parents, None])
                change["tsv_parentid"] = EntityReference("tsv_parent", parent) if parent else None
            service.update(Entity("tsv_child", change, id=child))
        elif roll < 0.82:
            child = rng.choice(list(children))
            service.delete("tsv_child", child)
            del children[child]
        elif roll < 0.92:
            node = rng.choice(list(parents))
            allowed = [p for p in parents if p not in descendants(node)]
            new_parent = rng.choice([*allowed, None])
            service.update(
                Entity(
                    "tsv_parent",
                    {"tsv_upid": EntityReference("tsv_parent", new_parent) if new_parent else None},
                    id=node,
                )
            )
            parents[node] = new_parent
        else:
            child = rng.choice(list(children))
            children[child] = not children[child]
            service.set_state("tsv_child", child, 0 if children[child] else 1)

    incremental = snapshot(env)
    with env.engine.begin() as connection:
        for name in ROLLUPS:
            recalculate(env, connection, "tsv_parent", name)
    recalculated = snapshot(env)
    assert len(incremental) == len(parents) > 20
    mismatches = {k: (incremental[k], recalculated[k]) for k in incremental if incremental[k] != recalculated[k]}
    assert not mismatches, list(mismatches.items())[:5]
    assert any(values[0] for values in recalculated.values()), "the data set exercised the rollups"
