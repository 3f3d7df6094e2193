"""Field-level security: which secured attributes a principal may read, create and update.

Attributes marked ``secured`` are readable and writable only through a field security profile
held by the user or one of its teams; administrators hold every field. Permissions of several
profiles add up; an attribute no profile grants reads as null and cannot be written (Dataverse's
field security). Operations are ``read``, ``create`` and ``update``.
"""

from __future__ import annotations

from collections.abc import Iterable

from xrm.errors import AccessDeniedError
from xrm.metadata import Model
from xrm.metadata.components import FieldSecurityProfileMetadata

__all__ = ["FieldAccess", "OPERATIONS"]

OPERATIONS = ("read", "create", "update")


class FieldAccess:
    """The field permissions of one principal."""

    def __init__(self, model: Model, profiles: frozenset[str], *, administrator: bool) -> None:
        self.model = model
        self.profiles = profiles
        self.administrator = administrator
        self._hidden: dict[str, frozenset[str]] = {}
        self._allowed: dict[tuple[str, str], frozenset[str]] = {}

    def secured(self, entity: str) -> frozenset[str]:
        meta = self.model.entity(entity)
        return frozenset(name for name, a in meta.attributes.items() if a.metadata.secured)

    def allowed(self, entity: str, operation: str) -> frozenset[str]:
        """Secured attributes of ``entity`` the principal's profiles allow for ``operation``."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown field operation '{operation}' (expected one of {', '.join(OPERATIONS)})")
        if self.administrator:
            return self.secured(entity)
        key = (entity, operation)
        if key not in self._allowed:
            granted = {
                permission.attribute
                for profile in self._profiles()
                for permission in profile.permissions
                if permission.entity == entity and getattr(permission, operation)
            }
            self._allowed[key] = frozenset(granted) & self.secured(entity)
        return self._allowed[key]

    def _profiles(self) -> list[FieldSecurityProfileMetadata]:
        """The installed profiles the principal holds (a profile no longer installed grants nothing)."""
        found = []
        for name in sorted(self.profiles):
            component = self.model.field_profiles.get(name)
            if component is not None and isinstance(component.metadata, FieldSecurityProfileMetadata):
                found.append(component.metadata)
        return found

    def hidden(self, entity: str) -> frozenset[str]:
        if entity not in self._hidden:
            self._hidden[entity] = self.secured(entity) - self.allowed(entity, "read")
        return self._hidden[entity]

    def require(self, entity: str, attributes: Iterable[str], operation: str) -> None:
        """Refuse (FORBIDDEN, naming the attributes) writing secured attributes without the permission."""
        refused = sorted((set(attributes) & self.secured(entity)) - self.allowed(entity, operation))
        if refused:
            names = ", ".join(f"{entity}.{name}" for name in refused)
            raise AccessDeniedError(f"no field security profile allows {operation} of {names} for this user")
