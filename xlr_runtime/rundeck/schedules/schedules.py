"""Cron schedules of stored jobs: next fire times, and durable firing while ``xlr serve`` runs.

A job's ``<schedule>`` is a Quartz expression (:mod:`xlr_runtime.rundeck.schedules.quartz`) in the job's
``timeZone`` (else the server's zone). :class:`ScheduleService` keeps one row per stored job in the store's
schedules area:

* :meth:`~ScheduleService.sync` (re)computes the rows of jobs that are new or whose definition changed (``xlr
  jobs load`` of a new version reschedules it) and drops the rows of deleted jobs;
* :meth:`~ScheduleService.tick` fires the due rows: in one transaction it moves the row to its next fire time
  (compare-and-set) and queues an execution with the job's default options (``executionType`` ``scheduled``),
  which the :class:`~xlr_runtime.rundeck.run.execution.ExecutionService` drives like any other;
* missed fires (the runtime was down, or busy): the row still holds the missed time, so the next tick fires
  **once** and moves on to the first fire time after now — Quartz's smart misfire policy for cron triggers
  (``MISFIRE_INSTRUCTION_FIRE_ONCE_NOW``), never one execution per missed time;
* ``scheduleEnabled=false`` or ``executionEnabled=false``: the job does not fire (the row says why);
* a fire while the job runs and forbids multiple executions queues nothing (Rundeck skips it); the row
  records the reason.

Time: :meth:`ScheduleService.run` waits as the execution and notification loops do
(:func:`~xlr_runtime.clock.wait_for_due`): until the next fire time through the injected clock — a
:class:`~xlr_runtime.clock.VirtualClock` jumps to it, so a test fires a day of schedules at once — and, when no
schedule fires at all, ``max_wait`` real seconds without moving the clock. Production uses the system clock, for
which both are the same real wait (bounded by ``max_wait`` so jobs loaded by another process are seen).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from xlr_runtime.clock import Clock, SystemClock, wait_for_due
from xlr_runtime.errors import AlreadyFiredError, NotFoundError, OptionValueError, StateError, XlrError
from xlr_runtime.rundeck.jobs.jobstore import JobStore
from xlr_runtime.rundeck.jobs.model import Job
from xlr_runtime.rundeck.jobs.xml_codec import load_jobs_xml
from xlr_runtime.rundeck.schedules.quartz import QuartzCron, QuartzError, parse

if TYPE_CHECKING:
    from xlr_runtime.rundeck.run.execution import ExecutionService
    from xlr_runtime.store import Store
    from xlr_runtime.store.schedules import ScheduleRow

log = logging.getLogger(__name__)

#: Quartz's default ``misfireThreshold``: a fire found later than this is logged as missed (it still fires once).
MISFIRE_THRESHOLD = 60.0
#: Seconds before a job whose fire failed unexpectedly is tried again; doubled after each failure in a row.
RETRY_AFTER = 60.0
#: The longest wait between two tries of a job whose fires keep failing.
MAX_RETRY_AFTER = 3600.0


def server_zone() -> ZoneInfo:
    """The zone of jobs without ``timeZone``: ``$TZ`` if set, else ``/etc/localtime``, else UTC."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("TZ=%s is not a known time zone; schedules use UTC", name)
            return ZoneInfo("UTC")
    localtime = Path("/etc/localtime")
    if localtime.exists():
        with localtime.open("rb") as handle:
            return ZoneInfo.from_file(handle, key="localtime")
    return ZoneInfo("UTC")


def job_zone(job: Job, default: ZoneInfo) -> ZoneInfo:
    """The job's ``timeZone`` (a tz database name such as ``Europe/Paris``), else ``default``.

    Raises ``ValueError`` for an unknown zone."""
    if not job.time_zone:
        return default
    try:
        return ZoneInfo(job.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f'unknown timeZone "{job.time_zone}"') from None


