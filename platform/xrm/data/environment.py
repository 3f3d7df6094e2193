"""An environment: one database, its installed model, its tables and its plugin pipeline."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from sqlalchemy import Engine, Table

from xrm.data.access import SYSTEM_USER_ID, AccessControl
from xrm.data.pipeline import Pipeline
from xrm.metadata import Model
from xrm.schema import build_tables, metadata_version, read_model

__all__ = ["Environment", "SYSTEM_USER_ID", "ROOT_BUSINESS_UNIT_ID"]

# Created with the system layer: the root of the business-unit tree (and SYSTEM_USER_ID, the
# principal that acts when no user is given).
ROOT_BUSINESS_UNIT_ID = uuid.UUID("00000000-0000-4000-8000-000000000002")


class Environment:
    """Everything a service needs, built once per metadata version and shared by every request."""

    def __init__(
        self,
        engine: Engine,
        model: Model,
        *,
        pipeline: Pipeline | None = None,
        version: int = 0,
        clock: Callable[[], dt.datetime] | None = None,
        access: AccessControl | None = None,
    ) -> None:
        self.engine = engine
        # record security: None leaves every caller unrestricted (tools, tests of lower layers)
        self.access = access
        self.model = model
        self.tables = build_tables(model)
        self.pipeline = pipeline or Pipeline()
        self.version = version
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    @classmethod
    def load(
        cls,
        engine: Engine,
        *,
        pipeline_factory: Callable[[Model], Pipeline] | None = None,
        access_factory: Callable[[Model], AccessControl] | None = None,
    ) -> Environment:
        """Read the installed model; ``pipeline_factory`` binds plugin steps, ``access_factory`` security."""
        with engine.connect() as connection:
            model = read_model(connection)
            version = metadata_version(connection)
        pipeline = pipeline_factory(model) if pipeline_factory else Pipeline()
        access = access_factory(model) if access_factory else None
        return cls(engine, model, pipeline=pipeline, version=version, access=access)

    def table(self, entity: str) -> Table:
        return self.tables.tables[self.model.entity(entity).logical_name]

    def service(self, user_id: uuid.UUID | None = None):
        """An organization service acting as ``user_id`` (the system user when None)."""
        from xrm.data.service import OrganizationService

        return OrganizationService(self, user_id)
