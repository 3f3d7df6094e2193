"""Scanning calculated-attribute expressions for the attributes they refer to.

The full expression language (parser, type checker, evaluator) belongs to the data layer; the
metadata layer only needs to know which attributes an expression names, and where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Reference", "scan_references", "FUNCTIONS", "KEYWORDS"]

FUNCTIONS = frozenset(
    {
        "concat", "trim", "upper", "lower", "len", "round", "abs", "coalesce",
        "add_hours", "add_days", "add_weeks", "add_months", "add_years",
        "diff_hours", "diff_days", "diff_weeks", "diff_months", "diff_years", "now", "today",
    }
)  # fmt: skip
KEYWORDS = frozenset({"and", "or", "not", "if", "then", "else", "true", "false", "null"})

_TOKEN = re.compile(
    r"""(?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
      | (?P<number>\d+(?:\.\d+)?)
      | (?P<space>\s+)
      | (?P<other>.)""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Reference:
    """``attribute`` on the record itself (``lookup`` is None) or on the parent reached by ``lookup``."""

    lookup: str | None
    attribute: str
    position: int


def scan_references(expression: str) -> tuple[list[Reference], list[tuple[int, str]]]:
    """Attribute references in ``expression``, plus (position, message) problems found on the way."""
    references: list[Reference] = []
    problems: list[tuple[int, str]] = []
    for match in _TOKEN.finditer(expression):
        kind, text, position = match.lastgroup, match.group(), match.start()
        if kind != "name":
            continue
        following = expression[match.end():].lstrip()
        lowered = text.lower()
        if following.startswith("("):
            if lowered not in FUNCTIONS:
                problems.append((position, f"unknown function '{text}'"))
            continue
        if lowered in KEYWORDS:
            continue
        parts = text.split(".")
        if len(parts) == 1:
            references.append(Reference(None, parts[0], position))
        elif len(parts) == 2:
            references.append(Reference(parts[0], parts[1], position))
        else:
            problems.append((position, f"'{text}': only the record and its immediate parent can be used"))
    return references, problems
