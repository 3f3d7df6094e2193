"""System users, as the server and the CLI name them: by user name (``domainname``) or id."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from xrm.data import ROOT_BUSINESS_UNIT_ID, Entity, EntityReference, Environment
from xrm.errors import NotFoundError

__all__ = ["create_user", "find_user"]


def create_user(
    environment: Environment,
    domainname: str,
    fullname: str | None = None,
    *,
    acting_user: uuid.UUID | None = None,
) -> uuid.UUID:
    """Create a system user in the root business unit through the organization service."""
    values = {
        "domainname": domainname,
        "fullname": fullname or domainname,
        "businessunitid": EntityReference("businessunit", ROOT_BUSINESS_UNIT_ID),
    }
    return environment.service(acting_user).create(Entity("systemuser", values))


def find_user(environment: Environment, user: str | uuid.UUID) -> uuid.UUID:
    """The id of the user named ``user`` (user name or id); raises NotFoundError."""
    users = environment.table("systemuser")
    try:
        condition = users.c.systemuserid == uuid.UUID(str(user))
    except ValueError:
        condition = users.c.domainname == str(user)
    with environment.engine.connect() as connection:
        found = connection.execute(select(users.c.systemuserid).where(condition)).scalar_one_or_none()
    if found is None:
        raise NotFoundError(f"no user '{user}'")
    return found
