"""The environment's :class:`~xrm.data.access.AccessControl`: builds a user's policy."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection

from xrm.data import Environment
from xrm.metadata import Model
from xrm.security.fields import FieldAccess
from xrm.security.grants import fold_roles
from xrm.security.policy import RoleBasedPolicy
from xrm.security.principal import business_unit_tree, load_principal

__all__ = ["RoleBasedAccess"]


class RoleBasedAccess:
    """Security roles, business units, teams and shares, for one installed model."""

    def __init__(self, model: Model) -> None:
        self.model = model

    def policy(self, environment: Environment, connection: Connection, user_id: uuid.UUID) -> RoleBasedPolicy:
        principal = load_principal(connection, environment, user_id)
        grants = fold_roles(self.model, principal, business_unit_tree(connection, environment))
        fields = FieldAccess(self.model, principal.field_profiles, administrator=grants.administrator)
        return RoleBasedPolicy(environment, principal, grants, fields)
