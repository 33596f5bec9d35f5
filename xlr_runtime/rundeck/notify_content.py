"""What a notification says: Rundeck's webhook payloads (XML and JSON), webhook URL expansion, and e-mail text.

Everything here is built from the stored execution, whose option values are already masked (secure options
are ``*****``) and whose log lines were masked as they were written: no secret can reach a notification.
Shapes follow ``../shared/corpus/rundeck/NOTES.md`` ("Webhook notification") and a real payload
(rundeck/rundeck#6726): times as ``{"unixtime": ms, "date": "2021-01-19T04:13:46Z"}``, ``averageDuration`` in ms.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

from lxml import etree

from xlr_runtime.rundeck.model import EmailNotification, Job, Trigger
from xlr_runtime.store.executions import Execution, ExecutionLogLine, ExecutionStatus

#: Rundeck's trigger names in payloads, headers and ``${notification.trigger}``.
TRIGGER_NAMES = {
    Trigger.ON_START: "start",
    Trigger.ON_SUCCESS: "success",
    Trigger.ON_FAILURE: "failure",
    Trigger.ON_AVG_DURATION: "avgduration",
    Trigger.ON_RETRYABLE_FAILURE: "retryablefailure",
}
#: The event word of a default e-mail subject (``${notification.eventStatus}``).
EVENT_STATUS = {
    Trigger.ON_START: "STARTING",
    Trigger.ON_SUCCESS: "SUCCESS",
    Trigger.ON_FAILURE: "FAILURE",
    Trigger.ON_AVG_DURATION: "AVERAGE DURATION EXCEEDED",
    Trigger.ON_RETRYABLE_FAILURE: "RETRYABLE FAILURE",
}
DEFAULT_SUBJECT = (
    "${notification.eventStatus} [${job.project}] ${job.fullname} run by ${execution.user} (#${execution.id})"
)
_TOKEN = re.compile(r"\$\{([^\s.}]+)\.([^\s}]+)\}")
_WEBHOOK_TOKENS = {"job": {"id", "name", "group", "project"}, "execution": {"id", "status", "user"},
                   "notification": {"trigger"}}  # fmt: skip


def status_for(trigger: Trigger, execution: Execution) -> str:
    """The status a notification reports: ``running`` for start and avgduration, else the final status."""
    if trigger in (Trigger.ON_START, Trigger.ON_AVG_DURATION):
        return str(ExecutionStatus.RUNNING)
    return str(execution.status)


def _date(epoch: float | None) -> dict[str, Any] | None:
    if epoch is None:
        return None
    when = datetime.fromtimestamp(epoch, UTC)
    return {"unixtime": int(epoch * 1000), "date": when.strftime("%Y-%m-%dT%H:%M:%SZ")}


def execution_data(trigger: Trigger, execution: Execution, job: Job, *, average: float | None) -> dict[str, Any]:
    """The ``execution`` object of a JSON payload (also what notification plugins receive). ``href`` and
    ``permalink`` are null: Rundeck fills them from its ``grails.serverURL`` with links to its web GUI and API,
    and this runtime serves neither."""
    job_id = execution.job_id or ""
    status = status_for(trigger, execution)
    final = status != str(ExecutionStatus.RUNNING)
    data: dict[str, Any] = {
        "id": execution.id,
        "href": None,
        "permalink": None,
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
            "permalink": None,
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
        "notification": {"trigger": TRIGGER_NAMES[trigger], "eventStatus": EVENT_STATUS[trigger]},
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


def email_message(
    trigger: Trigger,
    execution: Execution,
    job: Job,
    notification: EmailNotification,
    *,
    sender: str,
    log_lines: list[ExecutionLogLine],
) -> EmailMessage:
    """The e-mail of one notification: subject (default or the job's, expanded), a text summary, and the
    execution log inline or as an attachment when ``attachLog`` asks for it."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(r.strip() for r in notification.recipients.split(",") if r.strip())
    message["Subject"] = expand_text(notification.subject or DEFAULT_SUBJECT, trigger, execution, job)
    body = summary_text(trigger, execution, job)
    log_text = "".join(f"{_clock(line.time)} {line.level:<7} {line.text}\n" for line in log_lines)
    if notification.attach_log and notification.attach_log_inline:
        body += "\nLog:\n" + log_text
    message.set_content(body)
    if notification.attach_log and not notification.attach_log_inline:
        name = f"{job.name}-{execution.id}.txt".replace("/", "_")
        message.add_attachment(log_text, subtype="plain", filename=name)
    return message


def summary_text(trigger: Trigger, execution: Execution, job: Job) -> str:
    """A plain-text summary of an execution for an e-mail body."""
    status = execution.custom_status or status_for(trigger, execution)
    lines = [
        f"Execution #{execution.id} of job {job.full_name} in project {execution.project}: {status}",
        f"Trigger: {TRIGGER_NAMES[trigger]}",
        f"User: {execution.user} ({execution.execution_type})",
        f"Started: {_clock(execution.started_at)}",
    ]
    if status != str(ExecutionStatus.RUNNING):
        lines.append(f"Ended: {_clock(execution.ended_at)}")
    if execution.arg_string:
        lines.append(f"Options: {execution.arg_string}")
    if execution.attempt:
        lines.append(f"Retry attempt: {execution.attempt}")
    if execution.failed_nodes and status != str(ExecutionStatus.RUNNING):
        lines.append(f"Failed nodes: {', '.join(execution.failed_nodes)}")
    if execution.failure and status != str(ExecutionStatus.RUNNING):
        lines.append(f"Failure: {execution.failure}")
    return "\n".join(lines) + "\n"


def _clock(epoch: float | None) -> str:
    return "-" if epoch is None else datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
