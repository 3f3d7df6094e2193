"""GraphQL over HTTP: POST JSON, GET for queries, ``application/graphql-response+json``.

Follows the GraphQL-over-HTTP specification: with ``application/graphql-response+json`` a request
error (unparsable document, failed validation, bad variables: no ``data``) answers 400 and an
executed operation 200; with ``application/json`` every well-formed request answers 200. GET
cannot run mutations (405). A browser asking for HTML gets GraphiQL.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from xrm.data import Environment
from xrm.server.auth import TokenCache, authenticate
from xrm.server.reload import Reloader, Runtime

__all__ = [
    "GRAPHQL_RESPONSE_JSON",
    "UNAUTHORIZED",
    "ContextFactory",
    "GraphQLEndpoint",
    "HttpError",
    "error_response",
    "negotiate",
]

log = logging.getLogger(__name__)

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
ContextFactory = Callable[[Environment, uuid.UUID], Any]


class HttpError(Exception):
    """A request refused before execution: status, message and extra headers."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str = "BAD_REQUEST",
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, dict(headers or {})
        self.extensions = dict(extensions or {})


UNAUTHORIZED = HttpError(
    401,
    "a valid API key is required: 'Authorization: Bearer <token>'",
    "UNAUTHENTICATED",
    {"WWW-Authenticate": 'Bearer realm="xrm"'},
)


@dataclass(frozen=True)
class Params:
    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *options = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for option in options:
            key, _, value = option.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media:
            ranges.append((media.lower(), quality))
    return ranges


def _quality(media: str, ranges: list[tuple[str, float]]) -> tuple[float, bool]:
    exact = [quality for pattern, quality in ranges if pattern == media]
    if exact:
        return max(exact), True
    return max((quality for pattern, quality in ranges if pattern in ("*/*", "application/*")), default=0.0), False


def negotiate(accept: str | None) -> str:
    """The response media type for an Accept header; ``application/graphql-response+json`` by default.

    The highest quality wins; on a tie, a type named exactly beats a wildcard, then the GraphQL type.
    """
    if not accept or not accept.strip():
        return GRAPHQL_RESPONSE_JSON
    ranges = _media_ranges(accept)
    scored = {media: _quality(media, ranges) for media in (GRAPHQL_RESPONSE_JSON, JSON)}
    best = max((GRAPHQL_RESPONSE_JSON, JSON), key=lambda media: scored[media])
    if scored[best][0] <= 0:
        raise HttpError(406, f"cannot answer with {accept}; accept {GRAPHQL_RESPONSE_JSON} or {JSON}", "NOT_ACCEPTABLE")
    return best


def _json_object(value: Any, name: str) -> dict[str, Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value) if value else None
        except ValueError:
            raise HttpError(400, f"'{name}' is not valid JSON") from None
    if value is not None and not isinstance(value, dict):
        raise HttpError(400, f"'{name}' must be an object")
    return value


def _params(data: Mapping[str, Any]) -> Params:
    query, operation = data.get("query"), data.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise HttpError(400, "the request has no 'query' (a GraphQL document)")
    if operation is not None and not isinstance(operation, str):
        raise HttpError(400, "'operationName' must be a string")
    return Params(
        query,
        _json_object(data.get("variables"), "variables"),
        operation or None,
        _json_object(data.get("extensions"), "extensions"),
    )


