"""Evaluating a (checked) expression on a record and the parents its lookups reach.

Null propagates: an operator or function with a null operand gives null, except ``coalesce``,
``concat`` (null is ''), ``is null``, and ``and``/``or``, which use three-valued logic
(``false and null`` is false, ``true or null`` is true). ``if`` takes the ``else`` branch when the
condition is null. Arithmetic that has no finite result gives null, as Dataverse does: division
by zero, overflow, and dates outside years 1-9999 (``add_years``, ``date(2023, 2, 29)``).
String comparison ignores case. Integer division gives a decimal.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Context, Decimal, localcontext
from typing import Any

from xrm.metadata.expressions.dates import as_datetime
from xrm.metadata.expressions.functions import FUNCTIONS
from xrm.metadata.expressions.nodes import (
    Binary,
    Call,
    Conditional,
    Expression,
    ExpressionError,
    IsNull,
    Literal,
    Reference,
    Unary,
)

__all__ = ["evaluate", "DECIMAL_CONTEXT"]

DECIMAL_CONTEXT = Context(prec=28)
"""Decimal arithmetic runs in this context, whatever the caller's thread has set."""

_ARITHMETIC: Mapping[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}
_COMPARISON: Mapping[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def evaluate(
    expression: Expression,
    record: Mapping[str, Any],
    parents: Mapping[str, Mapping[str, Any] | None] | None = None,
    *,
    now: datetime | None = None,
) -> Any:
    """The value of ``expression`` on ``record``; ``parents`` maps a lookup to its parent record.

    A missing attribute or parent is null. ``now`` fixes what ``now()`` and ``today()`` give
    (default: the current UTC time). Datetimes come back as aware UTC values. Raises
    ExpressionError when a value has a type the expression cannot use.
    """
    clock = as_datetime(now) if now is not None else datetime.now(UTC)
    with localcontext(DECIMAL_CONTEXT):
        return _Evaluator(record, parents or {}, clock).value(expression)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal | float) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


class _Evaluator:
    def __init__(
        self, record: Mapping[str, Any], parents: Mapping[str, Mapping[str, Any] | None], now: datetime
    ) -> None:
        self.record = record
        self.parents = parents
        self.now = now

    def value(self, node: Expression) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Reference):
            return self.reference(node)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Conditional):
            return self.value(node.when_true if self.truth(node.condition) is True else node.when_false)
        if isinstance(node, IsNull):
            return (self.value(node.operand) is None) != node.negated
        if isinstance(node, Unary):
            return self.unary(node)
        raise ExpressionError(node.position, f"unknown node {type(node).__name__}")

    def reference(self, node: Reference) -> Any:
        source = self.record if node.lookup is None else self.parents.get(node.lookup)
        value = None if source is None else source.get(node.attribute)
        return as_datetime(value) if isinstance(value, datetime) else value

    def truth(self, node: Expression) -> bool | None:
        value = self.value(node)
        if value is None or isinstance(value, bool):
            return value
        raise ExpressionError(node.position, f"expected a boolean, got {_kind(value)}")

    def unary(self, node: Unary) -> Any:
        if node.operator == "not":
            truth = self.truth(node.operand)
            return None if truth is None else not truth
        value = self.value(node.operand)
        if value is None or _is_number(value):
            return None if value is None else -value
        raise ExpressionError(node.position, f"cannot negate {_kind(value)}")

    def binary(self, node: Binary) -> Any:
        if node.operator in ("and", "or"):
            return self.logic(node)
        left, right = self.value(node.left), self.value(node.right)
        if left is None or right is None:
            return None
        if node.operator in _ARITHMETIC:
            return self.arithmetic(node, left, right)
        return self.compare(node, left, right)

    def logic(self, node: Binary) -> bool | None:
        decisive = node.operator == "or"  # the value that settles the result on its own
        left = self.truth(node.left)
        if left is decisive:
            return decisive
        right = self.truth(node.right)
        if right is decisive:
            return decisive
        return None if left is None or right is None else not decisive

    def arithmetic(self, node: Binary, left: Any, right: Any) -> Any:
        if not (_is_number(left) and _is_number(right)):
            raise ExpressionError(
                node.operator_position, f"cannot apply '{node.operator}' to {_kind(left)} and {_kind(right)}"
            )
        try:
            if isinstance(left, float) or isinstance(right, float):
                left, right = float(left), float(right)
            elif isinstance(left, Decimal) or isinstance(right, Decimal) or node.operator == "/":
                left, right = Decimal(left), Decimal(right)
            if node.operator == "/" and right == 0:
                return None
            result = _ARITHMETIC[node.operator](left, right)
        except ArithmeticError:  # overflow: no finite result
            return None
        return None if isinstance(result, float) and not math.isfinite(result) else result

    def compare(self, node: Binary, left: Any, right: Any) -> bool:
        if _is_number(left) and _is_number(right):
            pass  # Python compares int, Decimal and float exactly
        elif isinstance(left, str) and isinstance(right, str):
            left, right = left.casefold(), right.casefold()
        elif isinstance(left, date) and isinstance(right, date):
            if isinstance(left, datetime) or isinstance(right, datetime):
                left, right = as_datetime(left), as_datetime(right)
        elif not (isinstance(left, bool) and isinstance(right, bool) and node.operator in ("=", "!=", "<>")):
            raise ExpressionError(node.operator_position, f"cannot compare {_kind(left)} with {_kind(right)}")
        return _COMPARISON[node.operator](left, right)

    def call(self, node: Call) -> Any:
        function = FUNCTIONS[node.name]
        if function.uses_clock:
            return function.apply(self.now)
        arguments = [self.value(argument) for argument in node.arguments]
        if not function.null_safe and any(argument is None for argument in arguments):
            return None
        try:
            return function.apply(*arguments)
        except (OverflowError, ValueError):  # a date outside years 1-9999, or one that does not exist
            return None
        except (TypeError, AttributeError, ArithmeticError) as error:
            raise ExpressionError(node.position, f"cannot evaluate {node.name}(): {error}") from None
