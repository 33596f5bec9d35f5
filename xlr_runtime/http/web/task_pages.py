"""The dashboard's task pages: the task list (live status lines), a task (properties, script runs with their
durations, the log live, abort/retry/skip), the types, and a type with the form that creates a task of it.

Every read and write goes through the JSON API's own functions (:mod:`xlr_runtime.http.tasks`,
:mod:`xlr_runtime.typesystem.describe`), so the pages show what the API answers, passwords masked the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from xlr_runtime.cis import CiCatalog
from xlr_runtime.errors import NotFoundError, TaskInputError
from xlr_runtime.http.context import context_of
from xlr_runtime.http.tasks import MAX_LOG_LINES, create, operate, shown_task, task_page
from xlr_runtime.http.web.guard import Form, reader, writer
from xlr_runtime.http.web.render import page
from xlr_runtime.http.web.session import Session
from xlr_runtime.store import TaskStatus
from xlr_runtime.typesystem.describe import script_files, type_detail, type_row
from xlr_runtime.typesystem.kinds import PropertyKind
from xlr_runtime.typesystem.model import PropertyDef, TaskType

#: The operations a task page offers, and the statuses each applies to (as the engine allows them).
OPERATIONS = {
    "abort": (TaskStatus.PLANNED, TaskStatus.IN_PROGRESS),
    "retry": (TaskStatus.FAILED, TaskStatus.ABORTED),
    "skip": (TaskStatus.PLANNED, TaskStatus.IN_PROGRESS, TaskStatus.FAILED, TaskStatus.ABORTED),
}


@reader
def tasks_page(request: Request) -> Response:
    """``/tasks``: newest first, filtered by ``status`` and ``text``, a page at a time."""
    tasks, following = task_page(request)
    chosen = request.query_params.get("status", "")
    return page(request, "tasks.html", {"tasks": tasks, "next": following, "statuses": [str(s) for s in TaskStatus],
                                        "chosen": chosen, "text": request.query_params.get("text", "")})  # fmt: skip


@reader
def task_view(request: Request) -> Response:
    """``/tasks/{task_id}``: the task, its runs and its log."""
    context = context_of(request)
    task_id = request.path_params["task_id"]
    with context.store.snapshot():
        task = context.store.tasks.get(task_id)
        runs = context.store.tasks.runs(task_id)
        lines = context.store.tasks.log(task_id, after=0, limit=MAX_LOG_LINES)
    allowed = [name for name, statuses in OPERATIONS.items() if task.status in statuses]
    return page(request, "task.html", {"task": task, "shown": shown_task(context, task), "runs": runs,
                                       "lines": lines, "operations": allowed})  # fmt: skip


def task_operation(name: str) -> Any:
    """The form ``POST /tasks/{task_id}/NAME`` (abort, retry, skip): back to the task page."""

    def operate_form(request: Request, _session: Session, _form: Form) -> Response:
        task = operate(context_of(request), name, request.path_params["task_id"])
        return RedirectResponse(f"/tasks/{task.id}", status_code=303)

    operate_form.__name__ = f"{name}_form"
    return writer(operate_form)


@reader
def types_page(request: Request) -> Response:
    """``/types``: every loaded type; the runnable ones link to their form."""
    registry = context_of(request).registry
    rows = [type_row(t) | {"runnable": t.is_python_script and not t.virtual} for t in registry.types()]
    return page(request, "types.html", {"types": rows})


@dataclass(frozen=True)
class Field:
    """One input of a type's form: its property, the control that edits it, and its choices."""

    prop: PropertyDef
    control: str  # text, password, number, checkbox, select, textarea
    choices: tuple[str, ...] = ()


def _control(prop: PropertyDef, ci_names: list[str]) -> Field:
    if prop.password:
        return Field(prop, "password")
    if prop.kind == PropertyKind.INTEGER:
        return Field(prop, "number")
    if prop.kind == PropertyKind.BOOLEAN:
        return Field(prop, "checkbox")
    if prop.kind == PropertyKind.ENUM:
        return Field(prop, "select", prop.enum_values)
    if prop.kind == PropertyKind.CI:
        return Field(prop, "select", tuple(ci_names))
    if prop.kind == PropertyKind.MAP_STRING_STRING or (prop.kind == PropertyKind.STRING and prop.size == "large"):
        return Field(prop, "textarea")
    return Field(prop, "text")


def _ci_names(cis: CiCatalog, referenced_type: str | None) -> list[str]:
    """The CIs a ``kind="ci"`` property may name: those of its referenced type (any CI when it names none)."""
    names = []
    for name in cis.names():
        ci = cis.get(name)
        if ci is not None and (referenced_type is None or ci.type.is_a(referenced_type)):
            names.append(name)
    return names


def _fields(request: Request, task_type: TaskType) -> list[Field]:
    cis = context_of(request).cis
    return [_control(p, _ci_names(cis, p.referenced_type)) for p in task_type.by_category("input") if not p.hidden]


def _type_of(request: Request) -> TaskType:
    registry = context_of(request).registry
    name = request.path_params["type_name"]
    if name not in registry:
        raise NotFoundError(f"unknown type {name!r}", hint="The types page lists the loaded types.")
    return registry.get(name)


def _type_page(request: Request, task_type: TaskType, *, values: dict[str, str], errors: dict[str, str],
               status: int = 200) -> Response:  # fmt: skip
    registry = context_of(request).registry
    detail = type_detail(task_type, script_files(registry, task_type))
    runnable = task_type.is_python_script and not task_type.virtual
    fields = _fields(request, task_type) if runnable else []
    return page(request, "type.html", {"type": detail, "fields": fields, "values": values, "errors": errors},
                status=status)  # fmt: skip


@reader
def type_view(request: Request) -> Response:
    """``/types/{type_name}``: the type's properties, and for a runnable type the form that creates a task."""
    return _type_page(request, _type_of(request), values={}, errors={})


def create_form(request: Request, _session: Session, form: Form) -> Response:
    """``POST /types/{type_name}``: create a task from the form and go to its page; bad input re-renders the
    form (400) with the message next to the field (a password is never sent back)."""
    task_type = _type_of(request)
    inputs = {f.prop.name: form.get(f.prop.name) for f in _fields(request, task_type) if form.get(f.prop.name)}
    try:
        task = create(context_of(request), task_type.name, inputs, form.get("title") or None)
    except TaskInputError as exc:
        kept = {name: value for name, value in inputs.items() if not task_type.properties[name].password}
        kept["title"] = form.get("title")
        errors = {exc.prop or "": exc.message + (f" {exc.hint}" if exc.hint else "")}
        return _type_page(request, task_type, values=kept, errors=errors, status=400)
    return RedirectResponse(f"/tasks/{task.id}", status_code=303)


ROUTES = [
    Route("/tasks", tasks_page, methods=["GET"]),
    Route("/tasks/{task_id}", task_view, methods=["GET"]),
    *(Route(f"/tasks/{{task_id}}/{name}", task_operation(name), methods=["POST"]) for name in OPERATIONS),
    Route("/types", types_page, methods=["GET"]),
    Route("/types/{type_name}", type_view, methods=["GET"]),
    Route("/types/{type_name}", writer(create_form), methods=["POST"]),
]
