"""Install, upgrade and uninstall solutions: metadata validated, schema migrated, all in one transaction."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy import Connection, Engine

from xrm.data.bootstrap import bootstrap
from xrm.errors import MetadataError, SolutionError
from xrm.metadata import SYSTEM_SOLUTION, Model, SolutionDefinition, compile_model, parse_version
from xrm.metadata.loader import read_solution
from xrm.metadata.serialization import write_solution_folder
from xrm.schema import MigrationPlan, apply_plan, migration_transaction, plan_migration, store
from xrm.solution.discovery import resolve_source, system_layer_path

__all__ = ["SolutionManager", "OperationResult"]

log = logging.getLogger(__name__)

Operation = Literal["install", "upgrade", "uninstall"]


@dataclass
class OperationResult:
    """What an install, upgrade or uninstall did."""

    operation: Operation
    solution: str
    version: str
    plan: MigrationPlan
    archives: list[str] = field(default_factory=list)
    previous_version: str | None = None

    def summary(self) -> str:
        verb = {"install": "installed", "upgrade": "upgraded", "uninstall": "uninstalled"}[self.operation]
        head = f"{verb} {self.solution} {self.version}"
        if self.previous_version:
            head += f" (was {self.previous_version})"
        lines = [head, str(self.plan)]
        if self.archives:
            lines.append("data kept in archive tables: " + ", ".join(self.archives))
        return "\n".join(lines)


def load_definition(source: str | Path) -> SolutionDefinition:
    definition, issues = read_solution(resolve_source(source))
    if issues or definition is None:
        raise MetadataError(issues)
    return definition


class SolutionManager:
    """The solution lifecycle on one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- reading -------------------------------------------------------------------------------

    def installed(self) -> list[store.InstalledSolution]:
        with self.engine.connect() as connection:
            return store.read_installed(connection)

    def model(self) -> Model:
        """The installed model, read from the database alone."""
        with self.engine.connect() as connection:
            return store.read_model(connection)

    def validate(self, source: str | Path) -> SolutionDefinition:
        """Check a solution folder against the installed solutions (or the system layer on an empty database).

        Raises :class:`MetadataError` with every problem: file-level and cross-reference ones together.
        """
        definition, issues = read_solution(resolve_source(source))
        if definition is not None:
            with self.engine.connect() as connection:
                base = self._base_definitions(connection, definition.name)
            try:
                compile_model([*base, definition])
            except MetadataError as error:
                issues = issues + error.issues
        if issues or definition is None:
            raise MetadataError(issues)
        return definition

    def diff(self, source: str | Path, *, uninstall: bool = False) -> MigrationPlan:
        """The plan an install/upgrade of ``source`` (or an uninstall of that name) would run; nothing changes."""
        with migration_transaction(self.engine, commit=False) as connection:
            store.ensure_platform_tables(connection)
            definitions = store.read_definitions(connection)
            if uninstall:
                name = str(source)
                self._require_installed(definitions, name)
                new_defs = [d for d in definitions if d.name != name]
            else:
                definition = self.validate(source)
                new_defs = self._with_system(definitions, definition)
            return plan_migration(
                connection, compile_model(definitions), compile_model(new_defs), archive_removed=uninstall
            )

    # --- changing ------------------------------------------------------------------------------

    def initialize(self) -> OperationResult | None:
        """Create the platform tables and install the system layer if it is missing."""
        with self.engine.connect() as connection:
            if any(s.name == SYSTEM_SOLUTION for s in store.read_installed(connection)):
                return None
        return self.install(system_layer_path())

    def install(self, source: str | Path, *, allow_data_loss: bool = False) -> OperationResult:
        definition = load_definition(source)
        with migration_transaction(self.engine) as connection:
            store.ensure_platform_tables(connection)
            definitions = store.read_definitions(connection)
            existing = next((d for d in definitions if d.name == definition.name), None)
            if existing is not None:
                raise SolutionError(
                    f"solution '{definition.name}' {existing.version} is already installed; use 'xrm solution upgrade'"
                )
            new_defs = self._with_system(definitions, definition)
            result = self._migrate(connection, "install", definition, definitions, new_defs, allow_data_loss)
        log.info("installed %s %s", definition.name, definition.version)
        return result

    def upgrade(self, source: str | Path, *, allow_data_loss: bool = False) -> OperationResult:
        definition = load_definition(source)
        with migration_transaction(self.engine) as connection:
            store.ensure_platform_tables(connection)
            definitions = store.read_definitions(connection)
            current = self._require_installed(definitions, definition.name)
            if parse_version(definition.version) <= parse_version(current.version):
                raise SolutionError(
                    f"solution '{definition.name}': version {definition.version} is not newer than the installed {current.version}"
                )
            new_defs = [definition if d.name == definition.name else d for d in definitions]
            result = self._migrate(connection, "upgrade", definition, definitions, new_defs, allow_data_loss)
            result.previous_version = current.version
        return result

    def uninstall(self, name: str, *, keep_data: bool = True, allow_data_loss: bool = False) -> OperationResult:
        """Remove a solution's layer. Its tables and columns go to archive tables unless ``keep_data`` is off."""
        if name == SYSTEM_SOLUTION:
            raise SolutionError("the system layer cannot be uninstalled")
        with migration_transaction(self.engine) as connection:
            store.ensure_platform_tables(connection)
            definitions = store.read_definitions(connection)
            current = self._require_installed(definitions, name)
            dependents = [d.name for d in definitions if any(dep.name == name for dep in d.manifest.dependencies)]
            if dependents:
                raise SolutionError(f"cannot uninstall '{name}': {', '.join(dependents)} depend(s) on it")
            new_defs = [d for d in definitions if d.name != name]
            old_model, new_model = compile_model(definitions), compile_model(new_defs)
            plan = plan_migration(connection, old_model, new_model, archive_removed=keep_data)
            archived = apply_plan(connection, plan, old_model, new_model, allow_data_loss=allow_data_loss)
            for step in archived:
                columns = (step.column or "*").split(",")
                store.record_archive(
                    connection,
                    name=str(step.new_name),
                    source=step.table,
                    solution=current,
                    columns=columns,
                    rows=step.rows,
                )
            store.delete_solution(connection, name)
            store.bump_metadata_version(connection)
        return OperationResult("uninstall", name, current.version, plan, [str(s.new_name) for s in archived])

    def export(self, name: str, folder: Path) -> list[Path]:
        """Write the published metadata of an installed solution as a solution folder."""
        with self.engine.connect() as connection:
            definitions = store.read_definitions(connection)
        return write_solution_folder(self._require_installed(definitions, name), folder)

    # --- internals -----------------------------------------------------------------------------

    def _migrate(
        self,
        connection: Connection,
        operation: Operation,
        definition: SolutionDefinition,
        old_defs: list[SolutionDefinition],
        new_defs: list[SolutionDefinition],
        allow_data_loss: bool,
    ) -> OperationResult:
        old_model, new_model = compile_model(old_defs), compile_model(new_defs)
        plan = plan_migration(connection, old_model, new_model)
        apply_plan(connection, plan, old_model, new_model, allow_data_loss=allow_data_loss)
        for installed in new_defs:
            if installed.name not in {d.name for d in old_defs} or installed is definition:
                store.save_solution(connection, installed)
        bootstrap(connection, new_model, dt.datetime.now(dt.UTC))
        store.bump_metadata_version(connection)
        return OperationResult(operation, definition.name, definition.version, plan)

    def _with_system(
        self, definitions: list[SolutionDefinition], definition: SolutionDefinition
    ) -> list[SolutionDefinition]:
        """Installed definitions plus ``definition``; the system layer comes along on an empty database."""
        if definition.name != SYSTEM_SOLUTION and not any(d.name == SYSTEM_SOLUTION for d in definitions):
            return [*definitions, load_definition(system_layer_path()), definition]
        return [*definitions, definition]

    def _base_definitions(self, connection: Connection, name: str) -> list[SolutionDefinition]:
        definitions = [d for d in store.read_definitions(connection) if d.name != name]
        if name != SYSTEM_SOLUTION and not any(d.name == SYSTEM_SOLUTION for d in definitions):
            definitions.insert(0, load_definition(system_layer_path()))
        return definitions

    @staticmethod
    def _require_installed(definitions: list[SolutionDefinition], name: str) -> SolutionDefinition:
        for definition in definitions:
            if definition.name == name:
                return definition
        raise SolutionError(f"solution '{name}' is not installed")
