"""Notification e-mails as Rundeck builds them: one message per recipient, an HTML page with a plain-text
alternative, the execution log inline or attached, and Rundeck's template settings.

Sources (rundeck/rundeck): ``NotificationService.triggerJobNotification`` (subject and body templates, the
``${…}`` context of ``generateNotificationContext``, ``attachLog`` / ``attachLogInFile`` / ``attachLogInline``,
the attachment ``JOBNAME-ID.log``, the log lines of ``copyExecOutputToStringBuffer``) and the default page
``views/execution/mailNotification/_newStatus.gsp`` (project, ``#id`` and job, user, status and duration,
description, View/Download Output, started/finished/duration, average duration, executions and success
rate, nodes, log output). Every string that goes into a message passes the execution's masker first, so a
secure option value cannot reach a subject, a body or an attachment in any transfer encoding.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from xlr_runtime import settings as settings_module
from xlr_runtime.rundeck.jobs.model import EmailNotification, Job, Trigger
from xlr_runtime.rundeck.notify.content import TRIGGER_NAMES, event_status, status_for
from xlr_runtime.scripting.masking import Masker
from xlr_runtime.store.executions import Execution, ExecutionLogLine, ExecutionStatus

log = logging.getLogger(__name__)

#: Rundeck's default subject (``NotificationService``: ``exec.*`` is the execution, named ``execution`` here).
DEFAULT_SUBJECT = "${notification.eventStatus} [${execution.project}] ${job.group}/${job.name} ${execution.argstring}"
#: The status words of the page (Rundeck's ``status.label.*`` messages).
STATUS_LABELS = {
    "running": "Running",
    "succeeded": "Succeeded",
    "failed": "Failed",
    "aborted": "Killed",
    "timedout": "Timed Out",
    "failed-with-retry": "Failed With Retry",
}
_TOKEN = re.compile(r"\$\{([^\s.}]+)\.([^\s}]+)\}")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_RECIPIENTS = re.compile(r", *")
_MARKDOWN = (".md", ".markdown")


@dataclass(frozen=True)
class MailSettings:
    """Rundeck's ``mail.template.*`` settings and ``grails.serverURL`` (the ``notifications.*`` settings)."""

    subject: str
    body: str
    template_file: str
    log_formatted: bool
    log_extension: str
    log_content_type: str
    link_url: str
    home_root: Path | None = None

    @classmethod
    def from_settings(cls, settings: settings_module.Settings, *, home_root: Path | None = None) -> MailSettings:
        """Read the ``notifications.mail_*`` and ``notifications.link_url`` settings."""
        return cls(
            subject=settings["notifications.mail_subject"],
            body=settings["notifications.mail_body"],
            template_file=settings["notifications.mail_template_file"],
            log_formatted=settings["notifications.mail_log_format"] == "formatted",
            log_extension=settings["notifications.mail_log_extension"],
            log_content_type=settings["notifications.mail_log_content_type"],
            link_url=settings["notifications.link_url"].rstrip("/"),
            home_root=home_root,
        )

    def link(self, project: str, path: str) -> str | None:
        """``LINK_URL/project/PROJECT/PATH``, or ``None`` without a link URL."""
        return f"{self.link_url}/project/{project}/{path}" if self.link_url else None


@dataclass(frozen=True)
class MailFacts:
    """What an e-mail reports: the trigger, the execution and its job, the job's statistics and the log."""

    trigger: Trigger
    execution: Execution
    job: Job
    average: float | None
    completed_runs: int
    succeeded_runs: int
    log_lines: Sequence[ExecutionLogLine] = ()

    @property
    def status(self) -> str:
        """The status reported: ``running`` at start and avgduration, else the final one."""
        return status_for(self.trigger, self.execution)

    @property
    def running(self) -> bool:
        """True when the execution is reported running."""
        return self.status == str(ExecutionStatus.RUNNING)


@dataclass(frozen=True)
class LogAttachment:
    """How the log goes with a mail: in the body (``attachLogInline``), as a file (``attachLogInFile``), both."""

    inline: bool
    in_file: bool

    @classmethod
    def of(cls, notification: EmailNotification, trigger: Trigger) -> LogAttachment:
        """Rundeck's rules: nothing at start; ``attachLog`` with neither flag set means a file (older jobs)."""
        if trigger is Trigger.ON_START or not notification.attach_log:
            return cls(False, False)
        inline, in_file = bool(notification.attach_log_inline), bool(notification.attach_log_in_file)
        return cls(inline, in_file or not inline)


