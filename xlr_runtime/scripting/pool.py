"""The pool of long-lived worker processes that runs scripts: :class:`WorkerPool`, a ``ScriptExecutor``.

``size`` slots each own one worker process (:mod:`xlr_runtime.scripting.worker`) and one thread of the parent
that hands it requests and waits for its answers. A worker starts lazily, when its slot takes its first run, and
is reused for every later run; start-up (a fresh interpreter importing the script API) is paid once per worker.

When many runs are queued, a slot takes a share of them (up to :data:`MAX_BATCH`, and only as many as the recent
runs' average duration fits in :data:`BATCH_WINDOW`: slow scripts — HTTP polls — still go one at a time to
whichever worker is free, and an unexpectedly slow run delays only the few runs batched behind it) and sends them
in one message,
in the compact form of :mod:`xlr_runtime.scripting.wire` (a task type and a script source travel once per worker).
The worker runs them one after the other and answers each as soon as it ends; each run has its own timeout,
counted from the previous run's answer. When a run of a batch times out or crashes its worker, the runs after it
never started: they go back to the front of the queue for a fresh worker.

Every submitted run ends with a :class:`ScriptRunResult`, whatever the script does:

* past ``request.timeout`` its worker (and any process the script started) is killed and replaced and the run
  is ``TIMED_OUT``;
* when its worker dies (``os._exit``, a segfault, a signal, the out-of-memory killer) the run is ``CRASHED``
  with the exit code or signal and the last output the worker and its processes wrote to file descriptors 1 and
  2 during the run (a segfault shows the script's frames), masked; the next run gets a fresh worker.

A worker's file descriptors 1 and 2 (``os.write(1, …)``, subprocesses, C code, ``faulthandler``) are one pipe the
pool reads while it waits for results: nothing a script writes there goes to a file. The pool keeps only the last
:data:`OUTPUT_KEPT` bytes of the run in progress, in memory, to show them (masked) when the worker dies.

Log lines printed before a timeout or a crash are kept (workers stream them while a script runs).
"""

from __future__ import annotations

import collections
import contextlib
import math
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from xlr_runtime.errors import ScriptError
from xlr_runtime.scripting.contract import Failure, LogLine, RunOutcome, ScriptRunRequest, ScriptRunResult
from xlr_runtime.scripting.masking import Masker, masker_for, secrets_of
from xlr_runtime.scripting.wire import PROTOCOL, Keys, decode_result, encode
from xlr_runtime.settings import Settings, defaults

#: Default of ``workers.max_memory_mb``: a worker above it after a run is replaced (0: no limit).
DEFAULT_MAX_MEMORY_MB: int = defaults()["workers.max_memory_mb"]
#: Default of ``scripts.max_log_bytes``.
DEFAULT_MAX_LOG_BYTES: int = defaults()["scripts.max_log_bytes"]
#: Seconds a new worker may take to start and import the script API.
START_TIMEOUT = 60.0
#: Characters of a dead worker's output (file descriptors 1 and 2, masked) shown in the failure.
STDERR_TAIL = 3000
#: Bytes of a worker's output (file descriptors 1 and 2) kept for the run in progress: the last ones only.
OUTPUT_KEPT = 64 * 1024
#: Sets of secrets (of the runs that had any, and learned during runs) per worker that mask its output when it
#: dies: a thread of an earlier run may still write there.
MASK_HISTORY = 256
#: Most runs a worker is sent in one message.
MAX_BATCH = 32
#: Seconds of expected work a batch may hold: its size is this over the recent runs' average duration.
BATCH_WINDOW = 0.005
#: Average run duration assumed before any run ended (seconds): batches start at one run.
INITIAL_RUN_SECONDS = 0.010
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
#: Why a run that never reached a worker ended when the pool shut down without waiting.
_NOT_STARTED = Failure("Shutdown", "the worker pool shut down before the script started")
#: Secrets and usernames a worker reported while a script ran (a ``("secrets", …)`` message).
Learned = tuple[list[str], list[str]]


@dataclass(slots=True)
class _Job:
    request: ScriptRunRequest
    #: Receives the run's result, once: a future's ``set_result`` or the callback of :meth:`WorkerPool.submit_each`.
    deliver: Callable[[ScriptRunResult], object]
    future: Future[ScriptRunResult] | None = None  # None for submit_each: nothing to cancel
    claimed: bool = False  # its future is running (a run put back after its batch's worker died)
    done: bool = False

    def claim(self) -> bool:
        """Mark the future running; False when it was cancelled before it started."""
        if not self.claimed:
            self.claimed = self.future is None or self.future.set_running_or_notify_cancel()
        return self.claimed

    def resolve(self, result: ScriptRunResult) -> None:
        """Hand over the run's result (a second result of the same run is dropped)."""
        if not self.done:
            self.done = True
            self.deliver(result)


