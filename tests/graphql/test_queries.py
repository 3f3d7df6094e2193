"""Queries through real GraphQL documents: filters, ordering, paging, aggregates, views, nodes, metadata."""

from __future__ import annotations

from typing import Any

from xrm.graphql import decode_global_id, encode_global_id


def _names(connection: dict[str, Any], key: str = "name") -> list[str]:
    return [node[key] for node in connection["nodes"]]


def test_single_record_by_id_and_missing_is_null(graphql_world: Any) -> None:
    alpha = graphql_world.sample.accounts["Alpha Corp"]
    data = graphql_world.data(
        "query($id: UUID!) { account(id: $id) { id accountid name numberofemployees revenue } "
        'missing: account(id: "00000000-0000-4000-8000-00000000beef") { name } }',
        {"id": str(alpha)},
    )
    assert data["account"] == {
        "id": encode_global_id("account", alpha), "accountid": str(alpha), "name": "Alpha Corp",
        "numberofemployees": 500, "revenue": "1000000.5000",
    }  # fmt: skip
    assert data["missing"] is None


def test_filters_by_type(graphql_world: Any) -> None:
    def names(filter_: str) -> list[str]:
        document = f"{{ accounts(filter: {filter_}, orderBy: [{{name: ASC}}], first: 200) {{ nodes {{ name }} }} }}"
        return _names(graphql_world.data(document)["accounts"])

    assert names('{name: {in: ["Acme", "Beta Ltd", "nope"]}}') == ["Acme", "Beta Ltd"]
    assert names('{name: {beginsWith: "al"}, numberofemployees: {ge: 50}}') == ["Alpha Corp"]
    assert names('{name: {like: "%corp%"}}') == ["Alpha Corp"]
    assert names("{numberofemployees: {between: [97, 99]}}") == ["org097", "org098", "org099"]
    assert names('{numberofemployees: {lt: 2}, name: {notIn: ["org000"]}}') == ["org001"]
    assert names('{revenue: {gt: "98500"}, name: {ne: "Alpha Corp"}}') == ["org099"]
    assert names("{parentaccountid: {isNull: false}, numberofemployees: {le: 2}}") == ["org001", "org002"]
    assert names(
        '{name: {in: ["Acme", "Alpha Corp", "org001"]}, numberofemployees: {ge: 50}, description: {eq: null}}'
    ) == ["Acme", "Alpha Corp"]
    assert sorted(names('{statecode: {eq: ACTIVE}, name: {in: ["Acme", "org001"]}, createdon: {lastXDays: 1}}')) == [
        "Acme",
        "org001",
    ]
    assert names('{name: {in: ["Acme"]}, createdon: {onOrBefore: "2000-01-01"}}') == []


def test_nested_and_or_not(graphql_world: Any) -> None:
    document = """{ accounts(orderBy: [{name: ASC}], filter: {
        or: [{name: {eq: "Acme"}}, {and: [{name: {beginsWith: "org09"}}, {not: {numberofemployees: {lt: 98}}}]}],
        not: {name: {eq: "org099"}} }) { nodes { name } totalCount } }"""
    data = graphql_world.data(document)["accounts"]
    assert sorted(_names(data)) == ["Acme", "org098"]
    assert data["totalCount"] == 2


def test_filter_across_a_polymorphic_lookup(graphql_world: Any) -> None:
    """Cases whose customer's name begins with "A": accounts by name, contacts by full name."""
    document = """query($before: DateTime!) { incidents(orderBy: [{title: ASC}], filter: {createdon: {lt: $before}, customer: {
        account: {name: {beginsWith: "A"}}, contact: {fullname: {beginsWith: "A"}}}}) {
        nodes { title customer { __typename ... on Account { name } ... on Contact { fullname } } } } }"""
    nodes = graphql_world.data(document, {"before": graphql_world.sample.loaded.isoformat()})["incidents"]["nodes"]
    assert [n["title"] for n in nodes] == ["acme one", "alpha one", "alpha two", "ann one"]
    assert nodes[-1]["customer"] == {"__typename": "Contact", "fullname": "Ann Archer"}
    assert nodes[0]["customer"] == {"__typename": "Account", "name": "Acme"}
    negated = graphql_world.data(
        """{ incidents(filter: {title: {in: ["acme one", "beta one", "ann one"]},
            not: {customer: {account: {name: {beginsWith: "A"}}}}}, orderBy: [{title: ASC}]) { nodes { title } } }"""
    )
    assert _names(negated["incidents"], "title") == ["ann one", "beta one"]


