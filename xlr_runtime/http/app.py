"""The ASGI application: the routes of every area under ``/api/v1``, Rundeck's API, the dashboard's pages, the
token gate and the errors.

Handlers that touch the store are plain functions (Starlette runs them in its thread pool); they share an
:class:`~xlr_runtime.http.context.ApiContext`, which holds the API's own store connection (never the scheduler's)
and an engine over it, so HTTP reads and writes go through the same repositories and engine operations as the CLI.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from xlr_runtime.http.auth import TokenGate
from xlr_runtime.http.context import ApiContext
from xlr_runtime.http.errors import EXCEPTION_HANDLERS


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
