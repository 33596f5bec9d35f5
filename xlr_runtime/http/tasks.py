"""``/api/v1/tasks``: list (filtered, paged by cursor), create, show, abort, retry, skip, log (text, JSON, or
followed live as server-sent events) and delete tasks, through the same store and engine operations as the CLI.

Property values of passwords are masked as in ``xlr task show``; log lines and status lines are stored masked.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from xlr_runtime.engine import masked_properties
from xlr_runtime.errors import ApiRequestError, StateError
from xlr_runtime.http.context import PREFIX, ApiContext, context_of
from xlr_runtime.http.params import (
    bool_param,
    choice_list_param,
    choice_param,
    int_param,
    json_object,
    object_field,
    string_field,
    whole_number,
)
from xlr_runtime.store import ScriptRun, Task, TaskLogLine, TaskStatus, TaskSummary
from xlr_runtime.store.base import MAX_ROW_ID

#: Tasks on a page without ``limit``, and the most a page may hold.
DEFAULT_PAGE, MAX_PAGE = 50, 500
#: Log lines in one answer without ``limit``, and the most one may hold.
DEFAULT_LOG_LINES, MAX_LOG_LINES = 1000, 10000
#: Seconds between two reads of the store while following a log.
FOLLOW_INTERVAL = 1.0
#: Seconds of silence after which a followed log sends a comment, so proxies and clients keep the stream open.
KEEPALIVE = 15.0
#: The longest ``text`` filter.
MAX_TEXT = 200

_STATUSES = tuple(str(s) for s in TaskStatus)
_CREATE_FIELDS = frozenset({"type", "title", "inputs", "cis"})


def _cursor(request: Request, name: str) -> int | None:
    """A cursor parameter: the id a page continues below (``next`` of the previous page)."""
    text = request.query_params.get(name)
    if not text:
        return None
    number = whole_number(text)
    if number is None or not 0 < number <= MAX_ROW_ID:
        raise ApiRequestError(400, f"{name} must be the 'next' value of a previous page, got {text!r}", field=name)
    return number


def task_page(request: Request) -> tuple[list[TaskSummary], int | None]:
    """The page of tasks the query asks for (``status``, ``type``, ``text``, ``limit``, ``cursor``), newest first,
    and the cursor of the next page (``None`` on the last); the task list page shows the same."""
    context = context_of(request)
    statuses = [TaskStatus(s) for s in choice_list_param(request, "status", _STATUSES)]
    text = request.query_params.get("text") or None
    if text is not None and len(text) > MAX_TEXT:
        raise ApiRequestError(400, f"text must be at most {MAX_TEXT} characters", field="text")
    limit = int_param(request, "limit", DEFAULT_PAGE, minimum=1, maximum=MAX_PAGE)
    rows = context.store.tasks.summaries(
        statuses=statuses,
        type_name=request.query_params.get("type") or None,
        text=text,
        before=_cursor(request, "cursor"),
        limit=limit + 1,
    )
    page = rows[:limit]
    return page, page[-1].id if len(rows) > limit else None


def list_tasks(request: Request) -> Response:
    """Tasks, newest first: ``{"tasks": [...], "next": cursor or null}``."""
    page, following = task_page(request)
    return JSONResponse({"tasks": [t.to_json() for t in page], "next": following})


async def create_task(request: Request) -> Response:
    """Create a task from ``{"type", "inputs", "cis", "title"}``; 201 with the task and its ``Location``."""
    context = context_of(request)
    data = await json_object(request)
    unknown = sorted(set(data) - _CREATE_FIELDS)
    if unknown:
        raise ApiRequestError(
            400, f"unknown field {unknown[0]!r}; a task takes {', '.join(sorted(_CREATE_FIELDS))}", field=unknown[0]
        )
    type_name = string_field(data, "type", required=True)
    title = string_field(data, "title")
    inputs = dict(object_field(data, "inputs"))
    for name, value in object_field(data, "cis").items():
        if not isinstance(value, str):
            raise ApiRequestError(400, f"cis.{name} must be the name of a [ci.NAME] of xlr.toml", field=f"cis.{name}")
        if name in inputs:
            raise ApiRequestError(400, f"{name} is given in both inputs and cis", field=f"cis.{name}")
        inputs[name] = value

    task = await anyio.to_thread.run_sync(lambda: create(context, str(type_name), inputs, title))
    return JSONResponse(shown_task(context, task), status_code=201, headers={"Location": f"{PREFIX}/tasks/{task.id}"})


def create(context: ApiContext, type_name: str, inputs: dict[str, Any], title: str | None) -> Task:
    """Create a task (as ``xlr run --detach``) and wake the scheduler; the dashboard's form creates them too."""
    task = context.engine.create_task(type_name, inputs, title=title)
    context.wake()
    return task


def operate(context: ApiContext, name: str, task_id: str) -> Task:
    """``abort``, ``retry`` or ``skip`` the task (as ``xlr task NAME``) and wake the scheduler."""
    task: Task = getattr(context.engine, name)(task_id)
    context.wake()
    return task


def show_task(request: Request) -> Response:
    """One task: its fields, properties (passwords masked), script runs and status-line history."""
    context = context_of(request)
    task_id = request.path_params["task_id"]
    with context.store.snapshot():
        task = context.store.tasks.get(task_id)
        runs = context.store.tasks.runs(task_id)
    shown = shown_task(context, task)
    shown["runs"] = [run.to_json() for run in runs]
    shown["status_lines"] = _status_lines(runs)
    return JSONResponse(shown)


