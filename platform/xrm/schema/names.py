"""Names of constraints, indexes and platform tables, kept under PostgreSQL's 63-character limit."""

from __future__ import annotations

import hashlib

__all__ = ["MAX_IDENTIFIER", "constraint_name", "PLATFORM_PREFIX"]

MAX_IDENTIFIER = 63
PLATFORM_PREFIX = "_xrm_"  # platform tables; logical names cannot start with '_'


def constraint_name(kind: str, table: str, *parts: str) -> str:
    """``<kind>_<table>_<parts>``; a long name keeps its start and ends in a short hash."""
    name = "_".join((kind, table, *parts))
    if len(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_IDENTIFIER - 9]}_{digest}"
