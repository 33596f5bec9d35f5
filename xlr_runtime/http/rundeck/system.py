"""``/api/{version}/system/info``, ``/projects`` (list, create) and ``/project/{project}``: what a Rundeck client
asks first."""

from __future__ import annotations

import platform
import re
import socket
from typing import Any

import anyio.to_thread
from lxml import etree
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from xlr_runtime import __version__
from xlr_runtime.errors import ApiRequestError, NotFoundError
from xlr_runtime.http.context import context_of
from xlr_runtime.http.params import json_object
from xlr_runtime.http.rundeck.common import CURRENT_VERSION, api_url, date_of, endpoint
from xlr_runtime.http.rundeck.xmlforms import answer, element, leaves
from xlr_runtime.store.jobs import Project


def system_info(request: Request) -> Response:
    """The server, as Rundeck's ``system/info`` gives it (the parts a client reads: version, API version, time)."""
    context = context_of(request)
    now = context.clock.now()
    stamp = date_of(now) or {}
    info: dict[str, Any] = {
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
    return answer(request, info, lambda: _system_xml(info["system"]), by_format=False)


def _system_xml(system: dict[str, Any]) -> etree._Element:
    """Rundeck's ``<system>`` element."""
    stamp = system["timestamp"]
    timestamp = element(
        "timestamp", {"epoch": stamp["epoch"], "unit": "ms"}, element("datetime", text=stamp["datetime"])
    )
    return element(
        "system",
        None,
        timestamp,
        leaves(element("rundeck"), system["rundeck"]),
        element("executions", system["executions"]),
        leaves(element("os"), system["os"]),
    )


def _project(request: Request, project: Project) -> dict[str, Any]:
    return {
        "url": api_url(request, f"project/{project.name}"),
        "name": project.name,
        "description": "",
        "label": "",
    }


def _project_xml(shown: dict[str, Any]) -> etree._Element:
    """Rundeck's ``<project>`` element (with ``<config>`` when the project shown has one)."""
    root = leaves(element("project", {"url": shown["url"]}), {k: shown[k] for k in ("name", "description", "label")})
    if "config" in shown:
        root.append(element("config"))
    return root


def _one_project(request: Request, project: Project, status_code: int = 200) -> Response:
    shown = _project(request, project) | {"config": {}}
    return answer(request, shown, lambda: _project_xml(shown), by_format=False, status_code=status_code)


def list_projects(request: Request) -> Response:
    """Every project: ``[{"url", "name", "description", "label"}]`` (``<projects count="N">``)."""
    shown = [_project(request, p) for p in context_of(request).store.jobs.projects()]

    def as_xml() -> etree._Element:
        return element("projects", {"count": len(shown)}, *map(_project_xml, shown))

    return answer(request, shown, as_xml, by_format=False)


def find_project(request: Request, name: str) -> Project:
    """The project ``name``; Rundeck's 404 when there is none."""
    for project in context_of(request).store.jobs.projects():
        if project.name == name:
            return project
    raise NotFoundError(f"project does not exist: {name}")


def show_project(request: Request) -> Response:
    """One project, with its (empty) ``config`` and a link to its jobs page."""
    return _one_project(request, find_project(request, request.path_params["project"]))


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
    return _one_project(request, project, status_code=201)


ROUTES = [
    Route("/api/{version}/system/info", endpoint(system_info), methods=["GET"]),
    Route("/api/{version}/projects", endpoint(list_projects), methods=["GET"]),
    Route("/api/{version}/projects", endpoint(create_project), methods=["POST"]),
    Route("/api/{version}/project/{project}", endpoint(show_project), methods=["GET"]),
]