def shown_task(context: ApiContext, task: Task) -> dict[str, Any]:
    """A task as the API shows it: its fields, its properties (passwords masked) and whether its type is loaded."""
    task_type = context.registry.get(task.type) if task.type in context.registry else None
    return {
        **task.to_json(),
        "properties": masked_properties(task_type, task.properties),
        "type_loaded": task_type is not None,
    }


def _status_lines(runs: list[ScriptRun]) -> list[dict[str, Any]]:
    """Each status line a script run set, oldest first, with the run and when it ended."""
    return [
        {"run_id": run.id, "attempt": run.attempt, "time": run.ended_at, "status_line": run.status_line}
        for run in runs
        if run.status_line is not None
    ]


def _operation(name: str) -> Any:
    def handler(request: Request) -> Response:
        context = context_of(request)
        task = operate(context, name, request.path_params["task_id"])
        return JSONResponse({k: v for k, v in shown_task(context, task).items() if k != "properties"})

    handler.__name__ = f"{name}_task"
    handler.__doc__ = f"{name.capitalize()} a task (as 'xlr task {name}')."
    return handler


def delete_task(request: Request) -> Response:
    """Delete an ended task with its script runs and log; 409 for a task that has not ended."""
    context = context_of(request)
    task = context.store.tasks.get(request.path_params["task_id"])
    removed = context.store.history.delete_tasks([int(task.id)])
    if removed.tasks == 0:
        if not task.status.is_final:
            raise StateError(
                f"task {task.id} is {task.status}: only an ended task can be deleted", hint="Abort or skip it first."
            )
        raise StateError(f"task {task.id} is a step of a Rundeck execution that has not ended")
    return JSONResponse({"id": int(task.id), "removed": removed.to_json()})


def task_log(request: Request) -> Response:
    """The task's log lines after ``after``: text (default) or JSON (``format=json`` or ``Accept:
    application/json``); ``follow=true`` streams them live as server-sent events until the task ends."""
    context = context_of(request)
    task_id = request.path_params["task_id"]
    context.store.tasks.get(task_id)  # 404 for an unknown task, before any stream starts
    after = int_param(request, "after", 0, minimum=0, maximum=MAX_ROW_ID)
    if bool_param(request, "follow"):
        resume = whole_number(request.headers.get("last-event-id", ""))
        start = resume if resume is not None and resume <= MAX_ROW_ID else after
        return StreamingResponse(
            _follow(context, task_id, start),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    limit = int_param(request, "limit", DEFAULT_LOG_LINES, minimum=1, maximum=MAX_LOG_LINES)
    lines = context.store.tasks.log(task_id, after=after, limit=limit)
    following = lines[-1].id if len(lines) == limit else None
    accept_json = "application/json" in request.headers.get("accept", "")
    if choice_param(request, "format", ("text", "json"), "json" if accept_json else "text") == "json":
        return JSONResponse({"lines": [line.to_json() for line in lines], "next": following})
    headers = {"X-Next-After": str(following)} if following is not None else None
    return PlainTextResponse("".join(line.to_text() + "\n" for line in lines), headers=headers)


def _event(name: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data)}\n\n"


async def _follow(context: ApiContext, task_id: str, after: int) -> AsyncIterator[str]:
    """Server-sent events: ``line`` (id = the line's id, for ``Last-Event-ID``), ``status`` when the status or
    status line changes, and ``end`` once the task has ended and every line was sent."""

    def read(after: int) -> tuple[Task, list[TaskLogLine]]:
        task = context.store.tasks.get(task_id)  # read before the lines: none written before its end is missed
        return task, context.store.tasks.log(task_id, after=after, limit=DEFAULT_LOG_LINES)

    shown: tuple[str, str | None] | None = None
    quiet = 0.0
    while not context.stopping.is_set():
        task, lines = await anyio.to_thread.run_sync(read, after)
        for line in lines:
            after = line.id
            yield _event("line", line.to_json(), line.id)
        state = (str(task.status), task.current_status_line)
        changed = bool(lines) or state != shown
        if state != shown:
            shown = state
            yield _event("status", {"status": state[0], "status_line": state[1]})
        if task.status.is_final and len(lines) < DEFAULT_LOG_LINES:
            yield _event("end", {"status": str(task.status)})
            return
        quiet = 0.0 if changed else quiet
        if quiet >= KEEPALIVE:
            quiet = 0.0
            yield ": keep-alive\n\n"
        await anyio.sleep(FOLLOW_INTERVAL)
        quiet += FOLLOW_INTERVAL


ROUTES = [
    Route(f"{PREFIX}/tasks", list_tasks, methods=["GET"]),
    Route(f"{PREFIX}/tasks", create_task, methods=["POST"]),
    Route(f"{PREFIX}/tasks/{{task_id}}", show_task, methods=["GET"]),
    Route(f"{PREFIX}/tasks/{{task_id}}", delete_task, methods=["DELETE"]),
    Route(f"{PREFIX}/tasks/{{task_id}}/log", task_log, methods=["GET"]),
    *(
        Route(f"{PREFIX}/tasks/{{task_id}}/{name}", _operation(name), methods=["POST"])
        for name in ("abort", "retry", "skip")
    ),
]
