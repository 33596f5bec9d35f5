"""The dashboard's Rundeck pages, at Rundeck's own page paths (the ``permalink`` of the Rundeck API's answers):
jobs by project, a job with the run form built from its options, an execution with its output by node and step
(live), the schedules with their next fire times, and the nodes of each project.

Runs and aborts go through the same functions as Rundeck's API (:mod:`xlr_runtime.http.rundeck.executions`), so
option values are checked as ``xlr jobs run`` checks them. A secure option is a password field that is never
filled in, and its value never comes back in a page: executions store it sealed and show ``*****``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from xlr_runtime.errors import NotFoundError, OptionValueError
from xlr_runtime.http.context import context_of
from xlr_runtime.http.params import whole_number
from xlr_runtime.http.rundeck.executions import abort_run, start_run
from xlr_runtime.http.rundeck.output import MAX_OUTPUT_LINES
from xlr_runtime.http.web.guard import Form, reader, writer
from xlr_runtime.http.web.render import page
from xlr_runtime.http.web.session import Session
from xlr_runtime.rundeck.jobs.jobstore import JobStore
from xlr_runtime.rundeck.jobs.model import Job, Option
from xlr_runtime.rundeck.nodes.nodefilter import order_nodes
from xlr_runtime.rundeck.nodes.properties import ProjectProperties
from xlr_runtime.rundeck.nodes.resources import project_nodes
from xlr_runtime.rundeck.nodes.ssh.providers import node_summary
from xlr_runtime.rundeck.run.options import fetch_remote_values
from xlr_runtime.rundeck.schedules.quartz import local_time_text
from xlr_runtime.rundeck.schedules.schedules import fire_times, list_schedules, schedule_zone, server_zone
from xlr_runtime.store.executions import Execution, ExecutionLogLine

#: Executions listed per project or job, and fire times per schedule.
RECENT, FIRE_TIMES = 10, 3


@reader
def jobs_page(request: Request) -> Response:
    """``/jobs``: each project's jobs by group, and its latest executions."""
    store = context_of(request).store
    jobs, projects = JobStore(store), []
    with store.snapshot():
        for project in store.jobs.projects():
            executions = store.executions.summaries(project=project.name, limit=RECENT, offset=0)
            projects.append({"name": project.name, "jobs": jobs.list(project.name), "executions": executions})
    return page(request, "jobs.html", {"projects": projects})


@dataclass(frozen=True)
class OptionField:
    """One option of a run form: the option, its control (``password``, ``select``, ``checkboxes``, ``text``),
    its choices (its ``values`` and what its ``valuesUrl`` serves), the value shown (never a secure option's), and
    why the ``valuesUrl`` could not be read, if it could not."""

    option: Option
    control: str
    choices: tuple[str, ...]
    value: str
    problem: str = ""

    @property
    def values(self) -> list[str]:
        """The items of the shown value (a multivalued option's, split at its delimiter)."""
        return self.value.split(self.option.delimiter or ",") if self.option.multivalued else [self.value]


def option_field(option: Option, given: str | None = None) -> OptionField:
    """The form control of ``option``, showing ``given`` (else its default; nothing for a secure option). A
    ``valuesUrl`` is read now, as Rundeck's run form does; when it cannot be, the field is a text field that says
    why (the run checks the value against the URL again)."""
    value = "" if option.secure else (given if given is not None else option.value or "")
    if option.secure:
        return OptionField(option, "password", (), "")
    choices, problem = tuple(option.values or ()), ""
    if option.values_url:
        try:
            choices += tuple(c for c in fetch_remote_values(option.values_url) if c not in choices)
        except OptionValueError as exc:
            problem = str(exc)
    if option.enforced and choices and not problem:
        return OptionField(option, "checkboxes" if option.multivalued else "select", choices, value)
    return OptionField(option, "text", choices, value, problem)


def _job(request: Request) -> Job:
    project, job_id = request.path_params["project"], request.path_params["id"]
    job = JobStore(context_of(request).store).get(job_id)
    if job.project != project:
        raise NotFoundError(f"project {project} has no job {job_id}")
    return job


def _job_page(request: Request, job: Job, *, given: dict[str, str], errors: dict[str, str],
              status: int = 200) -> Response:  # fmt: skip
    store = context_of(request).store
    executions = store.executions.summaries(project=job.project, job_id=job.uuid, limit=RECENT, offset=0)
    fields = [option_field(o, given.get(o.name)) for o in job.options if not o.hidden]
    return page(request, "job.html", {"job": job, "fields": fields, "errors": errors, "executions": executions},
                status=status)  # fmt: skip