@dataclass
class _Process:
    """One running worker process and the parent's ends of its pipes."""

    popen: subprocess.Popen[bytes]
    requests: Connection
    results: Connection
    output: int  # read end of the pipe that is the worker's file descriptors 1 and 2 (non-blocking)
    runs: int = 0
    known: set[str] = field(default_factory=set)  # wire keys of the types and sources this worker holds
    #: Waits for the result pipe and the output pipe: one ``select.poll`` per worker (``Connection.poll`` builds
    #: a selector per call, about 15 µs, paid for every result).
    poller: select.poll = field(default_factory=select.poll)
    #: The last :data:`OUTPUT_KEPT` bytes of output since :meth:`new_run`; ``cut`` when older ones were dropped.
    tail: bytearray = field(default_factory=bytearray)
    cut: bool = False
    #: The secrets (and usernames) of the last runs sent that had any, and of those learned: what masks the output
    #: shown when the worker dies.
    secrets: collections.deque[Learned] = field(default_factory=lambda: collections.deque(maxlen=MASK_HISTORY))

    def __post_init__(self) -> None:
        self.poller.register(self.results.fileno(), select.POLLIN)
        self.poller.register(self.output, select.POLLIN)

    def wait_result(self, timeout: float) -> bool:
        """True when the worker has written a message (or closed its pipe) within ``timeout`` seconds; output
        written to its file descriptors meanwhile is collected first (it was written before the message)."""
        ready = False
        for fd, _ in self.poller.poll(max(0, math.ceil(timeout * 1000))):
            if fd == self.output:
                self.collect()
            else:
                ready = True
        return ready

    def collect(self, rounds: int = 1) -> None:
        """Read what the worker's file descriptors 1 and 2 hold (up to ``rounds`` reads), keeping the tail."""
        for _ in range(rounds):
            try:
                data = os.read(self.output, OUTPUT_KEPT)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:  # every writer is gone: stop polling it (it would report the hang-up forever)
                with contextlib.suppress(KeyError, ValueError, OSError):
                    self.poller.unregister(self.output)
                return
            self.tail += data
            if len(self.tail) > OUTPUT_KEPT:
                del self.tail[:-OUTPUT_KEPT]
                self.cut = True

    def new_run(self) -> None:
        """A run starts: a crash shows only what is written from now on."""
        if self.tail:
            self.tail.clear()
        self.cut = False

    @property
    def pid(self) -> int:
        return self.popen.pid

    def kill(self) -> None:
        """Kill the worker and every process it started (its own process group)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)

    def close(self) -> int:
        """Reap the process and close its pipes; returns its exit status."""
        status = self.popen.wait()
        self.kill()  # orphans the script left behind in the worker's group
        for resource in (self.requests, self.results):
            resource.close()
        with contextlib.suppress(OSError):
            os.close(self.output)
        return status

    def output_tail(self, masker: Masker) -> str:
        """The output of the run since :meth:`new_run` (the worker has ended: all it wrote is in the pipe), masked
        with ``masker``, at most :data:`STDERR_TAIL` characters; a cut never shows part of a secret."""
        self.collect(rounds=OUTPUT_KEPT // 4096)
        text = masker.mask(self.tail.decode("utf-8", "replace"))
        if self.cut and masker.longest:
            text = text[masker.longest :]  # the oldest bytes kept may be the end of a secret whose start was dropped
        return text[-STDERR_TAIL:]

    def remember_secrets(self, requests: Iterable[ScriptRunRequest]) -> None:
        """Keep the secrets of ``requests`` (sent to this worker) for :meth:`tail_masker`."""
        for request in requests:
            if request.task_type.password_properties or request.cis:  # most runs have none: no work
                secrets, usernames = secrets_of(request)
                if secrets:
                    self.secrets.append((secrets, usernames))

    def tail_masker(self, request: ScriptRunRequest, learned: Sequence[Learned]) -> Masker:
        """Masks what the worker wrote to its file descriptors: the secrets of ``request``, of the runs it ran
        before (their threads may still write) and every secret it reported."""
        secrets, usernames = secrets_of(request)
        for more, users in (*self.secrets, *learned):
            secrets += more
            usernames += users
        return Masker(secrets, usernames)


@dataclass
class _Slot:
    """One worker process (started lazily) and the parent thread that feeds it."""

    index: int
    process: _Process | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    thread: threading.Thread | None = None


class WorkerPool:
    """Runs script runs in ``size`` long-lived worker processes; implements ``ScriptExecutor``.

    ``max_log_bytes`` bounds each run's task log (setting ``scripts.max_log_bytes``); a worker whose memory is
    above ``max_memory_mb`` after a run (garbage collected) is replaced (setting ``workers.max_memory_mb``, 0: no
    limit). ``environ`` is the environment every worker starts with (default: this process's environment when the
    worker starts). Use it as a context manager or call :meth:`shutdown`.
    """

    def __init__(
        self,
        size: int,
        *,
        max_log_bytes: int = DEFAULT_MAX_LOG_BYTES,
        start_timeout: float = START_TIMEOUT,
        max_memory_mb: int = DEFAULT_MAX_MEMORY_MB,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if size < 1:
            raise ScriptError(f"a worker pool needs at least 1 worker, got {size}")
        self.size = size
        self.max_log_bytes = max_log_bytes
        self.start_timeout = start_timeout
        self.max_memory_mb = max_memory_mb
        self.environ = None if environ is None else dict(environ)
        self._jobs: collections.deque[_Job | None] = collections.deque()
        #: Guards the queue; idle slots wait on ``_warm_ready`` (a started worker) or ``_cold_ready`` (none yet),
        #: and only as many are woken as there are jobs (:meth:`_wake`): waking every idle slot for each batch made
        #: them all take the interpreter's lock from the scheduler's thread for nothing.
        self._lock = threading.Lock()
        self._warm_ready = threading.Condition(self._lock)
        self._cold_ready = threading.Condition(self._lock)
        self._warm_idle = 0  # slots with a started worker waiting for a job
        self._slots = [_Slot(i) for i in range(size)]
        self._closed = False
        self._abandoned = False
        self._keys = Keys()
        self._run_seconds = INITIAL_RUN_SECONDS  # moving average of run durations, sizes batches
        for slot in self._slots:
            slot.thread = threading.Thread(
                target=self._serve, args=(slot,), name=f"xlr-worker-slot-{slot.index}", daemon=True
            )
            slot.thread.start()

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerPool:
        """A pool sized by ``workers.size`` with logs bounded by ``scripts.max_log_bytes`` and workers by
        ``workers.max_memory_mb``."""
        return cls(
            settings["workers.size"],
            max_log_bytes=settings["scripts.max_log_bytes"],
            max_memory_mb=settings["workers.max_memory_mb"],
        )

    def submit(self, request: ScriptRunRequest) -> Future[ScriptRunResult]:
        """Queue ``request``; the future always ends with a result (timeouts and crashes are outcomes).

        Raises :class:`ScriptError` only when the pool is shut down."""
        return self.submit_many([request])[0]

    def submit_many(self, requests: Sequence[ScriptRunRequest]) -> list[Future[ScriptRunResult]]:
        """:meth:`submit` for several requests, queued together (so workers take them in batches)."""
        futures: list[Future[ScriptRunResult]] = [Future() for _ in requests]
        self._queue(
            [_Job(request, future.set_result, future) for request, future in zip(requests, futures, strict=True)]
        )
        return futures

    def submit_each(self, requests: Sequence[ScriptRunRequest], on_result: Callable[[ScriptRunResult], object]) -> None:
        """:meth:`submit_many` without a future per run (the scheduler's way): ``on_result`` is called once per
        request with its result, from a thread of the pool, as each run ends. It must be quick and must not
        raise. Raises :class:`ScriptError` only when the pool is shut down."""
        self._queue([_Job(request, on_result) for request in requests])

    def _queue(self, jobs: list[_Job]) -> None:
        with self._lock:
            if self._closed:
                raise ScriptError("the worker pool is shut down; no more scripts can run")
            self._jobs.extend(jobs)
            self._wake()

    def _wake(self) -> None:
        """Wake idle slots for the jobs queued (the lock held): slots with a started worker, one per job, while
        there are some, else one slot without (a slot that takes its share wakes another while jobs are left)."""
        if self._warm_idle:
            self._warm_ready.notify(min(len(self._jobs), self._warm_idle))
        else:
            self._cold_ready.notify()

    def run_sync(self, request: ScriptRunRequest) -> ScriptRunResult:
        """Run ``request`` in a worker and wait for its result."""
        return self.submit(request).result()

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the workers alive now (started lazily, so fewer than ``size`` at first)."""
        return [slot.process.pid for slot in self._slots if slot.process is not None]

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop the pool. With ``wait``, queued and running scripts finish first; without, running scripts are
        killed and every unfinished run ends ``CRASHED`` with a "shut down" reason (to be re-queued)."""
        with self._lock:
            if self._closed and wait:
                return
            self._closed = True
            if not wait:
                self._abandoned = True
                self._drain()
            self._jobs.extend([None] * len(self._slots))
            self._warm_ready.notify_all()
            self._cold_ready.notify_all()
        if not wait:
            for slot in self._slots:
                with slot.lock:
                    if slot.process is not None:
                        slot.process.kill()
            return
        for slot in self._slots:
            if slot.thread is not None:
                slot.thread.join()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown(wait=True)

    # --- slot threads ------------------------------------------------------------------------------------------

    def _serve(self, slot: _Slot) -> None:
        while True:
            jobs = self._next_jobs(slot)
            if jobs is None:
                self._stop_process(slot)
                return
            jobs = [job for job in jobs if job.claim()]
            if not jobs:
                continue
            try:
                self._run(slot, jobs)
            except Exception as exc:  # never let a slot die: the runs fail, the slot keeps serving
                self._discard(slot)
                failure = Failure("InternalError", f"xlr-runtime lost the script run: {type(exc).__name__}: {exc}")
                for job in jobs:
                    job.resolve(_lost(job.request, RunOutcome.CRASHED, failure, [], time.time(), None))

    def _next_jobs(self, slot: _Slot) -> list[_Job] | None:
        """The next jobs for ``slot`` (``None`` to stop): its share of the queue, at most :data:`MAX_BATCH`.

        A slot without a worker waits while a slot with one is idle, so runs go to started workers first and
        new workers start only when every started one is busy."""
        with self._lock:
            warm = slot.process is not None
            ready = self._warm_ready if warm else self._cold_ready
            self._warm_idle += warm
            while not (self._jobs and (warm or self._warm_idle == 0)):
                ready.wait()
            self._warm_idle -= warm
            jobs = self._share()
            if self._jobs:  # (a slot that stops passes the wake on too: cold slots wait while it was idle)
                self._wake()
            return jobs

    def _share(self) -> list[_Job] | None:
        """Take a slot's share of the queue (the lock held, the queue not empty); ``None``: the slot stops."""
        first = self._jobs.popleft()
        if first is None:
            return None
        jobs = [first]
        fits = max(1, int(BATCH_WINDOW / max(self._run_seconds, 1e-6)))
        share = min(MAX_BATCH, fits, -(-(len(self._jobs) + 1) // self.size))
        while len(jobs) < share and self._jobs and self._jobs[0] is not None:
            jobs.append(self._jobs.popleft())  # type: ignore[arg-type]
        return jobs

    def _run(self, slot: _Slot, jobs: list[_Job]) -> None:
        retries = 1  # a worker found dead while idle never started the runs: a fresh one may take them
        while True:
            started = time.time()
            try:
                process = self._process(slot)
            except ScriptError as exc:
                for job in jobs:
                    job.resolve(
                        _lost(job.request, RunOutcome.CRASHED, Failure("WorkerStart", str(exc)), [], started, None)
                    )
                return
            process.new_run()
            jobs, message = self._encoded(jobs, process, started)
            if not jobs:
                return
            try:
                process.requests.send_bytes(message)
            except (BrokenPipeError, ConnectionResetError) as exc:
                self._discard(slot)
                if retries == 0:
                    failure = Failure("WorkerCrash", f"worker unreachable: {exc}")
                    for job in jobs:
                        job.resolve(_lost(job.request, RunOutcome.CRASHED, failure, [], started, process.pid))
                    return
                retries -= 1
                continue
            process.runs += len(jobs)
            process.remember_secrets(job.request for job in jobs)
            self._await(slot, process, jobs)
            return

    def _encoded(self, jobs: list[_Job], process: _Process, started: float) -> tuple[list[_Job], bytes]:
        """The jobs that can be sent and their message; a request that cannot be pickled fails alone."""
        definitions: dict[str, object] = {}
        payloads: list[bytes] = []
        sendable: list[_Job] = []
        for job in jobs:
            try:
                payloads.append(encode(job.request, self._keys, process.known, definitions))
            except Exception as exc:  # the request cannot be pickled: nothing of it is sent
                failure = Failure("ScriptError", f"the script run cannot be sent to a worker: {exc}")
                job.resolve(_lost(job.request, RunOutcome.FAILED, failure, [], started, process.pid))
                continue
            sendable.append(job)
        return sendable, pickle.dumps(("runs", definitions, payloads), PROTOCOL)

    def _await(self, slot: _Slot, process: _Process, jobs: list[_Job]) -> None:
        """Resolve each job of a batch as its result arrives; on a timeout or a crash, put the rest back."""
        pending = collections.deque(jobs)
        log: list[LogLine] = []
        learned: list[Learned] = []  # secrets the worker reported during the run (masks its stderr if it dies)
        started = time.time()
        deadline = _deadline(pending[0].request)
        while pending:
            job = pending[0]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pending.popleft()
                job.resolve(self._timed_out(slot, process, job.request, log, started))
                self._put_back(pending)
                return
            try:
                if not process.wait_result(min(remaining, 1.0)):
                    continue
                message = process.results.recv()
            except (EOFError, OSError):
                pending.popleft()
                job.resolve(self._crashed(slot, process, job.request, log, started, learned))
                self._put_back(pending)
                return
            if message[0] == "log" and message[1] == job.request.run_id:
                log.extend(message[2])
            elif message[0] == "secrets" and message[1] == job.request.run_id:
                learned.append((message[2], message[3]))
                process.secrets.append((message[2], message[3]))
            elif message[0] == "result":
                result = decode_result(message[1])
                if result.run_id != job.request.run_id or result.worker_pid != process.pid:
                    continue  # not this run's answer (results are matched by run and process, not by order)
                pending.popleft()
                job.resolve(result)
                self._note_duration(result)
                if message[2] is not None:  # the worker stops: the rest of the batch never started
                    self._discard(slot)
                    self._put_back(pending)
                    return
                if pending:
                    log, learned, started = [], [], time.time()
                    process.new_run()  # a crash shows only the next run's output
                    deadline = _deadline(pending[0].request)

    def _note_duration(self, result: ScriptRunResult) -> None:
        """Fold a run's duration into the moving average that sizes batches (races only blur the average)."""
        self._run_seconds += 0.2 * (max(0.0, result.ended_at - result.started_at) - self._run_seconds)

    def _put_back(self, jobs: collections.deque[_Job]) -> None:
        """Runs of a batch that never started (their worker died first): to the front of the queue."""
        if not jobs:
            return
        with self._lock:
            if not self._abandoned:
                self._jobs.extendleft(reversed(jobs))
                self._wake()
                return
        for job in jobs:
            job.resolve(_lost(job.request, RunOutcome.CRASHED, _NOT_STARTED, [], time.time(), None))

    def _timed_out(
        self, slot: _Slot, process: _Process, request: ScriptRunRequest, log: list[LogLine], started: float
    ) -> ScriptRunResult:
        pid = process.pid
        self._discard(slot)
        failure = Failure(
            "Timeout",
            f"the script ran longer than its timeout of {request.timeout:g} s; "
            f"its worker process {pid} was killed and replaced",
        )
        return _lost(request, RunOutcome.TIMED_OUT, failure, log, started, pid)

    def _crashed(
        self,
        slot: _Slot,
        process: _Process,
        request: ScriptRunRequest,
        log: list[LogLine],
        started: float,
        learned: Sequence[Learned],
    ) -> ScriptRunResult:
        pid = process.pid
        status = process.popen.wait()
        tail = process.output_tail(process.tail_masker(request, learned)).strip()
        self._discard(slot)
        if self._abandoned:
            failure = Failure("Shutdown", "the worker pool shut down while the script was running")
        else:
            failure = Failure(
                "WorkerCrash",
                f"the worker process {pid} running the script died: {_cause(status)}",
                f"worker stderr:\n{tail}" if tail else "",
            )
        return _lost(request, RunOutcome.CRASHED, failure, log, started, pid, learned)

    # --- worker processes ----------------------------------------------------------------------------------------

    def _process(self, slot: _Slot) -> _Process:
        with slot.lock:
            if slot.process is None:
                if self._abandoned:
                    raise ScriptError(_NOT_STARTED.message)
                slot.process = _start_worker(self.max_log_bytes, self.start_timeout, self.max_memory_mb, self.environ)
            return slot.process

    def _discard(self, slot: _Slot) -> None:
        with slot.lock:
            process, slot.process = slot.process, None
        if process is not None:
            process.kill()
            process.close()

    def _stop_process(self, slot: _Slot) -> None:
        with slot.lock:
            process, slot.process = slot.process, None
        if process is None:
            return
        try:
            process.requests.send(("stop",))
            process.popen.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
        process.close()

    def _drain(self) -> None:
        while self._jobs:
            job = self._jobs.popleft()
            if job is not None and job.claim():
                job.resolve(_lost(job.request, RunOutcome.CRASHED, _NOT_STARTED, [], time.time(), None))


def child_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``environ`` (default ``os.environ``) with this package first on ``PYTHONPATH``, for an exec'd interpreter
    that must import the same xlr_runtime as this process (``python -m xlr_runtime.…``)."""
    env = dict(os.environ if environ is None else environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
    return env


def _start_worker(
    max_log_bytes: int, start_timeout: float, max_memory_mb: int, environ: Mapping[str, str] | None = None
) -> _Process:
    """Start one worker process with ``environ`` (default ``os.environ``) and wait until it has imported the
    script API."""
    request_read, request_write = os.pipe()
    result_read, result_write = os.pipe()
    output_read, output_write = os.pipe()  # the worker's stdout and stderr: never a file (see OUTPUT_KEPT)
    os.set_blocking(output_read, False)
    env = child_environment(environ)
    try:
        popen = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "xlr_runtime.scripting.worker",
                str(request_read),
                str(result_write),
                str(max_log_bytes),
                str(max_memory_mb),
            ],
            stdin=subprocess.DEVNULL,
            stdout=output_write,
            stderr=output_write,
            pass_fds=(request_read, result_write),
            start_new_session=True,
            env=env,
        )
    except BaseException:
        os.close(output_read)
        raise
    finally:
        os.close(request_read)
        os.close(result_write)
        os.close(output_write)
    process = _Process(
        popen, Connection(request_write, readable=False), Connection(result_read, writable=False), output_read
    )
    ready = None
    deadline = time.monotonic() + start_timeout
    try:
        while ready is None and (remaining := deadline - time.monotonic()) > 0:
            if process.wait_result(remaining):  # collects what it prints meanwhile (its pipe must not fill up)
                ready = process.results.recv()
    except (EOFError, OSError):
        ready = None
    if not ready or ready[0] != "ready":
        status = process.popen.poll()
        reason = _cause(status) if status is not None else f"no answer within {start_timeout:g} s"
        process.kill()
        process.popen.wait()
        tail = process.output_tail(Masker(())).strip().splitlines()
        process.close()
        raise ScriptError(f"a worker process could not start ({reason})" + (f": {tail[-1]}" if tail else ""))
    return process


def _deadline(request: ScriptRunRequest) -> float:
    """The ``time.monotonic()`` past which a run sent now times out: its timeout counts from its start, which its
    worker holds back until the request's ``not_before``."""
    return time.monotonic() + max(0.0, request.not_before - time.time()) + request.timeout


def _cause(status: int) -> str:
    """Words for a process's exit status: ``exit code 3`` or ``signal SIGSEGV``."""
    if status >= 0:
        return f"exit code {status}"
    try:
        name = signal.Signals(-status).name
    except ValueError:
        name = str(-status)
    hint = " (killed; possibly out of memory)" if -status == signal.SIGKILL else ""
    return f"signal {name}{hint}"


def _lost(
    request: ScriptRunRequest,
    outcome: RunOutcome,
    failure: Failure,
    log: list[LogLine],
    started: float,
    pid: int | None,
    learned: Sequence[Learned] = (),
) -> ScriptRunResult:
    """The result of a run whose worker gave no result: what it printed, plus the reason (masked, with the
    secrets the worker reported ``learned`` during the run too)."""
    masker = masker_for(request)
    for secrets, usernames in learned:
        masker.add(secrets, usernames)
    failure = masker.mask_failure(failure)
    lines = [*log, LogLine(time.time(), "system", failure.message)]
    return ScriptRunResult(
        run_id=request.run_id,
        outcome=outcome,
        log=lines,
        failure=failure,
        started_at=started,
        ended_at=time.time(),
        worker_pid=pid,
    )
