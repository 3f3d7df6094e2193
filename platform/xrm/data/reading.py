"""retrieve_multiple: a QueryExpression compiled to one statement, rows turned into entities."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection

from xrm.data.access import AccessPolicy
from xrm.data.calculated import calculated_names, evaluate_calculated
from xrm.data.entity import Entity
from xrm.data.environment import Environment
from xrm.data.messages import EntityCollection, RetrieveMultipleResponse
from xrm.data.records import from_row
from xrm.query import QueryContext, QueryExpression, compile_query

__all__ = ["retrieve_multiple"]


def retrieve_multiple(
    env: Environment,
    connection: Connection,
    query: QueryExpression,
    user_id: uuid.UUID | None,
    *,
    policy: AccessPolicy | None = None,
) -> RetrieveMultipleResponse:
    """Run ``query``; record queries give entities (link-entity columns as ``alias.attribute``),
    aggregate queries give one entity per group holding the aggregate aliases.

    With a ``policy`` every table of the statement (root, link-entities, subqueries) is restricted
    to the rows the caller may read, in SQL, and the secured attributes it may not read are null
    wherever the query uses them (columns, filters, orders, groups, aggregates).
    """
    entity = env.model.entity(query.entity)
    context = QueryContext(user_id=user_id, now=env.clock())
    calculated = calculated_names(entity, query.columns) if not (query.is_aggregate or query.distinct) else []
    stored_query = query
    if calculated and query.columns is not None:
        # calculated attributes are evaluated on read, after the statement
        stored_query = replace(query, columns=tuple(c for c in query.columns if c not in calculated))
    predicate = policy.read_filter if policy is not None else None
    hidden = policy.hidden_attributes if policy is not None else None
    compiled = compile_query(env.model, env.tables, stored_query, context, predicate=predicate, hidden=hidden)
    page = compiled.page(connection.execute(compiled.statement).all())
    records: list[Entity] = []
    wanted = [c for c in compiled.columns if "." not in c]
    for row in page.rows:
        mapping: dict[str, Any] = dict(row._mapping)
        if query.is_aggregate or query.distinct:
            records.append(Entity(entity.logical_name, {label: mapping.get(label) for label in compiled.columns}))
            continue
        record = from_row(entity, mapping, [c for c in wanted if c in entity.attributes])
        for label in compiled.columns:
            if "." in label:
                record[label] = mapping.get(label)
        records.append(record)
    if calculated:
        for record in records:
            evaluate_calculated(env, connection, entity, record, query.columns, hidden=hidden)
    collection = EntityCollection(records, page.more_records, page.cursor)
    return RetrieveMultipleResponse(results={"entities": collection}, collection=collection)
