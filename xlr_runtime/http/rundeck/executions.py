"""Rundeck's execution routes: run a job with options, show and list executions, read their output by offset,
abort them.

A run is queued here through the same :class:`~xlr_runtime.rundeck.run.execution.ExecutionService` checks as
``xlr jobs run`` (option values, regexes, enforced values, multipleExecutions) and driven by ``xlr serve``'s
execution loop. Option values are stored masked (secure ones sealed apart) and log lines are stored masked, so
nothing shown here can hold a secure value.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from lxml import etree
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from xlr_runtime.errors import ApiRequestError, NotFoundError, StateError
from xlr_runtime.http.auth import TOKEN_NAME
from xlr_runtime.http.context import ApiContext, context_of
from xlr_runtime.http.params import int_param, json_object, whole_number
from xlr_runtime.http.rundeck.common import api_url, date_of, endpoint, page_url
from xlr_runtime.http.rundeck.jobs import job_of
from xlr_runtime.http.rundeck.queries import STATUS_FILTERS, execution_query, statuses
from xlr_runtime.http.rundeck.state import state_answer
from xlr_runtime.http.rundeck.system import find_project
from xlr_runtime.http.rundeck.xmlforms import answer, element, leaves
from xlr_runtime.rundeck.jobs.model import Job
from xlr_runtime.rundeck.run.execution import LOG_LEVELS, ExecutionService
from xlr_runtime.rundeck.run.options import parse_arg_string
from xlr_runtime.runtime import notify_server
from xlr_runtime.store.base import MAX_ROW_ID
from xlr_runtime.store.executions import Execution, ExecutionQuery, ExecutionStatus, ExecutionSummary

#: Executions on a page without ``max``, and the most a page may hold.
DEFAULT_PAGE, MAX_PAGE = 20, 1000
_RUN_FIELDS = frozenset({"argString", "options", "loglevel", "asUser", "filter", "runAtTime"})


def rundeck_status(execution: ExecutionSummary, now: float) -> str:
    """Rundeck's status: a queued execution is ``running`` (``scheduled`` while it waits for a retry delay); a
    custom status from a log-limit halt is ``other``."""
    if execution.status == ExecutionStatus.QUEUED:
        return "scheduled" if execution.due_at > now else "running"
    return "other" if execution.custom_status else str(execution.status)


def execution_json(request: Request, execution: ExecutionSummary) -> dict[str, Any]:
    """An execution as Rundeck shows it (option values masked as stored)."""
    now = context_of(request).clock.now()
    href = api_url(request, f"execution/{execution.id}")
    shown: dict[str, Any] = {
        "id": execution.id,
        "href": href,
        "permalink": page_url(request, f"project/{execution.project}/execution/show/{execution.id}"),
        "status": rundeck_status(execution, now),
        "customStatus": execution.custom_status,
        "project": execution.project,
        "executionType": execution.execution_type,
        "user": execution.user,
        "date-started": date_of(execution.started_at or execution.created_at),
        "description": execution.job_full_name,
        "argstring": execution.arg_string,
        "successfulNodes": execution.succeeded_nodes,
        "failedNodes": execution.failed_nodes,
        "retryAttempt": execution.attempt,
    }
    if execution.ended_at is not None:
        shown["date-ended"] = date_of(execution.ended_at)
    if execution.job_id is not None:
        shown["job"] = {
            "id": execution.job_id,
            "name": execution.job_name,
            "group": execution.job_group or "",
            "project": execution.project,
            "href": api_url(request, f"job/{execution.job_id}"),
            "permalink": page_url(request, f"project/{execution.project}/job/show/{execution.job_id}"),
            "options": execution.options,
        }
    return shown


def execution_of(request: Request) -> Execution:
    """The execution of the path's ``id``; Rundeck's 404 when there is none."""
    text = request.path_params["id"]
    missing = NotFoundError(f"Execution ID does not exist: {text}")
    number = whole_number(text)
    if number is None:
        raise missing
    try:
        return context_of(request).store.executions.get(number)
    except NotFoundError:
        raise missing from None


def execution_service(context: ApiContext) -> ExecutionService:
    """The execution service over the API's store (it queues runs and aborts; ``xlr serve`` drives them)."""
    lease = float(context.settings["cluster.lease_seconds"])
    return ExecutionService(context.store, home_root=context.home.root, clock=context.clock, lease=lease)


