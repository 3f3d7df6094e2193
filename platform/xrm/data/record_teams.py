"""Record-based access teams: per-record teams made from an entity's access team templates.

As in Dataverse, adding the first user to a record's team for a template creates that access team
(``teamtype`` Access, in the record's owning business unit, named after the record and the
template) and shares the record with it, with the template's rights. Members then reach the
record through the share (where their roles give the privilege at some depth). Removing a member
keeps the team and the share; changing a template's rights later leaves existing teams as they are.

The caller needs ``share`` on the record to change its team and ``read`` to list the members; the
team, membership and share are then made by the platform (unchecked, audited as the caller)
through the ordinary create, associate and share messages, so their plugin steps and cascades run.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from xrm.data.access import SYSTEM_USER_ID
from xrm.data.entity import Entity, EntityReference
from xrm.data.messages import AssociateRequest, CreateRequest, DisassociateRequest, ShareRequest
from xrm.data.reading import retrieve_multiple
from xrm.data.rows import require_row
from xrm.data.sharing import AccessRights
from xrm.errors import NotFoundError
from xrm.metadata.entity import AccessTeamTemplateMetadata
from xrm.query import ConditionExpression, FilterExpression, LinkEntity, OrderExpression, QueryExpression

if TYPE_CHECKING:
    from xrm.data.handlers import MessageHandlers

__all__ = ["RecordTeams", "template_rights", "ACCESS_TEAM", "MEMBERSHIP"]

ACCESS_TEAM = 1  # team.teamtype
MEMBERSHIP = "teammembership_association"


def template_rights(template: AccessTeamTemplateMetadata) -> AccessRights:
    """The share rights of a template's rights names."""
    rights = AccessRights.NONE
    for right in template.rights:
        rights |= AccessRights[right.value.upper()]
    return rights


class RecordTeams:
    """The access teams of records, seen by the caller of ``handlers``."""

    def __init__(self, handlers: MessageHandlers) -> None:
        self.h = handlers

    def template(self, entity: str, name: str) -> AccessTeamTemplateMetadata:
        """The template ``name`` of ``entity``; NOT_FOUND naming both when it has none by that name."""
        templates = self.h.env.model.entity(entity).definition.access_team_templates
        if name not in templates:
            known = ", ".join(sorted(templates)) or "none"
            raise NotFoundError(f"'{entity}' has no access team template '{name}' (templates: {known})")
        return templates[name]

    def add_member(self, target: EntityReference, user_id: uuid.UUID, template: str) -> uuid.UUID:
        """Add a user to the record's team for ``template``, creating and sharing it first; returns the team id."""
        rights = template_rights(self.template(target.logical_name, template))
        self._require(target, "share")
        require_row(self.h.env, self.h.connection, "systemuser", user_id)
        team_id = self._team(target, template)
        platform = self.h.platform()
        if team_id is None:
            team_id = self._create_team(target, template)
            platform.handle(ShareRequest(target, EntityReference("team", team_id), int(rights), "grant"))
        if user_id not in self._members(team_id):
            user = EntityReference("systemuser", user_id)
            platform.handle(AssociateRequest(EntityReference("team", team_id), MEMBERSHIP, (user,)))
        return team_id

    def remove_member(self, target: EntityReference, user_id: uuid.UUID, template: str) -> None:
        """Take a user off the record's team for ``template`` (nothing to do when not a member)."""
        self.template(target.logical_name, template)
        self._require(target, "share")
        team_id = self._team(target, template)
        if team_id is not None and user_id in self._members(team_id):
            user = EntityReference("systemuser", user_id)
            self.h.platform().handle(DisassociateRequest(EntityReference("team", team_id), MEMBERSHIP, (user,)))

    def members(self, target: EntityReference, template: str) -> list[uuid.UUID]:
        """The users on the record's team for ``template`` (none before the first is added)."""
        self.template(target.logical_name, template)
        self._require(target, "read")
        team_id = self._team(target, template)
        return self._members(team_id) if team_id is not None else []

    # --- the platform's own reads and writes ---------------------------------------------------

    def _require(self, target: EntityReference, privilege: str) -> None:
        self.h.require(privilege, target.logical_name, target.id)
        require_row(self.h.env, self.h.connection, target.logical_name, target.id)

    def _team(self, target: EntityReference, template: str) -> uuid.UUID | None:
        conditions = (
            ConditionExpression("regardingobjectid", "eq", (target.id,)),
            ConditionExpression("teamtemplatename", "eq", (template,)),
            ConditionExpression("teamtype", "eq", (ACCESS_TEAM,)),
        )
        query = QueryExpression("team", ("teamid",), FilterExpression(conditions=conditions), top=1)
        found = retrieve_multiple(self.h.env, self.h.connection, query, self.h.user_id).collection.entities
        return found[0].id if found else None

    def _members(self, team_id: uuid.UUID) -> list[uuid.UUID]:
        on_team = FilterExpression(conditions=(ConditionExpression("teamid", "eq", (team_id,)),))
        query = QueryExpression(
            "systemuser",
            ("systemuserid",),
            links=(LinkEntity("teammembership", "systemuserid", "systemuserid", criteria=on_team),),
            orders=(OrderExpression("systemuserid"),),
        )
        records = retrieve_multiple(self.h.env, self.h.connection, query, self.h.user_id).collection.entities
        return [record.id for record in records if record.id is not None]

    def _create_team(self, target: EntityReference, template: str) -> uuid.UUID:
        record = require_row(self.h.env, self.h.connection, target.logical_name, target.id)
        values = {
            "name": f"{target.id}+{template}",
            "teamtype": ACCESS_TEAM,
            "businessunitid": EntityReference("businessunit", record["owningbusinessunit"]),
            "administratorid": EntityReference("systemuser", self.h.user_id or SYSTEM_USER_ID),
            "teamtemplatename": template,
            "regardingobjectid": target.id,
            "regardingobjecttypecode": target.logical_name,
        }
        team = Entity("team", values, id=uuid.uuid4())
        self.h.platform().handle(CreateRequest(team))
        assert team.id is not None
        return team.id
