"""``/api/v1/types``: the loaded types as ``xlr types --json`` lists them, and one type as ``xlr types show TYPE
--json`` shows it (password defaults masked)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from xlr_runtime.errors import NotFoundError
from xlr_runtime.http.context import PREFIX, context_of
from xlr_runtime.typesystem.describe import script_files, type_detail, type_row


def list_types(request: Request) -> Response:
    """Every loaded type: ``{"types": [...]}``."""
    registry = context_of(request).registry
    return JSONResponse({"types": [type_row(t) for t in registry.types()]})


def show_type(request: Request) -> Response:
    """One type with its properties by category and the script file that runs; 404 for an unknown type."""
    registry = context_of(request).registry
    name = request.path_params["type_name"]
    if name not in registry:
        raise NotFoundError(f"unknown type {name!r}", hint="GET /api/v1/types lists the loaded types.")
    task_type = registry.get(name)
    return JSONResponse(type_detail(task_type, script_files(registry, task_type)))


ROUTES = [
    Route(f"{PREFIX}/types", list_types, methods=["GET"]),
    Route(f"{PREFIX}/types/{{type_name}}", show_type, methods=["GET"]),
]
