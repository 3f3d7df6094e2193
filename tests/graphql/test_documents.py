"""The cache of checked documents: least recently used first out, bounded in count and in text."""

from __future__ import annotations

from graphql import parse
from xrm.graphql.documents import DocumentCache


def test_least_recently_used_documents_go_first() -> None:
    cache = DocumentCache(max_entries=2)
    a, b, c = (parse(text) for text in ("{ a }", "{ b }", "{ c }"))
    cache.put("{ a }", a)
    cache.put("{ b }", b)
    assert cache.get("{ a }") is a  # now the most recently used
    cache.put("{ c }", c)
    assert cache.get("{ b }") is None and cache.get("{ a }") is a and cache.get("{ c }") is c
    assert len(cache) == 2


def test_the_text_kept_is_bounded() -> None:
    cache = DocumentCache(max_entries=10, max_chars=12)
    cache.put("{ a }", parse("{ a }"))
    cache.put("{ b }", parse("{ b }"))
    cache.put("{ c }", parse("{ c }"))  # 15 characters in all: the oldest goes
    assert cache.get("{ a }") is None and len(cache) == 2
    cache.put("{ abcdefghijk }", parse("{ abcdefghijk }"))  # longer than the whole budget: not kept
    assert cache.get("{ abcdefghijk }") is None and len(cache) == 2
