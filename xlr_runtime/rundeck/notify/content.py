"""What a notification says: Rundeck's webhook payloads (XML and JSON), webhook URL expansion, ``${…}`` expansion
of plugin configurations, and the event status words (e-mails are :mod:`xlr_runtime.rundeck.notify.mail`).

Everything here is built from the stored execution, whose option values are already masked (secure options
are ``*****``) and whose log lines were masked as they were written: no secret can reach a notification.
Shapes follow ``../shared/corpus/rundeck/NOTES.md`` ("Webhook notification") and a real payload
(rundeck/rundeck#6726): times as ``{"unixtime": ms, "date": "2021-01-19T04:13:46Z"}``, ``averageDuration`` in ms.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from lxml import etree

from xlr_runtime.rundeck.jobs.model import Job, Trigger
from xlr_runtime.store.executions import Execution, ExecutionStatus

#: Rundeck's trigger names in payloads, headers and ``${notification.trigger}``.
TRIGGER_NAMES = {
    Trigger.ON_START: "start",
    Trigger.ON_SUCCESS: "success",
    Trigger.ON_FAILURE: "failure",
    Trigger.ON_AVG_DURATION: "avgduration",
    Trigger.ON_RETRYABLE_FAILURE: "retryablefailure",
}
#: ``${notification.eventStatus}`` by the status a notification reports (Rundeck's ``statMsg``).
EVENT_STATUS = {
    "aborted": "KILLED",
    "failed": "FAILURE",
    "running": "STARTING",
    "succeeded": "SUCCESS",
    "timedout": "TIMEDOUT",
    "failed-with-retry": "FAILED WITH RETRY",
}
_TOKEN = re.compile(r"\$\{([^\s.}]+)\.([^\s}]+)\}")
_WEBHOOK_TOKENS = {"job": {"id", "name", "group", "project"}, "execution": {"id", "status", "user"},
                   "notification": {"trigger"}}  # fmt: skip


def status_for(trigger: Trigger, execution: Execution) -> str:
    """The status a notification reports: ``running`` for start and avgduration, else the final status."""
    if trigger in (Trigger.ON_START, Trigger.ON_AVG_DURATION):
        return str(ExecutionStatus.RUNNING)
    return str(execution.status)


def event_status(trigger: Trigger, execution: Execution) -> str:
    """``${notification.eventStatus}``: ``AVERAGE DURATION EXCEEDED`` for avgduration, else by status
    (``SUCCESS``, ``FAILURE``, ``KILLED``, ``TIMEDOUT``, ``FAILED WITH RETRY``, ``STARTING``); a custom status
    stands for itself, as in Rundeck before its table covered every status."""
    if trigger is Trigger.ON_AVG_DURATION:
        return "AVERAGE DURATION EXCEEDED"
    status = status_for(trigger, execution)
    if status == str(ExecutionStatus.OTHER):
        return execution.custom_status or status
    return EVENT_STATUS.get(status, status.upper())


def _date(epoch: float | None) -> dict[str, Any] | None:
    if epoch is None:
        return None
    when = datetime.fromtimestamp(epoch, UTC)
    return {"unixtime": int(epoch * 1000), "date": when.strftime("%Y-%m-%dT%H:%M:%SZ")}


def execution_data(
    trigger: Trigger, execution: Execution, job: Job, *, average: float | None, link_url: str = ""
) -> dict[str, Any]:
    """The ``execution`` object of a JSON payload (also what notification plugins receive). ``href`` (Rundeck's
    API link) is null, as this runtime serves no API; ``permalink`` is ``LINK_URL/project/P/execution/show/ID``
    (``…/job/show/UUID`` for the job) with a ``link_url`` (Rundeck's ``grails.serverURL``), else null."""
    job_id = execution.job_id or ""
    base = f"{link_url.rstrip('/')}/project/{execution.project}" if link_url else None
    status = status_for(trigger, execution)
    final = status != str(ExecutionStatus.RUNNING)
    data: dict[str, Any] = {
        "id": execution.id,
        "href": None,
        "permalink": None if base is None else f"{base}/execution/show/{execution.id}",
        "status": status,
        "project": execution.project,
        "executionType": execution.execution_type,
        "user": execution.user,
        "date-started": _date(execution.started_at),
        "job": {
            "id": job_id,
            "averageDuration": None if average is None else int(average * 1000),
            "name": job.name,
            "group": job.group or "",
            "project": execution.project,
            "description": job.description,
            "options": dict(execution.options),
            "href": None,
            "permalink": None if base is None or not job_id else f"{base}/job/show/{job_id}",
        },
        "description": job.description,
        "argstring": execution.arg_string,
        "serverUUID": None,
        "successfulNodes": list(execution.succeeded_nodes) if final else [],
        "failedNodes": list(execution.failed_nodes) if final else [],
        "retryAttempt": execution.attempt,
    }
    if final:
        data["date-ended"] = _date(execution.ended_at)
        if execution.custom_status:
            data["customStatus"] = execution.custom_status
    return data


def json_payload(trigger: Trigger, data: dict[str, Any]) -> bytes:
    """The JSON webhook body: ``{trigger, status, executionId, execution}``."""
    body = {"trigger": TRIGGER_NAMES[trigger], "status": data["status"], "executionId": data["id"], "execution": data}
    return json.dumps(body).encode()


def xml_payload(trigger: Trigger, data: dict[str, Any]) -> bytes:
    """The XML webhook body: ``<notification trigger status executionId><executions count='1'><execution …>``."""
    root = etree.Element(
        "notification", trigger=TRIGGER_NAMES[trigger], status=data["status"], executionId=str(data["id"])
    )
    executions = etree.SubElement(root, "executions", count="1")
    attributes = {"id": str(data["id"]), "href": data["href"] or "", "status": data["status"],
                  "project": data["project"]}  # fmt: skip
    element = etree.SubElement(executions, "execution", attributes)
    etree.SubElement(element, "user").text = data["user"]
    for name in ("date-started", "date-ended"):
        when = data.get(name)
        if when is not None:
            etree.SubElement(element, name, unixtime=str(when["unixtime"])).text = when["date"]
    if data.get("customStatus"):
        etree.SubElement(element, "customStatus").text = data["customStatus"]
    _job_element(element, data["job"])
    etree.SubElement(element, "description").text = data["description"]
    etree.SubElement(element, "argstring").text = data["argstring"]
    etree.SubElement(element, "serverUUID")
    for name, nodes in (("successfulNodes", data["successfulNodes"]), ("failedNodes", data["failedNodes"])):
        if nodes:
            parent = etree.SubElement(element, name)
            for node in nodes:
                etree.SubElement(parent, "node", name=node)
    if data["retryAttempt"]:
        etree.SubElement(element, "retry", attempt=str(data["retryAttempt"]))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _job_element(parent: etree._Element, job: dict[str, Any]) -> None:
    attributes = {"id": job["id"], "href": job["href"] or ""}
    if job["averageDuration"] is not None:
        attributes["averageDuration"] = str(job["averageDuration"])
    element = etree.SubElement(parent, "job", attributes)
    for name in ("name", "group", "project", "description"):
        etree.SubElement(element, name).text = job[name]
    if job["options"]:
        options = etree.SubElement(element, "options")
        for name, value in job["options"].items():
            etree.SubElement(options, "option", name=name, value=value)


def _tokens(trigger: Trigger, execution: Execution, job: Job, status: str) -> dict[str, dict[str, str]]:
    return {
        "job": {"id": execution.job_id or "", "name": job.name, "group": job.group or "",
                "project": execution.project, "fullname": job.full_name, "description": job.description},
        "execution": {"id": str(execution.id), "status": status, "user": execution.user,
                      "argstring": execution.arg_string, "executionType": execution.execution_type},
        "notification": {"trigger": TRIGGER_NAMES[trigger], "eventStatus": event_status(trigger, execution)},
        "option": dict(execution.options),
    }  # fmt: skip


def expand_webhook_url(url: str, trigger: Trigger, execution: Execution, job: Job) -> str:
    """Expand ``${job.id|name|group|project}``, ``${execution.id|status|user}`` and ``${notification.trigger}``
    (URL-encoded), as Rundeck's ``expandWebhookNotificationUrl``; other tokens are left as written."""
    tokens = _tokens(trigger, execution, job, status_for(trigger, execution))

    def replace(match: re.Match[str]) -> str:
        ctx, key = match.group(1), match.group(2)
        if key not in _WEBHOOK_TOKENS.get(ctx, set()):
            return match.group(0)
        return quote(tokens[ctx][key], safe="")

    return _TOKEN.sub(replace, url)


def expand_text(text: str, trigger: Trigger, execution: Execution, job: Job) -> str:
    """Expand ``${job.*}``, ``${execution.*}``, ``${notification.*}`` and ``${option.*}`` (masked values) in an
    e-mail subject or a plugin's configuration; unknown tokens are left as written."""
    tokens = _tokens(trigger, execution, job, status_for(trigger, execution))

    def replace(match: re.Match[str]) -> str:
        value = tokens.get(match.group(1), {}).get(match.group(2))
        return match.group(0) if value is None else value

    return _TOKEN.sub(replace, text)