@dataclass(frozen=True)
class Plan:
    """What a job's schedule is now: its expression and zone, the next fire time, or why it does not fire."""

    crontab: str | None
    time_zone: str | None
    next_fire_at: float | None
    note: str | None

    def kept_fire_time(self, stored: ScheduleRow | None) -> float | None:
        """The ``stored`` row's fire time when it is still this schedule's (both fire, on the same expression in
        the same zone), else ``None``."""
        if (
            self.next_fire_at is not None
            and stored is not None
            and stored.next_fire_at is not None
            and (stored.crontab, stored.time_zone) == (self.crontab, self.time_zone)
        ):
            return stored.next_fire_at
        return None


def plan(job: Job, *, now: float, default_zone: ZoneInfo) -> Plan:
    """The schedule of ``job`` as of ``now`` (the first fire time strictly after it)."""
    if job.schedule is None:
        return Plan(None, None, None, "not scheduled")
    crontab = job.schedule.crontab
    zone_name = job.time_zone or str(default_zone.key)
    if not job.schedule_enabled:
        return Plan(crontab, zone_name, None, "schedule disabled (scheduleEnabled=false)")
    if not job.execution_enabled:
        return Plan(crontab, zone_name, None, "executions disabled (executionEnabled=false)")
    try:
        cron, zone = parse(crontab), job_zone(job, default_zone)
    except (QuartzError, ValueError) as exc:
        return Plan(crontab, zone_name, None, str(exc))
    next_fire = cron.next_after(now, zone)
    return Plan(crontab, zone_name, next_fire, None if next_fire is not None else "no fire time after now")


def next_fire_times(job: Job, *, after: float, count: int, default_zone: ZoneInfo) -> list[float]:
    """The next ``count`` fire times of an enabled, valid schedule (empty otherwise)."""
    first = plan(job, now=after, default_zone=default_zone)
    if first.next_fire_at is None or first.crontab is None:
        return []
    cron: QuartzCron = parse(first.crontab)
    return [first.next_fire_at, *cron.fire_times(first.next_fire_at, job_zone(job, default_zone), count - 1)]


