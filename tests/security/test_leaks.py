"""Known ways record security leaks, each checked on its own.

The world: units root -> division and root -> sibling. ``alice`` (user depth) and ``bob``
(organization depth) work in division; ``carol`` (user depth) in sibling owns what alice must not
see. ``dave`` reads every sec record (sec_reader) but only his own tasks (sec_activity_reader).
GraphQL goes over HTTP to an application built by ``create_app``. Each test makes its own records,
marked with a category of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from org_chart import GraphQLOverHttp, OrgChart, sec_environment
from sqlalchemy import select

from databases import BACKENDS
from xrm.data import Entity, EntityReference
from xrm.data.sharing import AccessRights
from xrm.errors import NotFoundError, XrmError
from xrm.query import Aggregate, ConditionExpression, FilterExpression, LinkEntity, QueryExpression


@pytest.fixture(scope="module", params=BACKENDS)
def chart(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrgChart]:
    folder = tmp_path_factory.mktemp(f"leaks-{request.param}")
    with sec_environment(request.param, folder) as (environment, url):
        chart = OrgChart(environment, http=GraphQLOverHttp(url, version_check_interval=1.0))
        chart.unit("division")
        chart.unit("sibling")
        chart.user("alice", "division", ["sec_user_level"])
        chart.user("bob", "division", ["sec_org_level"])
        chart.user("carol", "sibling", ["sec_user_level"])
        chart.user("dave", "division", ["sec_reader", "sec_activity_reader"])
        try:
            yield chart
        finally:
            chart.http.close()  # type: ignore[union-attr]


def marker() -> str:
    return uuid.uuid4().hex[:12]


def record(chart: OrgChart, owner: str, category: str, **values: Any) -> uuid.UUID:
    values.setdefault("sec_name", f"{owner}-{category}")
    return chart.system.create(Entity("sec_record", sec_category=category, ownerid=chart.principal(owner), **values))


def related(chart: OrgChart, owner: str, name: str, score: int = 0) -> uuid.UUID:
    return chart.system.create(Entity("sec_related", sec_name=name, sec_score=score, ownerid=chart.principal(owner)))


def of_category(category: str) -> FilterExpression:
    return FilterExpression(conditions=(ConditionExpression("sec_category", "eq", (category,)),))


def error_of(call: Any) -> XrmError:
    with pytest.raises(XrmError) as caught:
        call()
    return caught.value


# --- counts and aggregates ---------------------------------------------------------------------------


def test_counts_and_aggregates_exclude_unreadable_rows(chart: OrgChart) -> None:
    category = marker()
    for amount in (1, 2):
        record(chart, "alice", category, sec_amount=amount)
    for amount in (10, 20, 30):
        record(chart, "carol", category, sec_amount=amount)
    aggregate = QueryExpression(
        "sec_record",
        criteria=of_category(category),
        aggregates=(Aggregate("n", "count"), Aggregate("total", "sum", "sec_amount")),
    )
    document = """query($c: String) {
      secRecords(filter: {secCategory: {eq: $c}}) { totalCount nodes { secAmount } }
      secRecordsAggregate(filter: {secCategory: {eq: $c}}) { count sum { secAmount } }
    }"""
    for user, count, total in (("alice", 2, 3), ("bob", 5, 63)):
        service = chart.service(user)
        (row,) = service.retrieve_multiple(aggregate)
        assert (row["n"], row["total"]) == (count, total), user
        assert len(service.retrieve_multiple(QueryExpression("sec_record", criteria=of_category(category)))) == count
        data = chart.graphql(user, document, {"c": category})
        assert data["secRecords"]["totalCount"] == len(data["secRecords"]["nodes"]) == count
        (group,) = data["secRecordsAggregate"]
        assert (group["count"], group["sum"]["secAmount"]) == (count, total), user


def test_grouped_aggregates_exclude_unreadable_rows(chart: OrgChart) -> None:
    category = marker()
    record(chart, "alice", category, sec_amount=1)
    record(chart, "carol", category, sec_amount=5)
    record(chart, "carol", category, sec_amount=7)
    data = chart.graphql(
        "alice",
        "query($c: String) { secRecordsAggregate(filter: {secCategory: {eq: $c}}, groupBy: [{field: ownerid}]) { count group { ownerid } } }",
        {"c": category},
    )
    groups = [(group["group"]["ownerid"], group["count"]) for group in data["secRecordsAggregate"]]
    assert groups == [(str(chart.users["alice"]), 1)], "no group of carol's records"


# --- lookups and link-entities -----------------------------------------------------------------------


def test_a_lookup_to_an_unreadable_record_reveals_nothing_of_it(chart: OrgChart) -> None:
    category, secret = marker(), f"secret-{marker()}"
    hidden = related(chart, "carol", secret, score=99)
    mine = record(chart, "alice", category, sec_relatedid=EntityReference("sec_related", hidden))

    document = """query($id: UUID!, $c: String, $secret: String) {
      secRecord(id: $id) { secName secRelated { secName secScore } }
      secRecords(filter: {secCategory: {eq: $c}}) { totalCount nodes { secRelated { secName } } }
      probe: secRecords(filter: {secCategory: {eq: $c}, secRelated: {secName: {eq: $secret}}}) { totalCount }
    }"""
    variables = {"id": str(mine), "c": category, "secret": secret}
    data = chart.graphql("alice", document, variables)
    assert data["secRecord"] == {"secName": f"alice-{category}", "secRelated": None}
    assert data["secRecords"] == {"totalCount": 1, "nodes": [{"secRelated": None}]}
    assert data["probe"]["totalCount"] == 0, "a filter across the lookup cannot probe the hidden record"
    data = chart.graphql("bob", document, variables)
    assert data["secRecord"]["secRelated"] == {"secName": secret, "secScore": 99}
    assert data["probe"]["totalCount"] == 1


def test_link_entities_to_unreadable_records(chart: OrgChart) -> None:
    category, secret = marker(), f"secret-{marker()}"
    hidden = related(chart, "carol", secret, score=99)
    visible = related(chart, "alice", "visible", score=1)
    to_hidden = record(chart, "alice", category, sec_relatedid=EntityReference("sec_related", hidden))
    to_visible = record(chart, "alice", category, sec_relatedid=EntityReference("sec_related", visible))

    def query(join: str, criteria: FilterExpression | None = None) -> dict[uuid.UUID, tuple[Any, Any]]:
        link = LinkEntity("sec_related", "sec_relatedid", "sec_relatedid", join, "rel", ("sec_name", "sec_score"))
        root = (
            of_category(category) if criteria is None else FilterExpression(filters=(of_category(category), criteria))
        )
        rows = chart.service("alice").retrieve_multiple(QueryExpression("sec_record", ("sec_name",), root, (link,)))
        return {row.id: (row["rel.sec_name"], row["rel.sec_score"]) for row in rows}

    assert query("outer") == {to_hidden: (None, None), to_visible: ("visible", 1)}, "outer link: null columns"
    assert query("inner") == {to_visible: ("visible", 1)}, "inner link: the row is left out"
    probe = FilterExpression(conditions=(ConditionExpression("sec_name", "eq", (secret,), "rel"),))
    assert query("outer", probe) == {}, "a condition on the link cannot probe the hidden record"
    assert query("inner", probe) == {}


def test_a_lookup_to_an_unreadable_record_is_refused_as_if_it_did_not_exist(chart: OrgChart) -> None:
    hidden = EntityReference("sec_related", related(chart, "carol", "hidden"))
    missing = EntityReference("sec_related", uuid.uuid4())
    alice = chart.service("alice")

    def create(target: EntityReference) -> XrmError:
        return error_of(lambda: alice.create(Entity("sec_record", sec_name="x", sec_relatedid=target)))

    assert same_shape(create(hidden), hidden.id, create(missing), missing.id)
    mine = record(chart, "alice", marker())

    def update(target: EntityReference) -> XrmError:
        return error_of(lambda: alice.update(Entity("sec_record", {"sec_relatedid": target}, id=mine)))

    assert same_shape(update(hidden), hidden.id, update(missing), missing.id)


# --- not found, whatever the reason ------------------------------------------------------------------


def same_shape(first: XrmError, first_id: uuid.UUID, second: XrmError, second_id: uuid.UUID) -> bool:
    """The two errors read the same once the ids are taken out: same type, code and message."""

    def shape(error: XrmError, record_id: uuid.UUID) -> tuple[str, str, str]:
        return type(error).__name__, error.code, str(error).replace(str(record_id), "<id>")

    assert shape(first, first_id) == shape(second, second_id)
    return True


def test_an_unreadable_record_and_a_missing_one_are_answered_alike(chart: OrgChart) -> None:
    hidden, missing = record(chart, "carol", marker()), uuid.uuid4()
    alice = chart.service("alice")
    related_ref = EntityReference("sec_related", related(chart, "alice", "mine"))
    calls = {
        "retrieve": lambda i: alice.retrieve("sec_record", i),
        "update": lambda i: alice.update(Entity("sec_record", {"sec_name": "x"}, id=i)),
        "delete": lambda i: alice.delete("sec_record", i),
        "set_state": lambda i: alice.set_state("sec_record", i, 1, 2),
        "assign": lambda i: alice.assign("sec_record", i, chart.principal("alice")),
        "share": lambda i: alice.grant_access("sec_record", i, chart.principal("alice"), AccessRights.READ),
        "associate": lambda i: alice.associate("sec_record", i, "sec_record_related", [related_ref]),
        "audit_history": lambda i: alice.audit_history("sec_record", i),
        "shared_principals": lambda i: alice.shared_principals("sec_record", i),
    }
    for name, call in calls.items():
        unreadable, absent = error_of(lambda: call(hidden)), error_of(lambda: call(missing))
        assert isinstance(unreadable, NotFoundError), (name, unreadable)
        assert same_shape(unreadable, hidden, absent, missing), name
    assert chart.system.retrieve("sec_record", hidden)["sec_name"].startswith("carol-")

    document = """query($id: UUID!) { secRecord(id: $id) { secName } }"""
    mutation = """mutation($id: UUID!) { updateSecRecord(id: $id, input: {secName: "x"}) { secName } }"""
    answers = []
    for record_id in (hidden, missing):
        assert chart.graphql("alice", document, {"id": str(record_id)}) == {"secRecord": None}
        (error,) = chart.graphql_answer("alice", mutation, {"id": str(record_id)})["errors"]
        answers.append((error["extensions"]["code"], error["message"].replace(str(record_id), "<id>")))
    assert answers[0] == answers[1] and answers[0][0] == "NOT_FOUND"


def test_node_does_not_return_an_unreadable_record(chart: OrgChart) -> None:
    hidden = record(chart, "carol", marker())
    global_id = chart.graphql("bob", "query($id: UUID!) { secRecord(id: $id) { id } }", {"id": str(hidden)})
    node_id = global_id["secRecord"]["id"]
    document = "query($id: ID!) { node(id: $id) { id } nodes(ids: [$id]) { id } }"
    assert chart.graphql("alice", document, {"id": node_id}) == {"node": None, "nodes": [None]}
    assert chart.graphql("bob", document, {"id": node_id}) == {"node": {"id": node_id}, "nodes": [{"id": node_id}]}


# --- N:N -----------------------------------------------------------------------------------------------


def test_an_n_to_n_connection_lists_only_readable_related_records(chart: OrgChart) -> None:
    category = marker()
    mine = record(chart, "alice", category)
    theirs = record(chart, "carol", category)
    own_related = related(chart, "alice", f"own-{category}")
    hidden_related = related(chart, "carol", f"hidden-{category}")
    for record_id in (mine, theirs):
        chart.system.associate(
            "sec_record",
            record_id,
            "sec_record_related",
            [EntityReference("sec_related", own_related), EntityReference("sec_related", hidden_related)],
        )
    document = """query($r: UUID!, $o: UUID!) {
      secRecord(id: $r) { secRecordRelated { totalCount nodes { secName } } }
      secRelated(id: $o) { secRecordRelated { totalCount nodes { secName } } }
    }"""
    variables = {"r": str(mine), "o": str(own_related)}
    data = chart.graphql("alice", document, variables)
    assert data["secRecord"]["secRecordRelated"] == {"totalCount": 1, "nodes": [{"secName": f"own-{category}"}]}
    assert data["secRelated"]["secRecordRelated"] == {"totalCount": 1, "nodes": [{"secName": f"alice-{category}"}]}
    data = chart.graphql("bob", document, variables)
    assert data["secRecord"]["secRecordRelated"]["totalCount"] == 2
    assert data["secRelated"]["secRecordRelated"]["totalCount"] == 2


def test_n_to_n_associate_needs_append_on_both_readable_records(chart: OrgChart) -> None:
    mine = record(chart, "alice", marker())
    own_related = EntityReference("sec_related", related(chart, "alice", "own"))
    hidden_related = EntityReference("sec_related", related(chart, "carol", "hidden"))
    intersect = chart.environment.tables.tables["sec_record_related"]

    def linked() -> set[uuid.UUID]:
        with chart.environment.engine.connect() as connection:
            rows = connection.execute(select(intersect.c.sec_relatedid).where(intersect.c.sec_recordid == mine))
            return set(rows.scalars())

    alice = chart.service("alice")
    error = error_of(lambda: alice.associate("sec_record", mine, "sec_record_related", [hidden_related]))
    assert error.code == "NOT_FOUND" and linked() == set()
    error = error_of(lambda: chart.service("dave").associate("sec_record", mine, "sec_record_related", [own_related]))
    assert error.code == "FORBIDDEN" and linked() == set(), "dave reads both but may append neither"
    alice.associate("sec_record", mine, "sec_record_related", [own_related])
    assert linked() == {own_related.id}
    error = error_of(lambda: alice.disassociate("sec_record", mine, "sec_record_related", [hidden_related]))
    assert error.code == "NOT_FOUND"


# --- cascaded shares ----------------------------------------------------------------------------------


def test_sharing_a_parent_cascades_to_its_children_and_revoking_takes_it_back(chart: OrgChart) -> None:
    category = marker()
    parent = related(chart, "carol", f"parent-{category}")
    parent_ref = EntityReference("sec_related", parent)
    children = {record(chart, "carol", category, sec_name=f"child{i}", sec_relatedid=parent_ref) for i in range(2)}
    record(chart, "carol", category, sec_name="unrelated")
    alice, carol = chart.service("alice"), chart.service("carol")

    def readable() -> set[uuid.UUID]:
        found = alice.retrieve_multiple(QueryExpression("sec_record", criteria=of_category(category)))
        return {row.id for row in found}

    assert readable() == set()
    carol.grant_access("sec_related", parent, chart.principal("alice"), AccessRights.READ)
    assert alice.retrieve("sec_related", parent)["sec_name"] == f"parent-{category}"
    assert readable() == children, "the share cascades along sec_related_records, not to other records"
    data = chart.graphql(
        "alice", "query($id: UUID!) { secRelated(id: $id) { secRelatedRecords { totalCount } } }", {"id": str(parent)}
    )
    assert data["secRelated"]["secRelatedRecords"]["totalCount"] == 2

    carol.revoke_access("sec_related", parent, chart.principal("alice"))
    assert readable() == set(), "the unshare cascades too"
    with pytest.raises(NotFoundError):
        alice.retrieve("sec_related", parent)


# --- audit, actions -----------------------------------------------------------------------------------


def test_the_audit_history_of_an_unreadable_record_is_refused(chart: OrgChart) -> None:
    hidden, mine = record(chart, "carol", marker()), record(chart, "alice", marker())
    chart.system.update(Entity("sec_record", {"sec_amount": 5}, id=hidden))
    with pytest.raises(NotFoundError):
        chart.service("alice").audit_history("sec_record", hidden)

    def operations(user: str, record_id: uuid.UUID) -> list[str]:
        return [entry.operation for entry in chart.service(user).audit_history("sec_record", record_id)]

    assert operations("bob", hidden) == ["create", "update"]
    assert operations("alice", mine) == ["create"]


def test_retrieve_activities_returns_only_the_activities_the_caller_may_read(chart: OrgChart) -> None:
    target = record(chart, "carol", marker())
    regarding = EntityReference("sec_record", target)
    for owner in ("dave", "carol", "bob"):
        chart.system.create(
            Entity("task", subject=f"task of {owner}", regardingobjectid=regarding, ownerid=chart.principal(owner))
        )

    def subjects(user: str) -> set[str]:
        found = chart.service(user).execute_action("retrieve_activities", target=regarding)["activities"]
        return {row["subject"] for row in found}

    assert subjects("dave") == {"task of dave"}, "dave reads the record but only his own tasks"
    assert chart.system.execute_action("retrieve_activities", target=regarding)["activities"]
    with pytest.raises(NotFoundError):
        subjects("alice")  # alice cannot read the record itself


# --- caches -------------------------------------------------------------------------------------------


def test_two_users_of_one_server_get_their_own_results_for_the_same_document(chart: OrgChart) -> None:
    category = marker()
    record(chart, "alice", category, sec_amount=1)
    record(chart, "carol", category, sec_amount=2)
    record(chart, "carol", category, sec_amount=4)
    document = """query($c: String) {
      secRecords(filter: {secCategory: {eq: $c}}, orderBy: [{secAmount: ASC}]) { totalCount nodes { secAmount } }
      secRecordsAggregate(filter: {secCategory: {eq: $c}}) { count sum { secAmount } }
    }"""
    expected = {
        "alice": {"secRecords": {"totalCount": 1, "nodes": [{"secAmount": 1}]},
                  "secRecordsAggregate": [{"count": 1, "sum": {"secAmount": 1}}]},
        "bob": {"secRecords": {"totalCount": 3, "nodes": [{"secAmount": 1}, {"secAmount": 2}, {"secAmount": 4}]},
                "secRecordsAggregate": [{"count": 3, "sum": {"secAmount": 7}}]},
        "carol": {"secRecords": {"totalCount": 2, "nodes": [{"secAmount": 2}, {"secAmount": 4}]},
                  "secRecordsAggregate": [{"count": 2, "sum": {"secAmount": 6}}]},
    }  # fmt: skip
    for user in ("alice", "bob", "carol", "alice", "carol", "bob", "alice"):
        assert chart.graphql(user, document, {"c": category}) == expected[user], user
    runtime = chart.http.app.state.reloader.current  # type: ignore[union-attr]
    assert runtime.schema.documents.get(document) is not None, "the document was kept, and still answered per user"


# --- sharing hands on only what one holds ------------------------------------------------------------


def test_a_user_shares_only_rights_it_holds_on_the_record(chart: OrgChart) -> None:
    chart.user("erin", "division", ["sec_org_reader_user_writer"])  # reads every record, changes its own
    erin = chart.service("erin")
    own, other = record(chart, "erin", marker()), record(chart, "bob", marker())
    recipient = chart.principal("alice")
    erin.grant_access("sec_record", own, recipient, AccessRights.READ | AccessRights.WRITE)
    assert error_of(lambda: erin.grant_access("sec_record", other, recipient, AccessRights.READ)).code == "FORBIDDEN"
    dave = chart.service("dave")  # reads everything, may share nothing
    shared_by_erin = chart.system.shared_principals("sec_record", own)
    assert [(p.principal, p.rights) for p in shared_by_erin] == [(recipient, AccessRights.READ | AccessRights.WRITE)]
    error = error_of(lambda: dave.grant_access("sec_record", own, recipient, AccessRights.DELETE))
    assert error.code == "FORBIDDEN" and "'share'" in str(error)
    # holding share but not delete on the record: sharing delete is refused, nothing written
    chart.system.grant_access("sec_record", other, chart.principal("erin"), AccessRights.SHARE | AccessRights.READ)
    error = error_of(lambda: erin.grant_access("sec_record", other, recipient, AccessRights.DELETE))
    assert error.code == "FORBIDDEN" and "'delete'" in str(error)
    assert [p.principal for p in chart.system.shared_principals("sec_record", other)] == [chart.principal("erin")]
