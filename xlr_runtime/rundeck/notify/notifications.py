"""Job notifications: e-mail (SMTP), webhooks and plugin notification types, on execution start, success,
failure, retryable failure and average duration exceeded.

How it stays off the execution's path and exactly-once-ish (``docs/rundeck-notifications.md``):

* :meth:`Notifier.record_started` / :meth:`Notifier.record_ended` only insert an event row, inside the same
  transaction as the execution's state change (the claim, the final status), so nothing is sent before the
  change is committed and no event is lost by a crash;
* a dispatcher thread (:meth:`Notifier.run`) claims due events and sends them: one attempt per target, as
  Rundeck does, each delivery recorded before and after sending; a failure is logged to the execution log and
  the runtime log and never changes the execution;
* the dispatcher waits as the execution and schedule loops do (:func:`~xlr_runtime.clock.wait_for_due`):
  until the next event's due time through the injected clock (a virtual clock jumps to an ``onavgduration``
  threshold at once), and ``max_wait`` real seconds without moving the clock when nothing is due;
* **at-most-once**: after a crash, a delivery that was in flight is marked ``unknown`` and not sent again,
  while the notifications not yet attempted are sent. A duplicate page or deployment webhook costs more than
  a notification lost in the instant of a crash, and the store shows which one it was.

``onavgduration`` is an event due at start + threshold; when it comes due it is sent only if the execution
was still running then. Every outgoing text goes through a masker of the execution's secure option values
as well (they are already masked in the stored options, argstring and log).

A job run by a **job reference** step (a child execution) fires the referenced job's own notifications, as
Rundeck does since 2.11 (``ExecutionService.runJobRefExecutionItem``) unless the step has
``ignoreNotifications``: ``onstart`` when it starts, ``onsuccess`` or ``onfailure`` when it ends (a child is
never retried, so never ``onretryablefailure``), and ``onavgduration`` at its end when it ran longer than the
job's average (Rundeck compares a referenced run with the plain average, without the threshold). The caller
(:class:`~xlr_runtime.rundeck.run.execution.ExecutionService`) decides whether to record them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import smtplib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from xlr_runtime import settings as settings_module
from xlr_runtime.clock import Clock, SystemClock, wait_for_due
from xlr_runtime.rundeck.jobs.durations import parse_duration
from xlr_runtime.rundeck.jobs.model import EmailNotification, Job, Notification, PluginNotification, Trigger
from xlr_runtime.rundeck.notify.content import (
    TRIGGER_NAMES,
    execution_data,
    expand_text,
    expand_webhook_url,
    json_payload,
    status_for,
    xml_payload,
)
from xlr_runtime.rundeck.notify.mail import MailFacts, MailSettings, email_message, mail_context, recipients
from xlr_runtime.rundeck.run.context import DataContext, expand
from xlr_runtime.rundeck.run.execution_job import job_of
from xlr_runtime.scripting.masking import Masker
from xlr_runtime.secrets import SecretBox
from xlr_runtime.store.executions import Execution, ExecutionStatus
from xlr_runtime.store.notifications import DeliveryState, EventState, NotificationEvent
from xlr_runtime.store.owners import ProcessIdentity, renew_interval

if TYPE_CHECKING:
    import pluggy

    from xlr_runtime.store import Store

log = logging.getLogger(__name__)

#: A plugin notification type: called as ``function(trigger=..., execution=..., configuration=...)`` with the
#: Rundeck trigger name, the execution data (:func:`~xlr_runtime.rundeck.notify.content.execution_data`) and the
#: notification's configuration (``${…}`` expanded); raising marks the delivery failed with the message.
NotificationFunction = Callable[..., None]

#: Final status -> the trigger it fires (Rundeck: a kill or timeout is a failure).
_END_TRIGGERS = {
    ExecutionStatus.SUCCEEDED: Trigger.ON_SUCCESS,
    ExecutionStatus.FAILED_WITH_RETRY: Trigger.ON_RETRYABLE_FAILURE,
    ExecutionStatus.FAILED: Trigger.ON_FAILURE,
    ExecutionStatus.ABORTED: Trigger.ON_FAILURE,
    ExecutionStatus.TIMEDOUT: Trigger.ON_FAILURE,
    ExecutionStatus.OTHER: Trigger.ON_FAILURE,
}


def notification_types_from(pm: pluggy.PluginManager) -> dict[str, NotificationFunction]:
    """The notification types every plugin offers through ``xlr_notification_types`` (later plugins win)."""
    types: dict[str, NotificationFunction] = {}
    for offered in reversed(pm.hook.xlr_notification_types()):
        types.update(offered or {})
    return types


@dataclass(frozen=True)
class SmtpConfig:
    """Where e-mail goes (the ``smtp.*`` settings); the password only ever comes from an environment variable."""

    host: str
    port: int
    sender: str
    username: str
    password_env: str
    security: str
    timeout: float

    @classmethod
    def from_settings(cls, settings: settings_module.Settings) -> SmtpConfig:
        """Read the ``smtp.*`` settings."""
        return cls(
            host=settings["smtp.host"],
            port=settings["smtp.port"],
            sender=settings["smtp.from"],
            username=settings["smtp.username"],
            password_env=settings["smtp.password_env"],
            security=settings["smtp.security"],
            timeout=settings["smtp.timeout"],
        )

    def send(self, message: Any) -> None:
        """Send one message; raises on any failure (the caller records it)."""
        if not self.host:
            raise RuntimeError("e-mail is not configured (set smtp.host in xlr.toml)")
        factory = smtplib.SMTP_SSL if self.security == "ssl" else smtplib.SMTP
        with factory(self.host, self.port, timeout=self.timeout) as smtp:
            if self.security == "starttls":
                smtp.starttls()
            if self.username:
                password = os.environ.get(self.password_env, "") if self.password_env else ""
                if not password:
                    where = f"${self.password_env}" if self.password_env else "smtp.password_env"
                    raise RuntimeError(f"smtp.username is set but {where} gives no password")
                smtp.login(self.username, password)
            smtp.send_message(message)


@dataclass(frozen=True)
class _Target:
    """One thing to deliver: an e-mail, one webhook URL, or one plugin call."""

    kind: str
    target: str
    notification: Notification


def average_duration(durations: Sequence[float]) -> float | None:
    """Rundeck's average of successful runs: the mean of the first 10, then rolling (``avg += (new - avg)/10``)."""
    average: float | None = None
    for count, duration in enumerate(durations, 1):
        if average is None:
            average = duration
        elif count <= 10:
            average += (duration - average) / count
        else:
            average += (duration - average) / 10
    return average


