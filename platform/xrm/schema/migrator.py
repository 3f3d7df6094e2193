"""Apply a :class:`MigrationPlan` through Alembic's operations, atomically, proving no row vanished."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    inspect,
    text,
)
from sqlalchemy.exc import SAWarning

from xrm.errors import DataLossError, MigrationError
from xrm.metadata import Model
from xrm.schema.engine import foreign_keys_off, is_sqlite
from xrm.schema.names import MAX_IDENTIFIER, constraint_name
from xrm.schema.plan import MigrationPlan, Step, count_rows, shapes_of
from xrm.schema.tables import build_tables

__all__ = ["migration_transaction", "apply_plan", "verify_schema"]

log = logging.getLogger(__name__)


@contextmanager
def migration_transaction(engine: Engine, *, commit: bool = True) -> Iterator[Connection]:
    """One transaction for a whole migration; on SQLite with foreign keys off and checked at the end.

    With ``commit=False`` everything done inside is rolled back (a dry run: DDL is transactional on
    both SQLite and PostgreSQL).
    """
    with engine.connect() as connection:
        with foreign_keys_off(connection):
            connection = connection.execution_options(sqlite_begin="IMMEDIATE")
            transaction = connection.begin()
            try:
                if not is_sqlite(connection):
                    # one schema change at a time across every process sharing the database
                    connection.execute(text("SELECT pg_advisory_xact_lock(7450218)"))
                yield connection
                if commit and is_sqlite(connection):
                    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if problems:
                        raise MigrationError(f"foreign key check failed after migration: {problems[:5]}")
            except BaseException:
                transaction.rollback()
                raise
            if commit:
                transaction.commit()
            else:
                transaction.rollback()


def _operations(connection: Connection) -> Operations:
    return Operations(MigrationContext.configure(connection))


def _archive_name(connection: Connection, source: str) -> str:
    taken = set(inspect(connection).get_table_names())
    base = f"arc_{source}"[: MAX_IDENTIFIER - 4]
    number = 1
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


def _clone_columns(table: Table, with_foreign_keys: bool) -> list[Column]:
    columns = []
    for col in table.columns:
        args = [fk._copy() for fk in col.foreign_keys] if with_foreign_keys else []
        columns.append(Column(col.name, col.type, *args, nullable=col.nullable))
    return columns


def _create_table(op: Operations, table: Table, sqlite: bool) -> None:
    constraints = [
        UniqueConstraint(*[c.name for c in uc.columns], name=uc.name)
        for uc in table.constraints
        if isinstance(uc, UniqueConstraint)
    ]
    primary_key = PrimaryKeyConstraint(*table.primary_key.columns.keys(), name=str(table.primary_key.name))
    op.create_table(table.name, *_clone_columns(table, with_foreign_keys=sqlite), primary_key, *constraints)
    for index in sorted(table.indexes, key=lambda ix: str(ix.name)):
        op.create_index(str(index.name), table.name, [c.name for c in index.columns], unique=bool(index.unique))


def _add_foreign_keys(op: Operations, table: Table) -> None:
    for fk in sorted(table.foreign_key_constraints, key=lambda c: str(c.name)):
        op.create_foreign_key(
            str(fk.name), table.name, fk.elements[0].column.table.name,
            [c.name for c in fk.columns], [e.column.name for e in fk.elements],
        )  # fmt: skip


def _by_name(table: Table, name: str) -> Index | UniqueConstraint:
    for item in (*table.indexes, *table.constraints):
        if isinstance(item, Index | UniqueConstraint) and item.name == name:
            return item
    raise MigrationError(f"no index or constraint '{name}' on '{table.name}'")


def _table_steps(
    op: Operations, connection: Connection, name: str, steps: list[Step], target: Table, archived: list[str]
) -> None:
    sqlite = is_sqlite(connection)
    for step in steps:
        if step.action == "drop_index":
            op.drop_index(str(step.new_name), table_name=name)
        elif step.action == "archive_columns":
            archive = _archive_name(connection, name)
            pk = target.primary_key.columns.keys()[0]
            cols = ", ".join([pk, *str(step.column).split(",")])
            connection.execute(text(f'CREATE TABLE "{archive}" AS SELECT {cols} FROM "{name}"'))
            step.new_name = archive
            archived.append(archive)
    column_steps = [
        s
        for s in steps
        if s.action in ("rename_column", "alter_column", "drop_column", "add_column", "drop_unique", "create_unique")
    ]
    if column_steps:
        with op.batch_alter_table(name, recreate="auto") as batch:
            for step in column_steps:
                if step.action == "rename_column":
                    batch.alter_column(str(step.column), new_column_name=step.new_name)
                elif step.action == "drop_unique":
                    batch.drop_constraint(str(step.new_name), type_="unique")
                elif step.action == "drop_column":
                    batch.drop_column(str(step.column))
                elif step.action == "alter_column" and step.widening:
                    assert step.spec is not None
                    batch.alter_column(str(step.column), type_=step.spec.type, existing_type=None)
                elif step.action in ("alter_column", "add_column"):
                    assert step.spec is not None
                    if step.action == "alter_column":
                        batch.drop_column(str(step.column))
                    batch.add_column(
                        _clone_columns(target, with_foreign_keys=True)[target.columns.keys().index(step.spec.name)]
                    )
                elif step.action == "create_unique":
                    unique = _by_name(target, str(step.new_name))
                    batch.create_unique_constraint(str(step.new_name), [c.name for c in unique.columns])
    for step in steps:
        if step.action == "create_index":
            index = _by_name(target, str(step.new_name))
            op.create_index(str(step.new_name), name, [c.name for c in index.columns])
    del sqlite


def _remove_tables(op: Operations, connection: Connection, steps: list[Step], archived: list[str]) -> None:
    if not is_sqlite(connection):
        inspector = inspect(connection)
        for step in steps:
            for fk in inspector.get_foreign_keys(step.table):
                op.drop_constraint(str(fk["name"]), step.table, type_="foreignkey")
    for step in steps:
        if step.action == "archive_table":
            archive = _archive_name(connection, step.table)
            connection.execute(text(f'CREATE TABLE "{archive}" AS SELECT * FROM "{step.table}"'))
            step.new_name = archive
            archived.append(archive)
        op.drop_table(step.table)


def apply_plan(
    connection: Connection, plan: MigrationPlan, old: Model, new: Model, *, allow_data_loss: bool = False
) -> list[Step]:
    """Run ``plan`` inside the caller's transaction. Returns the archive steps (with archive names)."""
    if plan.losses and not allow_data_loss:
        raise DataLossError(plan.losses)
    sqlite = is_sqlite(connection)
    op = _operations(connection)
    new_tables = build_tables(new)
    before, after = shapes_of(old), shapes_of(new)
    counts = {key: count_rows(connection, shape.name) for key, shape in before.items() if key in after}
    archived: list[str] = []

    for step in plan.steps:
        if step.action == "rename_table":
            op.rename_table(step.table, str(step.new_name))
            if not sqlite:
                # PostgreSQL names the primary key's index schema-wide: keep it in step with the table
                old_pk, new_pk = constraint_name("pk", step.table), constraint_name("pk", str(step.new_name))
                connection.execute(text(f'ALTER TABLE "{step.new_name}" RENAME CONSTRAINT "{old_pk}" TO "{new_pk}"'))
    created = [new_tables.tables[s.table] for s in plan.steps if s.action == "create_table"]
    for table in created:
        _create_table(op, table, sqlite)
    per_table: dict[str, list[Step]] = {}
    for step in plan.steps:
        if step.action not in ("rename_table", "create_table", "archive_table", "drop_table", "remove_option"):
            per_table.setdefault(step.table, []).append(step)
    for name, steps in per_table.items():
        _table_steps(op, connection, name, steps, new_tables.tables[name], archived)
    if not sqlite:
        for table in created:
            _add_foreign_keys(op, table)
    _remove_tables(op, connection, [s for s in plan.steps if s.action in ("archive_table", "drop_table")], archived)

    for key, rows in counts.items():
        now = count_rows(connection, after[key].name)
        if now < rows:
            raise MigrationError(
                f"{after[key].component}: {rows - now} row(s) vanished during the migration; rolled back"
            )
    verify_schema(connection, new_tables)
    return [s for s in plan.steps if s.action in ("archive_table", "archive_columns")]


def verify_schema(connection: Connection, metadata: MetaData) -> None:
    """Compare the database with ``metadata`` through Alembic; missing or extra tables/columns are errors."""
    wanted = set(metadata.tables)

    def include_name(name: str | None, type_: str, parent_names: object) -> bool:
        return type_ != "table" or name in wanted

    context = MigrationContext.configure(connection, opts={"compare_type": False, "include_name": include_name})
    problems = []
    with warnings.catch_warnings():
        # platform-layer FK cycles (systemuser <-> businessunit) make SQLAlchemy warn while sorting
        warnings.filterwarnings("ignore", message="Cannot correctly sort tables", category=SAWarning)
        differences = compare_metadata(context, metadata)
    for diff in differences:
        entries = diff if isinstance(diff, list) else [diff]
        for entry in entries:
            kind = entry[0]
            if kind in ("add_table", "remove_table"):
                problems.append(f"{kind} {entry[1].name}")
            elif kind in ("add_column", "remove_column"):
                problems.append(f"{kind} {entry[2]}.{entry[3].name}")
    if problems:
        raise MigrationError("the database does not match the metadata after migration: " + "; ".join(problems))
