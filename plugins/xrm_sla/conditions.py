"""SLA item conditions evaluated on a stored record: every condition group in one statement.

The groups are compiled by the query compiler, so the operators mean what they mean in views.
Statements are kept per environment (the record id is a bound parameter), except those of groups
whose meaning depends on the moment or the caller (relative dates, current user).
"""

from __future__ import annotations

import datetime as dt
import uuid
import weakref
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, literal, union_all

from xrm.data import Environment
from xrm.metadata import CompiledEntity
from xrm.metadata.components import ConditionOperator, FilterMetadata
from xrm.query import QueryContext, QueryExpression, compile_query, filter_from_metadata

__all__ = ["ConditionEvaluator"]

_DYNAMIC = frozenset(
    {
        ConditionOperator.LAST_X_DAYS, ConditionOperator.NEXT_X_DAYS, ConditionOperator.EQ_USERID,
        ConditionOperator.NE_USERID, ConditionOperator.EQ_BUSINESSID,
    }
)  # fmt: skip
_LABEL = "xrm_condition"
_RECORD = "xrm_record_id"

_compiled: weakref.WeakKeyDictionary[Environment, dict[tuple[str, ...], Any]] = weakref.WeakKeyDictionary()


class ConditionEvaluator:
    """Which condition groups a record of ``entity`` meets, asked once per record and remembered."""

    def __init__(self, environment: Environment, connection: Any, entity: CompiledEntity, now: dt.datetime) -> None:
        self.environment = environment
        self.connection = connection
        self.entity = entity
        self.now = now
        self._known: dict[tuple[uuid.UUID, str], bool] = {}

    def evaluate(self, record_id: uuid.UUID, groups: Mapping[str, FilterMetadata]) -> None:
        """Evaluate ``groups`` (by key) on the record in one statement; later :meth:`holds` answer from it."""
        todo = {key: group for key, group in groups.items() if (record_id, key) not in self._known}
        if not todo:
            return
        met = {row[0] for row in self.connection.execute(self._statement(todo), {_RECORD: record_id})}
        for key in todo:
            self._known[(record_id, key)] = key in met

    def holds(self, record_id: uuid.UUID, key: str, group: FilterMetadata | None) -> bool:
        """Whether the record meets ``group`` (None: always)."""
        if group is None:
            return True
        self.evaluate(record_id, {key: group})
        return self._known[(record_id, key)]

    def forget(self, record_id: uuid.UUID) -> None:
        """The record changed: evaluate again next time."""
        self._known = {k: v for k, v in self._known.items() if k[0] != record_id}

    def _statement(self, groups: Mapping[str, FilterMetadata]) -> Any:
        """``SELECT '<key>' ... WHERE <group> AND id = :record`` for each group, as one UNION ALL."""
        cache = _compiled.setdefault(self.environment, {})
        cache_key = (self.entity.logical_name, *groups)
        if cache_key in cache:
            return cache[cache_key]
        table = self.environment.table(self.entity.logical_name)
        this = table.c[self.entity.primary_id] == bindparam(_RECORD)
        model, tables = self.environment.model, self.environment.tables
        parts = []
        for key, group in groups.items():
            query = QueryExpression(
                self.entity.logical_name, columns=(self.entity.primary_id,), criteria=filter_from_metadata(group)
            )
            compiled = compile_query(model, tables, query, QueryContext(now=self.now)).statement
            parts.append(compiled.order_by(None).with_only_columns(literal(key).label(_LABEL)).where(this))
        statement = parts[0] if len(parts) == 1 else union_all(*parts)
        if not any(_is_dynamic(group) for group in groups.values()):
            cache[cache_key] = statement
        return statement


def _is_dynamic(group: FilterMetadata) -> bool:
    return any(c.operator in _DYNAMIC for c in group.conditions) or any(_is_dynamic(g) for g in group.filters)
