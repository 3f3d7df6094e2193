"""Install, upgrade and uninstall: schema follows metadata, data is never lost silently."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, MetaData, Table, func, insert, inspect, select

from xrm.errors import DataLossError, MigrationError, SolutionError
from xrm.metadata import Model
from xrm.schema import build_tables, read_model

ORDER_ID = "2b4f8c1e-0d6a-4e47-9d55-6f0f1c3a9e01"
AMOUNT_ID = "7c9d3a20-51b4-4c1e-8a7e-3b9f6e2d4c10"


def manifest(version: str) -> dict:  # type: ignore[type-arg]
    return {
        "name": "shop",
        "display_name": "Shop",
        "version": version,
        "publisher": {"name": "Shop Inc", "prefix": "shp"},
    }


def order_entity(name: str = "shp_order", amount: str = "shp_amount", **extra) -> dict:  # type: ignore[no-untyped-def,type-arg]
    attributes = {
        "shp_name": {"type": "string", "max_length": 100},
        amount: {"type": "integer", "id": AMOUNT_ID},
        "shp_status": {"type": "choice", "options": [{"value": 1, "label": "New"}, {"value": 2, "label": "Paid"}]},
        "shp_customer": {"type": "lookup", "target": "account"},
        **extra.pop("attributes", {}),
    }
    return {"logical_name": name, "id": ORDER_ID, "primary_name": "shp_name", "attributes": attributes, **extra}


def _table(engine: Engine, name: str) -> Table:
    """The installed model's table (typed as xrm declares it, unlike a reflected one)."""
    with engine.connect() as connection:
        return build_tables(read_model(connection)).tables[name]


def rows(engine: Engine, table: str) -> list[dict]:  # type: ignore[type-arg]
    t = _table(engine, table)
    with engine.connect() as connection:
        return [
            dict(r) for r in connection.execute(select(t).order_by(t.c[t.primary_key.columns.keys()[0]])).mappings()
        ]


def add_rows(engine: Engine, table: str, *values: dict) -> None:  # type: ignore[type-arg]
    t = _table(engine, table)
    pk = t.primary_key.columns.keys()[0]
    with engine.begin() as connection:
        connection.execute(insert(t), [{pk: uuid.uuid4(), **v} for v in values])


def columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_upgrade_adds_column_and_option_value_without_touching_rows(solutions, engine, fixture_solution) -> None:
    solutions.install(fixture_solution("alltypes"))
    before_model = solutions.model()
    tables = [e.logical_name for e in before_model.entities.values() if e.solution == "alltypes"]
    for table in tables:
        add_rows(engine, table, {}, {})
    before = {table: rows(engine, table) for table in tables}

    result = solutions.upgrade(fixture_solution("alltypes_v2"))
    after_model = solutions.model()

    assert result.previous_version == "1.0.0" and result.version == "1.1.0"
    added = _new_attributes(before_model, after_model)
    assert len(added) == 1, added
    entity, attribute = added[0]
    assert attribute in columns(engine, entity)
    new_options = _new_option_values(before_model, after_model)
    assert new_options, "v2 adds an option value"
    for table in tables:
        now = rows(engine, table)
        assert [{k: v for k, v in r.items() if k != attribute} for r in now] == before[table]
        assert all(r.get(attribute) is None for r in now)
    assert [step.action for step in result.plan.steps] == ["add_column"]


def _new_attributes(old: Model, new: Model) -> list[tuple[str, str]]:
    return [
        (e.logical_name, a)
        for e in new.entities.values()
        for a in e.attributes
        if a not in old.entities[e.logical_name].attributes
    ]


def _new_option_values(old: Model, new: Model) -> list[tuple[str, int]]:
    return [
        (name, option.value)
        for name, optionset in new.optionsets.items()
        for option in optionset.options
        if option.value not in {o.value for o in old.optionsets[name].options}
    ]


