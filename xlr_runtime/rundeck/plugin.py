"""Rundeck as a built-in pluggy plugin: ``xlr serve`` runs executions, job schedules and notifications beside the
task scheduler through the ``xlr_serve_services`` hook, so the runtime core never imports Rundeck."""

from __future__ import annotations

from typing import TYPE_CHECKING

from xlr_runtime import hookimpl

if TYPE_CHECKING:
    from xlr_runtime.rundeck.run.execution import ExecutionService
    from xlr_runtime.runtime import Runtime
    from xlr_runtime.scheduler import Scheduler


@hookimpl
def xlr_serve_services(runtime: Runtime, scheduler: Scheduler) -> ExecutionService:
    """The execution loop (re-queueing the executions of dead processes first), with the schedule and
    notification loops, each in its own thread (see :func:`xlr_runtime.rundeck.run.runner.serve_executions`)."""
    from xlr_runtime.rundeck.run.runner import serve_executions  # imported only where a server runs

    return serve_executions(runtime, scheduler)
