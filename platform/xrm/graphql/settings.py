"""The limits a GraphQL endpoint enforces; the server builds one :class:`GraphQLSettings` and passes it in."""

from __future__ import annotations

from dataclasses import dataclass

from xrm.query import MAX_PAGE_SIZE

__all__ = ["GraphQLSettings"]


@dataclass(frozen=True)
class GraphQLSettings:
    """Protection limits and paging defaults of one schema.

    Every refusal is a GraphQL error with ``extensions.code`` ``QUERY_TOO_COMPLEX`` (depth,
    aliases, tokens, cost) or ``BAD_USER_INPUT`` (a page size above ``max_page_size``).

    - ``max_depth``: nesting of fields (introspection fields aside); a page of cases with
      three levels of nested connections through ``edges { node }`` is 13 deep.
    - ``max_aliases``: aliased fields in the whole document (fragments included).
    - ``max_tokens``: lexical tokens of the document; parsing stops beyond it.
    - ``max_cost``: the records a query may produce: each connection counts its page size
      (``first``/``last``, else ``default_page_size``) multiplied by the page sizes of the
      connections it is nested in; a lookup counts one per parent record.
    - ``max_page_size``: the largest ``first``/``last`` (at most 5000, Dataverse's limit).
    - ``introspection``: when False, ``__schema``/``__type`` are refused and error messages
      carry no "did you mean" suggestions.
    - ``request_timeout``: seconds one request may run: the server stops waiting, and the read
      gateway has the database stop each root field's reads past it (code ``TIMEOUT``).
    """

    max_depth: int = 15
    max_aliases: int = 50
    max_tokens: int = 10_000
    max_cost: int = 50_000
    max_page_size: int = MAX_PAGE_SIZE
    default_page_size: int = 100
    introspection: bool = True
    request_timeout: float = 30.0

    def __post_init__(self) -> None:
        if not 1 <= self.max_page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"max_page_size must be from 1 to {MAX_PAGE_SIZE}")
        if not 1 <= self.default_page_size <= self.max_page_size:
            raise ValueError("default_page_size must be from 1 to max_page_size")
        for name in ("max_depth", "max_aliases", "max_tokens", "max_cost"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
