"""``/api/v1/settings`` and ``/api/v1/cis``: the effective settings of the served home, as ``xlr config --json``
prints them (secrets never shown: a ``*_env`` setting shows its variable's name, a URL its user without the
password), and the CIs of its ``xlr.toml`` by name and type (never a value)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from xlr_runtime.effective_settings import GivenOptions, settings_rows
from xlr_runtime.http.context import PREFIX, context_of


def list_settings(request: Request) -> Response:
    """``{"settings": [{"name", "value", "source"}, ...]}``: the home first, then every setting."""
    context = context_of(request)
    given = GivenOptions(plugin_paths=context.plugin_paths)
    return JSONResponse({"settings": settings_rows(context.home.root, context.settings, given)})


def list_cis(request: Request) -> Response:
    """``{"cis": [{"name", "type"}, ...]}``: the ``[ci.NAME]`` tables of ``xlr.toml``, by name."""
    cis = context_of(request).cis
    rows = []
    for name in cis.names():
        ci = cis.get(name)
        assert ci is not None  # a listed name
        rows.append({"name": name, "type": ci.type.name})
    return JSONResponse({"cis": rows})


ROUTES = [
    Route(f"{PREFIX}/settings", list_settings, methods=["GET"]),
    Route(f"{PREFIX}/cis", list_cis, methods=["GET"]),
]
