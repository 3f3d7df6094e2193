"""Migration plans: the difference between two compiled models, matched by stable metadata id.

Alembic's autogenerate cannot see renames (it would drop and add), so tables and columns are
matched by the metadata id of their entity, relationship or attribute. Each step knows whether it
would lose data, counted in rows against the live database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Connection, Table, column, func, select, table, text
from sqlalchemy.sql.expression import ColumnClause
from sqlalchemy.types import TypeEngine

from xrm.metadata import Model
from xrm.schema.tables import ColumnSpec, attribute_columns, build_tables

__all__ = ["Action", "Step", "MigrationPlan", "TableShape", "shapes_of"]

Action = Literal[
    "create_table", "rename_table", "archive_table", "drop_table", "add_column", "rename_column",
    "alter_column", "drop_column", "archive_columns", "create_index", "drop_index",
    "create_unique", "drop_unique", "remove_option",
]  # fmt: skip


@dataclass(frozen=True)
class TableShape:
    """A table as the planner sees it: its name and its columns keyed by metadata identity."""

    key: uuid.UUID
    name: str
    component: str
    columns: dict[tuple[uuid.UUID, str], ColumnSpec]
    table: Table
    options: dict[str, dict[int, str]] = field(default_factory=dict)  # choice column -> value -> label


@dataclass
class Step:
    action: Action
    table: str
    column: str | None = None
    new_name: str | None = None
    spec: ColumnSpec | None = None
    rows: int = 0
    loss: str | None = None
    note: str = ""
    widening: bool = False  # alter_column: every old value fits the new type, alter in place

    def describe(self) -> str:
        target = f"{self.table}.{self.column}" if self.column else self.table
        text_ = {
            "create_table": f"create table {self.table}",
            "rename_table": f"rename table {self.table} -> {self.new_name}",
            "archive_table": f"archive table {self.table} as {self.new_name} ({self.rows} rows kept)",
            "drop_table": f"drop table {self.table} ({self.rows} rows)",
            "add_column": f"add column {target}",
            "rename_column": f"rename column {target} -> {self.new_name}",
            "alter_column": f"change type of {target}",
            "drop_column": f"drop column {target} ({self.rows} rows with a value)",
            "archive_columns": f"archive columns {self.table}.({self.column}) as {self.new_name} ({self.rows} rows kept)",
            "create_index": f"create index {self.new_name} on {self.table}",
            "drop_index": f"drop index {self.new_name} on {self.table}",
            "create_unique": f"create unique constraint {self.new_name} on {self.table}",
            "drop_unique": f"drop unique constraint {self.new_name} on {self.table}",
            "remove_option": f"remove option value of {target}",
        }[self.action]
        return f"{text_}{(' ' + self.note) if self.note else ''}"


@dataclass
class MigrationPlan:
    steps: list[Step] = field(default_factory=list)

    @property
    def losses(self) -> list[str]:
        return [step.loss for step in self.steps if step.loss]

    def __bool__(self) -> bool:
        return bool(self.steps)

    def __str__(self) -> str:
        if not self.steps:
            return "no schema changes"
        lines = []
        for step in self.steps:
            marker = "!" if step.loss else ("~" if step.action.startswith(("rename", "alter", "archive")) else "+")
            if step.action.startswith("drop") or step.action == "remove_option":
                marker = "!" if step.loss else "-"
            lines.append(f"  {marker} {step.describe()}")
        return "\n".join(lines)


def shapes_of(model: Model) -> dict[uuid.UUID, TableShape]:
    """Every table of ``model`` keyed by the id of the component it stores."""
    metadata = build_tables(model)
    shapes: dict[uuid.UUID, TableShape] = {}
    for entity in model.entities.values():
        columns: dict[tuple[uuid.UUID, str], ColumnSpec] = {}
        options: dict[str, dict[int, str]] = {}
        for attribute in entity.attributes.values():
            for spec in attribute_columns(model, entity, attribute):
                columns[(attribute.id, spec.suffix)] = spec
            if attribute.type == "choice":
                options[attribute.name] = {option.value: option.label for option in attribute.options}
        shapes[entity.id] = TableShape(
            entity.id,
            entity.logical_name,
            f"entity '{entity.logical_name}'",
            columns,
            metadata.tables[entity.logical_name],
            options,
        )
    for rel in model.relationships.values():
        if rel.kind != "many_to_many" or rel.intersect is None:
            continue
        intersect = metadata.tables[rel.intersect]
        first, second = rel.intersect_columns
        cols = {
            (rel.id, "1"): ColumnSpec(first, intersect.c[first].type),
            (rel.id, "2"): ColumnSpec(second, intersect.c[second].type),
        }
        shapes[rel.id] = TableShape(rel.id, rel.intersect, f"relationship '{rel.name}'", cols, intersect)
    return shapes


def count_rows(connection: Connection, name: str, where: str | None = None) -> int:
    statement = select(func.count()).select_from(table(name))
    if where:
        statement = statement.where(text(where))
    return int(connection.execute(statement).scalar_one())


def count_values(connection: Connection, name: str, column_name: str) -> int:
    col: ColumnClause[Any] = column(column_name)
    return int(
        connection.execute(select(func.count()).select_from(table(name, col)).where(col.is_not(None))).scalar_one()
    )


def type_signature(type_: TypeEngine) -> tuple[Any, ...]:
    return (
        type(type_).__name__,
        getattr(type_, "length", None),
        getattr(type_, "precision", None),
        getattr(type_, "scale", None),
        getattr(type_, "timezone", None),
    )


def is_widening(old: TypeEngine, new: TypeEngine) -> bool:
    """True when every value of ``old`` fits ``new`` unchanged."""
    o, n = type_signature(old), type_signature(new)
    if o == n:
        return True
    if o[0] == n[0] == "String":
        return (n[1] or 10**9) >= (o[1] or 10**9)
    if o[0] == "String" and n[0] == "Text":
        return True
    if o[0] == "Integer" and n[0] == "BigInteger":
        return True
    if o[0] == n[0] == "Numeric":
        return (
            (n[2] or 0) >= (o[2] or 0)
            and (n[3] or 0) >= (o[3] or 0)
            and (n[2] or 0) - (n[3] or 0) >= (o[2] or 0) - (o[3] or 0)
        )
    return False
