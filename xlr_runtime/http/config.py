"""``/api/v1/settings``: the effective settings of the served home, as ``xlr config --json`` prints them (secrets
never shown: a ``*_env`` setting shows its variable's name, a URL its user without the password)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from xlr_runtime.cli.operations import settings_rows
from xlr_runtime.cli.options import CliContext
from xlr_runtime.http.app import PREFIX, context_of


def list_settings(request: Request) -> Response:
    """``{"settings": [{"name", "value", "source"}, ...]}``: the home first, then every setting."""
    context = context_of(request)
    cli_context = CliContext(home=context.home, option_plugin_paths=context.plugin_paths, _settings=context.settings)
    return JSONResponse({"settings": settings_rows(cli_context)})


ROUTES = [Route(f"{PREFIX}/settings", list_settings, methods=["GET"])]
