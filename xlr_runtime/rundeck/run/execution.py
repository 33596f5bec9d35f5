"""Executions of Rundeck jobs: start (options checked first), drive, retry, abort, recover after a crash.

:class:`ExecutionService` is the durable loop for executions, as the task :class:`~xlr_runtime.scheduler.Scheduler`
is for script runs: :meth:`~ExecutionService.tick` claims due executions (queued, or retries whose delay has
passed) and drives each in a thread with :class:`~xlr_runtime.rundeck.run.workflow.WorkflowRun`;
:meth:`~ExecutionService.run` ticks and sleeps until the next due time (through the injected clock, as every
service loop: :func:`~xlr_runtime.clock.wait_for_due`). Plugin steps whose type is a loaded
task type become tasks of the task engine (run by the scheduler in the same process) and the step waits for
the task to end.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from xlr_runtime.clock import Clock, SystemClock, wait_for_due
from xlr_runtime.errors import (
    ClaimLostError,
    NotFoundError,
    OptionValueError,
    StateError,
    TaskInputError,
    UnknownTypeError,
    XlrError,
)
from xlr_runtime.mask import MASK
from xlr_runtime.rundeck.jobs.durations import LogLimit, parse_duration, parse_log_limit
from xlr_runtime.rundeck.jobs.jobstore import JobStore
from xlr_runtime.rundeck.jobs.model import Job, JobRefStep, PluginStep
from xlr_runtime.rundeck.jobs.validation import whole_number
from xlr_runtime.rundeck.jobs.xml_export import dump_jobs_xml
from xlr_runtime.rundeck.keystore import KeyStore
from xlr_runtime.rundeck.nodes.resources import Node, local_node
from xlr_runtime.rundeck.run.context import DATA_LINE, DataContext, expand
from xlr_runtime.rundeck.run.execution_job import job_of
from xlr_runtime.rundeck.run.jobref import disabled_result, lookup_uuid, nodes_project, with_node_overrides
from xlr_runtime.rundeck.run.options import ResolvedOptions, deferred_paths, parse_arg_string, resolve_options
from xlr_runtime.rundeck.run.workflow import Outcome, StepCall, StepResult, WorkflowRun, WorkflowStopped, job_identity
from xlr_runtime.scripting.masking import Masker
from xlr_runtime.secrets import SecretBox
from xlr_runtime.store.executions import Execution, ExecutionStatus
from xlr_runtime.store.owners import ProcessIdentity, Verdict, renew_interval
from xlr_runtime.task_records import Task, TaskStatus

if TYPE_CHECKING:
    import re

    import pluggy

    from xlr_runtime.engine import Engine
    from xlr_runtime.rundeck.notify.notifications import Notifier
    from xlr_runtime.store import Store

log = logging.getLogger(__name__)

#: Rundeck's log levels, most severe first; a job shows the lines at or above its loglevel.
LOG_LEVELS = {"ERROR": 1, "WARN": 2, "NORMAL": 3, "INFO": 3, "VERBOSE": 4, "DEBUG": 5}
#: How often a plugin step checks its task (seconds).
TASK_POLL = 0.05

#: A pluggy-provided step type: called with the expanded configuration and a :class:`StepCall`; returns data
#: values (``${data.KEY}`` for later steps) or ``None``; raising fails the step with the exception's message.
StepFunction = Callable[..., Mapping[str, str] | None]


class JobSource(Protocol):
    """Where job references and ``xlr jobs run`` find jobs."""

    def find(self, project: str, *, uuid: str | None = None, group: str | None = None, name: str | None = None) -> Job:
        """The job with ``uuid``, or with ``group``/``name``, in ``project``; :class:`NotFoundError` if none."""
        ...


class JobList:
    """An in-memory :class:`JobSource` (tests, and files given on the command line)."""

    def __init__(self, jobs: Mapping[str, list[Job]] | None = None) -> None:
        self.jobs: dict[str, list[Job]] = {project: list(items) for project, items in (jobs or {}).items()}

    def add(self, project: str, *jobs: Job) -> None:
        """Add jobs to ``project``."""
        self.jobs.setdefault(project, []).extend(jobs)

    def find(self, project: str, *, uuid: str | None = None, group: str | None = None, name: str | None = None) -> Job:
        """See :meth:`JobSource.find`."""
        for job in self.jobs.get(project, []):
            if uuid is not None and job.uuid == uuid:
                return job
            if uuid is None and job.name == name and (job.group or None) == (group or None):
                return job
        wanted = uuid or (f"{group}/{name}" if group else str(name))
        raise NotFoundError(f"no job {wanted!r} in project {project!r}")


class StoredJobs:
    """The :class:`JobSource` of the store's jobs area (``xlr jobs load``)."""

    def __init__(self, store: Store) -> None:
        self.jobs = JobStore(store)

    def find(self, project: str, *, uuid: str | None = None, group: str | None = None, name: str | None = None) -> Job:
        """See :meth:`JobSource.find`; a uuid may name a job of another project, as in Rundeck."""
        if uuid:
            return self.jobs.get(uuid)
        return self.jobs.find(project, f"{group}/{name}" if group else str(name))


