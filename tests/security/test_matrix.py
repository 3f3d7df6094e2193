"""Record security, message by message: depth x owner location x message against Dataverse's rules.

The business units are root -> division -> team_unit, plus a sibling branch root -> sibling ->
sibling_unit. Every actor is a user of ``division`` holding one role (one profile below) and a
member of the owner team ``mine`` (in ``sibling``). Each case creates a fresh record owned at one
location, runs one message as the actor, and checks the outcome against a reference computed from
the small tables in this module:

- a depth reaches the records owned by the holder and its owner teams (user), by anyone in its
  business unit (business_unit), in its unit's subtree (parent_child), or anywhere (organization);
  depths nest, so a deeper one reaches everything a shallower one does;
- a message needs its privileges in order; lacking one entirely is FORBIDDEN, a record the actor
  cannot read is NOT_FOUND (its existence is not revealed), a readable record the privilege's
  depth does not reach is FORBIDDEN.

The messages: retrieve, retrieve_multiple, update, set_state, delete, assign, share, setting a
lookup (append on the record, append_to on its target, both ways round) and an N:N associate.
Allowed messages must take effect; refused ones must leave the record as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from org_chart import OrgChart, sec_environment
from sqlalchemy import select

from databases import BACKENDS
from xrm.data import Entity, EntityReference
from xrm.data.sharing import AccessRights
from xrm.errors import AccessDeniedError, NotFoundError, ValidationError
from xrm.query import ConditionExpression, FilterExpression, QueryExpression

ALLOWED, NOT_FOUND, FORBIDDEN = "allowed", "not found", "forbidden"
DEPTHS = ("user", "business_unit", "parent_child", "organization")
ALL = ("create", "read", "write", "delete", "append", "append_to", "assign", "share")

# profile -> (role, privilege -> depth); a privilege left out is not held at all
PROFILES: dict[str, tuple[str, dict[str, str]]] = {
    "user_level": ("sec_user_level", dict.fromkeys(ALL, "user")),
    "bu_level": ("sec_bu_level", dict.fromkeys(ALL, "business_unit")),
    "parent_child_level": ("sec_parent_child_level", dict.fromkeys(ALL, "parent_child")),
    "org_level": ("sec_org_level", dict.fromkeys(ALL, "organization")),
    "reader": ("sec_reader", {"read": "organization"}),
    "org_reader_user_writer": ("sec_org_reader_user_writer", {**dict.fromkeys(ALL, "user"), "read": "organization"}),
}

# where a record's owner sits, seen from an actor in ``division`` (a member of team ``mine``):
# the owner principal and the shallowest depth that reaches its records
LOCATIONS: dict[str, tuple[str | None, str]] = {
    "self": (None, "user"),  # the actor itself
    "own_team": ("mine", "user"),  # an owner team of the actor, in another branch
    "peer": ("peer", "business_unit"),  # another user of division
    "division_team": ("division_team", "business_unit"),  # an owner team of division, actor not a member
    "child": ("child", "parent_child"),  # a user of team_unit, below division
    "parent": ("parent", "organization"),  # a user of root, above division
    "sibling": ("sibling", "organization"),  # a user of the sibling branch
    "cousin": ("cousin", "organization"),  # a user below the sibling branch
}

# message -> the privileges it needs on (the record at the location), (the actor's own record);
# those on the actor's own record are checked first
MESSAGES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "retrieve": (("read",), ()),
    "retrieve_multiple": (("read",), ()),
    "update": (("write",), ()),
    "set_state": (("write",), ()),
    "delete": (("delete",), ()),
    "assign": (("assign",), ()),
    "share": (("share",), ()),
    # the record at the location gets a lookup to a related record of the actor's
    "append": (("write", "append"), ()),
    # a record of the actor's gets a lookup to a related record at the location (associate, 1:N)
    "append_to": (("append_to",), ("write", "append")),
    # the record at the location and a related record of the actor's linked through the N:N
    "associate_n_n": (("append",), ("append",)),
}


def reaches(depth: str | None, location: str) -> bool:
    return depth is not None and DEPTHS.index(depth) >= DEPTHS.index(LOCATIONS[location][1])


def check(profile: str, privileges: tuple[str, ...], location: str) -> str:
    held = PROFILES[profile][1]
    for privilege in privileges:
        if privilege not in held:
            return FORBIDDEN
        if not reaches(held.get("read"), location):
            return NOT_FOUND
        if not reaches(held[privilege], location):
            return FORBIDDEN
    return ALLOWED


def expected_outcome(profile: str, message: str, location: str) -> str:
    on_own, on_location = MESSAGES[message][1], MESSAGES[message][0]
    first = check(profile, on_own, "self")
    return first if first != ALLOWED else check(profile, on_location, location)


# --- the world -------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def chart(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrgChart]:
    folder: Path = tmp_path_factory.mktemp(f"matrix-{request.param}")
    with sec_environment(request.param, folder) as (environment, _url):
        chart = OrgChart(environment)
        chart.unit("division")
        chart.unit("team_unit", "division")
        chart.unit("sibling")
        chart.unit("sibling_unit", "sibling")
        chart.user("admin", "root")
        for profile, (role, _) in PROFILES.items():
            chart.user(profile, "division", [role])
        for name, unit in [
            ("peer", "division"),
            ("child", "team_unit"),
            ("parent", "root"),
            ("sibling", "sibling"),
            ("cousin", "sibling_unit"),
            ("assignee", "division"),
            ("recipient", "division"),
        ]:
            chart.user(name, unit, ["sec_user_level"])
        chart.team("mine", "sibling", members=list(PROFILES))
        chart.team("division_team", "division", members=["peer"])
        yield chart


def owner(chart: OrgChart, profile: str, location: str) -> EntityReference:
    return chart.principal(LOCATIONS[location][0] or profile)


def outcome_of(call: Any) -> str:
    try:
        call()
    except NotFoundError:
        return NOT_FOUND
    except ValidationError as error:  # a lookup to a record the caller cannot see: "does not exist"
        if all(p.reason.endswith("does not exist") for p in error.problems):
            return NOT_FOUND
        raise
    except AccessDeniedError:
        return FORBIDDEN
    return ALLOWED


class Case:
    """One message run by ``profile`` on fresh records; ``took_effect`` reads the result as the system user."""

    def __init__(self, chart: OrgChart, profile: str, location: str, message: str) -> None:
        self.chart, self.profile, self.message = chart, profile, message
        self.service = chart.service(profile)
        system = chart.system
        self.marker = f"case-{uuid.uuid4().hex[:12]}"
        mine = owner(chart, profile, "self")
        if message == "append_to":
            self.record = system.create(Entity("sec_record", sec_name=self.marker, ownerid=mine))
            self.related = system.create(Entity("sec_related", sec_name="r", ownerid=owner(chart, profile, location)))
        else:
            self.record = system.create(
                Entity("sec_record", sec_name=self.marker, sec_amount=1, ownerid=owner(chart, profile, location))
            )
            self.related = system.create(Entity("sec_related", sec_name="r", ownerid=mine))
        self.before = system.retrieve("sec_record", self.record)
        self.found: list[uuid.UUID] = []

    def run(self) -> None:
        service, record = self.service, self.record
        related = EntityReference("sec_related", self.related)
        if self.message == "retrieve":
            assert service.retrieve("sec_record", record)["sec_name"] == self.marker
        elif self.message == "retrieve_multiple":
            criteria = FilterExpression(conditions=(ConditionExpression("sec_name", "eq", (self.marker,)),))
            self.found = [e.id for e in service.retrieve_multiple(QueryExpression("sec_record", criteria=criteria))]
            if not self.found:
                raise NotFoundError("not among the results")  # counted as hidden
        elif self.message == "update":
            service.update(Entity("sec_record", {"sec_name": "changed"}, id=record))
        elif self.message == "set_state":
            service.set_state("sec_record", record, 1, 2)
        elif self.message == "delete":
            service.delete("sec_record", record)
        elif self.message == "assign":
            service.assign("sec_record", record, self.chart.principal("assignee"))
        elif self.message == "share":
            service.grant_access("sec_record", record, self.chart.principal("recipient"), AccessRights.READ)
        elif self.message == "append":
            service.update(Entity("sec_record", {"sec_relatedid": related}, id=record))
        elif self.message == "append_to":
            service.associate(
                "sec_related", self.related, "sec_related_records", [EntityReference("sec_record", record)]
            )
        else:
            service.associate("sec_record", record, "sec_record_related", [related])

    def took_effect(self) -> bool:
        """Whether the message changed anything (reads never do); a refused one must leave all as it was."""
        system = self.chart.system
        if self.message == "delete":
            return outcome_of(lambda: system.retrieve("sec_record", self.record)) == NOT_FOUND
        after = system.retrieve("sec_record", self.record)
        related = EntityReference("sec_related", self.related)
        changed = {
            "update": after["sec_name"] == "changed",
            "set_state": after["statecode"] == 1,
            "assign": after["ownerid"] == self.chart.principal("assignee"),
            "append": after["sec_relatedid"] == related,
            "append_to": after["sec_relatedid"] == related,
        }.get(self.message, False)
        if self.message == "share":
            changed = bool(system.shared_principals("sec_record", self.record))
        if self.message == "associate_n_n":
            changed = bool(self.links())
        if not changed:
            assert dict(after) == dict(self.before), "the record is as it was"
            assert not system.shared_principals("sec_record", self.record) and not self.links()
        return changed

    def links(self) -> list[Any]:
        intersect = self.chart.environment.tables.tables["sec_record_related"]
        with self.chart.environment.engine.connect() as connection:
            return list(connection.execute(select(intersect).where(intersect.c.sec_recordid == self.record)))


@pytest.mark.parametrize("message", list(MESSAGES))
@pytest.mark.parametrize("location", list(LOCATIONS))
@pytest.mark.parametrize("profile", list(PROFILES))
def test_each_message_follows_the_depth_of_the_role_and_the_owner_of_the_record(
    chart: OrgChart, profile: str, location: str, message: str
) -> None:
    expected = expected_outcome(profile, message, location)
    case = Case(chart, profile, location, message)
    outcome = outcome_of(case.run)
    assert outcome == expected, f"{profile} {message} on a record owned by {location}: {outcome}, expected {expected}"
    changes = message not in ("retrieve", "retrieve_multiple")
    assert case.took_effect() == (changes and expected == ALLOWED)


def test_the_reference_table_itself() -> None:
    """A few outcomes spelled out, so the tables above read as intended."""
    assert expected_outcome("user_level", "update", "own_team") == ALLOWED
    assert expected_outcome("bu_level", "retrieve", "own_team") == ALLOWED, "depths nest"
    assert expected_outcome("bu_level", "retrieve", "child") == NOT_FOUND
    assert expected_outcome("parent_child_level", "delete", "parent") == NOT_FOUND
    assert expected_outcome("reader", "update", "sibling") == FORBIDDEN
    assert expected_outcome("org_reader_user_writer", "update", "peer") == FORBIDDEN
    assert expected_outcome("org_reader_user_writer", "append_to", "cousin") == FORBIDDEN
    assert expected_outcome("user_level", "append_to", "peer") == NOT_FOUND
    assert expected_outcome("reader", "associate_n_n", "self") == FORBIDDEN
    assert expected_outcome("parent_child_level", "associate_n_n", "child") == ALLOWED


# --- owner teams, team roles, shares ----------------------------------------------------------------


def _record(chart: OrgChart, owner: str, name: str = "r", **values: Any) -> uuid.UUID:
    return chart.system.create(Entity("sec_record", sec_name=name, ownerid=chart.principal(owner), **values))


def _outcome(chart: OrgChart, user: str, message: str, record: uuid.UUID) -> str:
    service = chart.service(user)
    calls = {
        "read": lambda: service.retrieve("sec_record", record),
        "write": lambda: service.update(Entity("sec_record", {"sec_amount": 7}, id=record)),
        "delete": lambda: service.delete("sec_record", record),
    }
    return outcome_of(calls[message])


def _names(chart: OrgChart, user: str, marker: str) -> set[str]:
    criteria = FilterExpression(conditions=(ConditionExpression("sec_name", "begins_with", (marker,)),))
    found = chart.service(user).retrieve_multiple(QueryExpression("sec_record", criteria=criteria))
    return {e["sec_name"] for e in found}


def test_owner_team_membership_grants_user_level_access_to_the_team_records(chart: OrgChart) -> None:
    suffix = uuid.uuid4().hex[:6]
    member, outsider, team = f"member-{suffix}", f"outsider-{suffix}", f"owners-{suffix}"
    chart.user(member, "division", ["sec_user_level"])
    chart.user(outsider, "division", ["sec_user_level"])
    chart.team(team, "sibling_unit", members=[member])
    record = _record(chart, team, f"team-{suffix}")

    assert _outcome(chart, member, "read", record) == ALLOWED
    assert _outcome(chart, member, "write", record) == ALLOWED
    assert _names(chart, member, f"team-{suffix}") == {f"team-{suffix}"}
    assert _outcome(chart, outsider, "read", record) == NOT_FOUND
    assert _names(chart, outsider, f"team-{suffix}") == set()

    chart.leave(team, member)
    assert _outcome(chart, member, "read", record) == NOT_FOUND, "leaving the team ends the access"


def test_roles_held_by_an_owner_team_apply_relative_to_the_team(chart: OrgChart) -> None:
    suffix = uuid.uuid4().hex[:6]
    member, team = f"member-{suffix}", f"bu-readers-{suffix}"
    chart.user(member, "division")  # no role of its own
    chart.team(team, "sibling", members=[member], roles=["sec_bu_level"])
    in_team_unit = _record(chart, "sibling", f"sib-{suffix}")
    in_member_unit = _record(chart, "peer", f"peer-{suffix}")
    below_team_unit = _record(chart, "cousin", f"cousin-{suffix}")

    assert _outcome(chart, member, "read", in_team_unit) == ALLOWED, "the team's unit, not the member's"
    assert _outcome(chart, member, "write", in_team_unit) == ALLOWED
    assert _outcome(chart, member, "read", in_member_unit) == NOT_FOUND
    assert _outcome(chart, member, "read", below_team_unit) == NOT_FOUND, "business unit depth, not parent-child"


def test_roles_are_cumulative(chart: OrgChart) -> None:
    suffix = uuid.uuid4().hex[:6]
    user = f"both-{suffix}"
    chart.user(user, "division", ["sec_reader", "sec_user_level"])
    mine, peers = _record(chart, user), _record(chart, "peer")
    assert _outcome(chart, user, "read", peers) == ALLOWED, "read at organization depth from sec_reader"
    assert _outcome(chart, user, "write", peers) == FORBIDDEN, "write only at user depth"
    assert _outcome(chart, user, "write", mine) == ALLOWED


def test_a_read_share_makes_a_record_readable_but_not_writable(chart: OrgChart) -> None:
    suffix = uuid.uuid4().hex[:6]
    user, marker = f"shared-with-{suffix}", f"share-{suffix}"
    chart.user(user, "division", ["sec_user_level"])
    record = _record(chart, "cousin", marker)
    owner_service = chart.service("cousin")
    assert _outcome(chart, user, "read", record) == NOT_FOUND

    owner_service.grant_access("sec_record", record, chart.principal(user), AccessRights.READ)
    assert _outcome(chart, user, "read", record) == ALLOWED
    assert _names(chart, user, marker) == {marker}
    assert _outcome(chart, user, "write", record) == FORBIDDEN, "readable, not writable"
    assert _outcome(chart, user, "delete", record) == FORBIDDEN

    owner_service.grant_access("sec_record", record, chart.principal(user), AccessRights.WRITE)
    assert _outcome(chart, user, "write", record) == ALLOWED
    assert chart.system.retrieve("sec_record", record)["sec_amount"] == 7

    owner_service.revoke_access("sec_record", record, chart.principal(user))
    assert _outcome(chart, user, "read", record) == NOT_FOUND, "revoke removes the access"
    assert _names(chart, user, marker) == set()


def test_a_share_counts_only_where_the_user_holds_the_privilege(chart: OrgChart) -> None:
    suffix = uuid.uuid4().hex[:6]
    nobody, reader = f"nobody-{suffix}", f"reader-{suffix}"
    chart.user(nobody, "division")
    chart.user(reader, "division", ["sec_reader"])
    record = _record(chart, "cousin")
    rights = AccessRights.READ | AccessRights.WRITE | AccessRights.DELETE
    for user in (nobody, reader):
        chart.system.grant_access("sec_record", record, chart.principal(user), rights)
    assert _outcome(chart, nobody, "read", record) == FORBIDDEN, "no read privilege at any depth"
    assert _outcome(chart, reader, "read", record) == ALLOWED
    assert _outcome(chart, reader, "write", record) == FORBIDDEN, "no write privilege at any depth"
    assert _outcome(chart, reader, "delete", record) == FORBIDDEN
    assert chart.system.retrieve("sec_record", record)["sec_amount"] is None


def test_a_share_with_a_team_reaches_its_members(chart: OrgChart) -> None:
    suffix = uuid.uuid4().hex[:6]
    member, other, team, marker = f"member-{suffix}", f"other-{suffix}", f"access-{suffix}", f"tshare-{suffix}"
    chart.user(member, "division", ["sec_user_level"])
    chart.user(other, "division", ["sec_user_level"])
    chart.team(team, "division", members=[member], access=True)
    record = _record(chart, "parent", marker)

    chart.service("parent").grant_access("sec_record", record, chart.principal(team), AccessRights.READ)
    assert _outcome(chart, member, "read", record) == ALLOWED
    assert _names(chart, member, marker) == {marker}
    assert _outcome(chart, member, "write", record) == FORBIDDEN
    assert _outcome(chart, other, "read", record) == NOT_FOUND, "not a member"

    chart.join(team, other)
    assert _outcome(chart, other, "read", record) == ALLOWED, "a new member gets the team's shares"
    chart.service("parent").revoke_access("sec_record", record, chart.principal(team))
    assert _outcome(chart, member, "read", record) == NOT_FOUND
    assert _outcome(chart, other, "read", record) == NOT_FOUND


def test_sharing_needs_the_share_privilege_on_the_record(chart: OrgChart) -> None:
    record = _record(chart, "peer")
    recipient = chart.principal("recipient")
    denied = outcome_of(
        lambda: chart.service("org_reader_user_writer").grant_access("sec_record", record, recipient, AccessRights.READ)
    )
    assert denied == FORBIDDEN, "readable, but share is held at user depth only"
    assert outcome_of(lambda: chart.service("peer").revoke_access("sec_record", record, recipient)) == ALLOWED
    hidden = _record(chart, "cousin")
    assert (
        outcome_of(lambda: chart.service("user_level").grant_access("sec_record", hidden, recipient, AccessRights.READ))
        == NOT_FOUND
    )
    assert chart.system.shared_principals("sec_record", record) == []
    assert chart.system.shared_principals("sec_record", hidden) == []


def test_the_system_user_is_unrestricted(chart: OrgChart) -> None:
    marker = f"sys-{uuid.uuid4().hex[:6]}"
    ids = {_record(chart, name, marker) for name in ("peer", "cousin", "mine", "parent")}
    found = chart.system.retrieve_multiple(
        QueryExpression(
            "sec_record", criteria=FilterExpression(conditions=(ConditionExpression("sec_name", "eq", (marker,)),))
        )
    )
    assert {e.id for e in found} == ids
    for record in ids:
        chart.system.update(Entity("sec_record", {"sec_amount": 3}, id=record))
        chart.system.delete("sec_record", record)


def test_an_organization_owned_entity_is_reached_at_any_depth(chart: OrgChart) -> None:
    tag = chart.system.create(Entity("sec_tag", sec_name="tag"))
    user_level = chart.service("user_level")
    assert user_level.retrieve("sec_tag", tag)["sec_name"] == "tag"
    user_level.update(Entity("sec_tag", {"sec_name": "renamed"}, id=tag))
    assert chart.system.retrieve("sec_tag", tag)["sec_name"] == "renamed"
    assert tag in {e.id for e in user_level.retrieve_multiple(QueryExpression("sec_tag"))}
    reader = chart.service("reader")
    assert reader.retrieve("sec_tag", tag)["sec_name"] == "renamed"
    assert outcome_of(lambda: reader.update(Entity("sec_tag", {"sec_name": "x"}, id=tag))) == FORBIDDEN
    assert outcome_of(lambda: chart.service("org_reader_user_writer").retrieve("sec_tag", tag)) == FORBIDDEN
