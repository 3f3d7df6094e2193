"""Names that entities and attributes may not take."""

from __future__ import annotations

__all__ = ["SYSTEM_ATTRIBUTES", "RESERVED_WORDS", "is_reserved"]

SYSTEM_ATTRIBUTES = frozenset(
    {
        "createdon", "modifiedon", "createdby", "modifiedby", "ownerid", "owneridtype",
        "owningbusinessunit", "statecode", "statuscode", "versionnumber",
    }
)  # fmt: skip

# SQL words that PostgreSQL or SQLite reserve, plus words the platform uses itself.
RESERVED_WORDS = frozenset(
    """
    all analyse analyze and any array as asc asymmetric authorization between binary both case cast check
    collate column constraint create cross current_date current_role current_time current_timestamp
    current_user default deferrable desc distinct do else end except false fetch for foreign freeze from
    full grant group having ilike in initially inner intersect into is isnull join lateral leading left
    like limit localtime localtimestamp natural not notnull null offset on only or order outer overlaps
    placing primary references returning right select session_user similar some symmetric table then to
    trailing true union unique user using variadic verbose when where window with abort action add after
    alter attach autoincrement before begin by cascade commit conflict database deferred delete detach
    drop each escape exclusive exists explain fail glob if ignore immediate index indexed instead insert
    key match no nothing of plan pragma query raise recursive regexp reindex release rename replace
    restrict rollback row rows savepoint set temp temporary transaction trigger update vacuum values
    view virtual
    id type node edge cursor entity query mutation subscription
    """.split()
)


def is_reserved(name: str) -> bool:
    return name in RESERVED_WORDS
