"""Platform tables: installed solutions with their published metadata, the metadata version, archives.

A new process rebuilds the whole model from these tables alone, without the solution files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import (
    Connection,
    func,
    insert,
    inspect,
    select,
    update,
)

from xrm.metadata import Model, SolutionDefinition, compile_model
from xrm.metadata.serialization import definition_from_data, definition_to_data
from xrm.schema.platform_tables import archive_table, platform_metadata, solution_table, version_table

__all__ = [
    "InstalledSolution",
    "platform_metadata",
    "solution_table",
    "version_table",
    "archive_table",
    "ensure_platform_tables",
    "is_initialized",
    "read_installed",
    "read_definitions",
    "read_model",
    "save_solution",
    "delete_solution",
    "metadata_version",
    "bump_metadata_version",
    "record_archive",
    "read_archives",
]


@dataclass(frozen=True)
class InstalledSolution:
    name: str
    display_name: str
    version: str
    publisher: str
    installed_on: dt.datetime
    updated_on: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def is_initialized(connection: Connection) -> bool:
    return inspect(connection).has_table(solution_table.name)


def ensure_platform_tables(connection: Connection) -> None:
    platform_metadata.create_all(connection, checkfirst=True)
    if connection.execute(select(version_table.c.version)).first() is None:
        connection.execute(insert(version_table).values(id=1, version=0, updated_on=_now()))


def read_installed(connection: Connection) -> list[InstalledSolution]:
    if not is_initialized(connection):
        return []
    rows = connection.execute(select(solution_table).order_by(solution_table.c.install_order)).mappings()
    return [
        InstalledSolution(
            r["name"], r["display_name"], r["version"], r["publisher"], r["installed_on"], r["updated_on"]
        )
        for r in rows
    ]


def read_definitions(connection: Connection) -> list[SolutionDefinition]:
    if not is_initialized(connection):
        return []
    rows = connection.execute(select(solution_table.c.definition).order_by(solution_table.c.install_order))
    return [definition_from_data(row.definition) for row in rows]


def read_model(connection: Connection) -> Model:
    """The installed model, compiled from the metadata published in the database."""
    return compile_model(read_definitions(connection))


def save_solution(connection: Connection, definition: SolutionDefinition) -> None:
    """Insert or replace the published metadata of one solution."""
    manifest = definition.manifest
    values = {
        "display_name": manifest.display_name,
        "version": manifest.version,
        "publisher": manifest.publisher.name,
        "prefix": manifest.publisher.prefix,
        "definition": definition_to_data(definition),
        "updated_on": _now(),
    }
    exists = connection.execute(select(solution_table.c.name).where(solution_table.c.name == manifest.name)).first()
    if exists:
        connection.execute(update(solution_table).where(solution_table.c.name == manifest.name).values(**values))
    else:
        order = connection.execute(select(func.coalesce(func.max(solution_table.c.install_order), 0))).scalar_one()
        connection.execute(
            insert(solution_table).values(name=manifest.name, install_order=order + 1, installed_on=_now(), **values)
        )


def delete_solution(connection: Connection, name: str) -> None:
    connection.execute(solution_table.delete().where(solution_table.c.name == name))


def metadata_version(connection: Connection) -> int:
    if not is_initialized(connection):
        return 0
    return connection.execute(select(version_table.c.version).where(version_table.c.id == 1)).scalar_one()


def bump_metadata_version(connection: Connection) -> int:
    """Tell every process that the published metadata changed; returns the new version."""
    connection.execute(
        update(version_table)
        .where(version_table.c.id == 1)
        .values(version=version_table.c.version + 1, updated_on=_now())
    )
    return metadata_version(connection)


def record_archive(
    connection: Connection, *, name: str, source: str, solution: SolutionDefinition, columns: list[str], rows: int
) -> None:
    connection.execute(
        insert(archive_table).values(
            name=name, source=source, solution=solution.name, solution_version=solution.version,
            columns=",".join(columns), row_count=rows, archived_on=_now(),
        )
    )  # fmt: skip


def read_archives(connection: Connection) -> list[dict[str, object]]:
    if not is_initialized(connection):
        return []
    return [
        dict(row) for row in connection.execute(select(archive_table).order_by(archive_table.c.archived_on)).mappings()
    ]
