"""The query tests' world: a small solution, one canonical data set, and helpers to run queries.

``query_world`` installs the ``qry`` solution on the test engine (SQLite, and PostgreSQL when
configured) and inserts the data set; tests compare what a compiled query returns with what
Python computes from the same rows. ``offline_query`` compiles against the same model without
a database, for error cases.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, MetaData, insert

from xrm.metadata import Model, compile_model
from xrm.query import CompiledQuery, Predicate, QueryContext, QueryExpression, compile_query
from xrm.schema import build_tables
from xrm.solution import load_definition, system_layer_path

NOW = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
USER1, USER2 = uuid.UUID(int=0xA1), uuid.UUID(int=0xA2)
UNIT1, UNIT2 = uuid.UUID(int=0xB1), uuid.UUID(int=0xB2)
CONTEXT = QueryContext(user_id=USER1, business_unit_id=UNIT1, now=NOW)
OMIT = "<sql null>"  # a multichoice left out of the insert: SQL NULL rather than JSON null

MANIFEST = {
    "name": "qry",
    "display_name": "Query Tests",
    "version": "1.0.0",
    "publisher": {"name": "Query", "prefix": "qry"},
}
ENTITIES: dict[str, object] = {
    "entities/qry_category.yaml": {
        "logical_name": "qry_category",
        "ownership": "organization",
        "primary_name": "qry_name",
        "attributes": {"qry_name": {"type": "string", "max_length": 50}},
    },
    "entities/qry_group.yaml": {
        "logical_name": "qry_group",
        "ownership": "organization",
        "primary_name": "qry_name",
        "attributes": {
            "qry_name": {"type": "string", "max_length": 50},
            "qry_rank": {"type": "integer"},
            "qry_categoryid": {"type": "lookup", "target": "qry_category"},
        },
    },
    "entities/qry_item.yaml": {
        "logical_name": "qry_item",
        "primary_name": "qry_name",
        "attributes": {
            "qry_name": {"type": "string", "max_length": 100},
            "qry_code": {"type": "string", "max_length": 20},
            "qry_notes": {"type": "memo"},
            "qry_qty": {"type": "integer"},
            "qry_big": {"type": "bigint"},
            "qry_price": {"type": "money"},
            "qry_ratio": {"type": "decimal", "precision": 4},
            "qry_score": {"type": "float"},
            "qry_flag": {"type": "boolean"},
            "qry_day": {"type": "datetime", "behavior": "date_only"},
            "qry_when": {"type": "datetime"},
            "qry_kind": {"type": "choice", "options": [{"value": v, "label": f"K{v}"} for v in (1, 2, 3)]},
            "qry_tags": {
                "type": "multichoice",
                "options": [{"value": v, "label": f"T{v}"} for v in (1, 2, 3)],
            },
            "qry_groupid": {"type": "lookup", "target": "qry_group"},
            "qry_parentid": {"type": "lookup", "target": "qry_item"},
            "qry_reviewerid": {"type": "lookup", "target": "systemuser"},
            "qry_regardingid": {"type": "regarding", "targets": ["account", "contact"]},
            "qry_ext": {"type": "uniqueidentifier"},
            "qry_label": {
                "type": "calculated",
                "result_type": "string",
                "expression": "concat(qry_name, '!')",
            },
        },
        "relationships": {"qry_item_parent": {"lookup": "qry_parentid", "hierarchical": True}},
        "many_to_many": {"qry_item_category": {"entity": "qry_category"}},
    },
    "entities/qry_part.yaml": {
        "logical_name": "qry_part",
        "ownership": "organization",
        "primary_name": "qry_name",
        "attributes": {
            "qry_name": {"type": "string", "max_length": 50},
            "qry_itemid": {"type": "lookup", "target": "qry_item"},
            "qry_weight": {"type": "integer"},
        },
    },
}

# Instants on the edges of the date operators and date groupings; the rest are random.
EDGE_TIMES = [
    datetime.combine(TODAY - timedelta(days=3), time(), UTC),
    NOW,
    datetime.combine(TODAY + timedelta(days=6), time(), UTC),
    datetime(2024, 5, 10, tzinfo=UTC),
    datetime(2024, 5, 10, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2024, 5, 11, tzinfo=UTC),
    datetime(2023, 12, 31, 23, 59, 59, 900000, tzinfo=UTC),
    datetime(2024, 1, 1, 0, 10, tzinfo=UTC),
    datetime(2020, 12, 31, 22, 0, tzinfo=UTC),
    datetime(2023, 1, 1, 3, 0, tzinfo=UTC),
    datetime(2024, 12, 30, 23, 0, tzinfo=UTC),
]
NAMES = ["alpha", "beta", "Gamma", "delta", "al_pha", "100%", "1000 items", None]
HIERARCHY = {1: 0, 2: 0, 3: 1, 4: 3, 5: 2, 8: 7}  # child index -> parent index


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


@dataclass
class Data:
    """The canonical rows, as inserted (Python values)."""

    units: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    categories: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    parts: list[dict[str, Any]] = field(default_factory=list)
    item_categories: list[dict[str, Any]] = field(default_factory=list)


def _when(rng: random.Random, index: int) -> datetime | None:
    if index < len(EDGE_TIMES):
        return EDGE_TIMES[index]
    roll = rng.random()
    if roll < 0.15:
        return None
    if roll < 0.6:
        return NOW + timedelta(minutes=rng.randrange(-20 * 1440, 20 * 1440))
    return datetime(2021, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(5 * 365 * 86400))


def _item(rng: random.Random, index: int, groups: list[dict[str, Any]]) -> dict[str, Any]:
    owner, unit = rng.choice([(USER1, UNIT1), (USER2, UNIT2)])
    regarding = rng.choice([None, _uuid(rng)])
    return {
        "qry_itemid": _uuid(rng),
        "qry_name": rng.choice(NAMES),
        "qry_code": rng.choice([None, *(f"C{n:02d}" for n in range(12))]),
        "qry_notes": rng.choice([None, "note a", "Note B"]),
        "qry_qty": rng.choice([None, *range(-2, 10)]),
        "qry_big": rng.choice([None, 0, 2**40, -5, 7]),
        "qry_price": rng.choice([None, Decimal("0.0000"), Decimal("9.9900"), Decimal("10.5000"), Decimal("-3.2500")]),
        "qry_ratio": rng.choice([None, Decimal("0.1234"), Decimal("0.5000"), Decimal("1.0000")]),
        "qry_score": rng.choice([None, -1.5, 0.0, 2.25, 3.75, 1e6]),
        "qry_flag": rng.choice([None, True, False]),
        "qry_day": rng.choice(
            [
                None,
                *(TODAY + timedelta(days=d) for d in range(-20, 21, 3)),
                date(2023, 12, 31),
                date(2024, 1, 1),
            ]
        ),
        "qry_when": _when(rng, index),
        "qry_kind": rng.choice([None, 1, 2, 3]),
        "qry_tags": rng.choice([OMIT, None, [], [1], [1, 2], [3]]),
        "qry_groupid": rng.choice([None, *(group["qry_groupid"] for group in groups[:3])]),
        "qry_parentid": None,
        "qry_reviewerid": rng.choice([None, USER1, USER2]),
        "ownerid": owner,
        "owneridtype": "systemuser",
        "owningbusinessunit": unit,
        "qry_regardingid": regarding,
        "qry_regardingidtype": None if regarding is None else "account",
        "qry_ext": rng.choice([None, _uuid(rng)]),
    }


def make_data(count: int = 48) -> Data:
    rng = random.Random(20240515)
    data = Data()
    data.units = [{"businessunitid": UNIT1, "name": "Unit 1"}, {"businessunitid": UNIT2, "name": "Unit 2"}]
    data.users = [
        {"systemuserid": USER1, "fullname": "User 1", "domainname": "u1", "businessunitid": UNIT1},
        {"systemuserid": USER2, "fullname": "User 2", "domainname": "u2", "businessunitid": UNIT2},
    ]
    data.categories = [{"qry_categoryid": _uuid(rng), "qry_name": name} for name in ("c1", "c2")]
    c1, c2 = (category["qry_categoryid"] for category in data.categories)
    data.groups = [
        {"qry_groupid": _uuid(rng), "qry_name": name, "qry_rank": rank, "qry_categoryid": category}
        for name, rank, category in [("g1", 1, c1), ("g2", 2, c2), ("g3", None, None), ("g4", 2, c1)]
    ]
    data.items = [_item(rng, index, data.groups) for index in range(count)]
    for child, parent in HIERARCHY.items():
        data.items[child]["qry_parentid"] = data.items[parent]["qry_itemid"]
    data.parts = [
        {
            "qry_partid": _uuid(rng),
            "qry_name": f"p{index}",
            "qry_itemid": rng.choice(data.items[:15])["qry_itemid"],
            "qry_weight": rng.choice([None, 1, 2, 2, 5]),
        }
        for index in range(30)
    ]
    pairs = {(rng.choice(data.items)["qry_itemid"], rng.choice([c1, c2])) for _ in range(20)}
    data.item_categories = [{"qry_itemid": item, "qry_categoryid": category} for item, category in sorted(pairs)]
    return data


@dataclass
class World:
    """An installed model with the canonical data, and helpers to compile and run queries."""

    engine: Engine | None
    model: Model
    tables: MetaData
    data: Data
    now: datetime = NOW
    context: QueryContext = CONTEXT
    omit: str = OMIT

    def compile(
        self, query: QueryExpression, context: QueryContext | None = None, predicate: Predicate | None = None
    ) -> CompiledQuery:
        return compile_query(self.model, self.tables, query, context or self.context, predicate=predicate)

    def run(
        self, query: QueryExpression, context: QueryContext | None = None, predicate: Predicate | None = None
    ) -> list[dict[str, Any]]:
        """Rows as dicts of the visible columns."""
        compiled = self.compile(query, context, predicate)
        return [{label: row[label] for label in compiled.columns} for row in self.execute(compiled)]

    def execute(self, compiled: CompiledQuery) -> list[Any]:
        assert self.engine is not None, "the offline world has no database"
        with self.engine.connect() as connection:
            return [row._mapping for row in connection.execute(compiled.statement)]

    def item(self, item_id: Any) -> dict[str, Any]:
        return next(item for item in self.data.items if item["qry_itemid"] == item_id)


def _insert(engine: Engine, tables: MetaData, data: Data) -> None:
    batches = [
        ("businessunit", data.units),
        ("systemuser", data.users),
        ("qry_category", data.categories),
        ("qry_group", data.groups),
        ("qry_item", sorted(data.items, key=lambda item: item["qry_parentid"] is not None)),
        ("qry_part", data.parts),
        ("qry_item_category", data.item_categories),
    ]
    with engine.begin() as connection:
        for name, rows in batches:
            for row in rows:  # one by one: rows differ in which columns they leave out
                values = {key: value for key, value in row.items() if value is not OMIT}
                connection.execute(insert(tables.tables[name]).values(values))


@pytest.fixture
def query_world(solutions: Any, write_solution: Callable[..., Path]) -> World:
    """The ``qry`` solution installed on the test engine, with the canonical data inserted."""
    solutions.install(write_solution(MANIFEST, ENTITIES))
    model = solutions.model()
    tables = build_tables(model)
    data = make_data()
    _insert(solutions.engine, tables, data)
    return World(solutions.engine, model, tables, data)


@pytest.fixture(scope="session")
def offline_query(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The same model without a database: for compile-time checks and errors."""
    folder = tmp_path_factory.mktemp("qry")
    (folder / "solution.yaml").write_text(yaml.safe_dump(MANIFEST, sort_keys=False))
    for relative, content in ENTITIES.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(yaml.safe_dump(content, sort_keys=False))
    model = compile_model([load_definition(system_layer_path()), load_definition(folder)])
    yield World(None, model, build_tables(model), make_data())