def step_types_from(pm: pluggy.PluginManager) -> dict[str, StepFunction]:
    """The step types every plugin offers through ``xlr_rundeck_step_types`` (later plugins win)."""
    types: dict[str, StepFunction] = {}
    for offered in reversed(pm.hook.xlr_rundeck_step_types()):
        types.update(offered or {})
    return types


class ExecutionLogWriter:
    """Writes an execution's log lines: level filter, secret masking, the log limit (halt or truncate), and a
    copy into the parent's log for a job-reference child, whose step context there is Rundeck's ``N/M`` (the
    parent's step ``N``, the child's step ``M``)."""

    def __init__(
        self,
        service: ExecutionService,
        execution_id: int,
        *,
        loglevel: str,
        limit: LogLimit | None,
        action: str,
        masker: Masker,
        claim_token: int | None = None,
        parent: ExecutionLogWriter | None = None,
        parent_step: int | None = None,
    ) -> None:
        self.service = service
        self.execution_id = execution_id
        #: The claim its lines are written under (:meth:`ExecutionRepository.add_log`).
        self.claim_token = claim_token
        self.threshold = LOG_LEVELS.get(loglevel, 3)
        self.limit = limit
        self.action = action or "halt"
        self.masker = masker
        self.parent = parent
        #: The parent's step (0-based) that runs this job reference.
        self.parent_step = parent_step
        self.lines = 0
        self.bytes = 0
        self.node_lines: dict[str | None, int] = {}
        self.truncated = False
        #: Nodes whose output a per-node limit truncated (the other nodes keep logging).
        self.truncated_nodes: set[str | None] = set()
        self.halted = False
        self.lock = threading.Lock()

    def system(self, level: str, text: str, *, node: Node | None = None, step: int | None = None) -> None:
        """A line of the runtime's own (not counted by the log limit)."""
        self._system(level, text, node, _stepctx(step))

    def output(self, level: str, text: str, *, node: Node | None = None, step: int | None = None) -> bool:
        """A line of step output; returns ``False`` when the log limit says to halt."""
        return self._output(level, text, node, _stepctx(step))

    def _in_parent(self, stepctx: str | None) -> str | None:
        """The step context of one of this log's lines in the parent's log."""
        if self.parent_step is None:
            return stepctx
        return f"{self.parent_step + 1}/{stepctx}" if stepctx else str(self.parent_step + 1)

    def _system(self, level: str, text: str, node: Node | None, stepctx: str | None) -> None:
        masked = self._store(level, text, node, stepctx)
        if self.parent is not None:
            self.parent._system(level, masked, node, self._in_parent(stepctx))

    def _output(self, level: str, text: str, node: Node | None, stepctx: str | None) -> bool:
        name = None if node is None else node.name
        with self.lock:
            if self.halted:
                return False
            if self.truncated or name in self.truncated_nodes:
                return True
            self.lines += 1
            self.bytes += len(text.encode()) + 1
            self.node_lines[name] = self.node_lines.get(name, 0) + 1
            exceeded = self.limit is not None and self.limit.exceeded(
                lines=self.lines, node_lines=self.node_lines[name], size=self.bytes
            )
            if exceeded and self.action == "truncate" and self.limit is not None and self.limit.per_node:
                self.truncated_nodes.add(name)
            elif exceeded and self.action == "truncate":
                self.truncated = True
            elif exceeded:
                self.halted = True
        if exceeded:
            what = "halting the execution" if self.halted else "output truncated"
            self._system("WARN", f"Log output limit exceeded: {what}", node, stepctx)
            return not self.halted
        masked = self._store(level, text, node, stepctx)
        if self.parent is not None:
            return self.parent._output(level, masked, node, self._in_parent(stepctx))
        return True

    def _store(self, level: str, text: str, node: Node | None, stepctx: str | None) -> str:
        """Store the line (masked) when its level is logged; return it masked, as the parent's log gets it (the
        parent's masker knows none of this job's own secrets)."""
        masked = self.masker.mask(text)
        if LOG_LEVELS.get(level, 3) <= self.threshold:
            line = (time.time(), level, None if node is None else node.name, stepctx)
            self.service.store.executions.add_log(self.execution_id, [(*line, masked)], claim_token=self.claim_token)
        return masked