def test_filter_on_single_lookup_and_related_collections(graphql_world: Any) -> None:
    children = graphql_world.data('{ accounts(filter: {parentaccount: {name: {eq: "org000"}}}) { totalCount } }')[
        "accounts"
    ]["totalCount"]
    assert children == 9

    def names(filter_: str) -> list[str]:
        document = f"{{ accounts(orderBy: [{{name: ASC}}], filter: {filter_}) {{ nodes {{ name }} }} }}"
        return _names(graphql_world.data(document)["accounts"])

    some = (
        '{name: {in: ["Alpha Corp", "Acme", "Beta Ltd"]}, incidentCustomerAccounts: {some: {prioritycode: {eq: LOW}}}}'
    )
    assert names(some) == ["Alpha Corp", "Beta Ltd"]
    none = (
        '{name: {in: ["Alpha Corp", "Acme", "Beta Ltd"]}, incidentCustomerAccounts: {none: {prioritycode: {eq: LOW}}}}'
    )
    assert names(none) == ["Acme"]
    every = (
        '{name: {in: ["Alpha Corp", "Acme", "Beta Ltd"]}, incidentCustomerAccounts: {every: {statecode: {eq: ACTIVE}}}}'
    )
    assert names(every) == ["Acme", "Beta Ltd"]
    nested = '{name: {beginsWith: "org00"}, accountParentAccount: {some: {contactCustomerAccounts: {some: {lastname: {eq: "c5-1"}}}}}}'
    assert names(nested) == ["org000"]


def test_order_by_several_attributes_and_a_lookups_attribute(graphql_world: Any) -> None:
    document = """{ incidents(filter: {title: {in: ["alpha one", "alpha two", "acme one", "beta one", "ann one"]}},
        orderBy: [{prioritycode: DESC}, {customer: {account: {name: DESC}}}, {title: ASC}]) { nodes { title prioritycode } } }"""
    nodes = graphql_world.data(document)["incidents"]["nodes"]
    # 3 (Low): Beta Ltd before Alpha Corp; 2 (Normal): acme; 1 (High): ann (no account: nulls lowest) last
    assert [n["title"] for n in nodes] == ["beta one", "alpha two", "acme one", "alpha one", "ann one"]
    contacts = graphql_world.data(
        """{ contacts(filter: {lastname: {beginsWith: "c1"}}, first: 3,
            orderBy: [{parentcustomer: {account: {numberofemployees: DESC}}}, {lastname: ASC}]) { nodes { lastname } } }"""
    )
    assert _names(contacts["contacts"], "lastname") == ["c19-0", "c19-1", "c18-0"]


