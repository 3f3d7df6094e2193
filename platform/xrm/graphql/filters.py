"""``filter`` and ``orderBy`` arguments -> query-layer criteria, orders and links.

A filter is compiled into two parts that are ANDed: a :class:`~xrm.query.FilterExpression` for
what the query model expresses (attribute conditions under ``and``/``or``), and row filters for
what it does not, each built from queries compiled by the gateway:

- ``not: F``            -> ``pk NOT IN (SELECT pk FROM entity WHERE F)``
- ``lookup: F``         -> ``lookup IS NOT NULL AND lookup IN (SELECT pk FROM target WHERE F)``
- ``rel: {some: F}``    -> ``pk IN (SELECT child.lookup FROM child WHERE F)``
- ``rel: {none: F}``    -> ``pk NOT IN (...the same...)``
- ``rel: {every: F}``   -> ``pk NOT IN (SELECT child.lookup FROM child WHERE NOT F)``

so every part is a two-valued test (a null lookup simply does not match a lookup filter, and
``not`` of it matches). Conditions keep the query layer's semantics: ``ne``/``notIn`` do not match
nulls; ``like``/``beginsWith`` ignore case; ``eq: null`` means ``isNull: true``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, false, not_, or_, true

from xrm.graphql.bindings import EntityBinding, RelationLink, SchemaIndex
from xrm.graphql.errors import InputError
from xrm.graphql.gateway import ReadGateway
from xrm.graphql.inputs import FILTER_OPERATORS
from xrm.graphql.naming import camel
from xrm.query import ConditionExpression, FilterExpression, LinkEntity, OrderExpression, QueryExpression

__all__ = ["Criteria", "FilterCompiler", "PARENT_ALIAS"]

PARENT_ALIAS = "xrm_parent"
Clause = ColumnElement[bool]


@dataclass
class Criteria:
    """A filter as the query layer takes it: ``criteria`` plus extra root row filters ``where``."""

    criteria: FilterExpression | None = None
    where: list[Clause] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.criteria is None and not self.where


class FilterCompiler:
    """Compiles ``filter``/``orderBy`` values of one request against its gateway."""

    def __init__(self, index: SchemaIndex, gateway: ReadGateway) -> None:
        self.index = index
        self.gateway = gateway
        self._aliases = 0

    # --- filters -------------------------------------------------------------------------------

    def criteria(self, entity: str, spec: Mapping[str, Any] | None) -> Criteria:
        """The criteria of a ``filter`` argument of ``entity`` (empty for None)."""
        if not spec:
            return Criteria()
        return self._node(self.index.binding(entity), spec)

    def _node(self, binding: EntityBinding, spec: Mapping[str, Any]) -> Criteria:
        conditions: list[ConditionExpression] = []
        nested: list[FilterExpression] = []
        where: list[Clause] = []
        for key, value in spec.items():
            if value is None:
                continue
            if key == "and":
                for item in value:
                    part = self._node(binding, item)
                    nested += [part.criteria] if part.criteria is not None else []
                    where += part.where
            elif key == "or":
                part = self._or(binding, value)
                nested += [part.criteria] if part.criteria is not None else []
                where += part.where
            elif key == "not":
                where.append(not_(self._as_clause(binding, self._node(binding, value))))
            elif key in binding.values or key in binding.calculated:  # calculated ones compile to SQL
                conditions += _conditions(binding.values.get(key) or binding.calculated[key], key, value)
            elif key in binding.records:
                where.append(self._lookup(binding, binding.records[key], value))
            elif key in binding.relations:
                where.append(self._relation(binding.relations[key], value))
        criteria = FilterExpression("and", tuple(conditions), tuple(nested)) if conditions or nested else None
        return Criteria(criteria, where)

    def _or(self, binding: EntityBinding, items: list[Mapping[str, Any]]) -> Criteria:
        parts = [self._node(binding, item) for item in items]
        if not parts or any(part.empty for part in parts):
            return Criteria()  # an empty alternative matches every record
        if all(not part.where for part in parts):
            return Criteria(FilterExpression("or", (), tuple(part.criteria for part in parts if part.criteria)))
        return Criteria(where=[or_(*(self._as_clause(binding, part) for part in parts))])

    def _as_clause(self, binding: EntityBinding, part: Criteria) -> Clause:
        """One row filter on the root for ``part``: its pure criteria through ``pk IN (...)``."""
        clauses = list(part.where)
        if part.criteria is not None:
            entity = binding.entity
            query = QueryExpression(entity.logical_name, columns=(entity.primary_id,), criteria=part.criteria)
            clauses.append(self._pk(binding).in_(self.gateway.ids_subquery(query, entity.primary_id)))
        return and_(*clauses) if clauses else true()

    def _pk(self, binding: EntityBinding) -> ColumnElement[Any]:
        return self.gateway.environment.tables.tables[binding.logical_name].c[binding.entity.primary_id]

    def _ids(self, entity: str, part: Criteria) -> Any:
        target = self.index.binding(entity).entity
        query = QueryExpression(entity, columns=(target.primary_id,), criteria=part.criteria)
        return self.gateway.ids_subquery(query, target.primary_id, part.where)

    def _lookup(self, binding: EntityBinding, attribute: str, spec: Mapping[str, Any]) -> Clause:
        if self.gateway.hides(binding.logical_name, attribute):
            return false()  # a lookup the caller may not read is null, and null matches no lookup filter
        column = self.gateway.environment.tables.tables[binding.logical_name].c[attribute]
        targets = self.index.targets(binding.logical_name, attribute)
        if self.index.names.union(binding.entity.attributes[attribute]) is None:
            branches = {targets[0]: spec}
        else:
            by_field = {camel(target): target for target in targets}
            branches = {by_field[key]: value for key, value in spec.items() if value is not None}
        if not branches:
            return true()
        tests = [column.in_(self._ids(target, self.criteria(target, value))) for target, value in branches.items()]
        return and_(column.is_not(None), or_(*tests))

    def _children(self, link: RelationLink, part: Criteria) -> Any:
        """SELECT of the parent ids of the child rows matching ``part``."""
        child = self.index.binding(link.child).entity
        if not link.many_to_many:
            assert link.lookup is not None
            present = FilterExpression("and", (ConditionExpression(link.lookup, "not_null"),))
            criteria = FilterExpression("and", (), (present, part.criteria) if part.criteria else (present,))
            query = QueryExpression(link.child, columns=(link.lookup,), criteria=criteria)
            return self.gateway.ids_subquery(query, link.lookup, part.where)
        assert link.intersect and link.parent_column and link.child_column
        through = LinkEntity(
            link.intersect, link.child_column, child.primary_id, alias=PARENT_ALIAS, columns=(link.parent_column,)
        )
        query = QueryExpression(link.child, columns=(child.primary_id,), criteria=part.criteria, links=(through,))
        return self.gateway.ids_subquery(query, f"{PARENT_ALIAS}.{link.parent_column}", part.where)

    def _relation(self, link: RelationLink, spec: Mapping[str, Any]) -> Clause:
        parent_key = self._pk(self.index.binding(link.parent))
        child = self.index.binding(link.child)
        tests: list[Clause] = []
        if spec.get("some") is not None:
            tests.append(parent_key.in_(self._children(link, self.criteria(link.child, spec["some"]))))
        if spec.get("none") is not None:
            tests.append(not_(parent_key.in_(self._children(link, self.criteria(link.child, spec["none"])))))
        if spec.get("every") is not None:
            matching = self.criteria(link.child, spec["every"])
            if not matching.empty:
                failing = Criteria(where=[not_(self._as_clause(child, matching))])
                tests.append(not_(parent_key.in_(self._children(link, failing))))
        return and_(*tests) if tests else true()

    # --- ordering ------------------------------------------------------------------------------

    def orders(
        self, entity: str, items: list[Mapping[str, Any]] | None
    ) -> tuple[list[OrderExpression], list[LinkEntity]]:
        """``orderBy`` items -> orders, and the outer links to lookups they sort by."""
        orders: list[OrderExpression] = []
        links: list[LinkEntity] = []
        for item in items or ():
            given = [(key, value) for key, value in item.items() if value is not None]
            if len(given) != 1:
                raise InputError("each orderBy item names exactly one field")
            self._order(self.index.binding(entity), given[0], None, orders, links)
        return orders, links

    def _order(
        self,
        binding: EntityBinding,
        item: tuple[str, Any],
        alias: str | None,
        orders: list[OrderExpression],
        links: list[LinkEntity],
    ) -> None:
        key, value = item
        if key in binding.values or key in binding.calculated:
            orders.append(OrderExpression(binding.values.get(key) or binding.calculated[key], bool(value), alias))
            return
        attribute = binding.records[key]
        targets = self.index.targets(binding.logical_name, attribute)
        if self.index.names.union(binding.entity.attributes[attribute]) is None:
            branches = [(targets[0], value)]
        else:
            by_field = {camel(target): target for target in targets}
            branches = [(by_field[name], spec) for name, spec in value.items() if spec is not None]
        for target, spec in branches:
            self._aliases += 1
            link_alias = f"xrm_o{self._aliases}"
            target_binding = self.index.binding(target)
            nested: list[LinkEntity] = []
            for name, direction in spec.items():
                if direction is not None:
                    self._order(target_binding, (name, direction), link_alias, orders, nested)
            links.append(
                LinkEntity(
                    target, target_binding.entity.primary_id, attribute, "outer", link_alias, links=tuple(nested)
                )
            )


def _conditions(attribute: str, field_name: str, spec: Mapping[str, Any]) -> list[ConditionExpression]:
    """The conditions of one attribute's operator input."""
    conditions = []
    for operator, value in spec.items():
        if operator not in FILTER_OPERATORS:
            continue
        name, shape = FILTER_OPERATORS[operator]
        if value is None:
            if operator not in ("eq", "ne"):
                raise InputError(f"filter {field_name}.{operator} cannot be null")
            name, shape, value = "null" if operator == "eq" else "not_null", "none", None
        if shape == "flag":
            opposite = {"null": "not_null", "eq_userid": "ne_userid"}[name]
            conditions.append(ConditionExpression(attribute, name if value else opposite))
        elif shape == "none":
            conditions.append(ConditionExpression(attribute, name))
        elif shape == "list":
            conditions.append(ConditionExpression(attribute, name, tuple(value)))
        else:
            conditions.append(ConditionExpression(attribute, name, (value,)))
    return conditions
