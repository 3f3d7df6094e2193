"""Calculated attributes of a batch of records, evaluated after the read, parents fetched in one go.

Same semantics as the service (:mod:`xrm.data.calculated`): an expression sees the record's
stored attributes (lookups as ids), other calculated attributes of the record, and the stored
attributes of the parents its lookups reach. Parents are read through the gateway, one statement
per lookup, whatever the number of records; an expression that fails to evaluate gives null.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from xrm.data.calculated import as_result_type
from xrm.graphql.gateway import ReadGateway, Rows
from xrm.metadata import CompiledEntity
from xrm.metadata.expressions import Expression, ExpressionError, evaluate, parse_expression, references
from xrm.query import ConditionExpression, FilterExpression, QueryExpression

__all__ = ["CalculatedAttributes"]

logger = logging.getLogger(__name__)
_MAX_CHAIN = 6


class CalculatedAttributes:
    """Evaluates the calculated attributes of one entity (expressions parsed once per schema)."""

    def __init__(self, entity: CompiledEntity) -> None:
        self.entity = entity
        self._parsed: dict[str, Expression] = {}

    def expression(self, name: str) -> Expression:
        if name not in self._parsed:
            self._parsed[name] = parse_expression(self.entity.attributes[name].metadata.expression)  # type: ignore[union-attr]
        return self._parsed[name]

    def _closure(self, names: list[str]) -> list[str]:
        """``names`` and the calculated attributes they use, dependencies first."""
        ordered: list[str] = []

        def visit(name: str, depth: int) -> None:
            if name in ordered or depth > _MAX_CHAIN:
                return
            for ref in references(self.expression(name)):
                used = self.entity.attributes.get(ref.attribute)
                if ref.lookup is None and used is not None and used.type == "calculated":
                    visit(ref.attribute, depth + 1)
            ordered.append(name)

        for name in names:
            visit(name, 0)
        return ordered

    def dependencies(self, names: list[str]) -> tuple[set[str], dict[str, set[str]]]:
        """Stored attributes of the record, and per lookup the parent's attributes, ``names`` read."""
        own: set[str] = set()
        parents: dict[str, set[str]] = defaultdict(set)
        for name in self._closure(names):
            for ref in references(self.expression(name)):
                if ref.lookup is not None:
                    own.add(ref.lookup)
                    parents[ref.lookup].add(ref.attribute)
                elif (
                    ref.attribute in self.entity.attributes
                    and self.entity.attributes[ref.attribute].type != "calculated"
                ):
                    own.add(ref.attribute)
        return own, dict(parents)

    def values(self, gateway: ReadGateway, names: list[str], rows: Rows) -> list[dict[str, Any]]:
        """For each row, the values of the calculated attributes ``names``."""
        _, parent_attributes = self.dependencies(names)
        parents = {lookup: self._parents(gateway, lookup, wanted, rows) for lookup, wanted in parent_attributes.items()}
        now = gateway.environment.clock()
        ordered = self._closure(names)
        results = []
        for row in rows:
            record = dict(row)
            reached = {lookup: parents[lookup].get(row.get(lookup)) for lookup in parents}
            for name in ordered:
                hidden = gateway.hides(self.entity.logical_name, name)  # field security: reads as null
                record[name] = None if hidden else self._evaluate(name, record, reached, now)
            results.append({name: record[name] for name in names})
        return results

    def _evaluate(self, name: str, record: dict[str, Any], parents: dict[str, Any], now: Any) -> Any:
        result_type = self.entity.attributes[name].metadata.result_type  # type: ignore[union-attr]
        try:
            return as_result_type(result_type, evaluate(self.expression(name), record, parents, now=now))
        except (ExpressionError, ArithmeticError, ValueError, TypeError) as error:
            logger.debug("%s.%s could not be evaluated: %s", self.entity.logical_name, name, error)
            return None

    def _parents(self, gateway: ReadGateway, lookup: str, wanted: set[str], rows: Rows) -> dict[Any, dict[str, Any]]:
        attribute = self.entity.attributes[lookup]
        model = gateway.environment.model
        by_target: dict[str, set[Any]] = defaultdict(set)
        for row in rows:
            if row.get(lookup) is not None:
                target = row.get(f"{lookup}type") if attribute.is_polymorphic else attribute.targets[0]
                by_target[str(target)].add(row[lookup])
        found: dict[Any, dict[str, Any]] = {}
        for target, ids in by_target.items():
            entity = model.entities.get(target)
            if entity is None:
                continue
            columns = {entity.primary_id} | {
                name for name in wanted if name in entity.attributes and entity.attributes[name].type != "calculated"
            }
            condition = ConditionExpression(entity.primary_id, "in", tuple(ids))
            query = QueryExpression(
                target, columns=tuple(sorted(columns)), criteria=FilterExpression("and", (condition,))
            )
            _, parent_rows = gateway.read(query)
            found.update({row[entity.primary_id]: dict(row) for row in parent_rows})
        return found
