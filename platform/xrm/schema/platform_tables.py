"""Platform tables: everything xrm stores besides entity rows.

Names start with ``_xrm_``; logical names cannot start with ``_``, so no entity collides with them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
)

from xrm.schema.names import PLATFORM_PREFIX

__all__ = [
    "platform_metadata",
    "solution_table",
    "version_table",
    "archive_table",
    "sequence_table",
    "audit_table",
    "job_table",
    "share_table",
    "token_table",
    "role_member_table",
    "field_profile_member_table",
]

platform_metadata = MetaData()

solution_table = Table(
    f"{PLATFORM_PREFIX}solution",
    platform_metadata,
    Column("name", String(50), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("version", String(40), nullable=False),
    Column("publisher", String(200), nullable=False),
    Column("prefix", String(10), nullable=False),
    Column("install_order", Integer, nullable=False),
    Column("installed_on", DateTime(timezone=True), nullable=False),
    Column("updated_on", DateTime(timezone=True), nullable=False),
    Column("definition", JSON, nullable=False),
)

version_table = Table(
    f"{PLATFORM_PREFIX}metadata_version",
    platform_metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_on", DateTime(timezone=True), nullable=False),
)

archive_table = Table(
    f"{PLATFORM_PREFIX}archive",
    platform_metadata,
    Column("name", String(63), primary_key=True),
    Column("source", String(63), nullable=False),
    Column("solution", String(50), nullable=False),
    Column("solution_version", String(40), nullable=False),
    Column("columns", Text, nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("archived_on", DateTime(timezone=True), nullable=False),
)

sequence_table = Table(
    f"{PLATFORM_PREFIX}sequence",
    platform_metadata,
    Column("entity", String(50), primary_key=True),
    Column("attribute", String(50), primary_key=True),
    Column("next_value", BigInteger, nullable=False),
)

audit_table = Table(
    f"{PLATFORM_PREFIX}audit",
    platform_metadata,
    Column("auditid", Uuid, primary_key=True),
    Column("entity", String(50), nullable=False),
    Column("recordid", Uuid, nullable=False),
    Column("operation", String(30), nullable=False),
    Column("userid", Uuid),
    Column("createdon", DateTime(timezone=True), nullable=False),
    Column("changes", JSON, nullable=False),
    Index("ix__xrm_audit_record", "entity", "recordid"),
)

job_table = Table(
    f"{PLATFORM_PREFIX}job",
    platform_metadata,
    Column("jobid", Uuid, primary_key=True),
    Column("step", String(200), nullable=False),
    Column("message", String(100), nullable=False),
    Column("entity", String(50)),
    Column("recordid", Uuid),
    Column("context", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("next_run_at", DateTime(timezone=True), nullable=False),
    Column("locked_by", String(100)),
    Column("locked_until", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("createdon", DateTime(timezone=True), nullable=False),
    Column("modifiedon", DateTime(timezone=True), nullable=False),
    Index("ix__xrm_job_due", "status", "next_run_at"),
)

share_table = Table(
    f"{PLATFORM_PREFIX}share",
    platform_metadata,
    Column("entity", String(50), primary_key=True),
    Column("objectid", Uuid, primary_key=True),
    Column("principalid", Uuid, primary_key=True),
    Column("principaltype", String(50), nullable=False),
    Column("access_rights", Integer, nullable=False),
    Column("inherited_rights", Integer, nullable=False),
    Column("modifiedon", DateTime(timezone=True), nullable=False),
    Index("ix__xrm_share_principal", "principalid", "entity"),
)

# API keys: a token is shown once when issued; only its SHA-256 digest is kept.
token_table = Table(
    f"{PLATFORM_PREFIX}token",
    platform_metadata,
    Column("id", Uuid, primary_key=True),
    Column("systemuserid", Uuid, nullable=False),
    Column("name", String(200), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("revoked", DateTime(timezone=True)),
    Index("ix__xrm_token_user", "systemuserid"),
)

# Security roles held by users and owner teams (roles themselves are metadata, keyed by name).
role_member_table = Table(
    f"{PLATFORM_PREFIX}role_member",
    platform_metadata,
    Column("principalid", Uuid, primary_key=True),
    Column("role", String(100), primary_key=True),
    Column("principaltype", String(50), nullable=False),
    Column("createdon", DateTime(timezone=True), nullable=False),
    Index("ix__xrm_role_member_role", "role"),
)

# Field security profiles (metadata, keyed by name) held by users and teams.
field_profile_member_table = Table(
    f"{PLATFORM_PREFIX}field_profile_member",
    platform_metadata,
    Column("principalid", Uuid, primary_key=True),
    Column("profile", String(100), primary_key=True),
    Column("principaltype", String(50), nullable=False),
    Column("createdon", DateTime(timezone=True), nullable=False),
)