def test_upgrade_dropping_an_attribute_with_data_is_refused_then_allowed(solutions, engine, fixture_solution) -> None:
    solutions.install(fixture_solution("alltypes_v2"))
    v2 = solutions.model()
    from xrm.metadata import compile_model
    from xrm.solution import load_definition

    v3 = compile_model(
        [*[d for d in v2.solutions if d.name != "alltypes"], load_definition(fixture_solution("alltypes_v3_drop"))]
    )
    ((entity, attribute),) = [(e, a) for e, a in _new_attributes(v3, v2)]
    column = v2.entities[entity].attributes[attribute]
    value = {"integer": 1, "bigint": 1, "boolean": True, "decimal": 1.5, "money": 1.5, "float": 1.5}.get(
        column.type, "x"
    )
    add_rows(engine, entity, {attribute: value}, {attribute: value}, {attribute: None})

    with pytest.raises(DataLossError) as refused:
        solutions.upgrade(fixture_solution("alltypes_v3_drop"))
    assert f"'{attribute}'" in str(refused.value) and "2 row(s)" in str(refused.value)
    assert attribute in columns(engine, entity), "nothing changed"
    assert {s.name: s.version for s in solutions.installed()}["alltypes"] == "1.1.0"

    solutions.upgrade(fixture_solution("alltypes_v3_drop"), allow_data_loss=True)
    assert attribute not in columns(engine, entity)
    assert len(rows(engine, entity)) == 3


def test_uninstall_archives_data_and_reinstall_works(solutions, engine, fixture_solution) -> None:
    solutions.install(fixture_solution("alltypes"))
    model = solutions.model()
    tables = sorted(e.logical_name for e in model.entities.values() if e.solution == "alltypes")
    add_rows(engine, tables[0], {}, {}, {})

    result = solutions.uninstall("alltypes")

    existing = set(inspect(engine).get_table_names())
    assert not existing & set(tables)
    archive = next(name for name in result.archives if name.startswith(f"arc_{tables[0]}"))
    assert archive in existing
    with engine.connect() as connection:
        assert (
            connection.execute(
                select(func.count()).select_from(Table(archive, MetaData(), autoload_with=connection))
            ).scalar_one()
            == 3
        )
    assert "alltypes" not in {s.name for s in solutions.installed()}
    assert "archive" in result.summary()

    solutions.install(fixture_solution("alltypes"))
    assert set(tables) <= set(inspect(engine).get_table_names())
    assert rows(engine, tables[0]) == []
    assert archive in inspect(engine).get_table_names(), "the archive survives a reinstall"


def test_rename_by_stable_id_keeps_data(solutions, engine, write_solution) -> None:
    v1 = write_solution(manifest("1.0.0"), {"entities/shp_order.yaml": order_entity()})
    solutions.install(v1)
    add_rows(engine, "shp_order", {"shp_name": "first", "shp_amount": 5})
    v2 = write_solution(manifest("1.1.0"), {"entities/shp_purchase.yaml": order_entity("shp_purchase", "shp_total")})

    plan = solutions.diff(v2)
    renames = {(s.column, s.new_name) for s in plan.steps if s.action.startswith("rename")}
    assert renames == {(None, "shp_purchase"), ("shp_orderid", "shp_purchaseid"), ("shp_amount", "shp_total")}
    assert not [s for s in plan.steps if s.action in ("drop_table", "drop_column", "create_table")]
    solutions.upgrade(v2)

    assert "shp_order" not in inspect(engine).get_table_names()
    if engine.dialect.name == "postgresql":  # primary-key index names are schema-wide there
        assert inspect(engine).get_pk_constraint("shp_purchase")["name"] == "pk_shp_purchase"
    (row,) = rows(engine, "shp_purchase")
    assert row["shp_name"] == "first" and row["shp_total"] == 5


def test_removing_an_option_value_in_use_is_refused(solutions, engine, write_solution) -> None:
    solutions.install(write_solution(manifest("1.0.0"), {"entities/shp_order.yaml": order_entity()}))
    add_rows(engine, "shp_order", {"shp_status": 2}, {"shp_status": 1})
    entity = order_entity()
    entity["attributes"]["shp_status"]["options"] = [{"value": 1, "label": "New"}]
    with pytest.raises(DataLossError, match=r"option value 2 \('Paid'\) of 'shp_status' is used by 1 row"):
        solutions.upgrade(write_solution(manifest("1.1.0"), {"entities/shp_order.yaml": entity}))


def test_narrowing_a_string_is_refused_with_the_rows_it_would_cut(solutions, engine, write_solution) -> None:
    solutions.install(write_solution(manifest("1.0.0"), {"entities/shp_order.yaml": order_entity()}))
    add_rows(engine, "shp_order", {"shp_name": "x" * 50}, {"shp_name": "short"})
    entity = order_entity()
    entity["attributes"]["shp_name"]["max_length"] = 20
    narrow = write_solution(manifest("1.1.0"), {"entities/shp_order.yaml": entity})
    with pytest.raises(DataLossError, match=r"'shp_name'.*affects 1 row"):
        solutions.upgrade(narrow)
    entity["attributes"]["shp_name"]["max_length"] = 200
    solutions.upgrade(write_solution(manifest("1.1.0"), {"entities/shp_order.yaml": entity}))
    assert [r["shp_name"] for r in rows(engine, "shp_order")].count("x" * 50) == 1


