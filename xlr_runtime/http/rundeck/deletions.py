"""Deleting executions through Rundeck's API: one (``DELETE /execution/{id}``), several
(``POST /executions/delete``) or all of a job's (``DELETE /job/{id}/executions``).

An execution is deleted with its log, its job-reference children and its notifications, as ``xlr prune`` deletes
it, and only once nothing needs it: a running execution, a job reference's child (it goes with its parent) and
one a pending notification or a queued retry still needs are refused, each with the reason.
"""

from __future__ import annotations

import json
from typing import Any

import anyio.to_thread
from lxml import etree
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from xlr_runtime.errors import ApiRequestError, NotFoundError, StateError
from xlr_runtime.http.context import context_of
from xlr_runtime.http.params import MAX_BODY_BYTES, whole_number
from xlr_runtime.http.rundeck.common import endpoint
from xlr_runtime.http.rundeck.executions import execution_of
from xlr_runtime.http.rundeck.jobs import job_of
from xlr_runtime.http.rundeck.xmlforms import answer, element
from xlr_runtime.store import Store
from xlr_runtime.store.executions import ExecutionQuery


def delete_one(store: Store, execution_id: int) -> str | None:
    """Delete the top-level execution ``execution_id`` if nothing needs it; ``None`` when it was deleted, else the
    reason it was not (Rundeck's ``Not found: ID`` when there is no such execution)."""
    try:
        execution = store.executions.get(execution_id)
    except NotFoundError:
        return f"Not found: {execution_id}"
    if execution.parent_id is not None:
        return f"Execution {execution_id} runs a job reference of execution {execution.parent_id} and goes with it"
    if not execution.status.is_final:
        return f"Execution {execution_id} is running: abort it first"
    if store.history.delete_executions([execution_id]).executions == 0:
        return f"Execution {execution_id} is still needed (a notification to send or a retry to run)"
    return None


def delete_execution(request: Request) -> Response:
    """Delete one execution: 204; 409 with the reason when it cannot be deleted yet."""
    execution = execution_of(request)
    reason = delete_one(context_of(request).store, execution.id)
    if reason is not None:
        raise StateError(reason)
    return Response(status_code=204)


def _ids_in_body(body: bytes, media: str) -> list[str]:
    """The execution ids of a bulk delete's body: JSON ``{"ids": [...]}`` or ``[...]``, or XML
    ``<executions><execution id="…"/></executions>``."""
    if "xml" in media:
        try:
            root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            raise ApiRequestError(400, f"the body is not XML: {exc}", field="body") from None
        return [str(item.get("id", "")) for item in root.iter("execution")]
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiRequestError(400, f"the body is not JSON: {exc}", field="body") from None
    ids = data.get("ids") if isinstance(data, dict) else data
    if not isinstance(ids, list) or not all(isinstance(item, int | str) for item in ids):
        raise ApiRequestError(400, "ids must be a list of execution ids", field="ids")
    return [str(item) for item in ids]


async def _requested_ids(request: Request) -> list[str]:
    """The ids of a bulk delete: the ``ids`` parameter (comma-separated, repeatable), else the body."""
    given = [part.strip() for item in request.query_params.getlist("ids") for part in item.split(",") if part.strip()]
    if given:
        return given
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiRequestError(413, f"the body is larger than {MAX_BODY_BYTES} bytes", field="body")
    if not body.strip():
        raise ApiRequestError(400, 'parameter "ids" is required', field="ids")
    return _ids_in_body(body, request.headers.get("content-type", "").lower())


def _deleted(request: Request, ids: list[str]) -> Response:
    """Delete each of ``ids``; Rundeck's bulk answer (``failures``, ``failedCount``, ``successCount``,
    ``allsuccessful``, ``requestCount``, or ``<deleteExecutions>``)."""
    store = context_of(request).store
    failures = []
    for text in ids:
        number = whole_number(text)
        reason = f"Not found: {text}" if number is None else delete_one(store, number)
        if reason is not None:
            failures.append({"id": text, "message": reason})
    result: dict[str, Any] = {
        "failures": failures,
        "failedCount": len(failures),
        "successCount": len(ids) - len(failures),
        "allsuccessful": not failures,
        "requestCount": len(ids),
    }

    def as_xml() -> etree._Element:
        failed = element("failed", {"count": len(failures)}, *(element("execution", f) for f in failures))
        successful = element("successful", {"count": result["successCount"]})
        return element(
            "deleteExecutions", {"requestCount": len(ids), "allsuccessful": not failures}, successful, failed
        )

    return answer(request, result, as_xml, by_format=False)


async def bulk_delete(request: Request) -> Response:
    """Delete the executions ``ids`` names (or the body lists)."""
    ids = await _requested_ids(request)
    return await anyio.to_thread.run_sync(_deleted, request, ids)


def delete_job_executions(request: Request) -> Response:
    """Delete every execution of a job (as the bulk delete answers)."""
    job = job_of(request)
    rows = context_of(request).store.executions.summaries(
        query=ExecutionQuery(project=job.project, job_ids=(str(job.uuid),))
    )
    return _deleted(request, [str(row.id) for row in rows])


ROUTES = [
    Route("/api/{version}/execution/{id}", endpoint(delete_execution), methods=["DELETE"]),
    Route("/api/{version}/executions/delete", endpoint(bulk_delete), methods=["POST"]),
    Route("/api/{version}/job/{id}/executions", endpoint(delete_job_executions), methods=["DELETE"]),
]
