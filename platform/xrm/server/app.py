"""The composition root: ``create_app(settings)`` wires database, plugins, schema and routes.

Routes: ``/graphql`` (GraphQL over HTTP; GraphiQL in a browser), ``/graphql/schema.graphql`` (the
SDL), ``/healthz`` (the process answers) and ``/readyz`` (the database answers and a schema is
built). Everything but the health routes needs an API key; the static GraphiQL page is served to
a browser without one (a browser cannot send a bearer header when opening a page), and every
query it sends needs one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from xrm.data import Environment
from xrm.errors import XrmError
from xrm.graphql.settings import GraphQLSettings
from xrm.plugin import PluginRegistry, open_environment
from xrm.schema import open_engine
from xrm.schema.store import is_initialized
from xrm.server.auth import TokenCache, authenticate
from xrm.server.endpoint import UNAUTHORIZED, ContextFactory, GraphQLEndpoint, HttpError, error_response
from xrm.server.reload import Reloader
from xrm.server.settings import ServerSettings
from xrm.server.tokens import ensure_token_table
from xrm.server.worker import run_job_worker, watch_metadata_version

__all__ = ["create_app", "app_from_environ", "serve"]

log = logging.getLogger(__name__)


def create_app(settings: ServerSettings | None = None) -> Starlette:
    """Open the database, load the environment with its plugins, build the schema, mount the routes.

    Raises ``XrmError`` (``NOT_INITIALIZED``) when the database holds no xrm environment.
    """
    settings = settings or ServerSettings()
    engine = open_engine(settings.database)
    _require_environment(engine)
    ensure_token_table(engine)
    limits = settings.graphql or GraphQLSettings()
    reloader = Reloader(
        engine, lambda bound: _build(bound, settings.registry, limits), interval=settings.version_check_interval
    )
    reloader.refresh(force=True)
    tokens = TokenCache(settings.version_check_interval)
    graphql = GraphQLEndpoint(
        reloader,
        _context_factory(),
        _ide_html() if limits.introspection else None,
        timeout=limits.request_timeout,
        tokens=tokens,
    )
    routes = [
        Route("/graphql", graphql.handle, methods=["GET", "POST"]),
        Route("/graphql/schema.graphql", _schema_sdl, methods=["GET"]),
        Route("/healthz", _healthz, methods=["GET"]),
        Route("/readyz", _readyz, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=_lifespan)
    app.state.settings = settings
    app.state.limits = limits
    app.state.reloader = reloader
    app.state.tokens = tokens
    return app


async def _schema_sdl(request: Request) -> Response:
    reloader: Reloader = request.app.state.reloader
    runtime, user = await run_in_threadpool(authenticate, reloader, request.headers, request.app.state.tokens)
    if user is None:
        return error_response(UNAUTHORIZED)
    if not request.app.state.limits.introspection:  # the SDL would give away what turning introspection off hides
        return error_response(HttpError(404, "the schema is not published (introspection is off)", "NOT_FOUND"))
    return PlainTextResponse(runtime.sdl)


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _readyz(request: Request) -> Response:
    reloader: Reloader = request.app.state.reloader
    try:
        version = await run_in_threadpool(reloader.database_version)
    except Exception:
        log.warning("readiness: the database does not answer", exc_info=True)
        return JSONResponse({"status": "unavailable", "reason": "database unreachable"}, status_code=503)
    if not reloader.ready:
        return JSONResponse({"status": "unavailable", "reason": "no schema built"}, status_code=503)
    return JSONResponse({"status": "ready", "metadata_version": version, "schema_version": reloader.current.version})


@asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    """Background tasks while the server runs: the version watcher and (unless off) the job worker."""
    settings: ServerSettings = app.state.settings
    reloader: Reloader = app.state.reloader
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(watch_metadata_version, reloader)
        if settings.run_worker:
            tasks.start_soon(lambda: run_job_worker(reloader, interval=settings.worker_interval))
        yield
        tasks.cancel_scope.cancel()
    reloader.engine.dispose()


def _require_environment(engine: Engine) -> None:
    with engine.connect() as connection:
        if is_initialized(connection):
            return
    raise XrmError(
        f"{engine.url.render_as_string()} holds no xrm environment; run 'xrm init' first", code="NOT_INITIALIZED"
    )


def _build(engine: Engine, registry: PluginRegistry | None, limits: GraphQLSettings) -> tuple[Environment, Any]:
    from xrm.graphql import build_schema

    environment = open_environment(engine, registry)
    return environment, build_schema(environment, settings=limits)


def _context_factory() -> ContextFactory:
    from xrm.graphql import context_for

    def factory(environment: Environment, user: uuid.UUID) -> Any:
        return context_for(environment, user)

    return factory


def _ide_html() -> str:
    from strawberry.http.ides import get_graphql_ide_html

    return get_graphql_ide_html("graphiql")


def app_from_environ() -> Starlette:
    """The application of a process uvicorn starts itself (``--workers``, ``--reload``)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    return create_app(ServerSettings.from_environ())


def serve(settings: ServerSettings) -> None:
    """Serve with uvicorn until interrupted. One process runs the app built here; several (or
    auto-reload) each build their own from the settings passed through the environment."""
    import os

    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    if settings.workers <= 1 and not settings.reload:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port)
        return
    engine = open_engine(settings.database)
    try:  # refuse here, once, rather than in every worker process
        _require_environment(engine)
    finally:
        engine.dispose()
    os.environ.update(settings.to_environ())
    uvicorn.run(
        "xrm.server.app:app_from_environ",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=None if settings.reload else settings.workers,
        reload=settings.reload,
        reload_dirs=[str(Path(__file__).resolve().parents[1])] if settings.reload else None,
    )
