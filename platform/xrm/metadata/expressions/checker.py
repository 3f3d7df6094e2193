"""Static type checking of an expression against the attributes a resolver knows."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from xrm.metadata.expressions.functions import FUNCTIONS
from xrm.metadata.expressions.nodes import (
    Binary,
    Call,
    Conditional,
    Expression,
    ExpressionError,
    ExprType,
    IsNull,
    Literal,
    Reference,
    Unary,
    common_type,
)

__all__ = ["Resolver", "check_expression", "RESULT_TYPES"]

Resolver = Callable[[str | None, str], ExprType | None]
"""``resolver(lookup, attribute)``: the type of ``attribute`` on the record (``lookup`` None) or on
the parent reached by ``lookup``; None when there is no such attribute."""

_NUMBERS = frozenset({ExprType.INTEGER, ExprType.DECIMAL, ExprType.FLOAT})
RESULT_TYPES: Mapping[str, frozenset[ExprType]] = {
    "string": frozenset({ExprType.STRING}),
    "integer": frozenset({ExprType.INTEGER}),
    "decimal": _NUMBERS,
    "money": _NUMBERS,
    "float": _NUMBERS,
    "boolean": frozenset({ExprType.BOOLEAN}),
    "datetime": frozenset({ExprType.DATETIME, ExprType.DATE}),
}
"""Expression types each ``result_type`` of a calculated attribute accepts (null fits them all)."""

_ARITHMETIC = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}
_ORDERING = {"<", "<=", ">", ">="}


def check_expression(expression: Expression, resolver: Resolver, *, result_type: str | None = None) -> ExprType:
    """The type of ``expression``; raises ExpressionError at the first problem.

    With ``result_type`` (a calculated attribute's), the type must also fit it.
    """
    found = _Checker(resolver).check(expression)
    if result_type is not None and found is not ExprType.NULL and found not in RESULT_TYPES[result_type]:
        hint = " (round(x) makes an integer)" if result_type == "integer" and found in _NUMBERS else ""
        raise ExpressionError(
            expression.position,
            f"the expression gives {found.value}, which does not fit result_type {result_type}{hint}",
        )
    return found


class _Checker:
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver

    def check(self, node: Expression, *, opaque: bool = False) -> ExprType:
        if isinstance(node, Literal):
            return node.type
        if isinstance(node, Reference):
            return self.reference(node, opaque)
        if isinstance(node, IsNull):
            self.check(node.operand, opaque=True)
            return ExprType.BOOLEAN
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Conditional):
            return self.conditional(node)
        if isinstance(node, Call):
            return self.call(node)
        raise ExpressionError(node.position, f"unknown node {type(node).__name__}")

    def reference(self, node: Reference, opaque: bool) -> ExprType:
        if node.lookup is not None:
            lookup = self.resolver(None, node.lookup)
            if lookup is None:
                raise ExpressionError(node.position, f"unknown attribute '{node.lookup}'")
            if lookup is not ExprType.LOOKUP:
                raise ExpressionError(
                    node.position,
                    f"'{node.lookup}' is not a lookup, so '{node.dotted}' names no parent attribute",
                )
        found = self.resolver(node.lookup, node.attribute)
        if found is None:
            raise ExpressionError(node.position, f"unknown attribute '{node.dotted}'")
        if not opaque and found is ExprType.LOOKUP:
            raise ExpressionError(
                node.position,
                f"'{node.dotted}' is a lookup: use '{node.dotted} is null' or '{node.dotted}.attribute'",
            )
        if not opaque and found is ExprType.OPAQUE:
            raise ExpressionError(node.position, f"'{node.dotted}' can only be tested with 'is null'")
        return found

    def unary(self, node: Unary) -> ExprType:
        operand = self.check(node.operand)
        if node.operator == "not":
            return self.boolean(operand, node.operand, "'not'")
        if operand is ExprType.NULL or operand in _NUMBERS:
            return operand
        raise ExpressionError(node.position, f"cannot negate {operand.value}")

    def boolean(self, kind: ExprType, node: Expression, where: str) -> ExprType:
        if kind in (ExprType.BOOLEAN, ExprType.NULL):
            return ExprType.BOOLEAN
        raise ExpressionError(node.position, f"{where} needs a boolean, not {kind.value}")

    def binary(self, node: Binary) -> ExprType:
        left, right = self.check(node.left), self.check(node.right)
        operator = node.operator
        if operator in ("and", "or"):
            self.boolean(left, node.left, f"'{operator}'")
            return self.boolean(right, node.right, f"'{operator}'")
        if operator in _ARITHMETIC:
            return self.arithmetic(node, left, right)
        for side in (node.left, node.right):
            if isinstance(side, Literal) and side.type is ExprType.NULL:
                raise ExpressionError(side.position, "comparing with null gives null; use 'is null' or 'is not null'")
        joined = common_type(left, right)
        if joined is None:
            raise ExpressionError(node.operator_position, f"cannot compare {left.value} with {right.value}")
        if operator in _ORDERING and joined is ExprType.BOOLEAN:
            raise ExpressionError(node.operator_position, f"'{operator}' does not apply to booleans")
        return ExprType.BOOLEAN

    def arithmetic(self, node: Binary, left: ExprType, right: ExprType) -> ExprType:
        if {left, right} <= _NUMBERS | {ExprType.NULL}:
            joined = common_type(left, right)
            assert joined is not None
            if node.operator == "/" and joined in (ExprType.INTEGER, ExprType.NULL):
                return ExprType.DECIMAL
            return joined
        verb = _ARITHMETIC[node.operator]
        if node.operator == "+" and ExprType.STRING in (left, right):
            hint = "; use concat()"
        elif left.is_temporal or right.is_temporal:
            hint = "; use add_days(), diff_days() and the like"
        else:
            hint = ""
        raise ExpressionError(node.operator_position, f"cannot {verb} {left.value} and {right.value}{hint}")

    def conditional(self, node: Conditional) -> ExprType:
        self.boolean(self.check(node.condition), node.condition, "the condition of 'if'")
        when_true, when_false = self.check(node.when_true), self.check(node.when_false)
        joined = common_type(when_true, when_false)
        if joined is None:
            raise ExpressionError(
                node.when_false.position,
                f"'then' and 'else' give different types: {when_true.value} and {when_false.value}",
            )
        return joined

    def call(self, node: Call) -> ExprType:
        function = FUNCTIONS[node.name]
        kinds = [(self.check(argument), argument) for argument in node.arguments]
        result = function.rule(function.name, kinds)
        if function.name in ("date", "datetime") and all(
            isinstance(a, Literal) and a.type is ExprType.INTEGER for a in node.arguments
        ):
            try:
                function.apply(*(a.value for a in node.arguments if isinstance(a, Literal)))
            except (ValueError, OverflowError) as error:
                raise ExpressionError(node.position, f"invalid {function.name}: {error}") from None
        return result
