"""Query: QueryExpression / FilterExpression / ConditionExpression / LinkEntity -> one SQLAlchemy Select."""

from xrm.query.compiler import (
    MAX_LINK_ENTITIES,
    MAX_PAGE_SIZE,
    CompiledQuery,
    Hidden,
    Predicate,
    QueryPage,
    compile_query,
)
from xrm.query.expression import (
    Aggregate,
    ConditionExpression,
    ConditionOperator,
    FilterExpression,
    GroupBy,
    LinkEntity,
    OrderExpression,
    QueryContext,
    QueryError,
    QueryExpression,
    filter_from_metadata,
    query_from_view,
)

__all__ = [
    "MAX_LINK_ENTITIES",
    "MAX_PAGE_SIZE",
    "Aggregate",
    "CompiledQuery",
    "ConditionExpression",
    "ConditionOperator",
    "FilterExpression",
    "GroupBy",
    "Hidden",
    "LinkEntity",
    "OrderExpression",
    "Predicate",
    "QueryContext",
    "QueryError",
    "QueryExpression",
    "QueryPage",
    "compile_query",
    "filter_from_metadata",
    "query_from_view",
]
