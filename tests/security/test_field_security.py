"""Field-level security: a secured attribute is null for a user without a field security profile
in every read path (service reads, link-entities, filters, orders, aggregates, calculated
attributes, audit history, GraphQL), and writing it is refused (FORBIDDEN, nothing written).

Every actor holds the ``fls_clerk`` role (every privilege at organization depth), so field
security alone decides what each one sees: ``clerk`` has no profile, ``reader`` holds
``fls_payroll_reader`` itself, ``member`` through its owner team, ``editor`` holds
``fls_payroll_editor``; ``admin`` is a System Administrator with no profile.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from databases import BACKENDS, empty_database
from xrm.data import ROOT_BUSINESS_UNIT_ID, Entity, EntityReference, Environment, OrganizationService
from xrm.errors import AccessDeniedError, NotFoundError, ValidationError
from xrm.graphql import build_schema, context_for
from xrm.plugin import open_environment
from xrm.query import Aggregate, ConditionExpression, FilterExpression, GroupBy, LinkEntity, QueryExpression
from xrm.query.expression import OrderExpression
from xrm.schema import open_engine
from xrm.solution import SolutionManager

FLS = Path(__file__).resolve().parents[1] / "fixtures" / "solutions" / "fls"
SECURED = ("fls_salary", "fls_code", "fls_brokerid")
ACTORS = ("clerk", "reader", "member", "editor", "admin")
SEEING = ("reader", "member", "editor", "admin")


@dataclass
class Office:
    """The environment, its actors by name, and the sample records by name."""

    environment: Environment
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    teams: dict[str, uuid.UUID] = field(default_factory=dict)
    clients: dict[str, uuid.UUID] = field(default_factory=dict)
    contracts: dict[str, uuid.UUID] = field(default_factory=dict)

    @property
    def system(self) -> OrganizationService:
        return self.environment.service()

    def service(self, actor: str) -> OrganizationService:
        return self.environment.service(self.users[actor])

    def user(self, name: str, *roles: str) -> EntityReference:
        values = {
            "domainname": f"{name}-{uuid.uuid4().hex[:8]}",
            "fullname": name,
            "businessunitid": EntityReference("businessunit", ROOT_BUSINESS_UNIT_ID),
        }
        self.users[name] = self.system.create(Entity("systemuser", values))
        reference = EntityReference("systemuser", self.users[name])
        for role in roles:
            assign_role(self.environment, reference, role)
        return reference

    def team(self, name: str, *members: str) -> EntityReference:
        values = {
            "name": name,
            "teamtype": 0,
            "businessunitid": EntityReference("businessunit", ROOT_BUSINESS_UNIT_ID),
            "administratorid": EntityReference("systemuser", self.users[members[0]]),
        }
        self.teams[name] = self.system.create(Entity("team", values))
        references = [EntityReference("systemuser", self.users[member]) for member in members]
        self.system.associate("team", self.teams[name], "teammembership_association", references)
        return EntityReference("team", self.teams[name])

    def contract_names(self, actor: str, query: QueryExpression) -> list[str]:
        return [record["fls_name"] for record in self.service(actor).retrieve_multiple(query).entities]

    def graphql(self, actor: str, document: str) -> Any:
        schema = self.environment.__dict__.setdefault("_fls_schema", build_schema(self.environment))
        return schema.execute_sync(document, context_value=context_for(self.environment, self.users[actor]))

    def data(self, actor: str, document: str) -> dict[str, Any]:
        result = self.graphql(actor, document)
        assert not result.errors, [error.formatted for error in result.errors]
        return result.data


def assign_role(environment: Environment, principal: EntityReference, role: str) -> None:
    """Give ``principal`` (a systemuser or an owner team) the security role ``role``."""
    environment.service().assign_role(principal, role)


def _populate(office: Office) -> None:
    system = office.system
    for actor in ("clerk", "reader", "member", "editor"):
        office.user(actor, "fls_clerk")
    office.user("admin", "system_administrator")
    system.add_field_profile(EntityReference("systemuser", office.users["reader"]), "fls_payroll_reader")
    system.add_field_profile(EntityReference("systemuser", office.users["editor"]), "fls_payroll_editor")
    system.add_field_profile(office.team("Payroll", "member"), "fls_payroll_reader")
    for name, rating in (("Acme", 9), ("Globex", 3)):
        office.clients[name] = system.create(Entity("fls_client", {"fls_name": name, "fls_rating": rating}))

    def client(name: str) -> EntityReference:
        return EntityReference("fls_client", office.clients[name])

    for name, salary, code, owner, broker in (
        ("Alpha", 5000, "A-1", "Acme", "Globex"),
        ("Beta", 7000, "B-2", "Globex", "Acme"),
    ):
        values = {
            "fls_name": name,
            "fls_salary": salary,
            "fls_code": code,
            "fls_clientid": client(owner),
            "fls_brokerid": client(broker),
        }
        office.contracts[name] = system.create(Entity("fls_contract", values))
    system.update(Entity("fls_contract", {"fls_salary": 5500, "fls_name": "Alpha"}, id=office.contracts["Alpha"]))


@pytest.fixture(scope="module", params=BACKENDS)
def office(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    """The ``fls`` solution installed once per backend, with its actors and two contracts."""
    with empty_database(request.param, tmp_path_factory.mktemp("fls"), "xrm_fls") as url:
        engine = open_engine(url)
        try:
            SolutionManager(engine).install(FLS)
            office = Office(open_environment(engine))
            _populate(office)
            yield office
        finally:
            engine.dispose()


def _query(*conditions: ConditionExpression, **options: Any) -> QueryExpression:
    criteria = FilterExpression("and", conditions) if conditions else None
    options.setdefault("columns", ("fls_name", *SECURED))
    return QueryExpression("fls_contract", criteria=criteria, **options)


# --- service reads ------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_retrieve_shows_secured_attributes_only_through_a_profile(office: Office, actor: str) -> None:
    service = office.service(actor)
    alpha = office.contracts["Alpha"]

    whole = service.retrieve("fls_contract", alpha)
    chosen = service.retrieve("fls_contract", alpha, ["fls_name", "fls_salary", "fls_label"])

    if actor in SEEING:
        assert (whole["fls_salary"], whole["fls_code"], whole["fls_brokerid"].id) == (
            5500,
            "A-1",
            office.clients["Globex"],
        )
        assert chosen["fls_salary"] == 5500 and chosen["fls_label"] == "Alpha / A-1"
    else:
        assert [whole.get(name) for name in SECURED] == [None, None, None]
        assert chosen.get("fls_salary") is None
        assert "A-1" not in (chosen["fls_label"] or ""), "a calculated attribute must not leak a secured input"
    assert whole["fls_name"] == "Alpha" and whole["fls_clientid"].id == office.clients["Acme"]


@pytest.mark.parametrize("actor", ACTORS)
def test_retrieve_multiple_shows_secured_columns_only_through_a_profile(office: Office, actor: str) -> None:
    service = office.service(actor)
    order = (OrderExpression("fls_name"),)

    explicit = service.retrieve_multiple(_query(orders=order)).entities
    every = service.retrieve_multiple(_query(columns=None, orders=order)).entities
    label = service.retrieve_multiple(_query(columns=("fls_label",), orders=order)).entities

    for records in (explicit, every):
        salaries = [record.get("fls_salary") for record in records]
        codes = [record.get("fls_code") for record in records]
        brokers = [record.get("fls_brokerid") for record in records]
        if actor in SEEING:
            assert salaries == [5500, 7000] and codes == ["A-1", "B-2"] and None not in brokers
        else:
            assert salaries == codes == brokers == [None, None]
    expected = ["Alpha / A-1", "Beta / B-2"] if actor in SEEING else ["Alpha / ", "Beta / "]
    assert [record["fls_label"] for record in label] == expected


@pytest.mark.parametrize("actor", ["clerk", "reader"])
def test_link_entity_columns_and_joins_on_secured_attributes(office: Office, actor: str) -> None:
    client = LinkEntity(
        "fls_client", "fls_clientid", "fls_clientid", alias="client", columns=("fls_name", "fls_rating")
    )
    broker = LinkEntity("fls_client", "fls_clientid", "fls_brokerid", "outer", alias="broker", columns=("fls_name",))
    query = _query(columns=("fls_name",), links=(client, broker), orders=(OrderExpression("fls_name"),))

    records = office.service(actor).retrieve_multiple(query).entities

    assert [record["client.fls_name"] for record in records] == ["Acme", "Globex"]
    if actor == "reader":
        assert [record["client.fls_rating"] for record in records] == [9, 3]
        assert [record["broker.fls_name"] for record in records] == ["Globex", "Acme"]
    else:
        assert [record["client.fls_rating"] for record in records] == [None, None]
        # the join key is hidden: the outer link finds nothing, as for a null lookup
        assert [record["broker.fls_name"] for record in records] == [None, None]


def test_filters_on_a_secured_attribute_cannot_probe_its_values(office: Office) -> None:
    probes = [
        ConditionExpression("fls_salary", "eq", (5500,)),
        ConditionExpression("fls_salary", "gt", (0,)),
        ConditionExpression("fls_salary", "not_null"),
        ConditionExpression("fls_code", "begins_with", ("A",)),
        ConditionExpression("fls_code", "in", ("A-1", "B-2")),
        ConditionExpression("fls_brokerid", "eq", (office.clients["Globex"],)),
    ]
    for probe in probes:
        assert office.contract_names("clerk", _query(probe)) == [], probe
        assert office.contract_names("reader", _query(probe)), probe
    everything = office.contract_names("clerk", _query(ConditionExpression("fls_salary", "null")))
    assert sorted(everything) == ["Alpha", "Beta"], "every value reads as null"
    over_five = FilterExpression("and", (ConditionExpression("fls_rating", "gt", (5,)),))
    rating = LinkEntity("fls_client", "fls_clientid", "fls_clientid", criteria=over_five)
    assert office.contract_names("clerk", _query(links=(rating,))) == []
    assert office.contract_names("reader", _query(links=(rating,))) == ["Alpha"]


def test_ordering_by_a_secured_attribute_reveals_nothing(office: Office) -> None:
    def names(actor: str, descending: bool) -> list[str]:
        return office.contract_names(actor, _query(orders=(OrderExpression("fls_salary", descending),)))

    assert names("reader", False) == ["Alpha", "Beta"] and names("reader", True) == ["Beta", "Alpha"]
    assert names("clerk", False) == names("clerk", True), "both directions fall back to the same tiebreaker"
    distinct = _query(columns=("fls_code",), distinct=True, orders=(OrderExpression("fls_code"),))
    assert [r.get("fls_code") for r in office.service("clerk").retrieve_multiple(distinct).entities] == [None]


def test_aggregates_and_groups_over_a_secured_attribute_are_null(office: Office) -> None:
    totals = QueryExpression(
        "fls_contract",
        aggregates=(Aggregate("total", "sum", "fls_salary"), Aggregate("top", "max", "fls_salary"),
                    Aggregate("codes", "count_distinct", "fls_code"), Aggregate("rows", "count")),
    )  # fmt: skip
    grouped = QueryExpression(
        "fls_contract", group_by=(GroupBy("fls_salary", "salary"),), aggregates=(Aggregate("rows", "count"),)
    )

    (seen,) = office.service("reader").retrieve_multiple(totals).entities
    (hidden,) = office.service("clerk").retrieve_multiple(totals).entities

    assert (seen["total"], seen["top"], seen["codes"], seen["rows"]) == (12500, 7000, 2, 2)
    assert (hidden["total"], hidden["top"], hidden["codes"], hidden["rows"]) == (None, None, 0, 2)
    groups = office.service("clerk").retrieve_multiple(grouped).entities
    assert [(group["salary"], group["rows"]) for group in groups] == [(None, 2)]
    assert len(office.service("reader").retrieve_multiple(grouped).entities) == 2


def test_audit_history_masks_secured_values(office: Office) -> None:
    def salary_changes(actor: str) -> list[Any]:
        history = office.service(actor).audit_history("fls_contract", office.contracts["Alpha"])
        return [entry.changes.get("fls_salary") for entry in history]

    assert salary_changes("reader") == [[None, 5000], [5000, 5500]]
    assert salary_changes("clerk") == [[None, None], [None, None]], "which attribute changed, not its values"
    (created, _) = office.service("clerk").audit_history("fls_contract", office.contracts["Alpha"])
    assert created.changes["fls_name"] == [None, "Alpha"] and created.changes["fls_code"] == [None, None]


# --- writes -------------------------------------------------------------------------------------


def _count(office: Office) -> int:
    table = office.environment.table("fls_contract")
    with office.environment.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.mark.parametrize("actor", ["clerk", "reader"])
def test_writing_a_secured_attribute_without_the_permission_is_refused(office: Office, actor: str) -> None:
    service, before = office.service(actor), _count(office)
    alpha = office.contracts["Alpha"]

    with pytest.raises(AccessDeniedError) as created:
        service.create(Entity("fls_contract", {"fls_name": "Gamma", "fls_salary": 1}))
    with pytest.raises(AccessDeniedError) as updated:
        service.update(Entity("fls_contract", {"fls_name": "Alpha!", "fls_code": "X"}, id=alpha))
    with pytest.raises(AccessDeniedError):
        service.update(Entity("fls_contract", {"fls_brokerid": None}, id=alpha))

    assert created.value.code == updated.value.code == "FORBIDDEN"
    assert "create of fls_contract.fls_salary" in str(created.value)
    assert "update of fls_contract.fls_code" in str(updated.value)
    assert _count(office) == before
    stored = office.system.retrieve("fls_contract", alpha)
    assert (stored["fls_name"], stored["fls_code"], stored["fls_brokerid"].id) == (
        "Alpha",
        "A-1",
        office.clients["Globex"],
    )


def test_a_profile_with_create_and_update_lets_its_holder_write(office: Office) -> None:
    editor, clerk = office.service("editor"), office.service("clerk")

    plain = clerk.create(Entity("fls_contract", {"fls_name": "Plain"}))  # no secured attribute given
    gamma = editor.create(Entity("fls_contract", {"fls_name": "Gamma", "fls_salary": 100, "fls_code": "G-3"}))
    editor.update(Entity("fls_contract", {"fls_salary": 150}, id=gamma))
    try:
        assert (
            editor.retrieve("fls_contract", gamma)["fls_salary"],
            editor.retrieve("fls_contract", gamma)["fls_code"],
        ) == (150, "G-3")
        assert clerk.retrieve("fls_contract", gamma).get("fls_salary") is None
        with pytest.raises(AccessDeniedError, match="update of fls_client.fls_rating"):
            editor.update(Entity("fls_client", {"fls_rating": 1}, id=office.clients["Acme"]))  # read only
    finally:
        for record in (plain, gamma):
            office.system.delete("fls_contract", record)


# --- profiles: through teams, given and taken ----------------------------------------------------


def test_a_profile_held_by_a_team_applies_to_its_members_and_can_be_taken(office: Office) -> None:
    system, alpha = office.system, office.contracts["Alpha"]
    team = EntityReference("team", office.teams["Payroll"])
    assert office.service("member").retrieve("fls_contract", alpha)["fls_salary"] == 5500

    system.remove_field_profile(team, "fls_payroll_reader")
    try:
        assert office.service("member").retrieve("fls_contract", alpha).get("fls_salary") is None
        assert office.contract_names("member", _query(ConditionExpression("fls_salary", "eq", (5500,)))) == []
    finally:
        system.add_field_profile(team, "fls_payroll_reader")
    assert office.service("member").retrieve("fls_contract", alpha)["fls_salary"] == 5500


def test_giving_profiles_needs_manage_roles_and_a_known_profile_and_principal(office: Office) -> None:
    clerk = EntityReference("systemuser", office.users["clerk"])

    with pytest.raises(AccessDeniedError, match="manage_roles"):
        office.service("clerk").add_field_profile(clerk, "fls_payroll_reader")
    with pytest.raises(AccessDeniedError, match="manage_roles"):
        office.service("reader").remove_field_profile(
            EntityReference("systemuser", office.users["reader"]), "fls_payroll_reader"
        )
    with pytest.raises(NotFoundError, match="no field security profile 'fls_nope'"):
        office.system.add_field_profile(clerk, "fls_nope")
    with pytest.raises(NotFoundError):
        office.system.add_field_profile(EntityReference("systemuser", uuid.uuid4()), "fls_payroll_reader")
    with pytest.raises(ValidationError):
        office.system.add_field_profile(EntityReference("fls_client", office.clients["Acme"]), "fls_payroll_reader")

    office.service("admin").add_field_profile(clerk, "fls_payroll_reader")
    office.service("admin").add_field_profile(clerk, "fls_payroll_reader")  # holding it already is fine
    try:
        assert office.service("clerk").retrieve("fls_contract", office.contracts["Alpha"])["fls_code"] == "A-1"
    finally:
        office.service("admin").remove_field_profile(clerk, "fls_payroll_reader")
    assert office.service("clerk").retrieve("fls_contract", office.contracts["Alpha"]).get("fls_code") is None


# --- GraphQL ------------------------------------------------------------------------------------

LIST = """{ flsContracts(orderBy: [{flsName: ASC}]) { nodes {
  flsName flsSalary flsCode flsLabel flsBroker { flsName } flsClient { flsName flsRating } } } }"""
NESTED = """{ flsClients(orderBy: [{flsName: ASC}]) { nodes { flsName flsRating
  brokered: flsClientBrokered { totalCount nodes { flsName } }
  contracts: flsClientContracts(orderBy: [{flsSalary: DESC}]) { nodes { flsName flsSalary } } } } }"""
AGGREGATE = """{ all: flsContractsAggregate { count sum { flsSalary } max { flsSalary } }
  bySalary: flsContractsAggregate(groupBy: [{field: flsSalary}]) { count } }"""


@pytest.mark.parametrize("actor", ["clerk", "reader", "admin"])
def test_graphql_lists_lookups_and_calculated_attributes(office: Office, actor: str) -> None:
    nodes = office.data(actor, LIST)["flsContracts"]["nodes"]

    alpha = nodes[0]
    assert alpha["flsName"] == "Alpha" and alpha["flsClient"]["flsName"] == "Acme"
    if actor == "clerk":
        assert (alpha["flsSalary"], alpha["flsCode"], alpha["flsBroker"], alpha["flsClient"]["flsRating"]) == (
            None,
            None,
            None,
            None,
        )
        assert alpha["flsLabel"] == "Alpha / "
    else:
        assert (alpha["flsSalary"], alpha["flsCode"], alpha["flsBroker"], alpha["flsClient"]["flsRating"]) == (
            5500,
            "A-1",
            {"flsName": "Globex"},
            9,
        )
        assert alpha["flsLabel"] == "Alpha / A-1"


@pytest.mark.parametrize("actor", ["clerk", "reader"])
def test_graphql_nested_connections_and_aggregates(office: Office, actor: str) -> None:
    acme, _ = office.data(actor, NESTED)["flsClients"]["nodes"]
    totals = office.data(actor, AGGREGATE)

    if actor == "clerk":
        assert acme["flsRating"] is None
        assert acme["brokered"] == {"totalCount": 0, "nodes": []}, "reached through a hidden lookup"
        assert acme["contracts"]["nodes"] == [{"flsName": "Alpha", "flsSalary": None}]
        assert totals["all"] == [{"count": 2, "sum": {"flsSalary": None}, "max": {"flsSalary": None}}]
        assert totals["bySalary"] == [{"count": 2}]
    else:
        assert acme["flsRating"] == 9
        assert acme["brokered"] == {"totalCount": 1, "nodes": [{"flsName": "Beta"}]}
        assert acme["contracts"]["nodes"] == [{"flsName": "Alpha", "flsSalary": 5500}]
        assert totals["all"] == [{"count": 2, "sum": {"flsSalary": 12500}, "max": {"flsSalary": 7000}}]
        assert len(totals["bySalary"]) == 2


@pytest.mark.parametrize(
    "where",
    [
        "{flsSalary: {eq: 5500}}",
        '{flsCode: {beginsWith: "A"}}',
        '{flsBroker: {flsName: {eq: "Globex"}}}',
        "{flsClient: {flsRating: {gt: 5}}}",
        '{or: [{flsSalary: {gt: 6000}}, {flsBrokerid: {eq: "GLOBEX"}}]}',
    ],
)
def test_graphql_filters_on_secured_attributes_cannot_probe(office: Office, where: str) -> None:
    where = where.replace("GLOBEX", str(office.clients["Globex"]))
    document = "{ flsContracts(filter: " + where + ") { nodes { flsName } } }"

    assert office.data("clerk", document)["flsContracts"]["nodes"] == []
    assert office.data("reader", document)["flsContracts"]["nodes"] != []
    negated = "{ flsContracts(filter: {not: " + where + "}) { totalCount } }"
    assert office.data("clerk", negated)["flsContracts"]["totalCount"] == 2, "as if every value were null"


def test_graphql_order_by_a_secured_attribute_or_through_a_secured_lookup(office: Office) -> None:
    def names(actor: str, order: str) -> list[str]:
        document = "{ flsContracts(orderBy: [" + order + "]) { nodes { flsName } } }"
        return [node["flsName"] for node in office.data(actor, document)["flsContracts"]["nodes"]]

    for order in ("{flsSalary: ASC}", "{flsBroker: {flsName: ASC}}"):
        descending = order.replace("ASC", "DESC")
        assert names("reader", order) != names("reader", descending)
        assert names("clerk", order) == names("clerk", descending), order


def test_graphql_mutation_with_a_secured_attribute_is_forbidden(office: Office) -> None:
    before = _count(office)
    document = 'mutation { createFlsContract(input: {flsName: "Delta", flsSalary: 9}) { flsName } }'

    result = office.graphql("clerk", document)

    assert result.errors and result.errors[0].extensions["code"] == "FORBIDDEN"
    assert "fls_contract.fls_salary" in result.errors[0].message
    assert _count(office) == before
