"""The query model, in the style of Dataverse's QueryExpression: immutable values that describe a query.

Nothing here touches a database; :func:`xrm.query.compile_query` turns a :class:`QueryExpression`
into one SQLAlchemy ``Select``. Sequences given to the constructors are stored as tuples, and an
operator may be given by its name (``"eq"``), so expressions can be built from JSON or YAML.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from xrm.errors import XrmError
from xrm.metadata.components import (
    ConditionMetadata,
    ConditionOperator,
    FilterMetadata,
    LinkEntityMetadata,
    ViewMetadata,
)

__all__ = [
    "QueryError",
    "ConditionOperator",
    "ConditionExpression",
    "FilterExpression",
    "LinkEntity",
    "OrderExpression",
    "Aggregate",
    "AggregateFunction",
    "GroupBy",
    "DateGrouping",
    "QueryContext",
    "QueryExpression",
    "query_from_view",
    "filter_from_metadata",
]

AggregateFunction = Literal["count", "count_column", "count_distinct", "sum", "avg", "min", "max"]
DateGrouping = Literal["year", "quarter", "month", "week", "day"]

_AGGREGATE_FUNCTIONS = frozenset(get_args(AggregateFunction))
_DATE_GROUPINGS = frozenset(get_args(DateGrouping))


class QueryError(XrmError):
    """A query that cannot be compiled: unknown attribute, wrong value, unsupported operator..."""

    code = "BAD_QUERY"


def _freeze(instance: object, name: str, value: Iterable[Any] | None) -> None:
    object.__setattr__(instance, name, tuple(value) if value is not None else ())


@dataclass(frozen=True)
class ConditionExpression:
    """``attribute operator values``; ``entity_alias`` names a link-entity whose attribute is meant."""

    attribute: str
    operator: ConditionOperator | str = ConditionOperator.EQ
    values: tuple[Any, ...] = ()
    entity_alias: str | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "operator", ConditionOperator(self.operator))
        except ValueError:
            raise QueryError(f"condition on '{self.attribute}': unknown operator '{self.operator}'") from None
        if isinstance(self.values, str | bytes) or not isinstance(self.values, Iterable):
            raise QueryError(f"condition on '{self.attribute}': 'values' must be a list of values")
        _freeze(self, "values", self.values)


@dataclass(frozen=True)
class FilterExpression:
    """Conditions and nested filters joined by ``and`` or ``or``."""

    type: Literal["and", "or"] = "and"
    conditions: tuple[ConditionExpression, ...] = ()
    filters: tuple[FilterExpression, ...] = ()

    def __post_init__(self) -> None:
        if self.type not in ("and", "or"):
            raise QueryError(f"filter type must be 'and' or 'or', not '{self.type}'")
        _freeze(self, "conditions", self.conditions)
        _freeze(self, "filters", self.filters)


@dataclass(frozen=True)
class LinkEntity:
    """A join to ``entity`` on ``entity.from_attribute = parent.to_attribute``.

    ``criteria`` restrict the linked rows (in the join condition, so an outer link keeps parents
    without a match); ``columns`` come back labelled ``alias.attribute``.
    """

    entity: str
    from_attribute: str
    to_attribute: str
    join: Literal["inner", "outer"] = "inner"
    alias: str | None = None
    columns: tuple[str, ...] = ()
    criteria: FilterExpression | None = None
    links: tuple[LinkEntity, ...] = ()

    def __post_init__(self) -> None:
        if self.join not in ("inner", "outer"):
            raise QueryError(f"link to '{self.entity}': join must be 'inner' or 'outer', not '{self.join}'")
        _freeze(self, "columns", self.columns)
        _freeze(self, "links", self.links)


@dataclass(frozen=True)
class OrderExpression:
    """Sort by an attribute (of a link-entity when ``entity_alias`` is set; of an alias in aggregates)."""

    attribute: str
    descending: bool = False
    entity_alias: str | None = None


@dataclass(frozen=True)
class Aggregate:
    """One aggregate column, returned as ``alias``. ``count`` counts rows and takes no attribute."""

    alias: str
    function: AggregateFunction
    attribute: str | None = None
    entity_alias: str | None = None

    def __post_init__(self) -> None:
        if self.function not in _AGGREGATE_FUNCTIONS:
            raise QueryError(f"aggregate '{self.alias}': unknown function '{self.function}'")


@dataclass(frozen=True)
class GroupBy:
    """A group-by column, returned as ``alias``; ``date_grouping`` groups a date by one of its parts."""

    attribute: str
    alias: str
    date_grouping: DateGrouping | None = None
    entity_alias: str | None = None

    def __post_init__(self) -> None:
        if self.date_grouping is not None and self.date_grouping not in _DATE_GROUPINGS:
            raise QueryError(f"group by '{self.alias}': unknown date grouping '{self.date_grouping}'")


@dataclass(frozen=True)
class QueryContext:
    """Who asks and when: feeds ``eq_userid``, ``ne_userid``, ``eq_businessid`` and the date operators."""

    user_id: uuid.UUID | None = None
    business_unit_id: uuid.UUID | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class QueryExpression:
    """A query of ``entity``: ``columns=None`` selects every stored column.

    ``page_size`` (at most 5000) with ``cursor`` pages by keyset; ``top`` returns the first rows
    only. With ``aggregates`` or ``group_by`` the query returns one row per group instead.
    """

    entity: str
    columns: tuple[str, ...] | None = None
    criteria: FilterExpression | None = None
    links: tuple[LinkEntity, ...] = ()
    orders: tuple[OrderExpression, ...] = ()
    page_size: int | None = None
    cursor: str | None = None
    aggregates: tuple[Aggregate, ...] = ()
    group_by: tuple[GroupBy, ...] = ()
    distinct: bool = False
    top: int | None = None

    def __post_init__(self) -> None:
        if self.columns is not None:
            if isinstance(self.columns, str):
                raise QueryError("'columns' must be a list of attribute names")
            _freeze(self, "columns", self.columns)
        for name in ("links", "orders", "aggregates", "group_by"):
            _freeze(self, name, getattr(self, name))

    @property
    def is_aggregate(self) -> bool:
        return bool(self.aggregates or self.group_by)


# --- views -------------------------------------------------------------------------------------


def _condition(metadata: ConditionMetadata) -> ConditionExpression:
    value = metadata.value
    values = () if value is None else tuple(value) if isinstance(value, list | tuple) else (value,)
    return ConditionExpression(metadata.attribute, metadata.operator, values, metadata.entity)


def _filter(metadata: FilterMetadata | None) -> FilterExpression | None:
    if metadata is None:
        return None
    return FilterExpression(
        metadata.type,
        tuple(_condition(condition) for condition in metadata.conditions),
        tuple(nested for nested in map(_filter, metadata.filters) if nested is not None),
    )


def filter_from_metadata(metadata: FilterMetadata) -> FilterExpression:
    """The query filter of conditions written in metadata (a view's filter, an SLA item's conditions)."""
    expression = _filter(metadata)
    assert expression is not None
    return expression


def _link(metadata: LinkEntityMetadata, extra_columns: dict[str, list[str]]) -> LinkEntity:
    columns = list(metadata.columns)
    if metadata.alias is not None:
        columns += [name for name in extra_columns.pop(metadata.alias, []) if name not in columns]
    return LinkEntity(
        entity=metadata.entity,
        from_attribute=metadata.from_attribute,
        to_attribute=metadata.to_attribute,
        join=metadata.link_type,
        alias=metadata.alias,
        columns=tuple(columns),
        criteria=_filter(metadata.filter),
        links=tuple(_link(nested, extra_columns) for nested in metadata.links),
    )


def query_from_view(view: ViewMetadata, *, page_size: int | None = None) -> QueryExpression:
    """The query a saved view runs: its columns (link-entity columns by alias), filter, links and order."""
    root_columns: list[str] = []
    extra_columns: dict[str, list[str]] = {}
    for column in view.columns:
        target = root_columns if column.entity is None else extra_columns.setdefault(column.entity, [])
        if column.name not in target:
            target.append(column.name)
    links = tuple(_link(link, extra_columns) for link in view.links)
    if extra_columns:
        unknown = ", ".join(sorted(extra_columns))
        raise QueryError(f"view '{view.name}': columns name unknown link-entity alias(es) {unknown}")
    return QueryExpression(
        entity=view.entity,
        columns=tuple(root_columns),
        criteria=_filter(view.filter),
        links=links,
        orders=tuple(OrderExpression(order.attribute, order.descending) for order in view.order),
        page_size=page_size,
    )
