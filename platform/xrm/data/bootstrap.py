"""The rows every environment starts with: the root business unit and the system user."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from xrm.data.environment import ROOT_BUSINESS_UNIT_ID, SYSTEM_USER_ID
from xrm.metadata import Model
from xrm.schema import build_tables

__all__ = ["bootstrap"]


def bootstrap(connection: Connection, model: Model, now) -> None:
    """Create the root business unit and the SYSTEM user if they are missing (idempotent)."""
    if "businessunit" not in model.entities or "systemuser" not in model.entities:
        return
    tables = build_tables(model).tables
    units, users = tables["businessunit"], tables["systemuser"]
    stamps = {"createdon": now, "modifiedon": now, "versionnumber": 1}
    if (
        connection.execute(
            select(units.c.businessunitid).where(units.c.businessunitid == ROOT_BUSINESS_UNIT_ID)
        ).first()
        is None
    ):
        connection.execute(insert(units).values(businessunitid=ROOT_BUSINESS_UNIT_ID, name="Root", **stamps))
    if connection.execute(select(users.c.systemuserid).where(users.c.systemuserid == SYSTEM_USER_ID)).first() is None:
        values = {
            "systemuserid": SYSTEM_USER_ID,
            "fullname": "SYSTEM",
            "domainname": "system",
            "businessunitid": ROOT_BUSINESS_UNIT_ID,
        }
        connection.execute(insert(users).values(**{k: v for k, v in values.items() if k in users.c}, **stamps))
