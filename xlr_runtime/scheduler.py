"""The scheduler: claims due script runs, hands them to the worker pool, and commits their results.

``tick(now)`` does one round: commit every finished run (group commit), then claim as many due runs as the pool
has free workers and submit them. With a real clock a claim also takes the runs falling due in the next
:data:`CLAIM_AHEAD` seconds, which their workers start at their due times (``ScriptRunRequest.not_before``).
``run(stop)`` recovers from a previous crash, then loops: tick, and sleep until the next due time
(:data:`WAKE_AHEAD` before it) or until something happens (a run finishes, :meth:`Scheduler.wake` is called for new
work) — there is no fixed polling period. Stopping lets running scripts finish for ``serve.grace_period`` seconds and
re-queues the rest, so nothing is lost.

The scheduler registers its process as the owner of the runs it claims and renews the lease of the owner and its
runs every :func:`~xlr_runtime.store.owners.renew_interval` from a thread of its own
(:mod:`xlr_runtime.store.owners`); recovery takes over only the runs of owners that are gone, at start and at
each renewal. When the database cannot be written for now (disk full, read-only, I/O error), results wait in
memory and are committed when it can again: one log line when it starts, retries with a growing pause (up to
:data:`RETRY_MAX` seconds), one line when it ends; no claim is made meanwhile.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

import pluggy

from xlr_runtime.cis import CiCatalog
from xlr_runtime.clock import Clock, SystemClock
from xlr_runtime.engine import RESTART_NOTE, STOP_NOTE, STOPPED_NOTE, TAKEN_OVER_NOTE, Engine, TypeSource
from xlr_runtime.errors import StoreError, StoreUnavailableError
from xlr_runtime.scripting.contract import Failure, RunOutcome, ScriptExecutor, ScriptRunRequest, ScriptRunResult
from xlr_runtime.settings import Settings
from xlr_runtime.store import RunCompletion, ScriptRun, Store
from xlr_runtime.store.owners import OwnerRecord, Verdict, describe, renew_interval

log = logging.getLogger(__name__)

#: Runs claimed per worker: runs wait in the pool's queue, so a worker never waits for the scheduler, and a busy
#: pool gets batches (one message per batch to a worker, one transaction per batch of results). Only due runs are
#: claimed, so a deep queue never delays a run that is not due yet.
CAPACITY_PER_WORKER = 32

#: Seconds after ``now`` a claim reaches (with a real clock): runs falling due within them are claimed and handed
#: over together, and each starts at its due time in its worker (``ScriptRunRequest.not_before``), so 1,000 runs
#: falling due in the same moments cost a few claims, not one each. A claimed run is leased like any other.
CLAIM_AHEAD = 0.020
#: Seconds before the next due time the loop wakes (with a real clock): what a claim and its hand-over take.
WAKE_AHEAD = 0.002

#: First pause before writing again to a database that could not be written (seconds); it doubles up to
#: :data:`RETRY_MAX`.
RETRY_FIRST = 0.5
RETRY_MAX = 10.0


@dataclasses.dataclass(frozen=True)
class Recovery:
    """What :meth:`Scheduler.recover` re-queued: the runs whose process ended (``restarted``: a crash, a restart),
    and the runs taken over from owners whose lease ran out (``taken_over``, by owner: another host lost, a process
    stalled)."""

    restarted: list[ScriptRun] = dataclasses.field(default_factory=list)
    taken_over: dict[str | None, list[ScriptRun]] = dataclasses.field(default_factory=dict)

    @property
    def runs(self) -> list[ScriptRun]:
        """Every run re-queued, those whose process ended first."""
        return [*self.restarted, *(run for lost in self.taken_over.values() for run in lost)]

    def summary(self) -> str:
        """What happened, in a few words: ``2 script run(s) re-queued from a process that ended, 1 taken over from
        1 owner whose lease ran out`` (``no script run re-queued`` when nothing was)."""
        parts = [f"{len(self.restarted)} script run(s) re-queued from a process that ended"] if self.restarted else []
        if self.taken_over:
            taken = sum(len(lost) for lost in self.taken_over.values())
            whose = "owner whose lease" if len(self.taken_over) == 1 else "owners whose leases"
            what = "taken over" if parts else "script run(s) taken over"
            parts.append(f"{taken} {what} from {len(self.taken_over)} {whose} ran out")
        return ", ".join(parts) or "no script run re-queued"


class Scheduler:
    """Drives due script runs of one store through one executor.

    ``capacity`` bounds the runs in flight (default: twice ``workers.size``); ``only_task`` limits it to one task's
    runs (``xlr run`` drives only the task it created); ``engine`` shares a runtime's engine instead of
    building one. Not thread-safe by itself: one thread
    calls ``tick``/``run``; other threads only call :meth:`wake` and :meth:`request_stop`.
    """

    def __init__(
        self,
        store: Store,
        registry: TypeSource,
        executor: ScriptExecutor,
        settings: Settings,
        clock: Clock | None = None,
        *,
        cis: CiCatalog | None = None,
        pm: pluggy.PluginManager | None = None,
        capacity: int | None = None,
        only_task: str | None = None,
        engine: Engine | None = None,
    ) -> None:
        self.store = store
        self.executor = executor
        self.settings = settings
        self.clock = clock or SystemClock()
        self.engine = engine or Engine(store, registry, settings, self.clock, cis=cis, pm=pm)
        self.capacity = capacity or CAPACITY_PER_WORKER * int(settings["workers.size"])
        #: A virtual clock's due times are not the workers' time: runs are claimed only when due.
        real = isinstance(self.clock, SystemClock)
        self.claim_ahead = CLAIM_AHEAD if real else 0.0
        self.wake_ahead = WAKE_AHEAD if real else 0.0
        self.lease = float(settings["cluster.lease_seconds"])
        #: Seconds between two renewals of the lease (and looks for runs of owners gone meanwhile).
        self.renew_every = renew_interval(self.lease)
        self.identity = self.engine.identity
        self.only_task = only_task
        self._inflight: dict[int, ScriptRun] = {}
        #: Results of finished runs, appended by the executor's threads (plain results: no future per run).
        self._finished: collections.deque[ScriptRunResult] = collections.deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._recovered = False
        self._wakes = 0  # calls of wake(): new work another thread (or process) may have added
        #: In run(): (t, wakes) when no run can be due before t — read after the last commit, valid while wakes is
        #: unchanged; a tick then only commits (a finished run adds no due run before its commit).
        self._quiet_until: tuple[float, int] | None = None
        #: Tasks this scheduler brought to an end (completed or failed), for callers waiting on a batch.
        self.ended = 0
        #: Results (with their task ids) not committed yet: the database could not be written.
        self._uncommitted: list[tuple[RunCompletion, str]] = []
        #: Runs claimed but not handed to the executor, to re-queue (the database could not be read meanwhile).
        self._stranded: list[int] = []
        #: While the database cannot be written: (when it started, the pause, time.monotonic() of the next try).
        self._outage: tuple[float, float, float] | None = None
        self._registered = False
        self._purpose = "scheduler"
        self._heartbeat: threading.Thread | None = None
        self._heartbeat_stop = threading.Event()

    # -- one round ---------------------------------------------------------------------------------------------

    def tick(self, now: float | None = None) -> int:
        """Claim and submit the runs due at ``now`` (and within :attr:`claim_ahead` after it), then commit finished
        runs; return how many were submitted.

        Due runs go first, so a run never waits for its start behind the commit of other runs' results."""
        ready = not self._stop.is_set() and self._store_ready()
        submitted = self._start_due(self.clock.now() if now is None else now) if ready else 0
        self.collect()
        return submitted

    def _start_due(self, now: float) -> int:
        free = self.capacity - len(self._inflight) + len(self._finished)  # finished runs hold no worker
        try:
            runs = self.store.tasks.claim_due(
                now, free, owner=self.store.owner, lease=self.lease, task_id=self.only_task, ahead=self.claim_ahead
            )
        except StoreUnavailableError as exc:
            self._unavailable(exc)
            return 0
        if not runs:  # (a claim of nothing writes nothing: it does not tell the database can be written again)
            return 0
        self._available()
        try:
            # one read, for the started hooks and the requests; a task unchanged since its last run is not read again
            tasks = self.store.tasks.current(run.task_id for run in runs)
            self.engine.claimed(runs, tasks)
            prepared_runs = self.engine.prepare_all(runs, tasks)
        except StoreUnavailableError as exc:  # claimed, but nothing was handed over: give them back
            self._stranded.extend(run.id for run in runs)
            self._unavailable(exc)
            return 0
        except Exception:
            self._stranded.extend(run.id for run in runs)
            self._give_back()
            raise
        ready: list[tuple[ScriptRun, ScriptRunRequest]] = []
        for run, prepared in zip(runs, prepared_runs, strict=True):
            if isinstance(prepared, RunCompletion):
                self._uncommitted.append((prepared, run.task_id))
            else:
                ready.append((run, prepared))
        _submit_all(self.executor, [request for _, request in ready], self._on_done)
        self._inflight.update((run.id, run) for run, _ in ready)  # (results are read in this thread, after)
        return len(ready)

    def _give_back(self) -> None:
        """Re-queue the runs claimed but never handed to the executor (else they would stay running, owned by
        this live process, until it stops)."""
        try:
            now = self.clock.now()
            self.store.tasks.requeue_runs(self._stranded, owner=self.store.owner, now=now, note=STOPPED_NOTE)
        except StoreUnavailableError as exc:
            self._unavailable(exc)
            return
        self._stranded = []

    def collect(self) -> int:
        """Commit the results of every finished run (one transaction); return how many were committed.

        When the database cannot be written, the results stay for the next call (see the module)."""
        while self._finished:
            result = self._finished.popleft()
            run = self._inflight.pop(result.run_id, None)
            if run is None:  # re-queued by shutdown() meanwhile: the store would ignore its result
                continue
            self._uncommitted.append((self._completion(run, result), run.task_id))
        if not self._store_ready():
            return 0
        if self._stranded:
            self._give_back()
        if not self._uncommitted:
            return 0
        batch, self._uncommitted = self._uncommitted, []
        try:
            ended = self.engine.commit([c for c, _ in batch], {c.run_id: task_id for c, task_id in batch})
        except StoreUnavailableError as exc:
            self._uncommitted[:0] = batch
            self._unavailable(exc)
            return 0
        self._available()
        self.ended += len(ended)
        return len(batch)

    def _completion(self, run: ScriptRun, result: ScriptRunResult) -> RunCompletion:
        try:
            return self.engine.completion(run, result)
        except Exception as exc:  # a result the engine cannot read fails its run, never the loop
            log.exception("script run %s: its result cannot be used", run.id)
            return self.engine.unusable(run, f"its result cannot be used ({type(exc).__name__}: {exc})")

    # -- a database that cannot be written for now -------------------------------------------------------------

    def _store_ready(self) -> bool:
        return self._outage is None or time.monotonic() >= self._outage[2]

    def _unavailable(self, exc: StoreUnavailableError) -> None:
        """Note that the database could not be written: one log line when this starts, then a growing pause."""
        now = time.monotonic()
        if self._outage is None:
            log.error(
                "%s; %d result(s) kept in memory, trying again (every %g s at most)",
                exc,
                len(self._uncommitted),
                RETRY_MAX,
            )
            self._outage = (now, RETRY_FIRST, now + RETRY_FIRST)
        else:
            pause = min(self._outage[1] * 2, RETRY_MAX)
            self._outage = (self._outage[0], pause, now + pause)

    def _available(self) -> None:
        if self._outage is not None:
            log.info("the store can be written again after %.1f s", time.monotonic() - self._outage[0])
            self._outage = None

    def _on_done(self, result: ScriptRunResult) -> None:
        self._finished.append(result)
        if not self._wake.is_set():  # the loop clears it before each tick, which then sees this run
            self._wake.set()

    # -- the loop ----------------------------------------------------------------------------------------------

    def register(self, purpose: str = "scheduler", *, exclusive: bool = False) -> list[OwnerRecord]:
        """Record this process as the owner of the runs it claims, and renew its lease from now on (a thread).

        With ``exclusive`` (a process holding the home), first look for other owners still holding the home and
        register nothing when there are: they are returned (a process that took the home after its lock file
        was deleted). Raises :class:`StoreUnavailableError` when the database cannot be written."""
        self._purpose = purpose
        live = self.store.owners.register(
            self.store.owner,
            self.identity,
            purpose=purpose,
            now=self.clock.now(),
            lease=self.lease,
            exclusive=exclusive,
            digests=self.engine.registry.digests,
        )
        if live:
            return live
        self._registered = True
        self._compare_types()
        if self._heartbeat is None:
            self._heartbeat_stop.clear()
            self._heartbeat = threading.Thread(target=self._beat, name="xlr-lease", daemon=True)
            self._heartbeat.start()
        return []

    def recover(self) -> Recovery:
        """Re-queue runs left running by owners that are gone (each gets a log line; see
        :mod:`xlr_runtime.store.owners`); overdue runs stay due, so they start at once. A run whose task ended
        meanwhile is cancelled instead. Registers this scheduler first, if it is not yet. Call once, before the
        first tick, while holding the home lock; when the database cannot be written, :meth:`run` tries again."""
        try:
            if not self._registered:
                self.register()
            recovery = self._take_over()
        except StoreUnavailableError as exc:
            self._unavailable(exc)
            return Recovery()
        self._recovered = True
        return recovery

    def _take_over(self) -> Recovery:
        now = self.clock.now()
        gone = self.store.owners.verdicts(self.identity, now, me=self.store.owner)
        if not gone:
            return Recovery()
        ended = [owner for owner, verdict in gone.items() if verdict is Verdict.ENDED]
        recovery = Recovery(restarted=self.store.tasks.requeue_owned(ended, now=now, note=RESTART_NOTE))
        if recovery.restarted:
            log.info("re-queued %d script run(s) left running by a process that ended", len(recovery.restarted))
        for owner in (owner for owner, verdict in gone.items() if verdict is Verdict.LEASE_EXPIRED):
            note = TAKEN_OVER_NOTE.replace("{owner}", owner or "a runtime without a name")
            lost = self.store.tasks.requeue_owned([owner], now=now, note=note, lease_expired=True)
            if lost:
                log.warning("took over %d script run(s) of %s: its lease ran out", len(lost), owner)
                recovery.taken_over[owner] = lost
        self.store.owners.forget(owner for owner in gone if owner is not None)
        return recovery

    def _beat(self) -> None:
        """The lease thread: renew this owner's lease and take over runs of owners gone meanwhile."""
        while not self._heartbeat_stop.wait(self.renew_every):
            try:
                if not self.store.owners.renew(self.store.owner, now=self.clock.now(), lease=self.lease):
                    self._lease_lost()
                self._compare_types()
                if self._take_over().runs:
                    self.wake()
            except StoreError as exc:  # the run loop reports a database that cannot be written
                log.debug("lease not renewed: %s", exc)
            except Exception:  # never let the lease thread die
                log.exception("lease renewal failed")

    def _lease_lost(self) -> None:
        """This runtime's lease ran out (it stalled) and another took its runs over: register again; the results of
        the runs it lost are dropped when they end (their claims are stale)."""
        log.warning(
            "this runtime's lease ran out (it stalled); runs taken over by another runtime meanwhile are dropped "
            "when they end"
        )
        now = self.clock.now()
        self.store.owners.register(
            self.store.owner,
            self.identity,
            purpose=self._purpose,
            now=now,
            lease=self.lease,
            digests=self.engine.registry.digests,
        )

    def _compare_types(self) -> None:
        """Find the types other live runtimes of the store define differently (at registration and at each
        renewal): their runs are failed instead of run (:attr:`Engine.disagreements`); a change is logged."""
        found = self.store.owners.differing(
            self.engine.registry.digests, self.identity, self.clock.now(), me=self.store.owner
        )
        disagreements = {name: describe(owners) for name, owners in found.items()}
        if disagreements != self.engine.disagreements:
            if disagreements:
                log.warning(
                    "%d type(s) are defined differently by another runtime of this store (%s): their runs fail "
                    "until every host loads the same plugins",
                    len(disagreements),
                    ", ".join(f"{name} on {where}" for name, where in sorted(disagreements.items())),
                )
            else:
                log.info("every live runtime of this store loads the same definitions of its types again")
            self.engine.disagreements = disagreements

    def _unregister(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat_stop.set()
            self._heartbeat.join(timeout=5)
            self._heartbeat = None
        if self._registered:
            self._registered = False
            try:
                self.store.owners.release(self.store.owner)
            except StoreError as exc:
                log.warning("owner %s not released: %s", self.store.owner, exc)

    def wake(self) -> None:
        """New work may be due (a task was created, retried): end the current sleep. Thread-safe."""
        self._wakes += 1
        self._wake.set()

    def request_stop(self) -> None:
        """Ask :meth:`run` to stop (from another thread; signal handlers should only set a flag)."""
        self._stop.set()
        self._wake.set()

    def run(
        self,
        until: Callable[[], bool] | None = None,
        *,
        max_wait: float | None = None,
        grace_period: float | None = None,
        stop_note: str | None = None,
    ) -> None:
        """Tick and sleep until :meth:`request_stop` (or ``until()`` turns true), then :meth:`shutdown` with
        ``grace_period`` and ``stop_note``.

        ``max_wait`` bounds each sleep (only for callers that cannot be woken when another process adds work).
        """
        if not self._recovered:
            self.recover()
        while not self._stop.is_set() and not (until is not None and until()):
            self._wake.clear()
            if not self._recovered and self._store_ready():
                self.recover()
            self._loop_tick(self.clock.now())
            if until is not None and until():
                break
            self.clock.wait(self._wake, self._next_wake(max_wait))
        self.shutdown(grace_period, stop_note=stop_note)

    def _loop_tick(self, now: float) -> None:
        """:meth:`tick`, without the claim (a write transaction) when nothing can be due yet: polls wake the loop
        for every finished run, mostly between due times."""
        quiet = self._quiet_until
        if quiet is not None and now < quiet[0] and quiet[1] == self._wakes:
            self.collect()
        else:
            self.tick(now)

    def _next_wake(self, max_wait: float | None) -> float | None:
        self._quiet_until = None
        if self._finished:
            return self.clock.now()
        if self._outage is not None:  # try the database again after the pause (claims wait for it too)
            return self.clock.now() + max(0.0, self._outage[2] - time.monotonic())
        due: float | None = None
        wakes: int | None = None
        if len(self._inflight) < self.capacity:
            wakes = self._wakes  # read before the query: a wake() during it makes the answer stale
            try:
                due = self.store.tasks.next_due_at(task_id=self.only_task)
            except StoreUnavailableError as exc:
                self._unavailable(exc)
                return self._next_wake(max_wait)
            if due is not None:
                due -= self.wake_ahead
        if max_wait is not None:  # work other processes add is found by a claim at least this often
            cap = self.clock.now() + max_wait
            due = cap if due is None else min(due, cap)
        if wakes is not None:
            self._quiet_until = (math.inf if due is None else due, wakes)
        return due

    def shutdown(self, grace_period: float | None = None, *, stop_note: str | None = None) -> list[ScriptRun]:
        """Stop claiming; wait up to ``grace_period`` (default ``serve.grace_period``) for running scripts,
        committing their results; re-queue the rest, each with the log line ``stop_note`` (``{path}`` is the
        script). Without ``stop_note`` the line says the grace period elapsed, or, with a grace period of 0,
        that the runtime stopped. Returns the runs re-queued. Results that cannot be stored (the database cannot
        be written) are logged: their runs are re-run after a restart."""
        self._stop.set()
        grace = float(self.settings["serve.grace_period"]) if grace_period is None else grace_period
        deadline = time.monotonic() + grace
        while (self._inflight or self._uncommitted) and time.monotonic() < deadline:
            self._wake.clear()
            if self.collect() == 0 and (self._inflight or self._uncommitted):
                pause = deadline - time.monotonic()
                if self._outage is not None and not self._inflight:
                    pause = min(pause, self._outage[2] - time.monotonic())
                self._wake.wait(max(0.0, pause))
        if self._outage is not None:
            self._outage = (self._outage[0], self._outage[1], 0.0)  # one last try
        self.collect()
        leftover = list(self._inflight.values())
        note = stop_note or (STOP_NOTE if grace > 0 else STOPPED_NOTE)
        requeued: list[ScriptRun] = []
        try:
            requeued = self.store.tasks.requeue_runs(
                [r.id for r in leftover], owner=self.store.owner, now=self.clock.now(), note=note
            )
        except StoreUnavailableError as exc:
            log.error("%s; %d running script run(s) not re-queued: they re-run after a restart", exc, len(leftover))
        if self._uncommitted:
            log.error(
                "%d result(s) could not be stored; their script runs are re-run after a restart", len(self._uncommitted)
            )
            self._uncommitted = []
        self._inflight.clear()
        self._unregister()
        return requeued


def _submit_all(
    executor: ScriptExecutor, requests: list[ScriptRunRequest], on_result: Callable[[ScriptRunResult], None]
) -> None:
    """Hand ``requests`` over at once; ``on_result`` gets each run's result as it ends. The worker pool's
    ``submit_each`` queues them under one lock (so its workers get batches) and calls back without a future per
    run; other executors' futures (``submit_many``, else ``submit``) call it when they end."""
    submit_each = getattr(executor, "submit_each", None)
    if submit_each is not None:
        submit_each(requests, on_result)
        return
    submit_many = getattr(executor, "submit_many", None)
    futures = list(submit_many(requests)) if submit_many is not None else [executor.submit(r) for r in requests]
    for request, future in zip(requests, futures, strict=True):
        future.add_done_callback(lambda f, run_id=request.run_id: on_result(_result_of(run_id, f)))


def _result_of(run_id: int, future: Future[ScriptRunResult]) -> ScriptRunResult:
    """The result of ``future``, submitted for run ``run_id``: that run's, even when it names another (results
    are paired with their runs by id)."""
    try:
        result = future.result()
        return result if result.run_id == run_id else dataclasses.replace(result, run_id=run_id)
    except Exception as exc:  # the executor broke its promise; the run fails as data, the runtime goes on
        log.exception("executor failed for script run %s", run_id)
        return ScriptRunResult(
            run_id=run_id, outcome=RunOutcome.CRASHED, failure=Failure("WorkerCrash", f"the worker pool failed: {exc}")
        )
