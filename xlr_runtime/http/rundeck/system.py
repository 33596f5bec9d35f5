"""``/api/{version}/system/info``, ``/projects`` (list, create) and ``/project/{project}``: what a Rundeck client
asks first."""

from __future__ import annotations

import platform
import re
import socket
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from xlr_runtime import __version__
from xlr_runtime.errors import ApiRequestError, NotFoundError
from xlr_runtime.http.app import context_of
from xlr_runtime.http.params import json_object
from xlr_runtime.http.rundeck.common import CURRENT_VERSION, api_url, date_of, endpoint
from xlr_runtime.store.jobs import Project


def system_info(request: Request) -> Response:
    """The server, as Rundeck's ``system/info`` gives it (the parts a client reads: version, API version, time)."""
    context = context_of(request)
    now = context.clock.now()
    stamp = date_of(now) or {}
    return JSONResponse(
        {
            "system": {
                "timestamp": {"epoch": stamp["unixtime"], "unit": "ms", "datetime": stamp["date"]},
                "rundeck": {
                    "version": __version__,
                    "build": f"xlr-runtime {__version__}",
                    "node": socket.gethostname(),
                    "base": str(context.home.root),
                    "apiversion": CURRENT_VERSION,
                    "serverUUID": None,
                },
                "executions": {"active": True, "executionMode": "active"},
                "os": {"arch": platform.machine(), "name": platform.system(), "version": platform.release()},
            }
        }
    )


def _project(request: Request, project: Project) -> dict[str, Any]:
    return {
        "url": api_url(request, f"project/{project.name}"),
        "name": project.name,
        "description": "",
        "label": "",
    }


def list_projects(request: Request) -> Response:
    """Every project: ``[{"url", "name", "description", "label"}]``."""
    return JSONResponse([_project(request, p) for p in context_of(request).store.jobs.projects()])


def find_project(request: Request, name: str) -> Project:
    """The project ``name``; Rundeck's 404 when there is none."""
    for project in context_of(request).store.jobs.projects():
        if project.name == name:
            return project
    raise NotFoundError(f"project does not exist: {name}")


def show_project(request: Request) -> Response:
    """One project, with its (empty) ``config`` and a link to its jobs page."""
    project = find_project(request, request.path_params["project"])
    return JSONResponse(_project(request, project) | {"config": {}})


#: Rundeck's rule for project names.
PROJECT_NAME = re.compile(r"^[-_a-zA-Z0-9+][-._a-zA-Z0-9+]*$")


async def create_project(request: Request) -> Response:
    """Create a project from ``{"name": ..., "config": {...}}`` (``description`` and ``config`` are accepted, not
    kept): 201 with the project; 409 when it exists."""
    context = context_of(request)
    data = await json_object(request)
    name = data.get("name")
    if not isinstance(name, str) or not PROJECT_NAME.match(name):
        raise ApiRequestError(400, f"name must be a project name (letters, digits, '-', '_', '.', '+'), got {name!r}")

    def create() -> Project:
        with context.store.atomic():
            if any(p.name == name for p in context.store.jobs.projects()):
                raise ApiRequestError(409, f"project already exists: {name}")
            context.store.jobs.ensure_project(name, now=context.clock.now())
        return find_project(request, name)

    project = await anyio.to_thread.run_sync(create)
    return JSONResponse(_project(request, project) | {"config": {}}, status_code=201)


ROUTES = [
    Route("/api/{version}/system/info", endpoint(system_info), methods=["GET"]),
    Route("/api/{version}/projects", endpoint(list_projects), methods=["GET"]),
    Route("/api/{version}/projects", endpoint(create_project), methods=["POST"]),
    Route("/api/{version}/project/{project}", endpoint(show_project), methods=["GET"]),
]
