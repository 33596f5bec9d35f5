"""Turning a job's schedule and executions on and off through Rundeck's API (one job, or several by id), and the
scheduled jobs of this server (``/scheduler/jobs``).

The switches are the job's ``scheduleEnabled`` and ``executionEnabled``, kept in its stored definition
(:meth:`~xlr_runtime.rundeck.jobs.jobstore.JobStore.set_enabled`): ``xlr serve``'s schedule loop replans the job within
a second (a disabled schedule or disabled executions do not fire), a run of a job whose executions are disabled is
refused, and an export shows the flags.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from lxml import etree
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from xlr_runtime.errors import NotFoundError
from xlr_runtime.http.context import context_of
from xlr_runtime.http.rundeck.common import Handler, endpoint
from xlr_runtime.http.rundeck.jobs import job_of, jobs_answer, requested_job_ids
from xlr_runtime.http.rundeck.xmlforms import answer, element
from xlr_runtime.rundeck.jobs.jobstore import JobStore

#: The two switches of a job (``schedule``, ``execution``) and Rundeck's bulk answer element of each.
SWITCHES = {"schedule": "toggleSchedule", "execution": "toggleExecution"}


def _switch(request: Request, job_id: str, switch: str, enabled: bool) -> None:
    """Turn ``switch`` of ``job_id`` on or off."""
    context = context_of(request)
    try:
        JobStore(context.store).set_enabled(job_id, **{switch: enabled}, now=context.clock.now())
    except NotFoundError:
        raise NotFoundError(f"Job ID does not exist: {job_id}") from None


def _toggle_one(switch: str, enabled: bool) -> Handler:
    def toggle_job(request: Request) -> Response:
        """Enable or disable one job's schedule or executions: ``{"success": true}`` (``<success>true</success>``)."""
        _switch(request, str(job_of(request).uuid), switch, enabled)
        return answer(request, {"success": True}, lambda: element("success", text=True), by_format=False)

    return toggle_job


async def _toggle_many(request: Request, switch: str, enabled: bool) -> Response:
    """Enable or disable several jobs' schedules or executions: ``{"requestCount", "enabled", "allsuccessful",
    "succeeded": [{"id", "message"}], "failed": [{"id", "errorCode", "message"}]}``."""
    ids = await requested_job_ids(request)
    element_name = SWITCHES[switch]
    done = f"Job {switch} {'enabled' if enabled else 'disabled'}"

    def apply() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        succeeded, failed = [], []
        for job_id in ids:
            try:
                _switch(request, job_id, switch, enabled)
                succeeded.append({"id": job_id, "message": done})
            except NotFoundError as exc:
                failed.append({"id": job_id, "errorCode": "notfound", "message": exc.message})
        return succeeded, failed

    succeeded, failed = await anyio.to_thread.run_sync(apply)
    result = {"requestCount": len(ids), "enabled": enabled, "allsuccessful": not failed,
              "succeeded": succeeded, "failed": failed}  # fmt: skip

    def as_xml() -> etree._Element:
        item = f"{element_name}Result"
        ok = [element(item, {"id": s["id"]}, element("message", text=s["message"])) for s in succeeded]
        bad = [element(item, {"id": f["id"], "errorCode": f["errorCode"]}, element("error", text=f["message"]))
               for f in failed]  # fmt: skip
        attributes = {"enabled": enabled, "requestCount": len(ids), "allsuccessful": not failed}
        sections = [element("succeeded", {"count": len(ok)}, *ok), element("failed", {"count": len(bad)}, *bad)]
        return element(element_name, attributes, *sections)

    return answer(request, result, as_xml, by_format=False)


def scheduled_jobs(request: Request) -> Response:
    """The jobs with a schedule, of every project (this server owns every schedule), as the job list shows them."""
    store = context_of(request).store
    stored = JobStore(store)
    jobs = [job for project in store.jobs.projects() for job in stored.list(project.name) if job.schedule]
    return jobs_answer(request, jobs)


def _toggle_bulk(switch: str, enabled: bool) -> Handler:
    async def toggle_jobs(request: Request) -> Response:
        """Enable or disable several jobs' schedules or executions (``ids``, ``idlist``)."""
        return await _toggle_many(request, switch, enabled)

    return toggle_jobs


_ACTIONS = {"enable": True, "disable": False}
ROUTES = [
    *(Route(f"/api/{{version}}/job/{{id}}/{switch}/{action}", endpoint(_toggle_one(switch, enabled)), methods=["POST"])
      for switch in SWITCHES for action, enabled in _ACTIONS.items()),
    *(Route(f"/api/{{version}}/jobs/{switch}/{action}", endpoint(_toggle_bulk(switch, enabled)), methods=["POST"])
      for switch in SWITCHES for action, enabled in _ACTIONS.items()),
    Route("/api/{version}/scheduler/jobs", endpoint(scheduled_jobs), methods=["GET"]),
]  # fmt: skip
