"""Installing a solution creates tables, columns, types, keys and indexes that match its metadata."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    String,
    Text,
    Uuid,
    inspect,
)
from sqlalchemy.types import TypeEngine

from xrm.metadata import CompiledAttribute, Model


def _is_uuid(reflected: TypeEngine) -> bool:
    # PostgreSQL has a UUID type; SQLite stores UUIDs as CHAR(32).
    return isinstance(reflected, Uuid) or (isinstance(reflected, String) and reflected.length == 32)


def _check_type(attr: CompiledAttribute, reflected: TypeEngine) -> str | None:
    meta = attr.metadata
    kind = attr.type
    checks = {
        "string": lambda: isinstance(reflected, String) and reflected.length == meta.max_length,
        "autonumber": lambda: isinstance(reflected, String) and reflected.length == meta.max_length,
        "memo": lambda: isinstance(reflected, Text),
        "integer": lambda: isinstance(reflected, Integer) and not isinstance(reflected, BigInteger),
        "choice": lambda: isinstance(reflected, Integer),
        "bigint": lambda: isinstance(reflected, BigInteger),
        "decimal": lambda: (
            isinstance(reflected, Numeric) and not isinstance(reflected, Float) and reflected.scale == meta.precision
        ),
        "money": lambda: isinstance(reflected, Numeric) and not isinstance(reflected, Float) and reflected.scale == 4,
        "float": lambda: isinstance(reflected, Float),
        "boolean": lambda: isinstance(reflected, Boolean),
        "datetime": lambda: isinstance(reflected, Date if meta.behavior.value == "date_only" else DateTime),
        "multichoice": lambda: isinstance(reflected, JSON),
        "uniqueidentifier": lambda: _is_uuid(reflected),
        "lookup": lambda: _is_uuid(reflected),
        "customer": lambda: _is_uuid(reflected),
        "owner": lambda: _is_uuid(reflected),
        "regarding": lambda: _is_uuid(reflected),
        "rollup": lambda: isinstance(reflected, Numeric | Integer | DateTime),
    }
    return None if checks[kind]() else f"{attr.entity}.{attr.name}: {kind} stored as {reflected!r}"


def assert_schema_matches(engine, model: Model) -> None:  # type: ignore[no-untyped-def]
    """Reflect the database and compare every entity and N:N table with the metadata."""
    inspector = inspect(engine)
    tables = set(inspector.get_table_names())
    problems: list[str] = []
    for entity in model.entities.values():
        assert entity.logical_name in tables, f"no table for {entity.logical_name}"
        columns = {c["name"]: c for c in inspector.get_columns(entity.logical_name)}
        fks = {tuple(fk["constrained_columns"]): fk for fk in inspector.get_foreign_keys(entity.logical_name)}
        indexed = {tuple(ix["column_names"]) for ix in inspector.get_indexes(entity.logical_name)}
        uniques = {tuple(uq["column_names"]) for uq in inspector.get_unique_constraints(entity.logical_name)}
        pk = inspector.get_pk_constraint(entity.logical_name)
        if pk["constrained_columns"] != [entity.primary_id]:
            problems.append(f"{entity.logical_name}: primary key {pk['constrained_columns']}")
        for attr in entity.attributes.values():
            if attr.type == "calculated":
                if attr.name in columns:
                    problems.append(f"{entity.logical_name}.{attr.name}: calculated attribute stored")
                continue
            if attr.name not in columns:
                problems.append(f"{entity.logical_name}.{attr.name}: no column")
                continue
            problem = _check_type(attr, columns[attr.name]["type"])
            if problem:
                problems.append(problem)
            if attr.type == "lookup":
                target = model.entity(attr.targets[0])
                fk = fks.get((attr.name,))
                if (
                    fk is None
                    or fk["referred_table"] != target.logical_name
                    or fk["referred_columns"] != [target.primary_id]
                ):
                    problems.append(f"{entity.logical_name}.{attr.name}: no foreign key to {target.logical_name}")
            if attr.targets and (attr.name,) not in indexed:
                problems.append(f"{entity.logical_name}.{attr.name}: lookup column not indexed")
            if attr.is_polymorphic and f"{attr.name}type" not in columns:
                problems.append(f"{entity.logical_name}.{attr.name}: no {attr.name}type column")
            if attr.type == "autonumber" and (attr.name,) not in uniques:
                problems.append(f"{entity.logical_name}.{attr.name}: autonumber without unique constraint")
        for key in entity.keys.values():
            if tuple(key.metadata.attributes) not in uniques:
                problems.append(f"{entity.logical_name}: alternate key {key.name} not unique in the database")
    for rel in model.relationships.values():
        if rel.kind != "many_to_many":
            continue
        assert rel.intersect in tables, f"no intersect table for {rel.name}"
        referred = sorted(fk["referred_table"] for fk in inspector.get_foreign_keys(rel.intersect))
        if referred != sorted([rel.referenced_entity, rel.referencing_entity]):
            problems.append(f"{rel.intersect}: foreign keys to {referred}")
        if sorted(inspector.get_pk_constraint(rel.intersect)["constrained_columns"]) != sorted(rel.intersect_columns):
            problems.append(f"{rel.intersect}: wrong primary key")
    assert not problems, "\n".join(problems)


def test_alltypes_solution_installs_with_matching_schema(solutions, engine, fixture_solution) -> None:
    result = solutions.install(fixture_solution("alltypes"))
    model = solutions.model()
    assert result.operation == "install" and model.has_solution("alltypes")
    types_used = {
        attr.type
        for entity in model.entities.values()
        if entity.solution == "alltypes"
        for attr in entity.attributes.values()
    }
    every_type = {
        "string", "memo", "integer", "bigint", "decimal", "money", "float", "boolean", "datetime", "choice",
        "multichoice", "lookup", "customer", "owner", "regarding", "uniqueidentifier", "autonumber", "calculated", "rollup",
    }  # fmt: skip
    assert every_type <= types_used, f"fixture lacks {every_type - types_used}"
    kinds = {
        (rel.kind, rel.referenced_entity == rel.referencing_entity)
        for rel in model.relationships.values()
        if rel.solution == "alltypes"
    }
    assert {("one_to_many", False), ("many_to_many", False), ("one_to_many", True)} <= kinds
    assert_schema_matches(engine, model)


def test_shipped_solutions_install_with_matching_schema(solutions, engine) -> None:
    for name in ("case", "ticket"):
        solutions.install(name)
    assert_schema_matches(engine, solutions.model())
    assert [s.name for s in solutions.installed()][0] == "system"