def mail_context(facts: MailFacts, settings: MailSettings) -> dict[str, dict[str, str]]:
    """The ``${ctx.key}`` values of subjects, bodies, template paths and recipients (``generateNotificationContext``:
    ``job.*``, ``execution.*``, ``option.*``, ``notification.*``, ``rundeck.href``)."""
    execution = facts.execution
    notification = {"trigger": TRIGGER_NAMES[facts.trigger], "eventStatus": event_status(facts.trigger, execution)}
    return {
        "job": _job_values(facts, settings),
        "execution": _execution_values(facts, settings),
        "option": dict(execution.options),
        "notification": notification,
        "rundeck": {"href": f"{settings.link_url}/menu/home" if settings.link_url else ""},
    }


def _execution_values(facts: MailFacts, settings: MailSettings) -> dict[str, str]:
    execution, final = facts.execution, not facts.running
    values = {
        "id": str(execution.id),
        "href": settings.link(execution.project, f"execution/show/{execution.id}") or "",
        "status": facts.status,
        "user": execution.user,
        "executionType": execution.execution_type,
        "description": facts.job.description or "",
        "argstring": execution.arg_string,
        "project": execution.project,
        "loglevel": facts.job.loglevel,
        "projectHref": settings.link(execution.project, "home") or "",
        "retryAttempt": str(execution.attempt),
        "failedNodeListString": ",".join(execution.failed_nodes) if final else "",
        "succeededNodeListString": ",".join(execution.succeeded_nodes) if final else "",
        **_dates("dateStarted", execution.started_at),
        **(_dates("dateEnded", execution.ended_at) if final else {}),
    }
    if final and execution.custom_status:
        values["customStatus"] = execution.custom_status
    return values


def _job_values(facts: MailFacts, settings: MailSettings) -> dict[str, str]:
    execution, job = facts.execution, facts.job
    values = {
        "id": execution.job_id,
        "href": settings.link(execution.project, f"job/show/{execution.job_id}") if execution.job_id else None,
        "name": job.name,
        "group": job.group,
        "fullname": job.full_name,
        "project": execution.project,
        "description": job.description,
        "username": execution.user,
        "user.name": execution.user,
        "execid": str(execution.id),
        "schedule": job.schedule.crontab if job.schedule else None,
        "averageDuration": str(int(facts.average * 1000)) if facts.average else None,
    }
    return {key: value or "" for key, value in values.items() if key != "averageDuration" or value}


def render(template: str, context: dict[str, dict[str, str]]) -> str:
    """Replace ``${ctx.key}`` tokens; unknown ones stay as written (Rundeck's ``renderTemplate``)."""

    def replace(match: re.Match[str]) -> str:
        value = context.get(match.group(1), {}).get(match.group(2))
        return match.group(0) if value is None else value

    return _TOKEN.sub(replace, template)


def recipients(notification: EmailNotification, context: dict[str, dict[str, str]]) -> list[str]:
    """The addresses of ``recipients`` (``${…}`` expanded, split at commas); an address left with a
    ``${…}`` token is kept as written, and its delivery fails with the reason."""
    return [r.strip() for r in _RECIPIENTS.split(render(notification.recipients, context)) if r.strip()]


def log_text(lines: Sequence[ExecutionLogLine], *, user: str, formatted: bool) -> str:
    """The log as Rundeck puts it in a mail: each line's text (ANSI colours stripped), or with
    ``HH:MM:SS [user@node step][LEVEL]`` before it when formatted."""
    out = []
    for line in lines:
        text = _ANSI.sub("", line.text)
        if formatted:
            when = datetime.fromtimestamp(line.time, UTC).strftime("%H:%M:%S")
            text = f"{when} [{user}@{line.node or ''} {line.step or '_'}][{line.level}] {text}"
        out.append(text + "\n")
    return "".join(out)


