"""The functions of the expression language: arity, typing rule and implementation of each."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any

from xrm.metadata.expressions import dates
from xrm.metadata.expressions.nodes import Expression, ExpressionError, ExprType, common_type

__all__ = ["Function", "FUNCTIONS", "to_text", "round_number"]

Typed = tuple[ExprType, Expression]
Rule = Callable[[str, Sequence[Typed]], ExprType]

_NUMBERS = (ExprType.INTEGER, ExprType.DECIMAL, ExprType.FLOAT)
_TEMPORAL = (ExprType.DATETIME, ExprType.DATE)


@dataclass(frozen=True)
class Function:
    """One function: how many arguments it takes, the type it gives, and what it computes.

    Unless ``null_safe``, a null argument makes the result null without calling ``apply``;
    ``uses_clock`` functions get the evaluation's current time as their only argument.
    """

    name: str
    min_args: int
    max_args: int | None
    rule: Rule
    apply: Callable[..., Any]
    null_safe: bool = False
    uses_clock: bool = False

    def accepts(self, count: int) -> bool:
        return count >= self.min_args and (self.max_args is None or count <= self.max_args)

    def arity(self) -> str:
        if self.max_args is None:
            return f"at least {self.min_args} argument{'s' if self.min_args != 1 else ''}"
        if self.min_args == self.max_args:
            return f"{self.min_args} argument{'s' if self.min_args != 1 else ''}"
        return f"{self.min_args} to {self.max_args} arguments"


def _argument(name: str, index: int, arg: Typed, allowed: Collection[ExprType], what: str) -> ExprType:
    kind, node = arg
    if kind is ExprType.NULL or kind in allowed:
        return kind
    raise ExpressionError(node.position, f"argument {index + 1} of {name}() must be {what}, not {kind.value}")


def _arguments(name: str, args: Sequence[Typed], allowed: Collection[ExprType], what: str) -> None:
    for index, arg in enumerate(args):
        _argument(name, index, arg, allowed, what)


def _text(result: ExprType) -> Rule:
    def rule(name: str, args: Sequence[Typed]) -> ExprType:
        _arguments(name, args, (ExprType.STRING,), "a string")
        return result

    return rule


def _concat(name: str, args: Sequence[Typed]) -> ExprType:
    return ExprType.STRING  # every scalar type has a text form; nulls are ''


def _round(name: str, args: Sequence[Typed]) -> ExprType:
    kind = _argument(name, 0, args[0], _NUMBERS, "a number")
    if len(args) == 1:
        return ExprType.INTEGER
    _argument(name, 1, args[1], (ExprType.INTEGER,), "an integer")
    return kind


def _abs(name: str, args: Sequence[Typed]) -> ExprType:
    return _argument(name, 0, args[0], _NUMBERS, "a number")


def _coalesce(name: str, args: Sequence[Typed]) -> ExprType:
    result = args[0][0]
    for kind, node in args[1:]:
        joined = common_type(result, kind)
        if joined is None:
            raise ExpressionError(
                node.position, f"arguments of {name}() have different types: {result.value} and {kind.value}"
            )
        result = joined
    return result


def _add(hours: bool) -> Rule:
    def rule(name: str, args: Sequence[Typed]) -> ExprType:
        kind = _argument(name, 0, args[0], _TEMPORAL, "a date or datetime")
        _argument(name, 1, args[1], (ExprType.INTEGER,), "an integer")
        return ExprType.DATETIME if hours or kind is ExprType.NULL else kind

    return rule


def _diff(name: str, args: Sequence[Typed]) -> ExprType:
    _arguments(name, args, _TEMPORAL, "a date or datetime")
    return ExprType.INTEGER


def _constant(result: ExprType) -> Rule:
    def rule(name: str, args: Sequence[Typed]) -> ExprType:
        _arguments(name, args, (ExprType.INTEGER,), "an integer")
        return result

    return rule


def to_text(value: Any) -> str:
    """The text ``concat`` makes of a value: '' for null, 'true'/'false', ISO 8601 for dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _quantize(value: Decimal, places: int) -> Decimal:
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):
        raise InvalidOperation(f"cannot round {value}")
    if -exponent <= places:
        return value
    if places < -(value.adjusted() + 1):
        return Decimal(0)
    with localcontext() as context:
        context.prec = max(context.prec, len(value.as_tuple().digits) + 2)
        rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        return rounded.quantize(Decimal(1)) if places < 0 else rounded


def round_number(value: Any, places: int | None = None) -> Any:
    """``value`` rounded half away from zero to ``places`` decimals (an integer when omitted)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        raise TypeError(f"cannot round {type(value).__name__}")
    if places is not None and (isinstance(places, bool) or not isinstance(places, int)):
        raise TypeError("the number of decimals must be an integer")
    exact = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
    rounded = _quantize(exact, places or 0)
    if places is None or isinstance(value, int):
        return int(rounded)
    return float(rounded) if isinstance(value, float) else rounded


def _now(now: datetime) -> datetime:
    return now


def _today(now: datetime) -> date:
    return now.astimezone(UTC).date()


def _function(
    name: str, arity: tuple[int, int | None], rule: Rule, apply: Callable[..., Any], **flags: bool
) -> Function:
    return Function(name, arity[0], arity[1], rule, apply, **flags)


FUNCTIONS: Mapping[str, Function] = {
    f.name: f
    for f in (
        _function("concat", (1, None), _concat, lambda *values: "".join(map(to_text, values)), null_safe=True),
        _function("trim", (1, 1), _text(ExprType.STRING), lambda text: text.strip()),
        _function("upper", (1, 1), _text(ExprType.STRING), lambda text: text.upper()),
        _function("lower", (1, 1), _text(ExprType.STRING), lambda text: text.lower()),
        _function("len", (1, 1), _text(ExprType.INTEGER), lambda text: len(text)),
        _function("round", (1, 2), _round, round_number),
        _function("abs", (1, 1), _abs, abs),
        _function(
            "coalesce",
            (1, None),
            _coalesce,
            lambda *v: next((x for x in v if x is not None), None),
            null_safe=True,
        ),
        _function("add_hours", (2, 2), _add(hours=True), dates.add_hours),
        _function("add_days", (2, 2), _add(hours=False), dates.add_days),
        _function("add_weeks", (2, 2), _add(hours=False), dates.add_weeks),
        _function("add_months", (2, 2), _add(hours=False), dates.add_months),
        _function("add_years", (2, 2), _add(hours=False), dates.add_years),
        _function("diff_hours", (2, 2), _diff, dates.diff_hours),
        _function("diff_days", (2, 2), _diff, dates.diff_days),
        _function("diff_weeks", (2, 2), _diff, dates.diff_weeks),
        _function("diff_months", (2, 2), _diff, dates.diff_months),
        _function("diff_years", (2, 2), _diff, dates.diff_years),
        _function("now", (0, 0), _constant(ExprType.DATETIME), _now, uses_clock=True),
        _function("today", (0, 0), _constant(ExprType.DATE), _today, uses_clock=True),
        _function("date", (3, 3), _constant(ExprType.DATE), dates.make_date),
        _function("datetime", (3, 6), _constant(ExprType.DATETIME), dates.make_datetime),
    )
}
"""Every function, by lower-case name."""