@reader
def job_view(request: Request) -> Response:
    """``/project/{project}/job/show/{id}``: the job, its run form and its latest executions."""
    return _job_page(request, _job(request), given={}, errors={})


def run_form(request: Request, session: Session, form: Form) -> Response:
    """``POST /project/{project}/job/show/{id}``: run the job with the form's option values as the session's
    user and go to the execution; a bad value re-renders the form (400) with the message next to its option."""
    job = _job(request)
    supplied: dict[str, str | list[str]] = {}
    for option in job.options:
        items = form.getlist(option.name)
        if items:
            supplied[option.name] = items if option.multivalued and len(items) > 1 else items[-1]
    try:
        execution = start_run(context_of(request), job, supplied, session.name)
    except OptionValueError as exc:
        shown = {o.name: _joined(o, supplied.get(o.name)) for o in job.options if not o.secure}
        return _job_page(request, job, given=shown, errors={exc.option or "": exc.message}, status=400)
    return RedirectResponse(f"/project/{job.project}/execution/show/{execution.id}", status_code=303)


def _joined(option: Option, value: str | list[str] | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return (option.delimiter or ",").join(value)


def _execution(request: Request) -> Execution:
    project, text = request.path_params["project"], request.path_params["id"]
    missing = NotFoundError(f"project {project} has no execution {text}")
    number = whole_number(text)
    if number is None:
        raise missing
    execution = context_of(request).store.executions.get(number)
    if execution.project != project:
        raise missing
    return execution


def _by_node(lines: list[ExecutionLogLine]) -> dict[str, list[ExecutionLogLine]]:
    """The output's lines by node, nodes in the order they first wrote."""
    groups: dict[str, list[ExecutionLogLine]] = {}
    for line in lines:
        groups.setdefault(line.node or "", []).append(line)
    return groups


@reader
def execution_view(request: Request) -> Response:
    """``/project/{project}/execution/show/{id}``: the execution and its output by node and step."""
    store = context_of(request).store
    with store.snapshot():
        execution = _execution(request)
        lines = store.executions.log(execution.id, after=0, limit=MAX_OUTPUT_LINES)
    last = lines[-1].id if lines else 0
    return page(request, "execution.html", {"execution": execution, "nodes": _by_node(lines), "last": last})


def abort_form(request: Request, _session: Session, _form: Form) -> Response:
    """``POST /project/{project}/execution/abort/{id}``: ask for the abort and go back to the execution."""
    execution = _execution(request)
    abort_run(context_of(request), execution.id)
    return RedirectResponse(f"/project/{execution.project}/execution/show/{execution.id}", status_code=303)


@reader
def schedules_page(request: Request) -> Response:
    """``/schedules``: every project's scheduled jobs and their next fire times."""
    store = context_of(request).store
    rows = []
    for project in store.jobs.projects():
        for entry in list_schedules(store, project.name, now=time.time(), default_zone=server_zone()):
            times = [local_time_text(t, schedule_zone(entry)) for t in fire_times(entry, FIRE_TIMES)]
            rows.append({"project": project.name, "entry": entry, "times": times})
    return page(request, "schedules.html", {"rows": rows})


@reader
def nodes_page(request: Request) -> Response:
    """``/nodes``: each project's nodes (the server node and its resource-model files)."""
    context = context_of(request)
    projects = []
    for project in context.store.jobs.projects():
        properties = ProjectProperties.load(context.home.root, project.name)
        nodes = order_nodes(list(project_nodes(context.home.root, project.name).values()))
        projects.append({"name": project.name, "nodes": [node_summary(n, properties) for n in nodes]})
    return page(request, "nodes.html", {"projects": projects})


ROUTES = [
    Route("/jobs", jobs_page, methods=["GET"]),
    Route("/project/{project}/job/show/{id}", job_view, methods=["GET"]),
    Route("/project/{project}/job/show/{id}", writer(run_form), methods=["POST"]),
    Route("/project/{project}/execution/show/{id}", execution_view, methods=["GET"]),
    Route("/project/{project}/execution/abort/{id}", writer(abort_form), methods=["POST"]),
    Route("/schedules", schedules_page, methods=["GET"]),
    Route("/nodes", nodes_page, methods=["GET"]),
]
