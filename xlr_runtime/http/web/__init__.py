"""The dashboard of ``xlr serve`` (``docs/http.md#dashboard``): server-rendered pages over the same store and
engine operations as the JSON API, readable without JavaScript; one small script adds live updates by reading
the API (the task log's server-sent events, the task list and Rundeck's execution output).

Modules: ``session`` (log-in sessions and CSRF tokens), ``render`` (templates, filters, error pages), ``guard``
(who may read a page or post a form, and form bodies), ``login``, ``task_pages`` (tasks and types),
``rundeck_pages`` (jobs and their run form, executions, schedules, nodes). Templates, ``static/app.css`` and
``static/app.js`` ship with the package.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def routes() -> list[BaseRoute]:
    """Every route of the dashboard."""
    from xlr_runtime.http.web import login, rundeck_pages, task_pages

    return [
        *login.ROUTES,
        *task_pages.ROUTES,
        *rundeck_pages.ROUTES,
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
