"""The generated types: every attribute type of the alltypes fixture, enums, unions, connections, Node."""

from __future__ import annotations

from typing import Any

TYPE_OF = """query($name: String!) { __type(name: $name) { kind interfaces { name } possibleTypes { name }
  enumValues { name description } fields { name type { kind name ofType { kind name ofType { kind name } } } } } }"""


def _type(world: Any, name: str) -> dict[str, Any]:
    return world.data(TYPE_OF, {"name": name})["__type"]


def _shape(field_type: dict[str, Any]) -> str:
    if field_type["kind"] == "NON_NULL":
        return _shape(field_type["ofType"]) + "!"
    if field_type["kind"] == "LIST":
        return "[" + _shape(field_type["ofType"]) + "]"
    return field_type["name"]


def test_fields_are_typed_from_attributes(graphql_world: Any) -> None:
    project = _type(graphql_world, "TstProject")
    fields = {field["name"]: _shape(field["type"]) for field in project["fields"]}
    expected = {
        "id": "ID!", "tstProjectid": "UUID!", "tstName": "String", "tstDescription": "String", "tstHeadcount": "Int",
        "tstBytes": "BigInt", "tstRatio": "Decimal", "tstBudget": "Decimal", "tstScore": "Float", "tstActive": "Boolean",
        "tstStartdate": "Date", "tstDeadline": "DateTime", "tstKickoff": "DateTime", "tstPhase": "TstProjectTstPhase",
        "tstPriority": "TstPriority", "tstTags": "[TstProjectTstTags!]", "tstRegions": "[TstRegion!]",
        "tstAccountid": "UUID", "tstAccount": "Account", "tstCustomerid": "UUID", "tstCustomer": "Customer",
        "tstSponsorid": "UUID", "tstSponsor": "Owner", "tstRegardingid": "UUID", "tstRegarding": "AccountOrContact",
        "tstParentprojectid": "UUID", "tstParentproject": "TstProject", "tstExternalid": "UUID", "tstNumber": "String",
        "tstDaysleft": "Int", "tstLabel": "String", "tstTaskcount": "Int", "tstOpenhours": "Decimal",
        "tstTreebudget": "Decimal", "statecode": "TstProjectState", "statuscode": "TstProjectStatus",
        "versionnumber": "BigInt", "createdon": "DateTime", "createdby": "Systemuser", "createdbyId": "UUID",
        "tstProjectTasks": "TstTaskConnection!", "tstProjectParentProject": "TstProjectConnection!",
        "tstProjectContact": "ContactConnection!",
    }  # fmt: skip
    assert {name: fields.get(name) for name in expected} == expected
    assert project["interfaces"] == [{"name": "Node"}]
    assert {t["name"] for t in _type(graphql_world, "Customer")["possibleTypes"]} == {"Account", "Contact"}
    assert {t["name"] for t in _type(graphql_world, "Owner")["possibleTypes"]} == {"Systemuser", "Team"}
    assert _type(graphql_world, "Incident")["fields"] is not None
    contact_fields = {f["name"] for f in _type(graphql_world, "Contact")["fields"]}
    assert {"tstProjectContact", "incidentCustomerContacts", "parentcustomer", "parentcustomerid"} <= contact_fields


def test_enums_carry_the_labels(graphql_world: Any) -> None:
    priority = _type(graphql_world, "TstPriority")
    assert priority["enumValues"] == [
        {"name": "LOW", "description": "Low"}, {"name": "MEDIUM", "description": "Medium"}, {"name": "HIGH", "description": "High"},
    ]  # fmt: skip
    status = {v["name"]: v["description"] for v in _type(graphql_world, "IncidentStatus")["enumValues"]}
    assert status["PROBLEM_SOLVED"] == "Problem Solved" and status["WAITING_FOR_DETAILS"] == "Waiting for Details"


