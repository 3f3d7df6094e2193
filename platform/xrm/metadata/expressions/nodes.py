"""The typed syntax tree of calculated-attribute expressions, its types, limits and error."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from xrm.errors import XrmError

__all__ = [
    "ExprType",
    "ExpressionError",
    "Expression",
    "Literal",
    "Reference",
    "Unary",
    "Binary",
    "IsNull",
    "Conditional",
    "Call",
    "references",
    "common_type",
    "MAX_LENGTH",
    "MAX_DEPTH",
]

MAX_LENGTH = 4000
"""Longest expression text accepted, in characters."""
MAX_DEPTH = 200
"""Deepest nesting accepted, both while parsing and in the finished tree."""


class ExprType(StrEnum):
    """The static type of an expression or of an attribute seen from an expression."""

    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    FLOAT = "float"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    DATE = "date"
    NULL = "null"
    """The type of the ``null`` literal: fits wherever any other type is expected."""
    LOOKUP = "lookup"
    """An N:1 reference: leads to a parent (``lookup.attribute``) and can be tested with ``is null``."""
    OPAQUE = "opaque"
    """A value without a scalar meaning (unique identifier, multi-select choice): only ``is null``."""

    @property
    def is_numeric(self) -> bool:
        return self in (ExprType.INTEGER, ExprType.DECIMAL, ExprType.FLOAT)

    @property
    def is_temporal(self) -> bool:
        return self in (ExprType.DATETIME, ExprType.DATE)


class ExpressionError(XrmError):
    """An expression that does not parse, type-check or evaluate; ``position`` is a 0-based offset."""

    code = "EXPRESSION_INVALID"

    def __init__(self, position: int, reason: str) -> None:
        self.position = position
        self.reason = reason
        super().__init__(f"at position {position}: {reason}")


_NUMERIC_RANK = {ExprType.INTEGER: 0, ExprType.DECIMAL: 1, ExprType.FLOAT: 2}


def common_type(first: ExprType, second: ExprType) -> ExprType | None:
    """The type both fit in (integer -> decimal -> float, date -> datetime, null -> any), or None."""
    if first is second or second is ExprType.NULL:
        return first
    if first is ExprType.NULL:
        return second
    if first.is_numeric and second.is_numeric:
        return max(first, second, key=_NUMERIC_RANK.__getitem__)
    if first.is_temporal and second.is_temporal:
        return ExprType.DATETIME
    return None


@dataclass(frozen=True)
class Expression:
    """Base of every node; ``position`` is the 0-based offset where the node starts in the text."""

    position: int
    depth: int = field(default=1, init=False, compare=False, repr=False)

    def children(self) -> tuple[Expression, ...]:
        return ()

    def __post_init__(self) -> None:
        below = max((child.depth for child in self.children()), default=0)
        object.__setattr__(self, "depth", below + 1)


@dataclass(frozen=True)
class Literal(Expression):
    """A constant: ``value`` is an int, Decimal, str, bool or None, ``type`` its static type."""

    value: Any
    type: ExprType


@dataclass(frozen=True)
class Reference(Expression):
    """``attribute`` of the record (``lookup`` None) or of the parent reached by ``lookup``."""

    lookup: str | None
    attribute: str

    @property
    def dotted(self) -> str:
        return self.attribute if self.lookup is None else f"{self.lookup}.{self.attribute}"


@dataclass(frozen=True)
class Unary(Expression):
    """``-operand`` or ``not operand``; ``operator`` is ``"-"`` or ``"not"``."""

    operator: str
    operand: Expression

    def children(self) -> tuple[Expression, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Binary(Expression):
    """``left operator right``; ``operator_position`` is where the operator is written."""

    operator: str
    left: Expression
    right: Expression
    operator_position: int

    def children(self) -> tuple[Expression, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class IsNull(Expression):
    """``operand is null`` (or ``is not null`` when ``negated``): the one test lookups allow."""

    operand: Expression
    negated: bool

    def children(self) -> tuple[Expression, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Conditional(Expression):
    """``if condition then when_true else when_false`` (or ``if(condition, a, b)``)."""

    condition: Expression
    when_true: Expression
    when_false: Expression

    def children(self) -> tuple[Expression, ...]:
        return (self.condition, self.when_true, self.when_false)


@dataclass(frozen=True)
class Call(Expression):
    """A function call; ``name`` is lower case and names a known function."""

    name: str
    arguments: tuple[Expression, ...]

    def children(self) -> tuple[Expression, ...]:
        return self.arguments


def references(expression: Expression) -> Iterator[Reference]:
    """Every attribute reference in ``expression``, in source order."""
    pending = [expression]
    found: list[Reference] = []
    while pending:
        node = pending.pop()
        if isinstance(node, Reference):
            found.append(node)
        pending.extend(node.children())
    return iter(sorted(found, key=lambda ref: ref.position))
