"""Records as the service sees them: :class:`Entity` and :class:`EntityReference`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

__all__ = ["EntityReference", "Entity"]


class EntityReference:
    """A pointer to one record: its entity's logical name and its id (``name`` is informational).

    Immutable and hashable; equal when entity and id are equal. The id may be given as a string.
    """

    __slots__ = ("logical_name", "id", "name")

    logical_name: str
    id: uuid.UUID
    name: str | None

    def __init__(self, logical_name: str, id: uuid.UUID | str, name: str | None = None) -> None:
        object.__setattr__(self, "logical_name", logical_name)
        object.__setattr__(self, "id", id if isinstance(id, uuid.UUID) else uuid.UUID(str(id)))
        object.__setattr__(self, "name", name)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("EntityReference is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EntityReference):
            return NotImplemented
        return (self.logical_name, self.id) == (other.logical_name, other.id)

    def __hash__(self) -> int:
        return hash((self.logical_name, self.id))

    def __repr__(self) -> str:
        return f"EntityReference({self.logical_name!r}, {str(self.id)!r})"


class Entity(MutableMapping[str, Any]):
    """A record: a logical name, an optional id and attribute values.

    ``Entity("account", name="Contoso")`` or ``Entity("account", {"name": "Contoso"}, id=...)``.
    Lookup values are :class:`EntityReference`; choices are ints; money and decimals ``Decimal``.
    """

    __slots__ = ("logical_name", "id", "_values")

    def __init__(
        self,
        logical_name: str,
        values: Mapping[str, Any] | None = None,
        *,
        id: uuid.UUID | str | None = None,
        **more: Any,
    ) -> None:
        self.logical_name = logical_name
        self.id = uuid.UUID(str(id)) if id is not None else None
        self._values: dict[str, Any] = {**(values or {}), **more}

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._values[key] = value

    def __delitem__(self, key: str) -> None:
        del self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Entity({self.logical_name!r}, {self._values!r}, id={self.id!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Entity):
            return NotImplemented
        return (self.logical_name, self.id, self._values) == (other.logical_name, other.id, other._values)

    __hash__ = None  # type: ignore[assignment]

    def to_reference(self) -> EntityReference:
        if self.id is None:
            raise ValueError(f"this {self.logical_name} has no id yet")
        return EntityReference(self.logical_name, self.id)

    def copy(self) -> Entity:
        return Entity(self.logical_name, dict(self._values), id=self.id)