def test_values_of_every_type(graphql_world: Any) -> None:
    document = """query($id: UUID!) { tstProject(id: $id) {
        tstName tstCode tstEmail tstHeadcount tstBytes tstRatio tstBudget tstScore tstActive tstStartdate tstDeadline
        tstPhase tstPriority tstTags tstRegions tstExternalid tstNumber tstDaysleft tstLabel tstTaskcount tstOpenhours
        statecode statuscode versionnumber
        tstAccount { name } tstCustomer { __typename ... on Contact { fullname } }
        tstRegarding { __typename ... on Account { name } } tstSponsor { __typename ... on Systemuser { fullname } }
        tstProjectTasks(orderBy: [{tstName: ASC}]) { nodes { tstName tstHours tstDone tstProject { tstName } } }
        tstProjectParentProject { nodes { tstName tstParentproject { tstName } } } } }"""
    project = graphql_world.data(document, {"id": str(graphql_world.sample.projects["Apollo"])})["tstProject"]
    assert project["tstNumber"].startswith("PRJ-")
    assert project["tstDaysleft"] > 1000
    assert project["tstOpenhours"].startswith("14.5")
    expected = {
        "tstName": "Apollo", "tstCode": "APL", "tstEmail": "apollo@example.com", "tstHeadcount": 12, "tstBytes": 2**40,
        "tstRatio": "0.2500", "tstBudget": "1500.7500", "tstScore": 4.5, "tstActive": True, "tstStartdate": "2024-01-15",
        "tstDeadline": "2030-06-30T17:00:00+00:00", "tstPhase": "DELIVERY", "tstPriority": "HIGH",
        "tstTags": ["INTERNAL", "STRATEGIC"], "tstRegions": ["EUROPE", "ASIA_PACIFIC"],
        "tstExternalid": "00000000-0000-0000-0000-00000000002a", "tstLabel": "Apollo (Alpha Corp)", "tstTaskcount": 3,
        "statecode": "ACTIVE", "statuscode": "PLANNED", "versionnumber": 1, "tstAccount": {"name": "Alpha Corp"},
        "tstCustomer": {"__typename": "Contact", "fullname": "Ann Archer"},
        "tstRegarding": {"__typename": "Account", "name": "Acme"},
        "tstSponsor": None,
        "tstProjectTasks": {"nodes": [
            {"tstName": "build", "tstHours": "10.00", "tstDone": False, "tstProject": {"tstName": "Apollo"}},
            {"tstName": "design", "tstHours": "4.50", "tstDone": False, "tstProject": {"tstName": "Apollo"}},
            {"tstName": "ship", "tstHours": "2.00", "tstDone": True, "tstProject": {"tstName": "Apollo"}},
        ]},
        "tstProjectParentProject": {"nodes": [{"tstName": "Gemini", "tstParentproject": {"tstName": "Apollo"}}]},
    }  # fmt: skip
    assert {key: project[key] for key in expected} == expected


def test_enum_and_multichoice_filters(graphql_world: Any) -> None:
    data = graphql_world.data(
        """query($apollo: UUID!) {
            a: tstProjects(filter: {tstPriority: {in: [HIGH, MEDIUM]}, tstRegions: {isNull: false}}) { nodes { tstName } }
            b: tstProjects(filter: {tstTags: {isNull: true}, tstCode: {in: ["APL", "GEM"]}}) { nodes { tstName } }
            c: tstProjects(filter: {tstStartdate: {onOrAfter: "2024-01-15"}, tstDeadline: {nextXDays: 3650}}) { totalCount }
            d: tstProjects(filter: {tstProjectid: {eqOrUnder: $apollo}}, orderBy: [{tstName: ASC}]) { nodes { tstName } }
            e: tstProjects(filter: {tstTags: {containValues: [STRATEGIC]}, tstCode: {in: ["APL", "GEM"]}}) { nodes { tstName } }
            f: tstProjects(filter: {tstTags: {notContainValues: [INTERNAL]}, tstCode: {in: ["APL", "GEM"]}}) { nodes { tstName } }
            g: tstProjects(filter: {tstTags: {containValues: [BILLABLE]}, tstCode: {in: ["APL", "GEM"]}}) { totalCount }
            h: tstProjects(filter: {tstRegions: {containValues: [ASIA_PACIFIC, EUROPE]}, tstCode: {in: ["APL", "GEM"]}}) {
              nodes { tstName } } }""",
        {"apollo": str(graphql_world.sample.projects["Apollo"])},
    )
    assert data["a"]["nodes"] == [{"tstName": "Apollo"}]
    assert data["b"]["nodes"] == [{"tstName": "Gemini"}]
    assert data["c"]["totalCount"] == 1
    assert data["d"]["nodes"] == [{"tstName": "Apollo"}, {"tstName": "Gemini"}]
    assert data["e"]["nodes"] == [{"tstName": "Apollo"}], "contains one of the values"
    assert data["f"]["nodes"] == [{"tstName": "Gemini"}], "none of the values (an empty selection included)"
    assert data["g"]["totalCount"] == 0
    assert data["h"]["nodes"] == [{"tstName": "Apollo"}]
