"""Turning expression text into tokens: names, numbers, strings, operators and punctuation."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from xrm.metadata.expressions.nodes import MAX_LENGTH, ExpressionError

__all__ = ["TokenKind", "Token", "KEYWORDS", "tokenize"]

KEYWORDS = frozenset({"and", "or", "not", "if", "then", "else", "true", "false", "null", "is"})
"""Reserved words, matched case-insensitively; they cannot name attributes."""


class TokenKind(StrEnum):
    NAME = "name"
    KEYWORD = "keyword"
    INTEGER = "integer"
    DECIMAL = "decimal"
    STRING = "string"
    OPERATOR = "operator"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    DOT = "."
    END = "end"


@dataclass(frozen=True)
class Token:
    """One token; ``text`` is its source text (a keyword's in lower case), ``value`` its literal value."""

    kind: TokenKind
    text: str
    position: int
    value: object = None

    def describe(self) -> str:
        if self.kind is TokenKind.END:
            return "the end of the expression"
        return self.text if self.kind is TokenKind.STRING else f"'{self.text}'"


_OPERATORS = ("<=", ">=", "<>", "!=", "+", "-", "*", "/", "=", "<", ">")
_PUNCTUATION = {"(": TokenKind.LPAREN, ")": TokenKind.RPAREN, ",": TokenKind.COMMA, ".": TokenKind.DOT}
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r", "0": "\0"}


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, ending with an END token; raises ExpressionError on bad input."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(MAX_LENGTH, f"the expression is longer than {MAX_LENGTH} characters")
    tokens: list[Token] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
        elif char.isascii() and (char.isalpha() or char == "_"):
            index = _name(text, index, tokens)
        elif char.isascii() and char.isdigit():
            index = _number(text, index, tokens)
        elif char in "'\"":
            index = _string(text, index, tokens)
        elif char in _PUNCTUATION:
            tokens.append(Token(_PUNCTUATION[char], char, index))
            index += 1
        else:
            operator = next((op for op in _OPERATORS if text.startswith(op, index)), None)
            if operator is None:
                raise ExpressionError(index, f"unexpected character {char!r}")
            tokens.append(Token(TokenKind.OPERATOR, operator, index))
            index += len(operator)
    tokens.append(Token(TokenKind.END, "", len(text)))
    return tokens


def _name(text: str, start: int, tokens: list[Token]) -> int:
    end = start
    while end < len(text) and text[end].isascii() and (text[end].isalnum() or text[end] == "_"):
        end += 1
    word = text[start:end]
    if word.lower() in KEYWORDS:
        tokens.append(Token(TokenKind.KEYWORD, word.lower(), start))
    else:
        tokens.append(Token(TokenKind.NAME, word, start))
    return end


def _digits(text: str, start: int) -> int:
    end = start
    while end < len(text) and text[end].isascii() and text[end].isdigit():
        end += 1
    return end


def _number(text: str, start: int, tokens: list[Token]) -> int:
    end = _digits(text, start)
    if end + 1 < len(text) and text[end] == "." and text[end + 1].isascii() and text[end + 1].isdigit():
        end = _digits(text, end + 1)
        tokens.append(Token(TokenKind.DECIMAL, text[start:end], start, Decimal(text[start:end])))
    else:
        tokens.append(Token(TokenKind.INTEGER, text[start:end], start, int(text[start:end])))
    if end < len(text) and text[end].isascii() and (text[end].isalpha() or text[end] == "_"):
        raise ExpressionError(end, f"unexpected character {text[end]!r} after the number")
    return end


def _string(text: str, start: int, tokens: list[Token]) -> int:
    quote = text[start]
    chars: list[str] = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == quote:
            tokens.append(Token(TokenKind.STRING, text[start : index + 1], start, "".join(chars)))
            return index + 1
        if char != "\\":
            chars.append(char)
            index += 1
            continue
        escape = text[index + 1 : index + 2]
        if not escape:
            break
        if escape in _ESCAPES:
            chars.append(_ESCAPES[escape])
            index += 2
        elif escape == "u" and _is_hex(text[index + 2 : index + 6]):
            chars.append(chr(int(text[index + 2 : index + 6], 16)))
            index += 6
        else:
            raise ExpressionError(index, f"unknown escape '\\{escape}' in a string")
    raise ExpressionError(start, "unterminated string")


def _is_hex(digits: str) -> bool:
    return len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits)
