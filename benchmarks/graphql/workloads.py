"""The five GraphQL workloads and their hand-written baselines (fewest SQL statements, same JSON)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

__all__ = ["Workload", "workloads"]

PAGE = """query { incidents(first: 100, orderBy: [{createdon: DESC}]) { nodes {
  title ticketnumber createdon
  customer { __typename ... on Account { name } ... on Contact { fullname } }
  owner { __typename ... on Systemuser { fullname } }
  incidentTaskRegardingobjectid(first: 5, orderBy: [{createdon: DESC}]) { nodes { subject createdon } }
} } }"""

ONE = """query($id: UUID!) { incident(id: $id) {
  incidentid title ticketnumber description prioritycode caseorigincode casetypecode severitycode statecode statuscode
  createdon modifiedon versionnumber isescalated followupby escalatedon merged numberofchildincidents openchildincidents
  customersatisfactioncode
} }"""

FILTERED = """query { incidents(first: 50, filter: {prioritycode: {eq: HIGH}, statecode: {eq: ACTIVE}, title: {beginsWith: "Case 0"}},
  orderBy: [{createdon: DESC}, {title: ASC}]) { totalCount nodes { title ticketnumber prioritycode createdon } } }"""

AGGREGATE = """query { incidentsAggregate(groupBy: [{field: statecode}, {field: prioritycode}]) { count } }"""

CREATE = """mutation($input: IncidentCreateInput!) { createIncident(input: $input) { incidentid ticketnumber } }"""


@dataclass
class Workload:
    name: str
    document: str
    variables: Callable[[int], dict[str, Any]]
    baseline: Callable[[Engine, int], str]  # returns the JSON a hand-written endpoint would send


def _json(value: Any) -> str:
    return json.dumps(value, default=str)


def workloads(engine: Engine, sample_case: uuid.UUID, sample_account: uuid.UUID) -> list[Workload]:
    def page_baseline(_: Engine, __: int) -> str:
        with engine.connect() as connection:
            cases = connection.execute(text("""
                SELECT i.incidentid, i.title, i.ticketnumber, i.createdon, i.customeridtype, a.name, c.fullname, u.fullname AS owner
                FROM incident i
                LEFT JOIN account a ON i.customeridtype = 'account' AND a.accountid = i.customerid
                LEFT JOIN contact c ON i.customeridtype = 'contact' AND c.contactid = i.customerid
                LEFT JOIN systemuser u ON u.systemuserid = i.ownerid
                ORDER BY i.createdon DESC LIMIT 100""")).all()  # fmt: skip
            ids = [row.incidentid for row in cases]
            tasks = connection.execute(
                text("""SELECT regardingobjectid, subject, createdon FROM (
                    SELECT regardingobjectid, subject, createdon,
                           ROW_NUMBER() OVER (PARTITION BY regardingobjectid ORDER BY createdon DESC) AS n
                    FROM task WHERE regardingobjectidtype = 'incident' AND regardingobjectid IN :ids) t WHERE n <= 5
                    ORDER BY regardingobjectid, createdon DESC""").bindparams(_expanding("ids")),
                {"ids": ids},
            ).all()  # fmt: skip
        by_case: dict[Any, list[dict[str, Any]]] = {}
        for task in tasks:
            by_case.setdefault(task.regardingobjectid, []).append(
                {"subject": task.subject, "createdon": task.createdon}
            )
        nodes = [
            {
                "title": r.title, "ticketnumber": r.ticketnumber, "createdon": r.createdon,
                "customer": {"__typename": "Account", "name": r.name} if r.customeridtype == "account" else {"__typename": "Contact", "fullname": r.fullname},
                "owner": {"__typename": "Systemuser", "fullname": r.owner},
                "incidentTaskRegardingobjectid": {"nodes": by_case.get(r.incidentid, [])},
            }
            for r in cases
        ]  # fmt: skip
        return _json({"data": {"incidents": {"nodes": nodes}}})

    def one_baseline(_: Engine, __: int) -> str:
        columns = [line.strip() for line in ONE.split("{", 2)[2].rsplit("}", 2)[0].split()]
        with engine.connect() as connection:
            row = (
                connection.execute(
                    text(f"SELECT {', '.join(columns)} FROM incident WHERE incidentid = :id"),
                    {"id": _id(engine, sample_case)},
                )
                .mappings()
                .one()
            )
        return _json({"data": {"incident": dict(row)}})

    def filtered_baseline(_: Engine, __: int) -> str:
        with engine.connect() as connection:
            where = "prioritycode = 1 AND statecode = 0 AND title LIKE 'Case 0%'"
            total = connection.execute(text(f"SELECT count(*) FROM incident WHERE {where}")).scalar_one()
            rows = (
                connection.execute(
                    text(
                        f"SELECT title, ticketnumber, prioritycode, createdon FROM incident WHERE {where} ORDER BY createdon DESC, title LIMIT 50"
                    )
                )
                .mappings()
                .all()
            )
        return _json({"data": {"incidents": {"totalCount": total, "nodes": [dict(r) for r in rows]}}})

    def aggregate_baseline(_: Engine, __: int) -> str:
        with engine.connect() as connection:
            rows = (
                connection.execute(
                    text(
                        "SELECT statecode, prioritycode, count(*) AS count FROM incident GROUP BY statecode, prioritycode"
                    )
                )
                .mappings()
                .all()
            )
        return _json({"data": {"incidentsAggregate": [dict(r) for r in rows]}})

    def create_baseline(_: Engine, n: int) -> str:
        new_id = uuid.uuid4()
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO incident (incidentid, title, ticketnumber, customerid, customeridtype, statecode, statuscode, versionnumber) "
                     "VALUES (:id, :title, :number, :customer, 'account', 0, 1, 1)"),
                {"id": _id(engine, new_id), "title": f"baseline {n}", "number": f"BASE-{new_id.hex[:12]}", "customer": _id(engine, sample_account)},
            )  # fmt: skip
        return _json(
            {"data": {"createIncident": {"incidentid": str(new_id), "ticketnumber": f"BASE-{new_id.hex[:12]}"}}}
        )

    return [
        Workload("a. page of 100 cases + customer, owner, 5 latest tasks", PAGE, lambda n: {}, page_baseline),
        Workload("b. one case by id, 20 attributes", ONE, lambda n: {"id": str(sample_case)}, one_baseline),
        Workload("c. filtered, ordered page of 50", FILTERED, lambda n: {}, filtered_baseline),
        Workload("d. aggregate by status and priority", AGGREGATE, lambda n: {}, aggregate_baseline),
        Workload(
            "e. create a case",
            CREATE,
            lambda n: {
                "input": {
                    "title": f"bench {n}",
                    "customerid": {"account": str(sample_account)},
                    "prioritycode": "NORMAL",
                }
            },
            create_baseline,
        ),
    ]


def _id(engine: Engine, value: uuid.UUID) -> Any:
    """UUID parameters for hand-written SQL: SQLite stores them as 32 hex characters."""
    return value.hex if engine.dialect.name == "sqlite" else value


def _expanding(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name, expanding=True)
