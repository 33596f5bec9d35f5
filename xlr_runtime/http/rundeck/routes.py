"""Every route of Rundeck's API, in one list for :func:`xlr_runtime.http.app.build_app`."""

from __future__ import annotations

from starlette.routing import BaseRoute

from xlr_runtime.http.rundeck import deletions, executions, jobs, output, resources, schedules, system

ROUTES: list[BaseRoute] = [
    *system.ROUTES,
    *jobs.ROUTES,
    *executions.ROUTES,
    *output.ROUTES,
    *deletions.ROUTES,
    *schedules.ROUTES,
    *resources.ROUTES,
]
