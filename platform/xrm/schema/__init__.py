"""Schema: the compiled model as tables, migration plans, and the metadata store."""

from xrm.schema.engine import database_url, foreign_keys_off, is_sqlite, open_engine
from xrm.schema.migrator import apply_plan, migration_transaction, verify_schema
from xrm.schema.plan import MigrationPlan, Step
from xrm.schema.planner import plan_migration
from xrm.schema.store import InstalledSolution, metadata_version, read_installed, read_model
from xrm.schema.tables import attribute_columns, build_tables

__all__ = [
    "InstalledSolution",
    "MigrationPlan",
    "Step",
    "apply_plan",
    "attribute_columns",
    "build_tables",
    "database_url",
    "foreign_keys_off",
    "is_sqlite",
    "metadata_version",
    "migration_transaction",
    "open_engine",
    "plan_migration",
    "read_installed",
    "read_model",
    "verify_schema",
]
