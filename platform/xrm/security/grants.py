"""Security roles folded into grants: for each entity and privilege, which records it reaches.

A role gives a privilege at a depth relative to whoever holds the role:

- user: records owned by the holder (for a user's own roles also by the owner teams it is in);
- business unit: records whose owning business unit is the holder's;
- parent-child: the holder's business unit and every unit below it;
- organization: every record.

Depths nest: each also reaches what the shallower ones do (a user's own and its teams' records).

Roles held by a user and by the owner teams it belongs to are cumulative (Dataverse's rule).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from xrm.metadata import Model
from xrm.metadata.components import Depth, Privilege, RoleMetadata
from xrm.security.principal import Principal

__all__ = ["Grant", "Grants", "fold_roles", "subtree"]

PRIVILEGES = tuple(p.value for p in Privilege)
DEPTH_RANK = {Depth.NONE: 0, Depth.USER: 1, Depth.BUSINESS_UNIT: 2, Depth.PARENT_CHILD: 3, Depth.ORGANIZATION: 4}


@dataclass
class Grant:
    """The records of one entity one privilege reaches."""

    organization: bool = False
    owners: set[uuid.UUID] = field(default_factory=set)
    business_units: set[uuid.UUID] = field(default_factory=set)
    # the business units of the holders of user-depth grants: on business-owned entities (users,
    # teams, business units), which have no owner, user depth reaches the holder's business unit
    owner_units: set[uuid.UUID] = field(default_factory=set)

    @property
    def any(self) -> bool:
        return self.organization or bool(self.owners) or bool(self.business_units)


@dataclass
class Grants:
    """Every grant of one principal, plus its global privileges; administrators reach everything."""

    administrator: bool = False
    by_entity: dict[tuple[str, str], Grant] = field(default_factory=dict)
    global_privileges: set[str] = field(default_factory=set)
    # the deepest depth held per (entity, privilege): what the principal may hand on in a role
    depths: dict[tuple[str, str], int] = field(default_factory=dict)

    def covers(self, role: RoleMetadata) -> bool:
        """Whether every privilege of ``role`` is held at least as deep (no escalation by assignment)."""
        if self.administrator:
            return True
        if role.administrator or not {getattr(p, "value", p) for p in role.global_privileges} <= self.global_privileges:
            return False
        return all(
            DEPTH_RANK[getattr(entry, privilege)] <= self.depths.get((entry.entity, privilege), 0)
            for entry in role.privileges
            for privilege in PRIVILEGES
        )

    def get(self, entity: str, privilege: str) -> Grant:
        if self.administrator:
            return Grant(organization=True)
        return self.by_entity.get((entity, privilege)) or Grant()


def subtree(tree: Mapping[uuid.UUID, uuid.UUID | None], root: uuid.UUID) -> set[uuid.UUID]:
    """``root`` and every business unit below it."""
    children: dict[uuid.UUID | None, list[uuid.UUID]] = {}
    for unit, parent in tree.items():
        children.setdefault(parent, []).append(unit)
    found, pending = set(), [root]
    while pending:
        unit = pending.pop()
        if unit not in found:
            found.add(unit)
            pending.extend(children.get(unit, ()))
    return found


def _roles(model: Model, names: Iterable[str]) -> list[RoleMetadata]:
    found = []
    for name in names:
        component = model.roles.get(name)
        if component is not None and isinstance(component.metadata, RoleMetadata):
            found.append(component.metadata)
    return found


def fold_roles(model: Model, principal: Principal, tree: Mapping[uuid.UUID, uuid.UUID | None]) -> Grants:
    """The grants of ``principal``: its own roles and those of its owner teams, cumulated."""
    grants = Grants()
    owner_teams = {t.team_id: t.business_unit for t in principal.teams if t.owner_team}
    holders: list[tuple[set[uuid.UUID], uuid.UUID, list[RoleMetadata]]] = [
        ({principal.user_id, *owner_teams}, principal.business_unit, _roles(model, principal.user_roles))
    ]
    for team_id, names in principal.team_roles.items():
        holders.append(({team_id}, owner_teams[team_id], _roles(model, names)))
    subtrees: dict[uuid.UUID, set[uuid.UUID]] = {}
    for owners, unit, roles in holders:
        for role in roles:
            grants.global_privileges.update(getattr(p, "value", p) for p in role.global_privileges)
            if role.administrator:
                grants.administrator = True
                continue
            for entry in role.privileges:
                for privilege in PRIVILEGES:
                    depth: Depth = getattr(entry, privilege)
                    if depth is Depth.NONE:
                        continue
                    grant = grants.by_entity.setdefault((entry.entity, privilege), Grant())
                    key = (entry.entity, privilege)
                    grants.depths[key] = max(grants.depths.get(key, 0), DEPTH_RANK[depth])
                    grant.owners |= owners  # depths nest: every depth reaches what user depth does
                    grant.owner_units.add(unit)
                    if depth is Depth.ORGANIZATION:
                        grant.organization = True
                    elif depth is Depth.PARENT_CHILD:
                        if unit not in subtrees:
                            subtrees[unit] = subtree(tree, unit)
                        grant.business_units |= subtrees[unit]
                    elif depth is Depth.BUSINESS_UNIT:
                        grant.business_units.add(unit)
    return grants