def test_paging_forward_and_backward_with_cursors(graphql_world: Any) -> None:
    query = """query($first: Int, $after: String, $last: Int, $before: String) {
        accounts(filter: {name: {beginsWith: "org0"}}, orderBy: [{numberofemployees: DESC}],
                 first: $first, after: $after, last: $last, before: $before) {
        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { name } } } }"""
    forward: list[str] = []
    cursors: list[str] = []
    after = None
    while True:
        page = graphql_world.data(query, {"first": 30, "after": after})["accounts"]
        assert page["totalCount"] == 100
        forward += [edge["node"]["name"] for edge in page["edges"]]
        cursors += [edge["cursor"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert forward == [f"org{i:03d}" for i in range(99, -1, -1)]
    last = graphql_world.data(query, {"last": 3})["accounts"]
    assert [e["node"]["name"] for e in last["edges"]] == ["org002", "org001", "org000"]
    assert last["pageInfo"]["hasPreviousPage"] and not last["pageInfo"]["hasNextPage"]
    assert [e["cursor"] for e in last["edges"]] == cursors[-3:]
    before = graphql_world.data(query, {"last": 2, "before": cursors[10]})["accounts"]
    assert [e["node"]["name"] for e in before["edges"]] == forward[8:10]
    assert before["pageInfo"]["hasNextPage"] and before["pageInfo"]["hasPreviousPage"]
    after_page = graphql_world.data(query, {"first": 2, "after": before["pageInfo"]["endCursor"]})["accounts"]
    assert [e["node"]["name"] for e in after_page["edges"]] == forward[10:12]


def test_aggregates(graphql_world: Any) -> None:
    document = """{ accountsAggregate(filter: {name: {beginsWith: "org"}}) {
        count sum { numberofemployees revenue } avg { numberofemployees } min { numberofemployees createdon } max { revenue } } }"""
    (row,) = graphql_world.data(document)["accountsAggregate"]
    assert row["count"] == 100
    assert row["sum"] == {"numberofemployees": 4950, "revenue": "4950000.0000"}
    assert row["avg"] == {"numberofemployees": 49.5}
    assert row["min"]["numberofemployees"] == 0 and row["min"]["createdon"].endswith("+00:00")
    assert row["max"] == {"revenue": "99000.0000"}
    grouped = graphql_world.data(
        """{ incidentsAggregate(filter: {title: {beginsWith: "acase"}}, groupBy: [{field: prioritycode}]) {
            count group { prioritycode } } }"""
    )["incidentsAggregate"]
    assert sorted((g["group"]["prioritycode"], g["count"]) for g in grouped) == [
        ("HIGH", 34),
        ("LOW", 33),
        ("NORMAL", 33),
    ]
    by_year = graphql_world.data(
        """{ accountsAggregate(filter: {name: {beginsWith: "org"}}, groupBy: [{field: createdon, dateGrouping: YEAR}, {field: statecode}]) {
            count group { createdon statecode } } }"""
    )["accountsAggregate"]
    assert len(by_year) == 1 and by_year[0]["count"] == 100 and by_year[0]["group"]["statecode"] == "ACTIVE"
    errors = graphql_world.errors("{ accountsAggregate(groupBy: [{field: createdon}]) { count } }")
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_saved_view(graphql_world: Any) -> None:
    document = """{ view(entity: incident, name: "Active Cases", first: 3) { totalCount columns { key }
        pageInfo { hasNextPage } edges { cursor values node { ... on Incident { title statecode } } } } }"""
    view = graphql_world.data(document)["view"]
    assert view["totalCount"] >= 404  # every active case (tests may add more)
    assert [c["key"] for c in view["columns"]][:3] == ["ticketnumber", "title", "customerid"]
    assert view["pageInfo"]["hasNextPage"]
    for edge in view["edges"]:
        assert edge["node"]["statecode"] == "ACTIVE"
        assert edge["values"]["title"] == edge["node"]["title"]
        assert edge["values"]["ticketnumber"].startswith("CAS-")
    linked = graphql_world.data(
        '{ view(entity: tst_project, name: "Active Projects") { edges { values node { ... on TstProject { tstName } } } } }'
    )["view"]["edges"]
    assert linked and "acct.address1_city" in linked[0]["values"]
    mine = graphql_world.data('{ view(entity: incident, name: "My Active Cases", first: 1) { totalCount } }')
    assert mine["view"]["totalCount"] >= 404  # eq_userid: the caller (here the system user) owns them all
    owned = '{ incidents(filter: {ownerid: {currentUser: true}, title: {eq: "alpha one"}}) { totalCount } }'
    assert graphql_world.data(owned)["incidents"]["totalCount"] == 1
    errors = graphql_world.errors('{ view(entity: incident, name: "No Such View") { totalCount } }')
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_node_and_nodes(graphql_world: Any) -> None:
    sample = graphql_world.sample
    case_id = encode_global_id("incident", sample.cases["alpha one"])
    account_id = encode_global_id("account", sample.accounts["Acme"])
    data = graphql_world.data(
        """query($case: ID!, $ids: [ID!]!) { node(id: $case) { id ... on Incident { title subject { title } } }
            nodes(ids: $ids) { __typename ... on Account { name } ... on Incident { title } } }""",
        {
            "case": case_id,
            "ids": [account_id, case_id, encode_global_id("account", "00000000-0000-4000-8000-00000000beef")],
        },
    )
    assert data["node"] == {"id": case_id, "title": "alpha one", "subject": {"title": "Billing"}}
    assert data["nodes"] == [
        {"__typename": "Account", "name": "Acme"},
        {"__typename": "Incident", "title": "alpha one"},
        None,
    ]
    assert decode_global_id(case_id) == ("incident", sample.cases["alpha one"])
    errors = graphql_world.errors('{ node(id: "not-a-global-id") { id } }')
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_fragments_aliases_and_directives(graphql_world: Any) -> None:
    document = """query($withCases: Boolean!) { acme: accounts(filter: {name: {eq: "Acme"}}) { nodes { ...Names } }
        beta: accounts(filter: {name: {eq: "Beta Ltd"}}) { nodes { ...Names
            open: incidentCustomerAccounts(filter: {statecode: {eq: ACTIVE}}) @include(if: $withCases) { totalCount }
            all: incidentCustomerAccounts @skip(if: $withCases) { totalCount } } } }
        fragment Names on Account { name parentaccount { name } }"""
    data = graphql_world.data(document, {"withCases": True})
    assert data["acme"]["nodes"] == [{"name": "Acme", "parentaccount": None}]
    assert data["beta"]["nodes"] == [{"name": "Beta Ltd", "parentaccount": None, "open": {"totalCount": 1}}]


def test_metadata_part(graphql_world: Any) -> None:
    data = graphql_world.data(
        """{ entityDefinition(name: "incident") { typeName listField primaryNameAttribute
            attributes { logicalName field recordField type required options { value label name } }
            states { name statuses { value label name } } forms { name tabs { name sections { name rows { field } } } }
            views { name columns { key } } relationships { name field } }
          optionSets(names: ["incident_prioritycode"]) { name enum options { value label name color } }
          forms(entity: "account") { name type } views(entity: "incident") { name isDefault } }"""
    )
    incident = data["entityDefinition"]
    assert (incident["typeName"], incident["listField"], incident["primaryNameAttribute"]) == (
        "Incident",
        "incidents",
        "title",
    )
    customer = next(a for a in incident["attributes"] if a["logicalName"] == "customerid")
    assert (customer["field"], customer["recordField"], customer["type"], customer["required"]) == (
        "customerid",
        "customer",
        "customer",
        "required",
    )
    priority = next(a for a in incident["attributes"] if a["logicalName"] == "prioritycode")
    assert {"value": 1, "label": "High", "name": "HIGH"} in priority["options"]
    assert [s["name"] for s in incident["states"]] == ["active", "resolved", "canceled"]
    assert {"value": 2000, "label": "Merged", "name": "MERGED"} in incident["states"][2]["statuses"]
    assert "Case" in [f["name"] for f in incident["forms"]]
    assert any(v["name"] == "Active Cases" for v in incident["views"])
    assert {"name": "incident_parent_incident", "field": "incidentParentIncident"} in incident["relationships"]
    assert data["optionSets"][0]["enum"] == "IncidentPrioritycode"
    assert {f["name"] for f in data["forms"]} >= {"Account", "Account Quick Create"}
    assert any(v["isDefault"] for v in data["views"])
