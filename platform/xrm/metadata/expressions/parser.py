"""A Pratt parser from expression text to the syntax tree of ``nodes``.

Precedence, loosest first: ``or``; ``and``; ``not``; comparisons (``= != <> < <= > >=`` and
``is [not] null``, which do not chain); ``+ -``; ``* /``; unary ``-``. Binary operators associate
to the left. ``if c then a else b`` reaches as far right as it can; ``if(c, a, b)`` is the same.
"""

from __future__ import annotations

from typing import NoReturn

from xrm.metadata.expressions.functions import FUNCTIONS
from xrm.metadata.expressions.lexer import Token, TokenKind, tokenize
from xrm.metadata.expressions.nodes import (
    MAX_DEPTH,
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
)

__all__ = ["parse_expression"]

_COMPARISON = 40
_BINDING = {
    "or": 10,
    "and": 20,
    **dict.fromkeys(("=", "!=", "<>", "<", "<=", ">", ">=", "is"), _COMPARISON),
    "+": 50,
    "-": 50,
    "*": 60,
    "/": 60,
}
_NOT = 30
_NEGATE = 70
_CONSTANTS = {
    "true": (True, ExprType.BOOLEAN),
    "false": (False, ExprType.BOOLEAN),
    "null": (None, ExprType.NULL),
}
_LITERALS = {
    TokenKind.INTEGER: ExprType.INTEGER,
    TokenKind.DECIMAL: ExprType.DECIMAL,
    TokenKind.STRING: ExprType.STRING,
}


def parse_expression(text: str) -> Expression:
    """The syntax tree of ``text``; raises ExpressionError (with the position) when it does not parse."""
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.nesting = 0

    def parse(self) -> Expression:
        expression = self.expression(0)
        token = self.peek()
        if token.kind is not TokenKind.END:
            self.fail(token, f"unexpected {token.describe()}")
        return expression

    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind is not TokenKind.END:
            self.index += 1
        return token

    def fail(self, token: Token, message: str) -> NoReturn:
        raise ExpressionError(token.position, message)

    def expect(self, kind: TokenKind, text: str, context: str) -> Token:
        token = self.peek()
        if token.kind is not kind or (kind is TokenKind.KEYWORD and token.text != text):
            self.fail(token, f"expected '{text}' {context}, found {token.describe()}")
        return self.advance()

    def build(self, node: Expression) -> Expression:
        if node.depth > MAX_DEPTH:
            where = node.operator_position if isinstance(node, Binary) else node.position
            raise ExpressionError(where, f"the expression nests deeper than {MAX_DEPTH} levels")
        return node

    def expression(self, binding: int) -> Expression:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            self.fail(self.peek(), f"the expression nests deeper than {MAX_DEPTH} levels")
        result = self.infix(self.prefix(), binding)
        self.nesting -= 1
        return result

    def infix(self, left: Expression, binding: int) -> Expression:
        compared = False
        while True:
            token = self.peek()
            power = _BINDING.get(token.text) if token.kind in (TokenKind.OPERATOR, TokenKind.KEYWORD) else None
            if power is None or power <= binding:
                return left
            if power == _COMPARISON and compared:
                self.fail(token, "comparisons do not chain; combine them with 'and'")
            self.advance()
            if token.text == "is":
                negated = self.peek().text == "not" and self.peek().kind is TokenKind.KEYWORD
                if negated:
                    self.advance()
                self.expect(TokenKind.KEYWORD, "null", "after 'is'" + (" not" if negated else ""))
                left = self.build(IsNull(left.position, left, negated))
            else:
                right = self.expression(power)
                left = self.build(Binary(left.position, token.text, left, right, token.position))
            compared = power == _COMPARISON

    def prefix(self) -> Expression:
        token = self.advance()
        if token.kind in _LITERALS:
            return Literal(token.position, token.value, _LITERALS[token.kind])
        if token.kind is TokenKind.NAME:
            return self.call(token) if self.peek().kind is TokenKind.LPAREN else self.reference(token)
        if token.kind is TokenKind.LPAREN:
            inner = self.expression(0)
            self.expect(TokenKind.RPAREN, ")", f"to close the '(' at position {token.position}")
            return inner
        if token.kind is TokenKind.OPERATOR and token.text == "-":
            return self.build(Unary(token.position, "-", self.expression(_NEGATE)))
        if token.kind is TokenKind.KEYWORD:
            if token.text in _CONSTANTS:
                value, kind = _CONSTANTS[token.text]
                return Literal(token.position, value, kind)
            if token.text == "not":
                return self.build(Unary(token.position, "not", self.expression(_NOT)))
            if token.text == "if":
                return self.conditional(token)
        self.fail(token, f"expected a value, found {token.describe()}")

    def conditional(self, start: Token) -> Expression:
        if self.peek().kind is TokenKind.LPAREN:
            opening = self.advance()
            first = self.expression(0)
            if self.peek().kind is TokenKind.COMMA:
                self.advance()
                when_true = self.expression(0)
                self.expect(TokenKind.COMMA, ",", "in if(condition, value if true, value if false)")
                when_false = self.expression(0)
                self.expect(TokenKind.RPAREN, ")", f"to close the '(' at position {opening.position}")
                return self.build(Conditional(start.position, first, when_true, when_false))
            self.expect(TokenKind.RPAREN, ")", f"to close the '(' at position {opening.position}")
            condition = self.infix(first, 0)
        else:
            condition = self.expression(0)
        self.expect(TokenKind.KEYWORD, "then", "after the condition of 'if'")
        when_true = self.expression(0)
        self.expect(TokenKind.KEYWORD, "else", "after 'then'")
        when_false = self.expression(0)
        return self.build(Conditional(start.position, condition, when_true, when_false))

    def reference(self, token: Token) -> Expression:
        if self.peek().kind is not TokenKind.DOT:
            return Reference(token.position, None, token.text)
        self.advance()
        attribute = self.peek()
        if attribute.kind is not TokenKind.NAME:
            self.fail(attribute, f"expected an attribute name after '{token.text}.', found {attribute.describe()}")
        self.advance()
        if self.peek().kind is TokenKind.DOT:
            chain = f"{token.text}.{attribute.text}.{self.tokens[self.index + 1].text}"
            self.fail(token, f"'{chain}': only the record and its immediate parent ('lookup.attribute') can be used")
        if self.peek().kind is TokenKind.LPAREN:
            self.fail(self.peek(), f"'{token.text}.{attribute.text}' is not a function")
        return Reference(token.position, token.text, attribute.text)

    def call(self, token: Token) -> Expression:
        function = FUNCTIONS.get(token.text.lower())
        if function is None:
            self.fail(token, f"unknown function '{token.text}'")
        opening = self.advance()
        arguments: list[Expression] = []
        if self.peek().kind is not TokenKind.RPAREN:
            arguments.append(self.expression(0))
            while self.peek().kind is TokenKind.COMMA:
                self.advance()
                arguments.append(self.expression(0))
        self.expect(TokenKind.RPAREN, ")", f"to close the '(' at position {opening.position}")
        if not function.accepts(len(arguments)):
            self.fail(token, f"{function.name}() takes {function.arity()}, got {len(arguments)}")
        return self.build(Call(token.position, function.name, tuple(arguments)))
