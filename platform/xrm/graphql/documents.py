"""Documents that already passed the checks of one schema, kept so repeated requests skip them.

Clients send the same few documents over and over (with different variables); parsing one and
running the validation rules over it costs more than executing a small query. A schema keeps a
:class:`DocumentCache`, so an entry belongs to one metadata version and one set of limits. Only
documents that parsed and passed the depth, alias and validation checks are stored: a refused
document is checked (and refused) again on every request. What depends on the request (the cost,
which reads the variables, and the operation to run) is still checked every time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from graphql import DocumentNode

__all__ = ["DocumentCache"]


class DocumentCache:
    """A bounded, thread-safe LRU of validated documents keyed by their text.

    ``max_entries`` bounds the count and ``max_chars`` the total text kept (a parsed document
    takes memory in proportion to its text), so unique documents churn the cache without growing it.
    """

    def __init__(self, max_entries: int = 256, max_chars: int = 1_000_000) -> None:
        self.max_entries, self.max_chars = max_entries, max_chars
        self._documents: OrderedDict[str, DocumentNode] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._documents)

    def get(self, text: str) -> DocumentNode | None:
        """The validated document of ``text``, if kept (and mark it recently used)."""
        with self._lock:
            document = self._documents.get(text)
            if document is not None:
                self._documents.move_to_end(text)
            return document

    def put(self, text: str, document: DocumentNode) -> None:
        """Keep ``document``, parsed from ``text``, which passed every check that ignores variables."""
        if len(text) > self.max_chars:
            return
        with self._lock:
            if text in self._documents:
                self._documents.move_to_end(text)
                return
            self._documents[text] = document
            self._chars += len(text)
            while len(self._documents) > self.max_entries or self._chars > self.max_chars:
                evicted, _ = self._documents.popitem(last=False)
                self._chars -= len(evicted)
