"""Auto-number formats: ``CAS-{SEQNUM:5}-{RANDSTRING:6}``, ``{DATETIMEUTC:yyyyMMdd}`` and literals."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import string
from dataclasses import dataclass

__all__ = ["FormatPart", "parse_format", "render_format", "RANDOM_ALPHABET"]

RANDOM_ALPHABET = string.ascii_uppercase + string.digits
_TOKEN = re.compile(r"\{([A-Z]+)(?::([^}]*))?\}")
_DATE_TOKENS = [("yyyy", "%Y"), ("yy", "%y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S")]


@dataclass(frozen=True)
class FormatPart:
    kind: str  # "literal" | "seqnum" | "randstring" | "datetime"
    value: str = ""
    width: int = 0


def _date_pattern(text: str) -> str:
    pattern = ""
    index = 0
    while index < len(text):
        for token, code in _DATE_TOKENS:
            if text.startswith(token, index):
                pattern += code
                index += len(token)
                break
        else:
            pattern += text[index].replace("%", "%%")
            index += 1
    return pattern


def parse_format(text: str) -> list[FormatPart]:
    """Parse a format; raises ValueError naming the bad token."""
    parts: list[FormatPart] = []
    position = 0
    seen_seq = False
    for match in _TOKEN.finditer(text):
        if match.start() > position:
            parts.append(FormatPart("literal", text[position : match.start()]))
        name, argument = match.group(1), match.group(2)
        if name == "SEQNUM":
            if seen_seq:
                raise ValueError("only one {SEQNUM:n} token is allowed")
            width = int(argument) if argument and argument.isdigit() else -1
            if not 1 <= width <= 20:
                raise ValueError(f"'{match.group()}': SEQNUM takes a width from 1 to 20")
            parts.append(FormatPart("seqnum", width=width))
            seen_seq = True
        elif name == "RANDSTRING":
            width = int(argument) if argument and argument.isdigit() else -1
            if not 1 <= width <= 6:
                raise ValueError(f"'{match.group()}': RANDSTRING takes a length from 1 to 6")
            parts.append(FormatPart("randstring", width=width))
        elif name == "DATETIMEUTC":
            if not argument:
                raise ValueError(f"'{match.group()}': DATETIMEUTC needs a format such as yyyyMMdd")
            parts.append(FormatPart("datetime", _date_pattern(argument)))
        else:
            raise ValueError(f"unknown token '{match.group()}' (use SEQNUM, RANDSTRING or DATETIMEUTC)")
        position = match.end()
    if position < len(text):
        parts.append(FormatPart("literal", text[position:]))
    if "{" in "".join(p.value for p in parts if p.kind == "literal"):
        raise ValueError("unbalanced '{' in the format")
    return parts


def render_format(parts: list[FormatPart], sequence: int | None, now: dt.datetime) -> str:
    """The value for one record; SEQNUM is zero-padded and grows past its width."""
    out = []
    for part in parts:
        if part.kind == "literal":
            out.append(part.value)
        elif part.kind == "seqnum":
            out.append(str(sequence).zfill(part.width))
        elif part.kind == "randstring":
            out.append("".join(secrets.choice(RANDOM_ALPHABET) for _ in range(part.width)))
        else:
            out.append(now.strftime(part.value))
    return "".join(out)