@dataclass(frozen=True)
class ScheduleEntry:
    """One job's schedule as listed by ``xlr schedules``."""

    job_uuid: str
    full_name: str
    crontab: str | None
    time_zone: str | None
    next_fire_at: float | None
    note: str | None
    last_fire_at: float | None = None
    last_execution_id: int | None = None
    last_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times are epoch seconds)."""
        return {
            "id": self.job_uuid,
            "job": self.full_name,
            "crontab": self.crontab,
            "timeZone": self.time_zone,
            "nextFireAt": self.next_fire_at,
            "note": self.note,
            "lastFireAt": self.last_fire_at,
            "lastExecutionId": self.last_execution_id,
            "lastError": self.last_error,
        }


class ScheduleService:
    """Fires the schedules of one store's jobs through an :class:`ExecutionService`."""

    def __init__(
        self,
        store: Store,
        executions: ExecutionService,
        *,
        clock: Clock | None = None,
        default_zone: ZoneInfo | None = None,
    ) -> None:
        self.store = store
        self.executions = executions
        self.clock = clock or SystemClock()
        self.default_zone = default_zone or server_zone()
        self._wake = threading.Event()
        self._stop = threading.Event()
        #: Job uuid -> (failures in a row, the last one's message): one job's failure is logged once and backs off.
        self._failures: dict[str, tuple[int, str]] = {}
        self._tick_failure: str | None = None

    def _failed(self, job_uuid: str, doing: str, exc: Exception) -> float:
        """Log a failure of one job (once while it repeats itself) and return how long to wait before the next try."""
        count, last = self._failures.get(job_uuid, (0, ""))
        message = f"{type(exc).__name__}: {exc}" if not isinstance(exc, XlrError) else str(exc)
        delay = min(RETRY_AFTER * 2**count, MAX_RETRY_AFTER)
        if message != last:
            log.warning(
                "%s job %s failed, the other schedules go on: %s", doing, self.store.jobs.label(job_uuid), message
            )
        else:
            log.debug("%s job %s failed again: %s", doing, job_uuid, message)
        self._failures[job_uuid] = (count + 1, message)
        return delay

    # -- keeping rows in step with the jobs ----------------------------------------------------------------------

    def sync(self, now: float | None = None) -> list[str]:
        """Compute the rows of new or changed jobs, drop those of deleted jobs; return the uuids (re)planned.

        A changed job whose expression and zone stayed the same keeps its pending fire time (a fire that is due
        or missed is not lost by loading a new version)."""
        now = self.clock.now() if now is None else now
        replanned: list[str] = []
        for stale in self.store.schedules.stale():
            try:
                (job,) = load_jobs_xml(stale.definition, path=f"store:jobs/{stale.job_uuid}", require_future=False)
                new = plan(job, now=now, default_zone=self.default_zone)
            except Exception as exc:  # one job's definition must not stop every other schedule
                self._failed(stale.job_uuid, "scheduling", exc)
                # stored with this definition's digest: not read again until a new version of the job is loaded
                new = Plan(None, None, None, f"not scheduled: the definition cannot be read: {exc}")
            kept = new.kept_fire_time(stale.previous)
            next_fire = kept if kept is not None else new.next_fire_at
            self.store.schedules.save(
                stale.job_uuid,
                project=stale.project,
                definition_sha256=stale.definition_sha256,
                crontab=new.crontab,
                time_zone=new.time_zone,
                next_fire_at=next_fire,
                note=new.note,
                now=now,
            )
            replanned.append(stale.job_uuid)
        for uuid in self.store.schedules.remove_orphans():
            log.info("job %s was deleted: unscheduled", uuid)
        return replanned

    # -- firing --------------------------------------------------------------------------------------------------

    def tick(self, now: float | None = None) -> list[int]:
        """Sync, then fire every due schedule once; return the ids of the executions queued."""
        now = self.clock.now() if now is None else now
        self.sync(now)
        queued: list[int] = []
        for row in self.store.schedules.due(now):
            try:
                execution_id = self._fire(row, now)
            except Exception as exc:  # one job's failure must not stop every other schedule
                self._back_off(row, now, exc)
                continue
            self._failures.pop(row.job_uuid, None)
            if execution_id is not None:
                queued.append(execution_id)
        return queued

    def _back_off(self, row: ScheduleRow, now: float, exc: Exception) -> None:
        """Move a row whose fire failed out of the way (tried again after a back-off, never in a busy loop) and
        record why on it."""
        assert row.next_fire_at is not None
        retry_at = now + self._failed(row.job_uuid, "firing", exc)
        with self.store.atomic():
            if self.store.schedules.advance(
                row.job_uuid, expected=row.next_fire_at, next_fire_at=retry_at, fired_at=now
            ):
                self.store.schedules.record_fire(row.job_uuid, execution_id=None, error=f"{exc} (tried again later)")

    def _fire(self, row: ScheduleRow, now: float) -> int | None:
        assert row.next_fire_at is not None
        try:
            job = JobStore(self.store).get(row.job_uuid)
        except NotFoundError:
            return None
        following = plan(job, now=now, default_zone=self.default_zone).next_fire_at
        if now - row.next_fire_at > MISFIRE_THRESHOLD:
            log.warning(
                "job %s missed its fire time %s (the runtime was not running): firing once now",
                job.full_name, row.next_fire_at,
            )  # fmt: skip
        with self.store.atomic():
            if not self.store.schedules.advance(
                row.job_uuid, expected=row.next_fire_at, next_fire_at=following, fired_at=now
            ):
                return None  # another process fired it
            try:
                execution = self.executions.start(
                    row.project, job, {}, execution_type="scheduled", fire_at=row.next_fire_at
                )
            except AlreadyFiredError as exc:  # another host fired this time first: nothing to do here
                log.debug("scheduled fire of job %s: %s", job.full_name, exc)
                self.store.schedules.record_fire(row.job_uuid, execution_id=exc.execution_id, error=None)
                return None
            except (StateError, OptionValueError) as exc:
                log.warning("scheduled fire of job %s queued nothing: %s", job.full_name, exc)
                self.store.schedules.record_fire(row.job_uuid, execution_id=None, error=str(exc))
                return None
            self.store.schedules.record_fire(row.job_uuid, execution_id=execution.id, error=None)
        log.info(
            "schedule of job %s fired: execution %s", job.full_name, execution.id,
            extra={"event": "schedule.fired", "job": job.full_name, "execution_id": execution.id},
        )  # fmt: skip
        return execution.id

    # -- the loop ------------------------------------------------------------------------------------------------

    def wake(self) -> None:
        """Jobs may have changed: end the current wait of :meth:`run`."""
        self._wake.set()

    def request_stop(self) -> None:
        """Ask :meth:`run` to return."""
        self._stop.set()
        self._wake.set()

    def run(self, until: Callable[[], bool] | None = None, *, max_wait: float = 1.0) -> None:
        """Tick, then wait until the next fire time, until ``until()`` is true or a stop is requested.

        The wait is :func:`~xlr_runtime.clock.wait_for_due`: the next fire time through the clock (at most
        ``max_wait`` on the system clock, so jobs loaded by another process are seen; a virtual clock jumps to
        it), and ``max_wait`` real seconds when no schedule fires at all."""
        while not self._stop.is_set() and not (until is not None and until()):
            self._wake.clear()
            try:
                self.tick()
                due = self.store.schedules.next_due_at()
                self._tick_failure = None
            except Exception as exc:  # the store itself failed: logged once while it repeats, retried after max_wait
                failure = f"{type(exc).__name__}: {exc}"
                if failure != self._tick_failure:
                    log.exception("schedule tick failed; trying again every %gs", max_wait)
                self._tick_failure = failure
                due = None  # a real wait of max_wait, never a busy loop on a due time that cannot be fired
            wait_for_due(self.clock, self._wake, due, max_wait=max_wait)