def start_run(context: ApiContext, job: Job, supplied: dict[str, str | list[str]], user: str | None) -> Execution:
    """Queue a run of ``job`` with the ``supplied`` option values (checked as ``xlr jobs run`` checks them) as
    ``user``, and wake the server's execution loop; the dashboard's run form runs jobs through it too."""
    execution = execution_service(context).start(str(job.project), job, supplied, user=user)
    notify_server(context.home)
    return execution


def abort_run(context: ApiContext, execution_id: int) -> Execution:
    """Ask for the execution to be aborted (:class:`StateError` once it has ended) and wake the server."""
    try:
        return execution_service(context).abort(execution_id)
    finally:
        notify_server(context.home)


def _supplied(data: dict[str, Any]) -> dict[str, str | list[str]]:
    """The option values of a run request: ``options`` (``{name: value}``; a list for a multivalued option)
    merged over ``argString`` (``-name value …``)."""
    arg_string = data.get("argString") or ""
    if not isinstance(arg_string, str):
        raise ApiRequestError(400, "argString must be a string such as '-name value'", field="argString")
    supplied: dict[str, str | list[str]] = {
        name: values[0] if len(values) == 1 else values for name, values in parse_arg_string(arg_string).items()
    }
    options = data.get("options") or {}
    if not isinstance(options, dict):
        raise ApiRequestError(400, "options must be an object of option names to values", field="options")
    for name, value in options.items():
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            supplied[name] = list(value)
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            supplied[name] = str(value)
        else:
            raise ApiRequestError(
                400, f"options.{name} must be a string (or a list of strings)", field=f"options.{name}"
            )
    return supplied


def _query_run(request: Request) -> dict[str, Any]:
    """A run given as query parameters: ``argString``, ``loglevel``, … and ``option.NAME=value`` (repeated for a
    multivalued option)."""
    query = request.query_params
    data: dict[str, Any] = {key: value for key, value in query.items() if not key.startswith("option.")}
    options: dict[str, str | list[str]] = {}
    for key in set(query.keys()):
        if key.startswith("option.") and key != "option.":
            values = query.getlist(key)
            options[key.removeprefix("option.")] = values[0] if len(values) == 1 else values
    data["options"] = options
    return data