def email_message(
    facts: MailFacts,
    notification: EmailNotification,
    *,
    recipient: str,
    sender: str,
    settings: MailSettings,
    masker: Masker,
) -> EmailMessage:
    """The message to one recipient: subject, a plain-text part and the HTML page (or the configured
    template), and the log attached as ``JOBNAME-ID.EXT`` when ``attachLog`` asks for a file."""
    context = mail_context(facts, settings)
    attachment = LogAttachment.of(notification, facts.trigger)
    logged = masker.mask(log_text(facts.log_lines, user=facts.execution.user, formatted=settings.log_formatted))
    subject_template = notification.subject or settings.subject or DEFAULT_SUBJECT
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = " ".join(masker.mask(render(subject_template, context)).split())
    inline = logged if attachment.inline else None
    custom, is_markdown = _custom_body(settings, context, inline or "")
    if custom is not None and is_markdown:
        message.set_content(masker.mask(custom))
    else:
        message.set_content(masker.mask(summary_text(facts, settings, inline)))
        page = custom if custom is not None else html_page(facts, settings, inline)
        message.add_alternative(masker.mask(page), subtype="html")
    if attachment.in_file:
        maintype, _, subtype = settings.log_content_type.partition("/")
        name = f"{facts.job.name}-{facts.execution.id}.{settings.log_extension}".replace("/", "_")
        message.add_attachment(logged.encode(), maintype=maintype, subtype=subtype or "plain", filename=name)
    return message


def _custom_body(settings: MailSettings, context: dict[str, dict[str, str]], logged: str) -> tuple[str | None, bool]:
    """The configured body (template file, else body setting) rendered, and whether it is Markdown."""
    if settings.template_file:
        path = Path(render(settings.template_file, context))
        if not path.is_absolute() and settings.home_root is not None:
            path = settings.home_root / path
        if path.is_file():
            markdown = path.suffix.lower() in _MARKDOWN
            data = logged if markdown else html.escape(logged)  # Rundeck sanitizes the log it puts in HTML
            return render(path.read_text(encoding="utf-8"), {**context, "logoutput": {"data": data}}), markdown
        log.warning("notification template %s not found: using the default body", path)
    if settings.body:
        return render(settings.body, context), False
    return None, False


def summary_text(facts: MailFacts, settings: MailSettings, logged: str | None) -> str:
    """The plain-text part: the page's facts, one per line, then the log when it is inline."""
    execution, job = facts.execution, facts.job
    lines = [
        f"{execution.project}: #{execution.id} {job.full_name} by {execution.user}: {status_line(facts)}",
        f"Trigger: {TRIGGER_NAMES[facts.trigger]}",
        f"Execution type: {execution.execution_type}",
        f"Started: {_clock(execution.started_at)}",
    ]
    if not facts.running:
        lines += [f"Finished: {_clock(execution.ended_at)}", f"Duration: {_elapsed(execution)}"]
    if job.description:
        lines.append(f"Description: {job.description}")
    lines += _statistics_lines(facts)
    if execution.arg_string:
        lines.append(f"Options: {execution.arg_string}")
    if execution.attempt:
        lines.append(f"Retry attempt: {execution.attempt}")
    if not facts.running and execution.failed_nodes:
        lines.append(f"Failed nodes: {', '.join(execution.failed_nodes)}")
    if not facts.running and execution.failure:
        lines.append(f"Failure: {execution.failure}")
    for label, path in _links(facts):
        link = settings.link(execution.project, path)
        if link:
            lines.append(f"{label}: {link}")
    text = "\n".join(lines) + "\n"
    return text + f"\nLog Output:\n{logged}" if logged else text


def status_line(facts: MailFacts) -> str:
    """``Succeeded after 4s at 2026-01-05 08:00:04 UTC``, ``"custom" after …``, ``Running``."""
    execution = facts.execution
    if facts.running:
        return STATUS_LABELS["running"]
    label = f'"{execution.custom_status}"' if execution.custom_status else STATUS_LABELS.get(facts.status, facts.status)
    return f"{label} after {_elapsed(execution)} at {_clock(execution.ended_at)}"