def list_schedules(store: Store, project: str, *, now: float, default_zone: ZoneInfo) -> list[ScheduleEntry]:
    """The schedule of every scheduled job of ``project`` (read-only; no server needed). A stored fire time that
    is still pending — in the past when no server ran since — wins over one computed from ``now``."""
    rows = {row.job_uuid: row for row in store.schedules.list(project)}
    entries = []
    for job in JobStore(store).list(project):
        current = plan(job, now=now, default_zone=default_zone)
        if current.crontab is None:
            continue
        row = rows.get(str(job.uuid))
        next_fire = current.next_fire_at
        kept = current.kept_fire_time(row)
        if kept is not None and next_fire is not None:
            next_fire = min(next_fire, kept)
        entries.append(
            ScheduleEntry(
                job_uuid=str(job.uuid),
                full_name=job.full_name,
                crontab=current.crontab,
                time_zone=current.time_zone,
                next_fire_at=next_fire,
                note=current.note,
                last_fire_at=None if row is None else row.last_fire_at,
                last_execution_id=None if row is None else row.last_execution_id,
                last_error=None if row is None else row.last_error,
            )
        )
    return entries


def schedule_zone(entry: ScheduleEntry) -> ZoneInfo:
    """The entry's zone (a fire time exists, so a named zone is valid); the server's for ``localtime``."""
    return ZoneInfo(str(entry.time_zone)) if entry.time_zone not in (None, "localtime") else server_zone()


def fire_times(entry: ScheduleEntry, count: int) -> list[float]:
    """The next ``count`` fire times of a listed schedule (none for one that does not fire), as ``xlr schedules``
    and the dashboard show them."""
    if entry.next_fire_at is None or entry.crontab is None:
        return []
    later = parse(entry.crontab).fire_times(max(entry.next_fire_at, time.time()), schedule_zone(entry), count - 1)
    return [entry.next_fire_at, *later]


def serve_schedules(
    service: ScheduleService, *, until: Callable[[], bool] | None = None, max_wait: float = 1.0
) -> threading.Thread:
    """Run ``service`` in a daemon thread (``xlr serve``) until ``until()`` or ``service.request_stop()``."""
    thread = threading.Thread(
        target=service.run, kwargs={"until": until, "max_wait": max_wait}, name="xlr-schedules", daemon=True
    )
    thread.start()
    return thread
