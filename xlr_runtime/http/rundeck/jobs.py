"""Rundeck's job routes: list a project's jobs, a job's definition, export, import and delete.

Definitions go through the canonical exporters of :mod:`xlr_runtime.rundeck.jobs` and the store's all-or-nothing
import, as ``xlr jobs load|list|delete``. What the API gives out never holds a secure option's value: a secure
option's plain default (``value``) is left out of every definition it returns.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import anyio.to_thread
from lxml import etree
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from xlr_runtime.errors import ApiRequestError, NotFoundError
from xlr_runtime.http.context import context_of
from xlr_runtime.http.params import MAX_BODY_BYTES, choice_param
from xlr_runtime.http.rundeck.common import api_url, endpoint, iso_time, page_url
from xlr_runtime.http.rundeck.system import find_project
from xlr_runtime.http.rundeck.xmlforms import answer, element, leaves
from xlr_runtime.rundeck.jobs.jobstore import DupeOption, ImportAction, ImportResult, JobStore, UuidOption
from xlr_runtime.rundeck.jobs.model import Job
from xlr_runtime.rundeck.jobs.xml_codec import dump_jobs_xml, load_jobs_xml
from xlr_runtime.rundeck.jobs.yaml_codec import dump_jobs_yaml, load_jobs_yaml
from xlr_runtime.rundeck.jobs.yaml_write import job_to_map
from xlr_runtime.rundeck.schedules.schedules import plan, server_zone

FORMATS = ("xml", "yaml", "json")
_MEDIA = {"xml": "application/xml", "yaml": "application/yaml", "json": "application/json"}
#: Where import errors say the definitions came from.
BODY = "request body"


def without_secure_values(job: Job) -> Job:
    """``job`` with the plain default value of each secure option left out (what the API gives out)."""
    options = tuple(dataclasses.replace(o, value=None) if o.secure else o for o in job.options)
    return dataclasses.replace(job, options=options)


def job_summary(request: Request, job: Job, zone: ZoneInfo | None = None) -> dict[str, Any]:
    """A job as Rundeck lists it; ``nextScheduledExecution`` when its schedule fires (in ``zone`` when the job has
    no ``timeZone``: the server's by default)."""
    now = context_of(request).clock.now()
    next_fire = plan(job, now=now, default_zone=zone or server_zone()).next_fire_at if job.schedule else None
    return {
        "id": job.uuid,
        "name": job.name,
        "group": job.group,
        "project": job.project,
        "description": job.description,
        "href": api_url(request, f"job/{job.uuid}"),
        "permalink": page_url(request, f"project/{job.project}/job/show/{job.uuid}"),
        "scheduled": job.schedule is not None,
        "scheduleEnabled": job.schedule_enabled,
        "enabled": job.execution_enabled,
        "nextScheduledExecution": None if next_fire is None else iso_time(next_fire),
    }


def job_xml(shown: dict[str, Any]) -> etree._Element:
    """Rundeck's ``<job>`` element of a job shown by :func:`job_summary`."""
    keys = ("id", "href", "permalink", "scheduled", "scheduleEnabled", "enabled")
    root = element("job", {key: shown[key] for key in keys})
    return leaves(root, {key: shown[key] for key in ("name", "group", "project", "description")} | {
        "nextScheduledExecution": shown["nextScheduledExecution"]})  # fmt: skip


def jobs_answer(request: Request, jobs: list[Job]) -> Response:
    """``jobs`` as Rundeck lists them: a JSON array, or ``<jobs count="N">`` of ``<job>`` elements."""
    zone = server_zone()
    shown = [job_summary(request, job, zone) for job in jobs]
    return answer(request, shown, lambda: element("jobs", {"count": len(shown)}, *map(job_xml, shown)), by_format=False)


def _filtered(request: Request, project: str) -> list[Job]:
    """The jobs of ``project`` that Rundeck's filters keep: ``idlist``, ``groupPath`` (a group and its subgroups;
    ``-`` for jobs without a group), ``groupPathExact``, ``jobFilter`` (name contains), ``jobExactFilter``."""
    query = request.query_params
    group_path = query.get("groupPath") or None
    jobs = JobStore(context_of(request).store).list(project, group=None if group_path in (None, "-") else group_path)
    ids = {i.strip() for item in query.getlist("idlist") for i in item.split(",") if i.strip()}
    name_part = (query.get("jobFilter") or "").lower()
    checks = [
        (ids, lambda job: job.uuid in ids),
        (group_path == "-", lambda job: job.group is None),
        (query.get("groupPathExact"), lambda job: (job.group or "") == query["groupPathExact"].strip("/")),
        (name_part, lambda job: name_part in job.name.lower()),
        (query.get("jobExactFilter"), lambda job: job.name == query["jobExactFilter"]),
    ]
    return [job for job in jobs if all(keep(job) for active, keep in checks if active)]


def list_jobs(request: Request) -> Response:
    """The project's jobs (filtered as Rundeck's ``jobs`` endpoint), by group then name."""
    project = find_project(request, request.path_params["project"]).name
    return jobs_answer(request, _filtered(request, project))


def _definitions(request: Request, jobs: list[Job]) -> Response:
    """``jobs`` in the format of ``format`` (or of the ``Accept`` header; XML by default)."""
    accept = request.headers.get("accept", "")
    implied = next((name for name, media in _MEDIA.items() if media in accept), "xml")
    fmt = choice_param(request, "format", FORMATS, implied)
    shown = [without_secure_values(job) for job in jobs]
    if fmt == "json":
        return JSONResponse([job_to_map(job) for job in shown])
    text = dump_jobs_yaml(shown) if fmt == "yaml" else dump_jobs_xml(shown)
    return Response(text, media_type=_MEDIA[str(fmt)])


def job_definition(request: Request) -> Response:
    """One job's definition (``format=xml|yaml|json``)."""
    return _definitions(request, [job_of(request)])


def job_of(request: Request) -> Job:
    """The job of the path's ``id``; Rundeck's 404 when there is none."""
    job_id = request.path_params["id"]
    try:
        return JobStore(context_of(request).store).get(job_id)
    except NotFoundError:
        raise NotFoundError(f"Job ID does not exist: {job_id}") from None


def export_jobs(request: Request) -> Response:
    """The project's jobs (with the filters of the job list) in Rundeck's canonical XML, YAML or JSON."""
    project = find_project(request, request.path_params["project"]).name
    return _definitions(request, _filtered(request, project))


def job_info(request: Request) -> Response:
    """A job's summary, as Rundeck's ``job/{id}/info``."""
    shown = job_summary(request, job_of(request))
    return answer(request, shown, lambda: job_xml(shown), by_format=False)


def delete_job(request: Request) -> Response:
    """Delete a job: 204 with no body."""
    job = job_of(request)
    JobStore(context_of(request).store).delete(str(job.project), str(job.uuid))
    return Response(status_code=204)


async def _import_text(request: Request) -> tuple[bytes, str]:
    """The definitions of an import request, and their format: the body itself, or its ``xmlBatch`` field when
    it is a form; ``fileformat`` (or the body's media type) says XML or YAML."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiRequestError(413, f"the body is larger than {MAX_BODY_BYTES} bytes", field="body")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        batch = parse_qs(body.decode("utf-8", "replace")).get("xmlBatch")
        if not batch:
            raise ApiRequestError(400, 'parameter "xmlBatch" is required', field="xmlBatch")
        body = batch[0].encode("utf-8")
    implied = "yaml" if "yaml" in media else "xml"
    fmt = choice_param(request, "fileformat", ("xml", "yaml"), implied) or implied
    if not body.strip():
        raise ApiRequestError(400, "no job definitions were given (the body is empty)", field="body")
    return body, fmt


def _imported(request: Request, result: ImportResult, index: int) -> dict[str, Any]:
    job = result.job
    return {"index": index, "id": job.uuid, "name": job.name, "group": job.group, "project": job.project,
            "href": api_url(request, f"job/{job.uuid}"),
            "permalink": page_url(request, f"project/{job.project}/job/show/{job.uuid}")}  # fmt: skip


async def import_jobs(request: Request) -> Response:
    """Import XML or YAML definitions (``dupeOption=skip|create|update``, default create; ``uuidOption=preserve|
    remove``): ``{"succeeded": [...], "failed": [], "skipped": [...]}``. All or nothing: a definition that does not
    read (its line and field in the message) or cannot be stored is a 400 and nothing is stored."""
    context = context_of(request)
    project = request.path_params["project"]
    dupe = choice_param(request, "dupeOption", tuple(o.value for o in DupeOption), DupeOption.CREATE.value)
    uuids = choice_param(request, "uuidOption", tuple(o.value for o in UuidOption), UuidOption.PRESERVE.value)
    data, fmt = await _import_text(request)

    def load() -> list[ImportResult]:
        jobs = load_jobs_yaml(data, path=BODY) if fmt == "yaml" else load_jobs_xml(data, path=BODY)
        return JobStore(context.store).load(
            project, jobs, now=time.time(), dupe_option=str(dupe), uuid_option=str(uuids)
        )

    results = await anyio.to_thread.run_sync(load)
    imported: dict[str, list[dict[str, Any]]] = {"succeeded": [], "failed": [], "skipped": []}
    for index, result in enumerate(results):
        kind = "skipped" if result.action is ImportAction.SKIPPED else "succeeded"
        imported[kind].append(_imported(request, result, index))

    def as_xml() -> etree._Element:
        sections = []
        fields = ("id", "permalink", "name", "group", "project")
        for kind, jobs in imported.items():
            shown = [
                leaves(element("job", {"index": j["index"], "href": j["href"]}), {k: j[k] for k in fields})
                for j in jobs
            ]
            sections.append(element(kind, {"count": len(shown)}, *shown))
        return element("result", {"success": True}, *sections)

    return answer(request, imported, as_xml, by_format=False)


async def requested_job_ids(request: Request) -> list[str]:
    """The job ids of a bulk request (Rundeck's bulk delete and switches): ``ids`` (repeatable) and ``idlist``
    (comma-separated), as parameters or in a JSON body."""
    query = request.query_params
    ids, idlist = list(query.getlist("ids")), query.get("idlist") or ""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiRequestError(413, f"the body is larger than {MAX_BODY_BYTES} bytes", field="body")
    if body.strip() and "json" in request.headers.get("content-type", ""):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiRequestError(400, f"the body is not JSON: {exc}", field="body") from None
        if not isinstance(data, dict):
            raise ApiRequestError(400, 'the body must be an object such as {"ids": [...]}', field="body")
        listed, joined = data.get("ids", []), data.get("idlist", "")
        if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
            raise ApiRequestError(400, "ids must be a list of job ids", field="ids")
        if not isinstance(joined, str):
            raise ApiRequestError(400, "idlist must be job ids separated by commas", field="idlist")
        ids, idlist = ids + listed, ",".join(part for part in (idlist, joined) if part)
    wanted = list(dict.fromkeys(i.strip() for i in [*ids, *idlist.split(",")] if i.strip()))
    if not wanted:
        raise ApiRequestError(400, 'parameter "ids" or "idlist" is required', field="ids")
    return wanted


async def delete_jobs(request: Request) -> Response:
    """Delete several jobs (``ids``, ``idlist``): ``{"requestCount", "allsuccessful", "succeeded": [{"id",
    "message"}], "failed": [{"id", "errorCode", "message"}]}`` (``<deleteJobs>``)."""
    ids = await requested_job_ids(request)
    jobs = JobStore(context_of(request).store)

    def delete() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        succeeded, failed = [], []
        for job_id in ids:
            try:
                job = jobs.get(job_id)
                jobs.delete(str(job.project), job_id)
                succeeded.append({"id": job_id, "message": "Job was successfully deleted"})
            except NotFoundError:
                failed.append({"id": job_id, "errorCode": "notfound", "message": f"Job ID does not exist: {job_id}"})
        return succeeded, failed

    succeeded, failed = await anyio.to_thread.run_sync(delete)
    result = {"requestCount": len(ids), "allsuccessful": not failed, "succeeded": succeeded, "failed": failed}

    def as_xml() -> etree._Element:
        ok = [element("deleteJobRequest", {"id": s["id"]}, element("message", text=s["message"])) for s in succeeded]
        bad = [element("deleteJobRequest", {"id": f["id"], "errorCode": f["errorCode"]},
                       element("error", text=f["message"])) for f in failed]  # fmt: skip
        sections = [element("succeeded", {"count": len(ok)}, *ok), element("failed", {"count": len(bad)}, *bad)]
        return element("deleteJobs", {"requestCount": len(ids), "allsuccessful": not failed}, *sections)

    return answer(request, result, as_xml, by_format=False)


ROUTES = [
    Route("/api/{version}/project/{project}/jobs", endpoint(list_jobs), methods=["GET"]),
    Route("/api/{version}/project/{project}/jobs/export", endpoint(export_jobs), methods=["GET"]),
    Route("/api/{version}/project/{project}/jobs/import", endpoint(import_jobs), methods=["POST"]),
    Route("/api/{version}/job/{id}", endpoint(job_definition), methods=["GET"]),
    Route("/api/{version}/job/{id}", endpoint(delete_job), methods=["DELETE"]),
    Route("/api/{version}/job/{id}/info", endpoint(job_info), methods=["GET"]),
    Route("/api/{version}/jobs/delete", endpoint(delete_jobs), methods=["POST", "DELETE"]),
]