def html_page(facts: MailFacts, settings: MailSettings, logged: str | None) -> str:
    """The default HTML body: the sections of Rundeck's mail page, escaped, links only with a link URL."""
    execution, job = facts.execution, facts.job
    e = html.escape
    colour = _colour(facts)
    view = settings.link(execution.project, f"execution/show/{execution.id}")
    title = f"#{execution.id}" if view is None else f'<a href="{e(view)}">#{execution.id}</a>'
    parts = [
        f'<html><head><meta charset="utf-8"><title>Execution {e(status_line(facts))}</title></head><body>',
        f'<div class="execution-status" style="border-left:20px solid {colour};padding-left:10px">',
        f"<h3>{e(execution.project)}</h3>",
        f"<h1>{title} {e(job.full_name)}</h1>",
        f"<h3>by {e(execution.user)}</h3>",
        f'<h3 class="status">{e(status_line(facts))}</h3></div>',
    ]
    if job.description:
        parts.append(f'<div class="description"><h4>Job Description</h4><p>{e(job.description)}</p></div>')
    buttons = [
        f'<a href="{e(link)}">{label}</a>'
        for label, path in _links(facts)
        if (link := settings.link(execution.project, path))
    ]
    if buttons:
        parts.append(f'<p class="links">{" | ".join(buttons)}</p>')
    parts.append(_table("times", _time_rows(facts)))
    parts.append(_table("statistics", _statistics_rows(facts)))
    parts.append(_details(facts))
    if not facts.running and (execution.failed_nodes or execution.succeeded_nodes):
        parts.append(_nodes(execution))
    if logged:
        parts.append(f'<div class="log"><h4>Log Output</h4><pre>{e(logged)}</pre></div>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _links(facts: MailFacts) -> list[tuple[str, str]]:
    execution = facts.execution
    links = [("View Output", f"execution/show/{execution.id}")]
    if not facts.running:
        links.append(("Download Output", f"execution/downloadOutput/{execution.id}"))
    return links


def _time_rows(facts: MailFacts) -> list[tuple[str, str]]:
    execution = facts.execution
    rows = [("Started", _clock(execution.started_at))]
    if not facts.running:
        rows += [("Finished", _clock(execution.ended_at)), ("Duration", _elapsed(execution))]
    return rows


def _statistics_rows(facts: MailFacts) -> list[tuple[str, str]]:
    rows = [("Average Duration", _duration(facts.average))] if facts.average else []
    rate = facts.succeeded_runs / facts.completed_runs if facts.completed_runs else 0
    return [*rows, ("Executions", str(facts.completed_runs)), ("Success Rate", f"{rate:.0%}")]


def _statistics_lines(facts: MailFacts) -> list[str]:
    return [f"{label}: {value}" for label, value in _statistics_rows(facts)]


def _details(facts: MailFacts) -> str:
    execution = facts.execution
    rows = [("Trigger", TRIGGER_NAMES[facts.trigger]), ("Execution type", execution.execution_type)]
    rows += [(f"Option {name}", value) for name, value in execution.options.items()]
    if execution.attempt:
        rows.append(("Retry attempt", str(execution.attempt)))
    if not facts.running and execution.failure:
        rows.append(("Failure", execution.failure))
    return f"<h4>Details</h4>\n{_table('details', rows)}"


def _nodes(execution: Execution) -> str:
    failed, ok = execution.failed_nodes, execution.succeeded_nodes
    summary = f"{len(failed)} failed:" if failed else f"{len(ok)} ok"
    listed = f"<div>{html.escape(','.join(failed))}</div>" if failed else ""
    return f'<div class="nodes"><h4>Nodes</h4><p>{summary}</p>{listed}</div>'


def _table(name: str, rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="{name}">{cells}</table>'


def _colour(facts: MailFacts) -> str:
    execution = facts.execution
    if facts.running or execution.status == ExecutionStatus.SUCCEEDED:
        return "green"
    if execution.status == ExecutionStatus.ABORTED:
        return "yellow"
    return "blue" if execution.custom_status else "red"


def _dates(prefix: str, epoch: float | None) -> dict[str, str]:
    if epoch is None:
        return {}
    when = datetime.fromtimestamp(epoch, UTC)
    return {
        prefix: when.strftime("%a %b %d %H:%M:%S UTC %Y"),
        f"{prefix}Unixtime": str(int(epoch * 1000)),
        f"{prefix}W3c": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _elapsed(execution: Execution) -> str:
    if execution.started_at is None or execution.ended_at is None:
        return "-"
    return _duration(execution.ended_at - execution.started_at)


def _duration(seconds: float | None) -> str:
    """``350ms``, ``4s``, ``1m 5s``, ``2h 0m 3s``."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def _clock(epoch: float | None) -> str:
    return "-" if epoch is None else datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