def avg_duration_threshold(job: Job, options: Mapping[str, str], average: float | None) -> float | None:
    """Seconds after start when ``onavgduration`` fires, or ``None`` (no average yet, or not positive).

    ``notifyAvgDurationThreshold`` (``${option.x}`` expanded): ``N%`` -> average x (1 + N/100); ``+T`` ->
    average + T; ``T`` -> T (``0`` means the average); unset -> the average. T uses the timeout grammar."""
    if average is None:
        return None
    raw = (job.notify_avg_duration_threshold or "").strip()
    if raw:
        context = DataContext()
        context.merge("option", dict(options))
        raw = expand(raw, context).strip()
    if not raw:
        threshold = average
    elif raw.endswith("%") and raw[:-1].strip().isdigit():
        threshold = average * (1 + int(raw[:-1]) / 100)
    elif raw.startswith("+"):
        threshold = average + parse_duration(raw[1:])
    else:
        threshold = float(parse_duration(raw)) or average
    return threshold if threshold > 0 else None


class Notifier:
    """Records notification events of executions and delivers them (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        *,
        settings: settings_module.Settings | None = None,
        clock: Clock | None = None,
        plugin_types: Mapping[str, NotificationFunction] | None = None,
        home_root: Path | None = None,
    ) -> None:
        self.store = store
        self.settings = settings or settings_module.defaults()
        self.clock = clock or SystemClock()
        self.plugin_types = dict(plugin_types or {})
        self.smtp = SmtpConfig.from_settings(self.settings)
        self.mail = MailSettings.from_settings(self.settings, home_root=home_root)
        self.secrets = None if home_root is None else SecretBox(home_root)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._recovered_at = float("-inf")
        #: Seconds between two looks for dispatchers gone meanwhile: as often as a server renews its lease.
        self.recover_every = renew_interval(float(self.settings["cluster.lease_seconds"]))

    # -- recording (inside the state change's transaction) -------------------------------------------------------

    def record_started(self, executions: Sequence[Execution]) -> None:
        """Queue ``onstart`` (due now) of started executions, and ``onavgduration`` (due at start + threshold) of
        top-level ones (a job-reference child's is decided at its end, see :meth:`record_ended`)."""
        for execution in executions:
            job = job_of(execution)
            now = self.clock.now()
            if job.notifications.get(Trigger.ON_START):
                self.store.notifications.add_event(execution.id, Trigger.ON_START.value, due_at=now, now=now)
            if execution.parent_id is None and job.notifications.get(Trigger.ON_AVG_DURATION) and execution.job_id:
                durations = self.store.notifications.successful_durations(
                    execution.project, execution.job_id, before=execution.id
                )
                threshold = avg_duration_threshold(job, execution.options, average_duration(durations))
                if threshold is not None:
                    due = (execution.started_at or now) + threshold
                    self.store.notifications.add_event(execution.id, Trigger.ON_AVG_DURATION.value, due_at=due, now=now)

    def record_ended(self, execution: Execution) -> None:
        """Queue the trigger of an execution's final status (success, failure or retryable failure); for a
        job-reference child, first ``onavgduration`` when it ran longer than its job's average."""
        trigger = _END_TRIGGERS.get(execution.status)
        if trigger is None:
            return
        job = job_of(execution)
        now = self.clock.now()
        watches_average = execution.parent_id is not None and bool(job.notifications.get(Trigger.ON_AVG_DURATION))
        if watches_average and self._ran_longer_than_average(execution):
            self.store.notifications.add_event(execution.id, Trigger.ON_AVG_DURATION.value, due_at=now, now=now)
        if job.notifications.get(trigger):
            self.store.notifications.add_event(execution.id, trigger.value, due_at=now, now=now)

    def _ran_longer_than_average(self, execution: Execution) -> bool:
        average = self._average(execution)
        if average is None or average <= 0 or execution.started_at is None or execution.ended_at is None:
            return False
        return execution.ended_at - execution.started_at > average

    # -- dispatching ---------------------------------------------------------------------------------------------

    def recover(self) -> int:
        """Re-queue the events of dispatchers that are gone (their process ended, or their lease ran out: the rule
        of :mod:`~xlr_runtime.store.owners`); their in-flight deliveries become ``unknown``. :meth:`run` recovers
        at start and every :attr:`recover_every` seconds."""
        now = self.clock.now()
        self._recovered_at = now
        owners = self.store.notifications.sending_owners()
        gone = self.store.owners.verdicts_of(owners, ProcessIdentity.current(), now, me=self.store.owner)
        return self.store.notifications.requeue(list(gone), now=now)

    def dispatch_due(self, now: float | None = None) -> int:
        """Send every event due at ``now``; return how many events were handled."""
        now = self.clock.now() if now is None else now
        events = self.store.notifications.claim_due(now, owner=self.store.owner)
        for event in events:
            try:
                self._dispatch(event)
            except Exception:  # a bug in one event must not stop the others
                log.exception("notification event %s of execution %s failed", event.id, event.execution_id)
                self.store.notifications.finish_event(event.id, EventState.DONE)
        return len(events)

    def _dispatch(self, event: NotificationEvent) -> None:
        trigger = Trigger(event.trigger)
        execution = self.store.executions.get(event.execution_id)
        if (
            trigger is Trigger.ON_AVG_DURATION
            and execution.parent_id is None  # a child's is recorded at its end, when it is known to be late
            and execution.ended_at is not None
            and execution.ended_at <= event.due_at
        ):
            self.store.notifications.finish_event(event.id, EventState.SKIPPED)
            return
        job = job_of(execution)
        masker = self._masker(execution)
        notifications = job.notifications.get(trigger, ())
        facts = self._mail_facts(trigger, execution, job, notifications)
        for position, target in enumerate(_targets(notifications, trigger, execution, job, facts, self.mail)):
            shown = masker.mask(target.target)
            if not self.store.notifications.begin_delivery(
                event.id, position, kind=target.kind, target=shown, now=self.clock.now()
            ):
                continue  # attempted before a restart: at-most-once
            try:
                self._send(target, trigger, execution, job, masker, facts)
            except Exception as exc:  # any failure to notify is recorded, never raised into the execution
                detail = masker.mask(_one_line(exc))
                self.store.notifications.end_delivery(
                    event.id, position, state=DeliveryState.FAILED, detail=detail, now=self.clock.now()
                )
                self._log_failure(execution, trigger, target.kind, shown, detail)
                log.warning(
                    "notification %s %s to %s of execution %s failed: %s", trigger.value, target.kind, shown,
                    execution.id, detail,
                    extra={"event": "notification.failed", "execution_id": execution.id, "trigger": trigger.value,
                           "kind": target.kind, "target": shown},
                )  # fmt: skip
            else:
                log.info(
                    "notification %s %s to %s of execution %s sent", trigger.value, target.kind, shown, execution.id,
                    extra={"event": "notification.sent", "execution_id": execution.id, "trigger": trigger.value,
                           "kind": target.kind, "target": shown},
                )  # fmt: skip
                self.store.notifications.end_delivery(
                    event.id, position, state=DeliveryState.SENT, detail=None, now=self.clock.now()
                )
        self.store.notifications.finish_event(event.id, EventState.DONE)

    def _mail_facts(
        self, trigger: Trigger, execution: Execution, job: Job, notifications: Sequence[Notification]
    ) -> MailFacts | None:
        """What the e-mails of this event report (read once for all recipients), or ``None`` without e-mail."""
        if not any(isinstance(n, EmailNotification) for n in notifications):
            return None
        completed, succeeded = (0, 0)
        if execution.job_id:
            completed, succeeded = self.store.notifications.run_counts(execution.project, execution.job_id)
        return MailFacts(
            trigger, execution, job, average=self._average(execution), completed_runs=completed,
            succeeded_runs=succeeded, log_lines=self.store.executions.log(execution.id),
        )  # fmt: skip

    def _send(
        self, target: _Target, trigger: Trigger, execution: Execution, job: Job, masker: Masker,
        facts: MailFacts | None,
    ) -> None:  # fmt: skip
        notification = target.notification
        if isinstance(notification, EmailNotification):
            assert facts is not None
            if "${" in target.target:
                raise RuntimeError(f"the recipient {target.target} has a ${{…}} token with no value")
            message = email_message(
                facts, notification, recipient=target.target, sender=self.smtp.sender, settings=self.mail,
                masker=masker,
            )  # fmt: skip
            self.smtp.send(message)
        elif isinstance(notification, PluginNotification):
            function = self.plugin_types.get(notification.type)
            if function is None:
                raise RuntimeError(f"notification type {notification.type!r} is not provided by any plugin")
            config = {k: expand_text(v, trigger, execution, job) for k, v in notification.configuration.items()}
            data = execution_data(
                trigger, execution, job, average=self._average(execution), link_url=self.mail.link_url
            )
            data = masker.mask_value(data)
            function(trigger=TRIGGER_NAMES[trigger], execution=data, configuration=masker.mask_value(config))
        else:
            self._post(target.target, notification.format, notification.http_method, trigger, execution, job, masker)

    def _post(
        self, url: str, fmt: str | None, method: str | None, trigger: Trigger, execution: Execution, job: Job,
        masker: Masker,
    ) -> None:  # fmt: skip
        data = execution_data(trigger, execution, job, average=self._average(execution), link_url=self.mail.link_url)
        as_json = (fmt or "xml").lower() == "json"
        body = masker.mask((json_payload if as_json else xml_payload)(trigger, data).decode()).encode()
        trigger_name = TRIGGER_NAMES[trigger]
        headers = {
            "Content-Type": "application/json" if as_json else "text/xml",
            "X-RunDeck-Notification-Trigger": trigger_name,
            "X-RunDeck-Notification-Execution-ID": str(execution.id),
            "X-RunDeck-Notification-Execution-Status": status_for(trigger, execution),
        }
        secret_env = self.settings["notifications.webhook_secret_env"]
        secret = os.environ.get(secret_env, "") if secret_env else ""
        if secret:
            digest = hashlib.sha256((url + trigger_name + str(execution.id) + secret).encode()).hexdigest()
            headers["X-RunDeck-Notification-SHA256-Digest"] = digest
        verb = (method or "post").upper()
        response = requests.request(
            verb, url, data=None if verb == "GET" else body, headers=headers,
            timeout=self.settings["notifications.webhook_timeout"], allow_redirects=True,
        )  # fmt: skip
        if response.status_code >= 400:
            raise RuntimeError(f"HTTP {response.status_code} {response.reason}")

    def _average(self, execution: Execution) -> float | None:
        if not execution.job_id:
            return None
        durations = self.store.notifications.successful_durations(
            execution.project, execution.job_id, before=execution.id
        )
        return average_duration(durations)

    def _masker(self, execution: Execution) -> Masker:
        if self.secrets is None or not execution.secure_blob:
            return Masker(())
        return Masker(v for v in self.secrets.open(execution.secure_blob).values() if v)

    def _log_failure(self, execution: Execution, trigger: Trigger, kind: str, target: str, detail: str) -> None:
        text = f"Notification {trigger.value} {kind} to {target} failed: {detail}"  # logged by the caller
        self.store.executions.add_log(execution.id, [(self.clock.now(), "WARN", None, None, text)])

    # -- the loop ------------------------------------------------------------------------------------------------

    def wake(self) -> None:
        """An event may be due now: end the current wait of :meth:`run`."""
        self._wake.set()

    def request_stop(self) -> None:
        """Ask :meth:`run` to return after the event it is sending."""
        self._stop.set()
        self._wake.set()

    def run(self, until: Callable[[], bool] | None = None, *, max_wait: float = 1.0) -> None:
        """Recover, then dispatch due events and wait for the next one until stopped (or ``until()``).

        The wait is :func:`~xlr_runtime.clock.wait_for_due`: the next event's due time through the clock (a
        virtual clock jumps to an ``onavgduration`` threshold), ``max_wait`` real seconds when nothing is due;
        :meth:`wake` ends it when an execution records an event."""
        self.recover()
        while not self._stop.is_set() and not (until is not None and until()):
            self._wake.clear()
            try:
                if self.clock.now() - self._recovered_at >= self.recover_every:  # an owner may have gone since
                    self.recover()
                self.dispatch_due()
            except Exception:
                log.exception("notification dispatch failed")
            wait_for_due(self.clock, self._wake, self.store.notifications.next_due_at(), max_wait=max_wait)

    def start(self, *, max_wait: float = 1.0) -> None:
        """Run :meth:`run` in a daemon thread (again after :meth:`close`); no-op while it runs."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run, kwargs={"max_wait": max_wait}, name="xlr-notifications", daemon=True
        )
        self._thread.start()

    def close(self, timeout: float = 30.0) -> int:
        """Stop the thread (letting a send in flight finish, up to ``timeout``), then send what is due now in the
        calling thread; returns the events sent. ``xlr jobs run`` calls it before it exits."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
        return self.dispatch_due()


def _targets(
    notifications: Sequence[Notification], trigger: Trigger, execution: Execution, job: Job,
    facts: MailFacts | None, mail: MailSettings,
) -> list[_Target]:  # fmt: skip
    """One target per e-mail recipient (Rundeck sends each its own message), webhook URL or plugin."""
    targets: list[_Target] = []
    for notification in notifications:
        if isinstance(notification, EmailNotification) and facts is not None:
            context = mail_context(facts, mail)
            targets += [_Target("email", address, notification) for address in recipients(notification, context)]
        elif isinstance(notification, PluginNotification):
            targets.append(_Target("plugin", notification.type, notification))
        else:
            for url in (u.strip() for u in notification.urls.split(",")):
                if url:
                    targets.append(_Target("webhook", expand_webhook_url(url, trigger, execution, job), notification))
    return targets


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
