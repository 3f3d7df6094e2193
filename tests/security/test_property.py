"""Record security as a property: random organizations and queries against a brute-force reference.

Hypothesis draws a business-unit tree (two or three levels), users holding random roles, owner and
access teams with random members (owner teams with roles of their own), related records and records
with random owners and values, and random shares (a share of a related record cascades to the
records that point at it). Then, for each user, random queries run through
``retrieve_multiple(QueryExpression)`` (filters, a link-entity to the related record, count and
sum) and through GraphQL over HTTP (a filtered list with ``totalCount`` and the lookup, the
aggregate, and the related records with their nested connection). The answers must equal a
reference computed here in plain Python from the rules:

- a role reaches records owned by its holder (a user's own roles: also by its owner teams), by its
  holder's business unit (business_unit), by that unit's subtree (parent_child) or by anyone
  (organization); depths nest; owner teams hold roles relative to themselves; roles add up;
- a record shared with the user, or with a team it belongs to, with the read right is readable
  too, if the user holds the read privilege at some depth.

The solution is installed once per engine; each example starts from empty sec tables (users,
teams and units of earlier examples stay, unrelated to the new ones).
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from org_chart import GraphQLOverHttp, OrgChart, clear_records, sec_environment

from databases import BACKENDS
from xrm.data import Entity, EntityReference
from xrm.data.sharing import AccessRights
from xrm.errors import AccessDeniedError
from xrm.query import Aggregate, ConditionExpression, FilterExpression, LinkEntity, QueryExpression

# --- the reference tables --------------------------------------------------------------------------

DEPTHS = ("user", "business_unit", "parent_child", "organization")
# the read depth each role gives on sec_record and sec_related
READ_DEPTH = {
    "sec_user_level": "user",
    "sec_bu_level": "business_unit",
    "sec_parent_child_level": "parent_child",
    "sec_org_level": "organization",
    "sec_reader": "organization",
    "sec_activity_reader": None,  # tasks only
}
ROLES = sorted(READ_DEPTH)
# drawn more often: the depths that hide some records, so most examples have something to hide
ROLE_DRAWS = [*["sec_user_level"] * 3, *["sec_bu_level"] * 2, *["sec_parent_child_level"] * 2, *ROLES]
OPERATORS: dict[str, Callable[[int, int], bool]] = {"gt": operator.gt, "le": operator.le, "eq": operator.eq}
RIGHTS = (AccessRights.READ, AccessRights.READ, AccessRights.READ | AccessRights.WRITE, AccessRights.WRITE)

Owner = tuple[str, int]  # ("user", index) or ("team", index)


@dataclass(frozen=True)
class Team:
    unit: int
    owner_team: bool
    members: frozenset[int]
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Record:
    owner: Owner
    amount: int | None
    category: str | None
    related: int | None


@dataclass(frozen=True)
class Related:
    owner: Owner
    score: int


@dataclass(frozen=True)
class Share:
    entity: str  # "sec_record" or "sec_related"
    index: int
    principal: Owner
    rights: int


@dataclass(frozen=True)
class Query:
    amount: tuple[str, int] | None
    category: str | None
    link: str | None  # None, "inner" or "outer"
    min_score: int | None  # the link's criteria: sec_score >= min_score
    on_link: bool  # the root filter also asks for the linked record's score to be set


@dataclass
class World:
    parents: list[int | None]  # unit -> parent unit (unit 0 is the root)
    users: list[tuple[int, tuple[str, ...]]]  # (unit, roles)
    teams: list[Team]
    related: list[Related]
    records: list[Record]
    shares: list[Share]
    queries: list[Query]
    _subtrees: dict[int, set[int]] = field(default_factory=dict)

    def subtree(self, unit: int) -> set[int]:
        if unit not in self._subtrees:
            found, pending = set(), [unit]
            while pending:
                current = pending.pop()
                found.add(current)
                pending += [u for u, parent in enumerate(self.parents) if parent == current]
            self._subtrees[unit] = found
        return self._subtrees[unit]

    def unit_of(self, owner: Owner) -> int:
        kind, index = owner
        return self.users[index][0] if kind == "user" else self.teams[index].unit

    def teams_of(self, user: int, *, owner_teams_only: bool = False) -> list[int]:
        return [
            t for t, team in enumerate(self.teams) if user in team.members and (team.owner_team or not owner_teams_only)
        ]

    def holders(self, user: int) -> list[tuple[tuple[str, ...], set[Owner], int]]:
        """(roles, the owners user depth reaches, the business unit) of the user and each owner team of it."""
        owner_teams = self.teams_of(user, owner_teams_only=True)
        found = [(self.users[user][1], {("user", user), *(("team", t) for t in owner_teams)}, self.users[user][0])]
        found += [(self.teams[t].roles, {("team", t)}, self.teams[t].unit) for t in owner_teams]
        return found

    def has_read(self, user: int) -> bool:
        return any(READ_DEPTH[role] for roles, _, _ in self.holders(user) for role in roles)

    def reaches(self, depth: str | None, owners: set[Owner], unit: int, owner: Owner) -> bool:
        if depth is None:
            return False
        if depth == "organization" or owner in owners:
            return True
        if depth == "business_unit":
            return self.unit_of(owner) == unit
        return depth == "parent_child" and self.unit_of(owner) in self.subtree(unit)

    def shared_rights(self, entity: str, index: int, principal: Owner) -> int:
        """Rights shared directly, and cascaded from a shared related record to the records pointing at it."""
        rights = 0
        for share in self.shares:
            if share.principal != principal:
                continue
            if share.entity == entity and share.index == index:
                rights |= share.rights
            elif (
                entity == "sec_record" and share.entity == "sec_related" and self.records[index].related == share.index
            ):
                rights |= share.rights
        return rights

    def readable(self, user: int, entity: str, index: int) -> bool:
        if not self.has_read(user):
            return False
        owner = (self.records if entity == "sec_record" else self.related)[index].owner
        for roles, owners, unit in self.holders(user):
            if any(self.reaches(READ_DEPTH[role], owners, unit, owner) for role in roles):
                return True
        principals = [("user", user), *(("team", t) for t in self.teams_of(user))]
        return any(self.shared_rights(entity, index, p) & AccessRights.READ for p in principals)

    def linked(self, user: int, record: Record, query: Query) -> Related | None:
        """The related record an outer link returns columns of (None: null columns)."""
        if record.related is None or not self.readable(user, "sec_related", record.related):
            return None
        related = self.related[record.related]
        if query.min_score is not None and related.score < query.min_score:
            return None
        return related

    def matches(self, user: int, index: int, query: Query) -> bool:
        record = self.records[index]
        if not self.readable(user, "sec_record", index):
            return False
        if query.amount is not None:
            name, value = query.amount
            if record.amount is None or not OPERATORS[name](record.amount, value):
                return False
        if query.category is not None and record.category != query.category:
            return False
        if (query.link == "inner" or query.on_link) and self.linked(user, record, query) is None:
            return False
        return True


# --- strategies --------------------------------------------------------------------------------------


@st.composite
def worlds(draw: st.DrawFn) -> World:
    parents: list[int | None] = [None]
    levels = [1]
    for _ in range(draw(st.integers(1, 4))):
        parent = draw(st.sampled_from([u for u, level in enumerate(levels) if level < 3]))
        parents.append(parent)
        levels.append(levels[parent] + 1)
    units = st.integers(0, len(parents) - 1)
    roles = st.lists(st.sampled_from(ROLE_DRAWS), min_size=1, max_size=2, unique=True).map(tuple)
    users = draw(st.lists(st.tuples(units, roles), min_size=2, max_size=4))
    members = st.frozensets(st.integers(0, len(users) - 1), min_size=1, max_size=len(users))
    teams = draw(
        st.lists(
            st.builds(
                Team, units, st.booleans(), members, st.lists(st.sampled_from(ROLE_DRAWS), max_size=1).map(tuple)
            ),
            min_size=1,
            max_size=2,
        )
    )
    teams = [team if team.owner_team else Team(team.unit, False, team.members, ()) for team in teams]
    owner_teams = [t for t, team in enumerate(teams) if team.owner_team]  # access teams own nothing
    owners = st.one_of(
        st.tuples(st.just("user"), st.integers(0, len(users) - 1)),
        *([st.tuples(st.just("team"), st.sampled_from(owner_teams))] if owner_teams else []),
    )
    related = draw(st.lists(st.builds(Related, owners, st.integers(0, 9)), max_size=4))
    related_index = st.none() | st.integers(0, len(related) - 1) if related else st.none()
    records = draw(
        st.lists(
            st.builds(Record, owners, st.none() | st.integers(0, 9), st.sampled_from(["a", "b", None]), related_index),
            min_size=2,
            max_size=10,
        )
    )
    principals = st.one_of(
        st.tuples(st.just("user"), st.integers(0, len(users) - 1)),
        *([st.tuples(st.just("team"), st.integers(0, len(teams) - 1))] if teams else []),
    )
    targets = []
    if records:
        targets.append(st.tuples(st.just("sec_record"), st.integers(0, len(records) - 1)))
    if related:
        targets.append(st.tuples(st.just("sec_related"), st.integers(0, len(related) - 1)))
    shares = []
    if targets:
        drawn = draw(st.lists(st.tuples(st.one_of(*targets), principals, st.sampled_from(RIGHTS)), max_size=5))
        shares = [Share(entity, index, principal, int(rights)) for (entity, index), principal, rights in drawn]
    queries = draw(st.lists(queries_strategy(), min_size=1, max_size=3))
    return World(parents, users, teams, related, records, shares, queries)


def queries_strategy() -> st.SearchStrategy[Query]:
    amount = st.none() | st.tuples(st.sampled_from(sorted(OPERATORS)), st.integers(0, 9))
    category = st.sampled_from([None, "a", "b"])
    link = st.sampled_from([None, "inner", "outer"])
    drawn = st.builds(Query, amount, category, link, st.none() | st.integers(0, 9), st.booleans())
    return drawn.map(lambda q: q if q.link else Query(q.amount, q.category, None, None, False))


# --- building the world in the database -------------------------------------------------------------


@dataclass
class Built:
    chart: OrgChart
    users: list[str]
    records: list[uuid.UUID]
    related: list[uuid.UUID]


def build(chart: OrgChart, world: World) -> Built:
    clear_records(chart.environment)
    run = uuid.uuid4().hex[:8]
    units = ["root"]
    for index, parent in enumerate(world.parents[1:], start=1):
        units.append(f"{run}-bu{index}")
        assert parent is not None
        chart.unit(units[index], units[parent])
    users = [f"{run}-u{index}" for index in range(len(world.users))]
    for name, (unit, roles) in zip(users, world.users, strict=True):
        chart.user(name, units[unit], roles)
    teams = [f"{run}-t{index}" for index in range(len(world.teams))]
    for name, team in zip(teams, world.teams, strict=True):
        chart.team(
            name, units[team.unit], [users[m] for m in sorted(team.members)], team.roles, access=not team.owner_team
        )

    def principal(owner: Owner) -> EntityReference:
        return chart.principal((users if owner[0] == "user" else teams)[owner[1]])

    system = chart.system
    related = [
        system.create(Entity("sec_related", sec_name=f"rel{i}", sec_score=r.score, ownerid=principal(r.owner)))
        for i, r in enumerate(world.related)
    ]
    records = []
    for i, record in enumerate(world.records):
        values: dict[str, Any] = {"sec_name": f"rec{i}", "ownerid": principal(record.owner)}
        values.update(sec_amount=record.amount, sec_category=record.category)
        if record.related is not None:
            values["sec_relatedid"] = EntityReference("sec_related", related[record.related])
        records.append(system.create(Entity("sec_record", values)))
    for share in world.shares:
        ids = records if share.entity == "sec_record" else related
        system.grant_access(share.entity, ids[share.index], principal(share.principal), share.rights)
    return Built(chart, users, records, related)


# --- the queries and their expected answers --------------------------------------------------------


def criteria(query: Query) -> FilterExpression:
    conditions = []
    if query.amount is not None:
        conditions.append(ConditionExpression("sec_amount", query.amount[0], (query.amount[1],)))
    if query.category is not None:
        conditions.append(ConditionExpression("sec_category", "eq", (query.category,)))
    if query.on_link:
        conditions.append(ConditionExpression("sec_score", "not_null", (), "rel"))
    return FilterExpression(conditions=tuple(conditions))


def links(query: Query, columns: tuple[str, ...]) -> tuple[LinkEntity, ...]:
    if query.link is None:
        return ()
    link_criteria = None
    if query.min_score is not None:
        link_criteria = FilterExpression(conditions=(ConditionExpression("sec_score", "ge", (query.min_score,)),))
    return (LinkEntity("sec_related", "sec_relatedid", "sec_relatedid", query.link, "rel", columns, link_criteria),)


def check_service(built: Built, world: World, user: int, query: Query) -> None:
    service = built.chart.service(built.users[user])
    records = QueryExpression("sec_record", ("sec_amount",), criteria(query), links(query, ("sec_name", "sec_score")))
    totals = QueryExpression(
        "sec_record",
        criteria=criteria(query),
        links=links(query, ()),
        aggregates=(Aggregate("n", "count"), Aggregate("total", "sum", "sec_amount")),
    )
    if not world.has_read(user):
        for expression in (records, totals):
            with pytest.raises(AccessDeniedError):
                service.retrieve_multiple(expression)
        return
    expected = {}
    for index, record in enumerate(world.records):
        if world.matches(user, index, query):
            linked = world.linked(user, record, query) if query.link else None
            columns = (f"rel{record.related}", linked.score) if linked is not None else (None, None)
            expected[built.records[index]] = (record.amount, columns if query.link else None)
    found = {
        row.id: (row["sec_amount"], (row["rel.sec_name"], row["rel.sec_score"]) if query.link else None)
        for row in service.retrieve_multiple(records)
    }
    assert found == expected
    amounts = [world.records[i].amount for i in range(len(world.records)) if world.matches(user, i, query)]
    present = [amount for amount in amounts if amount is not None]
    (row,) = service.retrieve_multiple(totals)
    assert (row["n"], row["total"]) == (len(amounts), sum(present) if present else None)


DOCUMENT = """query($f: SecRecordFilter) {
  secRecords(filter: $f) { totalCount nodes { secRecordid secAmount secRelated { secRelatedid secName } } }
  secRecordsAggregate(filter: $f) { count sum { secAmount } }
  secRelateds { totalCount nodes { secRelatedid secRelatedRecords { totalCount nodes { secRecordid } } } }
}"""


def graphql_filter(query: Query) -> dict[str, Any]:
    """The query's filter in GraphQL; the link becomes a filter across the lookup when it restricts."""
    found: dict[str, Any] = {}
    if query.amount is not None:
        found["secAmount"] = {query.amount[0]: query.amount[1]}
    if query.category is not None:
        found["secCategory"] = {"eq": query.category}
    if query.link == "inner" or query.on_link:
        found["secRelated"] = {"secScore": {"ge": query.min_score or 0}}
    return found