def _stepctx(step: int | None) -> str | None:
    """Rundeck's step context of the 0-based step ``step``: ``1`` for the first."""
    return None if step is None else str(step + 1)


class ExecutionService:
    """Starts and drives executions of one store.

    ``engine`` (with ``wake_tasks``) runs plugin steps whose type is a task type; ``step_types`` maps other
    plugin step types to functions (from the ``xlr_rundeck_step_types`` hook). ``lease`` is the runtime's
    ``cluster.lease_seconds``: :meth:`run` looks for the executions of owners gone meanwhile as often as the
    runtime renews that lease (:func:`~xlr_runtime.store.owners.renew_interval`).
    """

    def __init__(
        self,
        store: Store,
        *,
        home_root: Path,
        jobs: JobSource | None = None,
        clock: Clock | None = None,
        server_node: Node | None = None,
        engine: Engine | None = None,
        wake_tasks: Callable[[], None] | None = None,
        step_types: Mapping[str, StepFunction] | None = None,
        user: str | None = None,
        capacity: int = 8,
        capture_pattern: re.Pattern[str] = DATA_LINE,
        notifier: Notifier | None = None,
        lease: float,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.home_root = Path(home_root)
        self.jobs = jobs or StoredJobs(store)
        self.clock = clock or SystemClock()
        self.server_node = server_node or local_node()
        self.engine = engine
        self.wake_tasks = wake_tasks or (lambda: None)
        self.step_types = dict(step_types or {})
        self.user = user or getpass.getuser()
        self.capacity = capacity
        self.capture_pattern = capture_pattern
        self.secrets = SecretBox(self.home_root)
        self.keys = KeyStore(store, secrets=self.secrets, clock=self.clock)
        self._threads: dict[int, threading.Thread] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._recovered_at = float("-inf")
        #: Seconds between two looks for executions of owners gone meanwhile.
        self.recover_every = renew_interval(lease)

    # -- starting ----------------------------------------------------------------------------------------------

    def start(
        self,
        project: str,
        job: Job,
        supplied: Mapping[str, str | list[str]] | None = None,
        *,
        user: str | None = None,
        execution_type: str = "user",
        fire_at: float | None = None,
    ) -> Execution:
        """Check the option values and queue an execution due now (for the schedule fire time ``fire_at``, when
        given). Raises :class:`OptionValueError` (bad option value, retry count that is not a number) or
        :class:`StateError` (multipleExecutions=false and the job is running, or its executions are disabled;
        :class:`AlreadyFiredError` when the fire time already has its execution); nothing is stored then."""
        if not job.execution_enabled:
            raise StateError(
                f"job '{job.full_name}' has executions disabled (executionEnabled is false)",
                hint="Enable them in the job definition and load it again.",
            )
        resolved = self._resolve(project, job, dict(supplied or {}), user=user or self.user)
        self._retry_count(job, resolved)
        execution = self._create(
            project,
            job,
            resolved,
            user=user or self.user,
            execution_type=execution_type,
            exclusive=not job.multiple_executions,
            fire_at=fire_at,
        )
        self.wake()
        return execution

    def _resolve(
        self, project: str, job: Job, supplied: Mapping[str, str | list[str]], *, user: str
    ) -> ResolvedOptions:
        """The checked option values of ``job``, ``storagePath`` defaults read from the home's key storage."""
        job_context = {"id": job.uuid or job.id or "", "name": job.name, "group": job.group or "", "project": project}
        job_context |= {"username": user, "user.name": user}
        return resolve_options(job.options, supplied, read_password=self.keys.read_password, job=job_context)

    def _create(
        self,
        project: str,
        job: Job,
        resolved: ResolvedOptions,
        *,
        user: str,
        execution_type: str,
        exclusive: bool = False,
        parent_id: int | None = None,
        fire_at: float | None = None,
    ) -> Execution:
        """Store a queued execution of ``job`` due now: its options masked, the secure values sealed apart, the
        warnings of its options (a ``storagePath`` default that could not be read) in its log."""
        secure = {k: v for k, v in resolved.values.items() if k in resolved.secure}
        with self.store.atomic():  # the execution and the warnings of its options are stored together
            execution = self.store.executions.create(
                project=project,
                job_id=job.uuid or job.id,
                job_name=job.name,
                job_group=job.group,
                job_xml=dump_jobs_xml([job]),
                options=resolved.masked(),
                secure_blob=self.secrets.seal(secure) if secure else None,
                arg_string=resolved.arg_string(),
                user=user,
                execution_type=execution_type,
                now=self.clock.now(),
                exclusive=exclusive,
                parent_id=parent_id,
                fire_at=fire_at,
            )
            if resolved.warnings:
                now = self.clock.now()
                self.store.executions.add_log(execution.id, [(now, "WARN", None, None, w) for w in resolved.warnings])
        return execution

    def _retry_count(self, job: Job, options: ResolvedOptions) -> int:
        if not job.retry:
            return 0
        context = DataContext()
        context.merge("option", options.context()["option"])
        raw = expand(job.retry, context)
        count = whole_number(raw)
        if count is None:
            raise OptionValueError(f"retry count {raw!r} of job {job.full_name!r} is not an integer")
        return count

    # -- the loop ----------------------------------------------------------------------------------------------

    def recover(self) -> list[Execution]:
        """Re-queue the executions of owners that are gone — their process ended, or their lease ran out (a host
        lost, a process stalled): the rule of :mod:`~xlr_runtime.store.owners` — so they resume (their cursor is
        kept) wherever they are claimed next; one log line per owner. :meth:`run` recovers at start and every
        :attr:`recover_every` seconds. Their late writes are fenced (:class:`~xlr_runtime.errors.ClaimLostError`)."""
        now = self.clock.now()
        self._recovered_at = now
        owners = self.store.executions.running_owners()
        gone = self.store.owners.verdicts_of(owners, ProcessIdentity.current(), now, me=self.store.owner)
        resumed: list[Execution] = []
        for owner, verdict in gone.items():
            requeued = self.store.executions.requeue_running(now=now, owners=[owner])
            if requeued and verdict is Verdict.ENDED:
                log.info("re-queued %d execution(s) left running by %s, a process that ended", len(requeued), owner)
            elif requeued:
                log.warning("took over %d execution(s) of %s: its lease ran out", len(requeued), owner)
            resumed += requeued
        return resumed

    def tick(self, now: float | None = None) -> int:
        """Claim due executions and drive each in its own thread; return how many started."""
        self._threads = {k: t for k, t in self._threads.items() if t.is_alive()}
        if self._stop.is_set():
            return 0
        now = self.clock.now() if now is None else now
        with self.store.atomic():  # start notifications are recorded with the claim (sent once it is committed)
            limit = self.capacity - len(self._threads)
            claimed = self.store.executions.claim_due(now, owner=self.store.owner, limit=limit)
            if self.notifier is not None:
                self.notifier.record_started(claimed)
        if claimed and self.notifier is not None:
            self.notifier.wake()
        for execution in claimed:
            log.info(
                "execution %s of %s started", execution.id, execution.job_full_name,
                extra={"event": "execution.started", "execution_id": execution.id, "job": execution.job_full_name},
            )  # fmt: skip
            thread = threading.Thread(
                target=self._drive_safely, args=(execution,), name=f"xlr-execution-{execution.id}", daemon=True
            )
            self._threads[execution.id] = thread
            thread.start()
        return len(claimed)

    def _drive_safely(self, execution: Execution) -> None:
        try:
            self.drive(execution)
        except ClaimLostError as lost:  # another runtime resumed it after this one's lease ran out: stop here
            log.warning("%s", lost, extra={"execution_id": execution.id})
        except Exception as exc:  # a bug must not leave the execution running forever
            log.exception("execution %s failed in the runtime", execution.id)
            with contextlib.suppress(ClaimLostError), self.store.atomic():  # resumed elsewhere: not ours to end
                ended = self.store.executions.finish(
                    execution.id,
                    status=ExecutionStatus.FAILED,
                    now=self.clock.now(),
                    failure=f"runtime error: {exc}",
                    claim_token=execution.claim_token,
                )
                if self.notifier is not None:
                    self.notifier.record_ended(ended)
        finally:
            self._wake.set()

    def wake(self) -> None:
        """Something new may be due: end the current sleep of :meth:`run`."""
        self._wake.set()

    def request_stop(self) -> None:
        """Ask :meth:`run` to return (running executions keep their threads); the notifier stops too."""
        self._stop.set()
        self._wake.set()
        if self.notifier is not None:
            self.notifier.request_stop()

    @property
    def stop_requested(self) -> bool:
        """True once :meth:`request_stop` was called."""
        return self._stop.is_set()

    def run(self, until: Callable[[], bool] | None = None, *, max_wait: float = 1.0) -> None:
        """Recover, then tick and sleep until ``until()`` is true or a stop is requested.

        The sleep is :func:`~xlr_runtime.clock.wait_for_due`: until the next queued execution (a retry after its
        delay) through the clock, so a virtual clock jumps to it; ``max_wait`` real seconds while nothing is
        queued, so running steps are not raced by a virtual clock."""
        self.recover()
        while not self._stop.is_set() and not (until is not None and until()):
            self._wake.clear()
            if self.clock.now() - self._recovered_at >= self.recover_every:  # an owner may have gone since
                self.recover()
            self.tick()
            if until is not None and until():
                break
            wait_for_due(self.clock, self._wake, self.store.executions.next_due_at(), max_wait=max_wait)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the threads driving executions to end."""
        for thread in list(self._threads.values()):
            thread.join(timeout)

    def final_of_chain(self, execution_id: int) -> Execution:
        """The last execution of a retry chain starting at ``execution_id`` (it may still be running)."""
        execution = self.store.executions.get(execution_id)
        while execution.status == ExecutionStatus.FAILED_WITH_RETRY:
            retry = self.store.executions.retry_of(execution.id)
            if retry is None:
                break
            execution = retry
        return execution

    def abort(self, execution_id: int) -> Execution:
        """Abort a queued (at once) or running (its runner stops it) execution."""
        return self.store.executions.request_abort(execution_id, now=self.clock.now())

    # -- driving one execution -------------------------------------------------------------------------------

    def drive(self, execution: Execution) -> Execution:
        """Run (or resume) a claimed execution to its end in the calling thread; returns it ended."""
        job = job_of(execution)
        options = self._options_of(execution, job)
        writer = self._writer(execution, job, options)
        deadline = self._deadline(execution, job, options)
        context = self._context(execution, job, options)
        if execution.restarts and execution.cursor:
            writer.system("WARN", "Resumed after a restart of the runtime; the step that was running is run again")
        elif not execution.cursor:
            writer.system("VERBOSE", f"Execution {execution.id} of {execution.job_full_name} by {execution.user}")
        run = WorkflowRun(self, execution, job, options, writer, deadline=deadline, context=context)
        outcome = run.run()
        return self._finish(execution, job, options, outcome, writer)

    def _options_of(self, execution: Execution, job: Job) -> ResolvedOptions:
        values = dict(execution.options)
        if execution.secure_blob:
            values.update(self.secrets.open(execution.secure_blob))
        return ResolvedOptions(
            values=values,
            delimiters={o.name: o.delimiter or "," for o in job.options if o.multivalued and o.name in values},
            secure=frozenset(o.name for o in job.options if o.secure),
            exposed=frozenset(o.name for o in job.options if o.secure and o.value_exposed),
            deferred=deferred_paths(job.options, set(values)),  # a deferred option is stored without a value
        )

    def _writer(
        self,
        execution: Execution,
        job: Job,
        options: ResolvedOptions,
        parent: ExecutionLogWriter | None = None,
        parent_step: int | None = None,
    ) -> ExecutionLogWriter:
        limit_context = DataContext()
        limit_context.merge("option", options.context()["option"])
        return ExecutionLogWriter(
            self,
            execution.id,
            loglevel=job.loglevel,
            limit=parse_log_limit(expand(job.log_limit, limit_context)) if job.log_limit else None,
            action=job.log_limit_action or "halt",
            masker=Masker(options.secret_values()),
            claim_token=execution.claim_token,
            parent=parent,
            parent_step=parent_step,
        )

    def _deadline(self, execution: Execution, job: Job, options: ResolvedOptions) -> float | None:
        if execution.deadline_at is not None:
            return execution.deadline_at
        if not job.timeout:
            return None
        context = DataContext()
        context.merge("option", options.context()["option"])
        seconds = parse_duration(expand(job.timeout, context))
        if seconds <= 0:
            return None
        deadline = (execution.started_at or time.time()) + seconds
        self.store.executions.save_progress(
            execution.id,
            cursor=execution.cursor,
            context=execution.context,
            deadline_at=deadline,
            claim_token=execution.claim_token,
        )
        return deadline

    def _context(self, execution: Execution, job: Job, options: ResolvedOptions) -> DataContext:
        if execution.context:
            return DataContext.from_dict(self.secrets.open_rows(execution.context))
        context = DataContext()
        for ctx, values in options.context().items():
            context.merge(ctx, values)
        context.merge("job", self._job_context(execution, job))
        return context

    def _job_context(self, execution: Execution, job: Job) -> dict[str, str]:
        return {
            "id": job.uuid or job.id or "",
            "name": job.name,
            "group": job.group or "",
            "project": execution.project,
            "execid": str(execution.id),
            "username": execution.user,
            "user.name": execution.user,
            "loglevel": job.loglevel,
            "executionType": execution.execution_type,
            "filter": job.node_filter or "",
            "threadcount": job.dispatch.threadcount or "1",
            "successOnEmptyNodeFilter": str(job.dispatch.success_on_empty_node_filter).lower(),
            "retryAttempt": str(execution.attempt),
            "wasRetry": str(execution.attempt > 0).lower(),
            "retryInitialExecId": str(execution.retry_initial_id or ""),
            "retryPrevExecId": str(execution.retry_prev_id or ""),
            "serverUUID": "",
        }

    def _finish(
        self,
        execution: Execution,
        job: Job,
        options: ResolvedOptions,
        outcome: Outcome,
        writer: ExecutionLogWriter,
        *,
        notify: bool = True,
    ) -> Execution:
        now = self.clock.now()
        status, custom = outcome.status, None
        if status == ExecutionStatus.OTHER:
            custom = job.log_limit_status
        retry = self._retry_count(job, options) if execution.parent_id is None else 0
        will_retry = status not in (ExecutionStatus.SUCCEEDED, ExecutionStatus.ABORTED) and execution.attempt < retry
        if will_retry:
            status = ExecutionStatus.FAILED_WITH_RETRY
        writer.system("VERBOSE" if status == ExecutionStatus.SUCCEEDED else "ERROR", f"Execution {custom or status}")
        # The end's notification and the retry are recorded with the final status: a failed-with-retry
        # execution is never seen (nor left by a crash) without the retry that follows it.
        with self.store.atomic():
            ended = self.store.executions.finish(
                execution.id,
                status=status,
                now=now,
                failure=writer.masker.mask(outcome.failure) if outcome.failure else outcome.failure,
                custom_status=custom,
                succeeded_nodes=outcome.succeeded_nodes,
                failed_nodes=outcome.failed_nodes,
                claim_token=execution.claim_token,
            )
            if self.notifier is not None and notify:
                self.notifier.record_ended(ended)
            if will_retry:
                self._queue_retry(ended, job, options)
        if self.notifier is not None and notify:
            self.notifier.wake()
        log.info(
            "execution %s of %s ended: %s", ended.id, ended.job_full_name, ended.shown_status,
            extra={"event": "execution.ended", "execution_id": ended.id, "job": ended.job_full_name,
                   "status": ended.shown_status},
        )  # fmt: skip
        if will_retry:
            self.wake()
        return ended

    def _queue_retry(self, execution: Execution, job: Job, options: ResolvedOptions) -> Execution:
        """Store the retry of ``execution``, due after the job's retry delay (the caller wakes the loop once
        the transaction holding it has committed)."""
        context = DataContext()
        context.merge("option", options.context()["option"])
        delay = parse_duration(expand(job.retry_delay, context)) if job.retry_delay else 0
        return self.store.executions.create(
            project=execution.project,
            job_id=execution.job_id,
            job_name=execution.job_name,
            job_group=execution.job_group,
            job_xml=execution.job_xml,
            options=execution.options,
            secure_blob=execution.secure_blob,
            arg_string=execution.arg_string,
            user=execution.user,
            execution_type=execution.execution_type,
            now=self.clock.now(),
            due_at=self.clock.now() + delay,
            attempt=execution.attempt + 1,
            retry_initial_id=execution.retry_initial_id or execution.id,
            retry_prev_id=execution.id,
        )

    # -- job references and plugin steps (called by WorkflowRun) ---------------------------------------------

    def run_job_reference(self, run: WorkflowRun, step: JobRefStep, index: int, node: Node | None) -> StepResult:
        """Run the referenced job as a child execution, in this thread, its log copied into the parent's. The
        child fires its job's notifications unless the step has ``ignoreNotifications`` (as in Rundeck)."""
        project = step.project or run.execution.project
        try:
            child_job = self.jobs.find(project, uuid=lookup_uuid(step), group=step.group, name=step.name)
        except NotFoundError as exc:
            return StepResult(ok=False, reason="NotFound", message=str(exc))
        disabled = disabled_result(child_job, step)
        if disabled is not None:
            if disabled.ok:
                run.log.system("WARN", f"Job reference {disabled.message}", node=node, step=index)
            return disabled
        callers = [caller for caller, _ in run.chain]
        identity = job_identity(project, child_job)
        if identity in callers:  # Rundeck recurses until its stack overflows; here the step fails at once
            names = [name for _, name in run.chain[callers.index(identity) :]]
            cycle = " -> ".join(f'"{name}"' for name in [*names, child_job.full_name])
            return StepResult(
                ok=False,
                reason="JobReferenceCycle",
                message=f"job reference cycle: {cycle} (a job cannot run itself through its own job references)",
            )
        scope = None if node is None else node.name
        child_job = with_node_overrides(child_job, step, run.context, node=scope)
        child_nodes = nodes_project(step, parent_project=run.execution.project, child_project=project)
        try:
            supplied: dict[str, str | list[str]] = dict(
                parse_arg_string(expand(step.args or "", run.context, node=scope))
            )
            if step.import_options:
                names = {o.name for o in child_job.options}
                for name, value in run.options.values.items():
                    if name in names:
                        supplied.setdefault(name, value)
            resolved = self._resolve(project, child_job, supplied, user=run.execution.user)
        except OptionValueError as exc:
            return StepResult(ok=False, reason="InvalidOptions", message=str(exc))
        notifier = None if step.ignore_notifications else self.notifier
        with self.store.atomic():  # its onstart is recorded with the start (Rundeck: not when the parent is aborted)
            self.store.executions.hold(run.execution.id, run.execution.claim_token)  # only while the parent is ours
            child = self._create(
                project,
                child_job,
                resolved,
                user=run.execution.user,
                execution_type=run.execution.execution_type,
                parent_id=run.execution.id,
            )
            child = self.store.executions.start_child(child.id, owner=self.store.owner, now=self.clock.now())
            if notifier is not None and not self.store.executions.abort_requested(child.id):
                notifier.record_started([child])
        if notifier is not None:
            notifier.wake()
        run.log.system("VERBOSE", f"Job reference {child_job.full_name}: execution {child.id}", node=node, step=index)
        with run.lock:  # the execution state nests the child's workflow in this step (Rundeck's sub-workflow)
            run.cursor.setdefault("children", {})[f"{index + 1}@{scope or ''}"] = child.id
        run._save()
        writer = self._writer(child, child_job, resolved, parent=run.log, parent_step=index)
        deadline = self._deadline(child, child_job, resolved)
        if run.deadline is not None:
            deadline = run.deadline if deadline is None else min(deadline, run.deadline)
        context = self._context(child, child_job, resolved)
        outcome = WorkflowRun(
            self,
            child,
            child_job,
            resolved,
            writer,
            deadline=deadline,
            context=context,
            nodes_project=child_nodes,
            callers=run.chain,
        ).run()
        ended = self._finish(child, child_job, resolved, outcome, writer, notify=notifier is not None)
        if outcome.status in (ExecutionStatus.ABORTED, ExecutionStatus.TIMEDOUT) and run.should_stop() is not None:
            raise WorkflowStopped(run.should_stop())  # type: ignore[arg-type]
        if ended.status == ExecutionStatus.SUCCEEDED:
            return StepResult(ok=True)
        return StepResult(
            ok=False,
            reason="JobFailed",
            message=f"job {child_job.full_name} (execution {child.id}) {ended.shown_status}",
        )

    def run_plugin_step(
        self, run: WorkflowRun, step: PluginStep, index: int, node: Node | None, key: str
    ) -> StepResult:
        """A step-plugin or node-step-plugin: a pluggy step type, else a task of a loaded task type."""
        scope = None if node is None else node.name
        config = {k: expand(v, run.context, node=scope) for k, v in (step.configuration or {}).items()}
        function = self.step_types.get(step.type)
        if function is not None:
            return self._call_step_type(run, step, function, config, index, node)
        if self.engine is None:
            return _unknown_step_type(step.type)
        try:
            task_type = self.engine.registry.get(step.type)
        except UnknownTypeError:
            return _unknown_step_type(step.type)
        with run.lock:  # the cursor is saved (serialised) by other threads too: parallel steps, nodes
            task_id = run.cursor.setdefault("tasks", {}).get(key)
        if task_id is None:
            # a value derived from a secure option stays secret in the task too: sealed there, masked in its log
            secret = [name for name, value in config.items() if value and run.log.masker.mask(value) != value]
            try:
                with self.store.atomic():  # only while the execution is this runtime's
                    self.store.executions.hold(run.execution.id, run.execution.claim_token)
                    task = self.engine.create_task(
                        step.type,
                        config,
                        title=step.description or f"{run.job.full_name} step {index + 1}",
                        secret_inputs=secret,
                    )
            except TaskInputError as exc:
                return StepResult(ok=False, reason="InvalidConfiguration", message=str(exc))
            task_id = task.id
            with run.lock:
                run.cursor["tasks"][key] = task_id
            run._save()
            self.wake_tasks()
        task = self._wait_for_task(run, task_id)
        for line in self.store.tasks.log(task_id):
            run.log.output("NORMAL", line.text, node=node, step=index)
        for prop in task_type.by_category("output"):
            value = task.properties.get(prop.name)
            if value is not None:  # a password output is a secret: later steps see it masked, never in clear
                text = MASK if prop.password else value if isinstance(value, str) else json.dumps(value)
                run.context.put("data", prop.name, text, node=scope)
        run._save()
        if task.status == TaskStatus.COMPLETED:
            return StepResult(ok=True)
        return StepResult(ok=False, reason="TaskFailed", message=task.failure or f"task {task_id} {task.status}")

    def _wait_for_task(self, run: WorkflowRun, task_id: str) -> Task:
        while True:
            task = self.store.tasks.get(task_id)
            if task.status.is_final:
                return task
            stop = run.should_stop()
            if stop is not None:
                if self.engine is not None:
                    with contextlib.suppress(XlrError):
                        self.engine.abort(task_id, reason=f"Execution {run.execution.id} {stop}")
                raise WorkflowStopped(stop)
            time.sleep(TASK_POLL)

    def _call_step_type(
        self,
        run: WorkflowRun,
        step: PluginStep,
        function: StepFunction,
        config: dict[str, str],
        index: int,
        node: Node | None,
    ) -> StepResult:
        scope = None if node is None else node.name
        call = StepCall(
            execution_id=run.execution.id,
            node=node,
            context=run.context.flatten(node=scope),
            log=lambda text: run.log.output("NORMAL", text, node=node, step=index) and None,
        )
        try:
            data = function(configuration=config, call=call) or {}
        except Exception as exc:  # a step plugin's own failure fails the step, with its message
            return StepResult(ok=False, reason="PluginFailed", message=f"{step.type}: {exc}")
        for name, value in {**call.data, **data}.items():
            run.context.put("data", name, str(value), node=scope)
        return StepResult(ok=True)


def _unknown_step_type(type_name: str) -> StepResult:
    return StepResult(
        ok=False,
        reason="PluginNotFound",
        message=f"step type {type_name!r} is not a loaded task type or a step plugin",
    )
