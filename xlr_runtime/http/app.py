"""The ASGI application: the routes of every area under ``/api/v1``, Rundeck's API, the dashboard's pages, the
token gate and the errors.

Handlers that touch the store are plain functions (Starlette runs them in its thread pool); they share
:class:`ApiContext`, which holds the API's own store connection (never the scheduler's) and an engine over it, so
HTTP reads and writes go through the same repositories and engine operations as the CLI.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import BaseRoute

from xlr_runtime.cis import CiCatalog
from xlr_runtime.clock import Clock
from xlr_runtime.engine import Engine
from xlr_runtime.home import Home
from xlr_runtime.http.auth import TokenGate
from xlr_runtime.http.errors import EXCEPTION_HANDLERS
from xlr_runtime.settings import Settings
from xlr_runtime.store import Store
from xlr_runtime.typesystem.registry import TypeRegistry

#: Where every route of the JSON API lives.
PREFIX = "/api/v1"


@dataclass
class ApiContext:
    """What the handlers share: the home, its settings and types, the API's store and engine, a way to wake the
    scheduler after a write, the CIs of ``xlr.toml``, and the event that ends live streams when the server stops."""

    home: Home
    settings: Settings
    registry: TypeRegistry
    store: Store
    engine: Engine
    clock: Clock
    wake: Callable[[], None]  # wakes the scheduler of the serving runtime
    cis: CiCatalog = field(default_factory=CiCatalog)
    plugin_paths: tuple[Path, ...] = ()
    stopping: threading.Event = field(default_factory=threading.Event)


def context_of(request: Request) -> ApiContext:
    """The :class:`ApiContext` of the application serving ``request``."""
    context: ApiContext = request.app.state.context
    return context


def build_app(context: ApiContext, *, open_reads: bool) -> Starlette:
    """The application over ``context``; reads need no token when ``open_reads``."""
    from xlr_runtime.http import config, openapi, tasks, types, web
    from xlr_runtime.http.rundeck.routes import ROUTES as RUNDECK_ROUTES
    from xlr_runtime.http.web.session import Sessions
    from xlr_runtime.secrets import SecretBox

    routes: list[BaseRoute] = [*tasks.ROUTES, *types.ROUTES, *config.ROUTES, *openapi.ROUTES]
    routes += [*RUNDECK_ROUTES, *web.routes()]
    sessions = Sessions(context.store, SecretBox(context.home.root), context.clock)
    gate = Middleware(TokenGate, store=context.store, clock=context.clock, open_reads=open_reads, sessions=sessions)
    app = Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS, middleware=[gate])  # type: ignore[arg-type]
    app.state.context = context
    app.state.sessions = sessions
    app.state.open_reads = open_reads
    return app