async def run_job(request: Request) -> Response:
    """Run a job now: the body ``{"options": {...}, "argString": "...", "loglevel": "..."}`` (or the same as query
    parameters); answers the execution, whose user is the token's name. ``asUser`` and ``runAtTime`` are refused
    (403, 400): every run is the token's, and now."""
    context = context_of(request)
    has_json = "json" in request.headers.get("content-type", "")
    data = await json_object(request) if has_json else _query_run(request)
    unknown = sorted(set(data) - _RUN_FIELDS)
    if has_json and unknown:
        raise ApiRequestError(400, f"unknown field {unknown[0]!r}; a run takes {', '.join(sorted(_RUN_FIELDS))}")
    if data.get("asUser"):
        raise ApiRequestError(403, 'Not authorized for action "Run as User": every run is the token\'s')
    if data.get("runAtTime"):
        raise ApiRequestError(400, "runAtTime is not supported: a run starts now (use a schedule for later)")
    if data.get("filter"):
        raise ApiRequestError(400, "filter is not supported: a run uses the job's own node filter")
    level = data.get("loglevel")
    if level is not None and (not isinstance(level, str) or level not in LOG_LEVELS):
        raise ApiRequestError(400, f"loglevel must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    supplied = _supplied(data)
    user = getattr(request.state, TOKEN_NAME, None)  # the token's name; the server's user on an open write

    def start() -> Execution:
        return start_run(context, job_of(request), supplied, user)

    shown = execution_json(request, await anyio.to_thread.run_sync(start))
    return answer(request, shown, lambda: execution_xml(shown), by_format=False)


def show_state(request: Request) -> Response:
    """The execution's workflow state (Rundeck's ``execution/{id}/state``)."""
    return state_answer(request, execution_of(request))


def show_execution(request: Request) -> Response:
    """One execution (JSON, or Rundeck's ``<execution>`` element)."""
    shown = execution_json(request, execution_of(request))
    return answer(request, shown, lambda: execution_xml(shown), by_format=False)


def execution_xml(shown: dict[str, Any]) -> etree._Element:
    """Rundeck's ``<execution>`` element of an execution shown by :func:`execution_json`."""
    attributes = {key: shown[key] for key in ("id", "href", "permalink", "status", "project")}
    root = element("execution", attributes, element("user", text=shown["user"]))
    for key in ("date-started", "date-ended"):
        if shown.get(key):
            root.append(element(key, {"unixtime": shown[key]["unixtime"]}, text=shown[key]["date"]))
    leaves(root, {"customStatus": shown["customStatus"]})
    job = shown.get("job")
    if job is not None:
        options = element(
            "options", None, *(element("option", {"name": k, "value": v}) for k, v in job["options"].items())
        )
        shown_job = element("job", {key: job[key] for key in ("id", "href", "permalink")})
        root.append(leaves(shown_job, {key: job[key] for key in ("name", "group", "project")}))
        shown_job.append(options)
    leaves(root, {"description": shown["description"], "argstring": shown["argstring"]})
    for key in ("successfulNodes", "failedNodes"):
        root.append(element(key, None, *(element("node", {"name": name}) for name in shown[key])))
    return root


def _page(request: Request, query: ExecutionQuery) -> Response:
    """The executions ``query`` keeps, newest first, a page at a time (``max``, default 20; ``offset``):
    ``{"paging": {"count", "total", "offset", "max"}, "executions": [...]}`` (or Rundeck's ``<executions>``)."""
    store = context_of(request).store
    size = int_param(request, "max", DEFAULT_PAGE, minimum=1, maximum=MAX_PAGE)
    offset = int_param(request, "offset", 0, minimum=0, maximum=MAX_ROW_ID)
    with store.snapshot():
        rows = store.executions.summaries(query=query, limit=size, offset=offset)
        total = store.executions.count(query=query)
    paging = {"count": len(rows), "total": total, "offset": offset, "max": size}
    shown = [execution_json(request, row) for row in rows]

    def as_xml() -> etree._Element:
        return element("executions", paging, *(execution_xml(execution) for execution in shown))

    return answer(request, {"paging": paging, "executions": shown}, as_xml, by_format=False)


def list_executions(request: Request) -> Response:
    """The project's executions that Rundeck's execution query keeps (paged)."""
    project = find_project(request, request.path_params["project"]).name
    return _page(request, execution_query(request, project=project, now=context_of(request).clock.now()))


def running_executions(request: Request) -> Response:
    """The running (and queued) executions of a project, or of every project with ``*``; ``jobIdFilter`` keeps one
    job's."""
    name = request.path_params["project"]
    project = None if name == "*" else find_project(request, name).name
    job_id = request.query_params.get("jobIdFilter")
    running = tuple(str(status) for status in STATUS_FILTERS["running"])
    return _page(request, ExecutionQuery(project=project, job_ids=(job_id,) if job_id else (), statuses=running))


def job_executions(request: Request) -> Response:
    """The job's executions (paged), ``status`` keeping one status."""
    job = job_of(request)
    return _page(
        request, ExecutionQuery(project=job.project, job_ids=(str(job.uuid),), statuses=statuses(request, "status"))
    )


def abort_execution(request: Request) -> Response:
    """Abort a running execution: ``{"abort": {"status": "pending"|"aborted"|"failed", "reason"}, "execution":
    {...}}``; one that has ended answers ``failed`` with the reason."""
    execution = execution_of(request)
    outcome: dict[str, Any]
    try:
        execution = abort_run(context_of(request), execution.id)
        outcome = {"status": "aborted" if execution.status.is_final else "pending"}
    except StateError as exc:
        outcome = {"status": "failed", "reason": exc.message}
    now = context_of(request).clock.now()
    shown = {
        "id": str(execution.id),
        "status": rundeck_status(execution, now),
        "href": api_url(request, f"execution/{execution.id}"),
    }

    def as_xml() -> etree._Element:
        return element("abort", outcome, element("execution", {"id": shown["id"], "status": shown["status"]}))

    return answer(request, {"abort": outcome, "execution": shown}, as_xml, by_format=False)


ROUTES = [
    Route("/api/{version}/job/{id}/run", endpoint(run_job), methods=["POST"]),
    Route("/api/{version}/job/{id}/executions", endpoint(run_job), methods=["POST"]),  # Rundeck's other run path
    Route("/api/{version}/project/{project}/executions", endpoint(list_executions), methods=["GET"]),
    Route("/api/{version}/project/{project}/executions/running", endpoint(running_executions), methods=["GET"]),
    Route("/api/{version}/job/{id}/executions", endpoint(job_executions), methods=["GET"]),
    Route("/api/{version}/execution/{id}", endpoint(show_execution), methods=["GET"]),
    Route("/api/{version}/execution/{id}/abort", endpoint(abort_execution), methods=["POST"]),
    Route("/api/{version}/execution/{id}/state", endpoint(show_state), methods=["GET"]),
]
