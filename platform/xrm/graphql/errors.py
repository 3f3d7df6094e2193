"""Every GraphQL error gets a stable ``extensions.code``; nothing internal reaches the client.

Codes:

- from xrm errors, their own ``code``: ``BAD_USER_INPUT`` (with ``extensions.problems``, one
  ``{attribute, field, reason}`` per failing attribute), ``NOT_FOUND``, ``FORBIDDEN``, ``CONFLICT``,
  ``PLUGIN_ERROR``, ``INVALID_OPERATION``, ``LOOP_DETECTED``, ``BAD_QUERY``, ``SERVICE_UNAVAILABLE``,
  ``TIMEOUT`` (reads stopped at the request timeout);
- ``GRAPHQL_PARSE_FAILED`` (syntax), ``GRAPHQL_VALIDATION_FAILED`` (the document does not fit
  the schema), ``BAD_USER_INPUT`` (a variable of the wrong type), ``QUERY_TOO_COMPLEX`` (a
  protection limit, see :class:`~xrm.graphql.settings.GraphQLSettings`);
- ``INTERNAL`` for anything unexpected: the exception is logged with an ``errorId`` and the client
  gets that id only. ``INTERNAL`` and ``SERVICE_UNAVAILABLE`` are server faults; every other code
  is the client's.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.exc import DBAPIError

from graphql import GraphQLError, GraphQLSyntaxError
from xrm.errors import PluginExecutionError, ValidationError, XrmError

__all__ = [
    "INTERNAL",
    "PARSE_FAILED",
    "VALIDATION_FAILED",
    "TOO_COMPLEX",
    "InputError",
    "QueryTooComplexError",
    "translate_errors",
]

logger = logging.getLogger(__name__)

INTERNAL = "INTERNAL"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
TOO_COMPLEX = "QUERY_TOO_COMPLEX"

FieldNamer = Callable[[str, str], str | None]
"""``(entity, attribute)`` -> the GraphQL field of the attribute, for ``extensions.problems``."""


class InputError(XrmError):
    """An argument value the API cannot use (a malformed id, conflicting paging arguments...)."""

    code = "BAD_USER_INPUT"


class QueryTooComplexError(XrmError):
    """A document beyond a protection limit; ``limit`` names the setting."""

    code = TOO_COMPLEX

    def __init__(self, message: str, *, limit: str, maximum: int, actual: int) -> None:
        super().__init__(message)
        self.limit, self.maximum, self.actual = limit, maximum, actual


def _xrm_extensions(error: XrmError, field_of: FieldNamer) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": error.code}
    if isinstance(error, ValidationError):
        extensions["entity"] = error.entity
        extensions["problems"] = [
            {"attribute": p.attribute, "field": field_of(error.entity, p.attribute), "reason": p.reason}
            for p in error.problems
        ]
    elif isinstance(error, QueryTooComplexError):
        extensions.update(limit=error.limit, maximum=error.maximum, actual=error.actual)
    return extensions


def _internal(error: GraphQLError, original: BaseException, request_id: str | None) -> None:
    error_id = uuid.uuid4().hex
    logger.error("GraphQL internal error %s (request %s) at %s", error_id, request_id, error.path, exc_info=original)
    error.message = f"internal error; reference {error_id}"
    error.extensions = {"code": INTERNAL, "errorId": error_id}


def _translate(error: GraphQLError, field_of: FieldNamer, request_id: str | None) -> None:
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    if isinstance(original, XrmError):
        if isinstance(original, PluginExecutionError):
            error.message = original.message  # the plugin's own words, nothing else
        error.extensions = _xrm_extensions(original, field_of)
        return
    if isinstance(original, DBAPIError) and original.connection_invalidated:
        error.message = "the database connection was lost; retry"
        error.extensions = {"code": "SERVICE_UNAVAILABLE"}
        return
    if original is not None and not isinstance(original, GraphQLError):
        _internal(error, original, request_id)
        return
    if error.extensions and "code" in error.extensions:
        return
    if isinstance(error, GraphQLSyntaxError):
        code = TOO_COMPLEX if "tokens" in error.message and "Parsing aborted" in error.message else PARSE_FAILED
        error.extensions = {**(error.extensions or {}), "code": code}
        return
    # Errors the executor raises without an exception: variables that do not coerce.
    error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}


def translate_errors(errors: Iterable[GraphQLError], field_of: FieldNamer, request_id: str | None = None) -> None:
    """Give each error its ``extensions.code`` (in place); replace unexpected ones by an ``INTERNAL`` id."""
    for error in errors:
        try:
            _translate(error, field_of, request_id)
        except Exception:  # never let error handling itself leak details
            logger.exception("could not translate a GraphQL error")
            error.message = "internal error"
            error.extensions = {"code": INTERNAL}
