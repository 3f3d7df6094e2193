"""The base class shared by every metadata model."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

__all__ = ["MetadataModel", "LogicalName", "NAME_PATTERN", "XRM_NAMESPACE", "stable_id"]

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

# Logical names become table and column names: lower case, at most 50 characters so that derived
# names (archive tables, indexes) stay under PostgreSQL's 63-character identifier limit.
LogicalName = Annotated[str, StringConstraints(pattern=NAME_PATTERN.pattern, max_length=50)]

XRM_NAMESPACE = uuid.UUID("6f1d2c6e-4b4f-4d1a-9a51-3c2f0e1b7a10")


def stable_id(*parts: str | uuid.UUID) -> uuid.UUID:
    """A deterministic metadata id for a component that does not declare one."""
    return uuid.uuid5(XRM_NAMESPACE, "/".join(str(part) for part in parts))


class MetadataModel(BaseModel):
    """Frozen, strict: an unknown key in a YAML file is an error, never a silent default."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)
