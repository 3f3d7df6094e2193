"""Look-ahead and batching: nested levels cost a fixed number of statements, whatever the page size."""

from __future__ import annotations

from typing import Any

NESTED = """query($n: Int!) {
  accounts(first: $n, filter: {name: {beginsWith: "org"}}, orderBy: [{name: ASC}]) {
    totalCount
    edges { cursor node {
      name owner { __typename ... on Systemuser { fullname } }
      contactCustomerAccounts(first: 5, orderBy: [{lastname: ASC}]) {
        totalCount pageInfo { hasNextPage }
        nodes { lastname createdby { fullname }
          incidentCustomerContacts(first: 5, orderBy: [{title: ASC}]) {
            totalCount nodes { title statuscode owner { __typename } customer { ... on Contact { lastname } } }
          }
        }
      }
      first: incidentCustomerAccounts(first: 1) { nodes { title customer { ... on Account { name } } } }
    } }
  }
}"""


def _statements(world: Any, size: int) -> tuple[int, dict[str, Any]]:
    with world.statements() as seen:
        data = world.data(NESTED, {"n": size})
    return len([statement for statement in seen if statement.lstrip().upper().startswith("SELECT")]), data


def test_statement_count_does_not_depend_on_the_page_size(graphql_world: Any) -> None:
    _statements(graphql_world, 2)  # warm the pool: first connections may ask the server questions
    small, _ = _statements(graphql_world, 10)
    large, data = _statements(graphql_world, 100)
    assert small == large
    # page + count; owner; contacts + counts; createdby; cases + counts; owner; customer; first case; its customer
    assert large <= 12, large
    edges = data["accounts"]["edges"]
    assert len(edges) == 100 and data["accounts"]["totalCount"] == 100
    for index, edge in enumerate(edges):
        node = edge["node"]
        assert node["owner"] == {"__typename": "Systemuser", "fullname": "SYSTEM"}
        contacts = node["contactCustomerAccounts"]
        assert contacts["totalCount"] == 2 and not contacts["pageInfo"]["hasNextPage"]
        assert [c["lastname"] for c in contacts["nodes"]] == [f"c{index}-0", f"c{index}-1"]
        for contact in contacts["nodes"]:
            cases = contact["incidentCustomerContacts"]
            assert cases["totalCount"] == 2
            assert [c["title"] for c in cases["nodes"]] == [
                f"case{index}-{contact['lastname'][-1]}-{k}" for k in (0, 1)
            ]
            assert all(c["customer"] == {"lastname": contact["lastname"]} for c in cases["nodes"])
            assert contact["createdby"] == {"fullname": "SYSTEM"}
        assert node["first"]["nodes"] == [{"title": f"acase{index}", "customer": {"name": node["name"]}}]


def test_each_parent_gets_its_own_page(graphql_world: Any) -> None:
    document = """{ accounts(filter: {name: {in: ["org000", "org001"]}}, orderBy: [{name: ASC}]) { nodes { name
        contactCustomerAccounts(first: 1, orderBy: [{lastname: DESC}]) { totalCount pageInfo { hasNextPage endCursor }
          edges { cursor node { lastname } } }
        last: contactCustomerAccounts(last: 1, orderBy: [{lastname: DESC}]) { edges { node { lastname } } pageInfo { hasPreviousPage } }
        accountParentAccount(first: 3, orderBy: [{name: ASC}]) { totalCount nodes { name } } } } }"""
    org0, org1 = graphql_world.data(document)["accounts"]["nodes"]
    assert org0["contactCustomerAccounts"]["edges"][0]["node"] == {"lastname": "c0-1"}
    assert org0["contactCustomerAccounts"]["pageInfo"]["hasNextPage"] is True
    assert org0["contactCustomerAccounts"]["totalCount"] == 2
    assert org1["contactCustomerAccounts"]["edges"][0]["node"] == {"lastname": "c1-1"}
    assert org0["last"] == {"edges": [{"node": {"lastname": "c0-0"}}], "pageInfo": {"hasPreviousPage": True}}
    assert org0["accountParentAccount"] == {"totalCount": 9, "nodes": [{"name": f"org00{i}"} for i in (1, 2, 3)]}
    assert org1["accountParentAccount"] == {"totalCount": 0, "nodes": []}
    # the cursor of a nested edge resumes that parent's list
    cursor = org0["contactCustomerAccounts"]["pageInfo"]["endCursor"]
    resumed = graphql_world.data(
        """query($after: String) { accounts(filter: {name: {eq: "org000"}}) { nodes {
            contactCustomerAccounts(first: 1, after: $after, orderBy: [{lastname: DESC}]) { nodes { lastname } } } } }""",
        {"after": cursor},
    )
    assert resumed["accounts"]["nodes"][0]["contactCustomerAccounts"]["nodes"] == [{"lastname": "c0-0"}]


def test_many_to_many_connections_both_ways(graphql_world: Any) -> None:
    data = graphql_world.data(
        """{ tstProjects(first: 5, filter: {tstName: {eq: "Apollo"}}) { nodes {
              tstProjectContact(first: 10, orderBy: [{lastname: ASC}]) { totalCount nodes { lastname tstProjectContact(first: 10) { nodes { tstName } } } } } }
            contacts(filter: {tstProjectContact: {some: {tstCode: {eq: "APL"}}}}, orderBy: [{lastname: ASC}]) { nodes { lastname } } }"""
    )
    contacts = data["tstProjects"]["nodes"][0]["tstProjectContact"]
    assert contacts["totalCount"] == 2
    assert contacts["nodes"] == [
        {"lastname": "c0-0", "tstProjectContact": {"nodes": [{"tstName": "Apollo"}]}},
        {"lastname": "c0-1", "tstProjectContact": {"nodes": [{"tstName": "Apollo"}]}},
    ]
    assert [n["lastname"] for n in data["contacts"]["nodes"]] == ["c0-0", "c0-1"]


def test_only_selected_columns_are_read(graphql_world: Any) -> None:
    with graphql_world.statements() as seen:
        graphql_world.data('{ accounts(first: 1, filter: {name: {eq: "Acme"}}) { nodes { name } } }')
    (select,) = [s for s in seen if "FROM account" in s]
    assert "account.revenue" not in select and "account.name" in select
