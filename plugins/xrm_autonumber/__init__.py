"""Auto-numbering: fills autonumber attributes on create from their format.

``{SEQNUM:n}`` comes from a counter row incremented in the record's own transaction, so numbers
are unique under concurrency on SQLite and PostgreSQL (a unique index backs the column too).
"""

from __future__ import annotations

from typing import Any

from xrm.data import ExecutionContext
from xrm.metadata.autonumber import parse_format, render_format

__all__ = ["AutoNumberPlugin"]


class AutoNumberPlugin:
    """Step configuration: ``attribute`` (the attribute to fill) and optionally ``format``
    (overrides the attribute's own format, e.g. to number a plain string attribute)."""

    def __init__(self, configuration: dict[str, Any]) -> None:
        self.attribute = configuration.get("attribute")
        self.format = configuration.get("format")

    def execute(self, context: ExecutionContext) -> None:
        if context.message != "create" or context.entity is None:
            return
        target = context.target
        model = context.service.environment.model
        entity = model.entity(context.entity)
        names = (
            [self.attribute]
            if self.attribute
            else [a.name for a in entity.attributes.values() if a.type == "autonumber"]
        )
        for name in names:
            if target.get(name):  # type: ignore[union-attr]
                continue  # a value given on create is kept (Dataverse allows setting it on create)
            fmt = self.format or entity.attribute(name).metadata.format  # type: ignore[union-attr]
            parts = parse_format(fmt)
            sequence = (
                context.service.next_sequence(entity.logical_name, name)
                if any(p.kind == "seqnum" for p in parts)
                else None
            )
            target[name] = render_format(parts, sequence, context.service.environment.clock())  # type: ignore[index]
