"""The safe expression language of calculated attributes: parse, type-check, evaluate."""

from xrm.metadata.expressions.binding import (
    MAX_CHAIN,
    attribute_type,
    check_calculated_chain,
    entity_resolver,
)
from xrm.metadata.expressions.checker import RESULT_TYPES, Resolver, check_expression
from xrm.metadata.expressions.evaluator import evaluate
from xrm.metadata.expressions.functions import FUNCTIONS
from xrm.metadata.expressions.nodes import (
    MAX_DEPTH,
    MAX_LENGTH,
    Expression,
    ExpressionError,
    ExprType,
    references,
)
from xrm.metadata.expressions.parser import parse_expression

__all__ = [
    "Expression",
    "ExpressionError",
    "ExprType",
    "FUNCTIONS",
    "MAX_CHAIN",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "RESULT_TYPES",
    "Resolver",
    "attribute_type",
    "check_calculated_chain",
    "check_expression",
    "entity_resolver",
    "evaluate",
    "parse_expression",
    "references",
]
