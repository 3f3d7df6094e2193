"""Role-based record security as SQL: the :class:`~xrm.data.access.AccessPolicy` of one user.

Reads: a row is readable when a grant reaches it (owner, owning business unit, organization) or
when it is shared with the user or one of its teams with the right bit set (directly or inherited
from a parent). Shares only count where the user holds the privilege at some depth (Dataverse's
rule). Organization-owned entities have no owner: any depth reaches every row. Queue items of a
private queue reach only its owner and members (administrators excepted).

Record checks run the same predicate in one ``SELECT`` on the record, so the decision is the one
the database makes for reads.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Connection, FromClause, and_, exists, false, or_, select, true

from xrm.data import Environment
from xrm.data.entity import EntityReference
from xrm.data.sharing import AccessRights
from xrm.errors import AccessDeniedError, NotFoundError
from xrm.metadata.components import RoleMetadata
from xrm.metadata.entity import Ownership
from xrm.schema.platform_tables import share_table
from xrm.security.fields import FieldAccess
from xrm.security.grants import Grant, Grants
from xrm.security.principal import Principal
from xrm.security.queues import queue_item_filter

__all__ = ["RoleBasedPolicy"]

SHARE_BITS = {
    "read": AccessRights.READ,
    "write": AccessRights.WRITE,
    "delete": AccessRights.DELETE,
    "append": AccessRights.APPEND,
    "append_to": AccessRights.APPEND_TO,
    "assign": AccessRights.ASSIGN,
    "share": AccessRights.SHARE,
}


class RoleBasedPolicy:
    """What ``principal`` may do under ``grants``, as SQL predicates and checks."""

    def __init__(self, environment: Environment, principal: Principal, grants: Grants, fields: FieldAccess) -> None:
        self.environment = environment
        self.principal = principal
        self.grants = grants
        self.fields = fields
        self.user_id = principal.user_id

    # --- reads ---------------------------------------------------------------------------------

    def read_filter(self, entity: str, table: FromClause) -> ColumnElement[bool] | None:
        return self.filter_for("read", entity, table)

    def filter_for(self, privilege: str, entity: str, table: FromClause) -> ColumnElement[bool] | None:
        clause = self._granted(privilege, entity, table)
        if entity != "queueitem" or self.grants.administrator or "queue" not in self.environment.model.entities:
            return clause
        private = queue_item_filter(self.environment, self.principal, table)  # members only, any privilege
        return private if clause is None else and_(clause, private)

    def _granted(self, privilege: str, entity: str, table: FromClause) -> ColumnElement[bool] | None:
        if entity not in self.environment.model.entities:
            return None  # an N:N intersect table: the records on both sides are filtered themselves
        grant = self.grants.get(entity, privilege)
        if grant.organization:
            return None
        if not grant.any:
            return false()
        unit_column = self._unit_column(entity, table)
        if unit_column is not None:  # business-owned: depth is relative to the record's business unit
            return unit_column.in_(sorted(grant.business_units | grant.owner_units, key=str))
        if not self._owned(entity):
            return None  # organization-owned: any depth reaches every row
        columns = table.c
        reach: list[ColumnElement[bool]] = []
        if grant.owners:
            reach.append(columns.ownerid.in_(sorted(grant.owners, key=str)))
        if grant.business_units and "owningbusinessunit" in columns:
            reach.append(columns.owningbusinessunit.in_(sorted(grant.business_units, key=str)))
        reach.append(self._shared(entity, table, SHARE_BITS[privilege]))
        return or_(*reach)

    def _unit_column(self, entity: str, table: FromClause) -> ColumnElement[Any] | None:
        """The business unit of a business-owned record (a business unit itself, users, teams)."""
        meta = self.environment.model.entity(entity)
        if meta.ownership is Ownership.USER:
            return None
        if entity == "businessunit":
            return table.c[meta.primary_id]
        attribute = meta.attributes.get("businessunitid")
        if attribute is not None and getattr(attribute.metadata, "target", None) == "businessunit":
            return table.c.businessunitid
        return None

    def _owned(self, entity: str) -> bool:
        meta = self.environment.model.entity(entity)
        return meta.ownership is Ownership.USER and "ownerid" in meta.attributes

    def _shared(self, entity: str, table: FromClause, bit: int) -> ColumnElement[bool]:
        shares = share_table.c
        primary_id = self.environment.model.entity(entity).primary_id
        rights = shares.access_rights.op("|")(shares.inherited_rights)
        return exists(
            select(shares.objectid).where(
                shares.entity == entity,
                shares.objectid == table.c[primary_id],
                shares.principalid.in_(self.principal.principal_ids),
                rights.op("&")(int(bit)) != 0,
            )
        )

    # --- checks --------------------------------------------------------------------------------

    def require_privilege(self, privilege: str, entity: str) -> None:
        if not self.grants.get(entity, privilege).any:
            raise AccessDeniedError(f"user {self.user_id} lacks the '{privilege}' privilege on '{entity}'")

    def require_record(self, connection: Connection, privilege: str, entity: str, record_id: uuid.UUID) -> None:
        self.require_privilege(privilege, entity)
        if privilege != "read" and not self._holds(connection, "read", entity, record_id):
            raise NotFoundError(f"{entity} with id {record_id} does not exist")
        if not self._holds(connection, privilege, entity, record_id):
            if privilege == "read":
                raise NotFoundError(f"{entity} with id {record_id} does not exist")
            raise AccessDeniedError(
                f"user {self.user_id} lacks the '{privilege}' privilege on {entity} {record_id} "
                "(its depth does not reach the record's owner and it is not shared with that right)"
            )

    def _holds(self, connection: Connection, privilege: str, entity: str, record_id: uuid.UUID) -> bool:
        table = self.environment.table(entity)
        primary_id = table.c[self.environment.model.entity(entity).primary_id]
        clause = self.filter_for(privilege, entity, table)
        statement = select(primary_id).where(primary_id == record_id, clause if clause is not None else true())
        return connection.execute(statement).first() is not None

    def require_create(self, entity: str, owner: EntityReference | None, business_unit: uuid.UUID | None) -> None:
        self.require_privilege("create", entity)
        grant = self.grants.get(entity, "create")
        if grant.organization or not self._owned(entity) or self._reaches(grant, owner, business_unit):
            return
        raise AccessDeniedError(
            f"user {self.user_id} lacks the 'create' privilege on '{entity}' for records owned by "
            f"{owner.logical_name if owner else 'nobody'} {owner.id if owner else ''}".rstrip()
        )

    @staticmethod
    def _reaches(grant: Grant, owner: EntityReference | None, business_unit: uuid.UUID | None) -> bool:
        return (owner is not None and owner.id in grant.owners) or (
            business_unit is not None and business_unit in grant.business_units
        )

    def require_assignable(self, role: RoleMetadata) -> None:
        if not self.grants.covers(role):
            raise AccessDeniedError(
                f"user {self.user_id} cannot assign role '{role.name}': it holds privileges the user does not "
                "hold at the same depth (a role can only be handed on by someone who has all of it)"
            )

    def require_global(self, privilege: str) -> None:
        if not (self.grants.administrator or privilege in self.grants.global_privileges):
            raise AccessDeniedError(f"user {self.user_id} lacks the global privilege '{privilege}'")

    # --- field security ------------------------------------------------------------------------

    def hidden_attributes(self, entity: str) -> frozenset[str]:
        return self.fields.hidden(entity)

    def require_fields(self, entity: str, attributes: Iterable[str], operation: str) -> None:
        self.fields.require(entity, attributes, operation)