def test_ownership_is_immutable(solutions, write_solution) -> None:
    solutions.install(write_solution(manifest("1.0.0"), {"entities/shp_order.yaml": order_entity()}))
    changed = write_solution(manifest("1.1.0"), {"entities/shp_order.yaml": order_entity(ownership="organization")})
    with pytest.raises(MigrationError, match="ownership cannot change"):
        solutions.upgrade(changed)


def test_rebuilding_a_parent_table_keeps_child_rows(solutions, engine, write_solution) -> None:
    """SQLite rebuilds a table to change a column type; with foreign keys on that would touch children."""
    parent = {
        "logical_name": "shp_parent", "primary_name": "shp_name",
        "attributes": {"shp_name": {"type": "string", "max_length": 100}, "shp_code": {"type": "integer"}},
    }  # fmt: skip
    child = {
        "logical_name": "shp_child", "primary_name": "shp_name",
        "attributes": {"shp_name": {"type": "string"}, "shp_parentid": {"type": "lookup", "target": "shp_parent"}},
        "relationships": {"shp_parent_children": {"lookup": "shp_parentid", "cascade": {"delete": "cascade"}}},
    }  # fmt: skip
    solutions.install(
        write_solution(manifest("1.0.0"), {"entities/shp_parent.yaml": parent, "entities/shp_child.yaml": child})
    )
    add_rows(engine, "shp_parent", {"shp_name": "p", "shp_code": 7})
    (p,) = rows(engine, "shp_parent")
    add_rows(engine, "shp_child", *[{"shp_name": f"c{i}", "shp_parentid": p["shp_parentid"]} for i in range(3)])
    parent["attributes"]["shp_code"] = {"type": "bigint"}  # a type change: SQLite rebuilds the parent table
    result = solutions.upgrade(
        write_solution(manifest("1.1.0"), {"entities/shp_parent.yaml": parent, "entities/shp_child.yaml": child})
    )
    assert [s.action for s in result.plan.steps] == ["alter_column"]
    assert len(rows(engine, "shp_child")) == 3
    assert [r["shp_code"] for r in rows(engine, "shp_parent")] == [7]


def test_install_twice_and_upgrade_to_same_version_are_refused(solutions, write_solution) -> None:
    v1 = write_solution(manifest("1.0.0"), {"entities/shp_order.yaml": order_entity()})
    solutions.install(v1)
    with pytest.raises(SolutionError, match="already installed"):
        solutions.install(v1)
    with pytest.raises(SolutionError, match="not newer"):
        solutions.upgrade(v1)


def test_uninstall_refused_while_another_solution_depends_on_it(solutions, write_solution) -> None:
    solutions.install(write_solution(manifest("1.0.0"), {"entities/shp_order.yaml": order_entity()}))
    addon = {"name": "shopaddon", "display_name": "Add-on", "version": "1.0.0", "publisher": {"name": "Shop Inc", "prefix": "shp"},
             "dependencies": [{"name": "shop", "version": ">=1.0"}]}  # fmt: skip
    extension = {"logical_name": "shp_order", "extends": True, "attributes": {"shp_note": {"type": "memo"}}}
    solutions.install(write_solution(addon, {"entities/shp_order.yaml": extension}))
    with pytest.raises(SolutionError, match="shopaddon depend"):
        solutions.uninstall("shop")
    result = solutions.uninstall("shopaddon")
    assert [s.action for s in result.plan.steps] == ["archive_columns", "drop_column"]
    solutions.uninstall("shop")


def test_activity_regarding_follows_entities_that_have_activities(solutions) -> None:
    solutions.install("ticket")
    targets = solutions.model().entity("task").attribute("regardingobjectid").targets
    assert {"account", "contact", "contoso_ticket"} <= set(targets)
    relationship = solutions.model().relationships["contoso_ticket_task_regardingobjectid"]
    assert relationship.solution == "ticket" and relationship.cascade.is_parental
    solutions.uninstall("ticket")
    assert "contoso_ticket" not in solutions.model().entity("task").attribute("regardingobjectid").targets