def check_graphql(built: Built, world: World, user: int, query: Query) -> None:
    data = built.chart.graphql(built.users[user], DOCUMENT, {"f": graphql_filter(query)})
    readable = [i for i in range(len(world.records)) if world.readable(user, "sec_record", i)]
    matching = [i for i in readable if world.matches(user, i, query)]

    def lookup(index: int) -> dict[str, str] | None:
        related = world.records[index].related
        if related is None or not world.readable(user, "sec_related", related):
            return None
        return {"secRelatedid": str(built.related[related]), "secName": f"rel{related}"}

    expected_nodes = {str(built.records[i]): (world.records[i].amount, lookup(i)) for i in matching}
    nodes = {n["secRecordid"]: (n["secAmount"], n["secRelated"]) for n in data["secRecords"]["nodes"]}
    assert nodes == expected_nodes
    assert data["secRecords"]["totalCount"] == len(matching)
    present = [world.records[i].amount for i in matching if world.records[i].amount is not None]
    totals = [(group["count"], group["sum"]["secAmount"]) for group in data["secRecordsAggregate"]]
    assert totals == [(len(matching), sum(present) if present else None)]

    expected_related = {
        str(built.related[r]): {str(built.records[i]) for i in readable if world.records[i].related == r}
        for r in range(len(world.related))
        if world.readable(user, "sec_related", r)
    }
    related_nodes = data["secRelateds"]["nodes"]
    assert data["secRelateds"]["totalCount"] == len(related_nodes) == len(expected_related)
    for node in related_nodes:
        children = node["secRelatedRecords"]
        assert {child["secRecordid"] for child in children["nodes"]} == expected_related[node["secRelatedid"]]
        assert children["totalCount"] == len(children["nodes"])


# --- the property ------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def chart(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrgChart]:
    folder = tmp_path_factory.mktemp(f"property-{request.param}")
    with sec_environment(request.param, folder) as (environment, url):
        chart = OrgChart(environment, http=GraphQLOverHttp(url))
        try:
            yield chart
        finally:
            chart.http.close()  # type: ignore[union-attr]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(world=worlds())
def test_reads_return_exactly_the_readable_rows(chart: OrgChart, world: World) -> None:
    built = build(chart, world)
    for user in range(len(world.users)):
        for query in world.queries:
            check_service(built, world, user, query)
            check_graphql(built, world, user, query)
