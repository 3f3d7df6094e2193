"""Record security: business units, teams, security roles, sharing and field security as SQL.

:class:`RoleBasedAccess` is the environment's access control (wired by
:func:`xrm.plugin.open_environment`); the service asks it for the calling user's policy before
every message and restricts every read with the policy's SQL predicate.
"""

from xrm.security.control import RoleBasedAccess
from xrm.security.fields import FieldAccess
from xrm.security.grants import Grant, Grants, fold_roles
from xrm.security.policy import RoleBasedPolicy
from xrm.security.principal import Principal, load_principal

__all__ = [
    "FieldAccess",
    "Grant",
    "Grants",
    "Principal",
    "RoleBasedAccess",
    "RoleBasedPolicy",
    "fold_roles",
    "load_principal",
]