def _post_params(content_type: str, body: bytes) -> Params:
    media = content_type.split(";")[0].strip().lower()
    if media != JSON:
        raise HttpError(415, f"send the request as {JSON}", "UNSUPPORTED_MEDIA_TYPE")
    try:
        data = json.loads(body)
    except ValueError:
        raise HttpError(400, "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise HttpError(400, "the request body must be a JSON object")
    return _params(data)


def _is_request_error(result: Any) -> bool:
    """No ``data``: the document did not parse or validate, or the variables did not coerce."""
    return result.data is None and bool(result.errors) and all(error.path is None for error in result.errors)


def _payload(result: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if not _is_request_error(result):
        payload["data"] = result.data
    if result.extensions:
        payload["extensions"] = result.extensions
    return payload


def _response(
    payload: Mapping[str, Any], status: int, media: str, headers: Mapping[str, str] | None = None
) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    return Response(body, status_code=status, media_type=media, headers=dict(headers or {}))


def error_response(error: HttpError, media: str = JSON) -> Response:
    """A refusal before execution, as a GraphQL response with one error."""
    extensions = {"code": error.code, **error.extensions}
    return _response(
        {"errors": [{"message": error.message, "extensions": extensions}]}, error.status, media, error.headers
    )


class GraphQLEndpoint:
    """The ``/graphql`` route: authenticates, takes the current schema, executes, answers."""

    def __init__(
        self,
        reloader: Reloader,
        context_factory: ContextFactory,
        ide_html: str | None,
        *,
        timeout: float | None = None,
        tokens: TokenCache | None = None,
    ) -> None:
        self.reloader = reloader
        self.context_factory = context_factory
        self.ide_html = ide_html
        self.timeout = timeout
        self.tokens = tokens

    async def handle(self, request: Request) -> Response:
        if self._wants_ide(request):
            return HTMLResponse(self.ide_html)
        try:
            media = negotiate(request.headers.get("accept"))
        except HttpError as error:
            return error_response(error)
        body = await request.body() if request.method == "POST" else b""
        try:
            with anyio.fail_after(self.timeout):
                return await anyio.to_thread.run_sync(self._handle, request, body, media, abandon_on_cancel=True)
        except TimeoutError:
            # The worker thread cannot be stopped; it finishes in the background (a write may still
            # commit), and the client is told now. Cost limits keep such requests rare.
            log.warning("a GraphQL request ran longer than %ss", self.timeout)
            return error_response(HttpError(504, f"the request ran longer than {self.timeout:g}s", "TIMEOUT"), media)

    def _wants_ide(self, request: Request) -> bool:
        accept = request.headers.get("accept", "")
        return (
            self.ide_html is not None
            and request.method == "GET"
            and "text/html" in accept
            and "query" not in request.query_params
        )

    def _handle(self, request: Request, body: bytes, media: str) -> Response:
        """Everything blocking, in one worker thread: version check, token, parsing, execution."""
        runtime, user = authenticate(self.reloader, request.headers, self.tokens)
        if user is None:
            return error_response(UNAUTHORIZED, media)
        try:
            if request.method == "POST":
                params = _post_params(request.headers.get("content-type", ""), body)
                allowed = None
            else:
                params = _params(request.query_params)
                allowed = {OperationType.QUERY}
            return self._execute(runtime, user, params, allowed, media)
        except HttpError as error:
            return error_response(error, media)

    def _execute(
        self, runtime: Runtime, user: uuid.UUID, params: Params, allowed: set[OperationType] | None, media: str
    ) -> Response:
        try:
            result = runtime.schema.execute_sync(
                params.query,
                variable_values=params.variables,
                context_value=self.context_factory(runtime.environment, user),
                operation_name=params.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=params.extensions,
            )
        except InvalidOperationTypeError:
            raise HttpError(
                405, "GET only runs queries; send mutations with POST", "METHOD_NOT_ALLOWED", {"Allow": "POST"}
            ) from None
        except (MissingQueryError, CannotGetOperationTypeError) as error:
            raise HttpError(400, _message(error, params)) from None
        except Exception:
            error_id = uuid.uuid4().hex
            log.exception("GraphQL request failed (errorId %s)", error_id)
            raise HttpError(500, "internal error", "INTERNAL", extensions={"errorId": error_id}) from None
        status = 400 if media == GRAPHQL_RESPONSE_JSON and _is_request_error(result) else 200
        return _response(_payload(result), status, media)


def _message(error: Exception, params: Params) -> str:
    if isinstance(error, CannotGetOperationTypeError):
        if params.operation_name:
            return f"the document has no operation named '{params.operation_name}'"
        return "the document has several operations; say which one in 'operationName'"
    return str(error)
