"""Compute a :class:`MigrationPlan` from the installed model to a new one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Index, UniqueConstraint, column, func, inspect, select, table
from sqlalchemy.sql.expression import ColumnClause

from xrm.errors import MigrationError
from xrm.metadata import Model
from xrm.schema.plan import MigrationPlan, Step, TableShape, count_rows, count_values, is_widening, shapes_of

__all__ = ["plan_migration"]


def plan_migration(connection: Connection, old: Model, new: Model, *, archive_removed: bool = False) -> MigrationPlan:
    """Steps that turn the schema of ``old`` into that of ``new``, with data-loss counted.

    ``archive_removed`` (uninstall): removed tables and columns are kept in archive tables instead
    of being dropped, so nothing is lost.
    """
    _check_immutable(old, new)
    before, after = shapes_of(old), shapes_of(new)
    existing = set(inspect(connection).get_table_names())
    plan = MigrationPlan()
    for key, shape in after.items():
        previous = before.get(key)
        if previous is not None and previous.name != shape.name:
            plan.steps.append(Step("rename_table", previous.name, new_name=shape.name))
    for key, shape in after.items():
        if key not in before:
            if shape.name in existing:
                raise MigrationError(
                    f"cannot create table '{shape.name}' for {shape.component}: a table of that name exists"
                )
            plan.steps.append(Step("create_table", shape.name))
    for key, shape in after.items():
        if key in before:
            plan.steps.extend(_column_steps(connection, before[key], shape, archive_removed))
    for key, shape in before.items():
        if key in after:
            continue
        rows = count_rows(connection, shape.name)
        if archive_removed:
            plan.steps.append(Step("archive_table", shape.name, rows=rows))
        else:
            loss = f"{shape.component}: dropping table '{shape.name}' deletes {rows} row(s)" if rows else None
            plan.steps.append(Step("drop_table", shape.name, rows=rows, loss=loss))
    return plan


def _check_immutable(old: Model, new: Model) -> None:
    for entity in new.entities.values():
        previous = next((e for e in old.entities.values() if e.id == entity.id), None)
        if previous is not None and previous.ownership != entity.ownership:
            raise MigrationError(
                f"entity '{entity.logical_name}': ownership cannot change once installed "
                f"({previous.ownership.value} -> {entity.ownership.value})"
            )


def _column_steps(connection: Connection, old: TableShape, new: TableShape, archive_removed: bool) -> list[Step]:
    steps: list[Step] = []
    name = new.name
    removed = [spec for key, spec in old.columns.items() if key not in new.columns]
    if removed and archive_removed:
        rows = count_rows(connection, old.name)
        steps.append(Step("archive_columns", name, column=",".join(spec.name for spec in removed), rows=rows))
    for key, spec in old.columns.items():
        target = new.columns.get(key)
        if target is None:
            rows = count_values(connection, old.name, spec.name)
            loss = None
            if rows and not archive_removed:
                loss = f"{new.component}: dropping attribute column '{spec.name}' deletes values in {rows} row(s)"
            steps.append(Step("drop_column", name, column=spec.name, rows=rows, loss=loss, spec=spec))
            continue
        if target.name != spec.name:
            steps.append(Step("rename_column", name, column=spec.name, new_name=target.name))
        if target.foreign_key != spec.foreign_key or not is_widening(spec.type, target.type):
            rows = _rows_losing(connection, old.name, spec, target)
            loss = None
            if rows:
                loss = f"{new.component}: changing the type of '{target.name}' ({spec.type} -> {target.type}) affects {rows} row(s)"
            steps.append(
                Step(
                    "alter_column",
                    name,
                    column=target.name,
                    spec=target,
                    rows=rows,
                    loss=loss,
                    note=f"{spec.type} -> {target.type}",
                )
            )
        elif type(spec.type) is not type(target.type) or str(spec.type) != str(target.type):
            steps.append(
                Step(
                    "alter_column",
                    name,
                    column=target.name,
                    spec=target,
                    note=f"{spec.type} -> {target.type} (widening)",
                    widening=True,
                )
            )
    for key, spec in new.columns.items():
        if key not in old.columns:
            steps.append(Step("add_column", name, column=spec.name, spec=spec))
    steps.extend(_option_steps(connection, old, new))
    steps.extend(_constraint_steps(old, new))
    return steps


def _rows_losing(connection: Connection, table_name: str, old, new) -> int:
    """Rows whose value would not survive a type change."""
    old_kind, new_kind = type(old.type).__name__, type(new.type).__name__
    if old_kind in ("String", "Text") and new_kind == "String" and old.foreign_key == new.foreign_key:
        col: ColumnClause[Any] = column(old.name)
        statement = select(func.count()).select_from(table(table_name, col)).where(func.length(col) > new.type.length)
        return int(connection.execute(statement).scalar_one())
    return count_values(connection, table_name, old.name)


def _option_steps(connection: Connection, old: TableShape, new: TableShape) -> list[Step]:
    steps = []
    renamed = {spec.name: new.columns[key].name for key, spec in old.columns.items() if key in new.columns}
    for column_name, values in old.options.items():
        current = renamed.get(column_name)
        if current is None or current not in new.options:
            continue
        for value in sorted(set(values) - set(new.options[current])):
            col: ColumnClause[Any] = column(column_name)
            rows = int(
                connection.execute(
                    select(func.count()).select_from(table(old.name, col)).where(col == value)
                ).scalar_one()
            )
            loss = (
                f"{new.component}: option value {value} ('{values[value]}') of '{current}' is used by {rows} row(s)"
                if rows
                else None
            )
            steps.append(
                Step(
                    "remove_option", new.name, column=current, rows=rows, loss=loss, note=f"{value} ('{values[value]}')"
                )
            )
    return steps


def _constraint_steps(old: TableShape, new: TableShape) -> list[Step]:
    def names(shape: TableShape, kind: type) -> set[str]:
        items: list[Any] = [*shape.table.indexes, *shape.table.constraints]
        return {str(getattr(item, "name", "")) for item in items if isinstance(item, kind)}

    steps: list[Step] = []
    for kind, create, drop in (
        (Index, "create_index", "drop_index"),
        (UniqueConstraint, "create_unique", "drop_unique"),
    ):
        old_names, new_names = names(old, kind), names(new, kind)
        steps += [Step(drop, new.name, new_name=n) for n in sorted(old_names - new_names)]  # type: ignore[arg-type]
        steps += [Step(create, new.name, new_name=n) for n in sorted(new_names - old_names)]  # type: ignore[arg-type]
    return steps
