"""A long-lived worker process: imports the script API once, then runs the script runs its pool sends it.

Started by :class:`xlr_runtime.scripting.pool.WorkerPool` as ``python -m xlr_runtime.scripting.worker
<request-fd> <result-fd> <max-log-bytes> <max-memory-mb>``: a fresh interpreter (fork + exec, so nothing of the
parent — its database connection included — is inherited; only the two pipe ends are passed, and its stdout and
stderr are one pipe the pool reads). Messages are pickled tuples:

* parent -> worker: ``("runs", definitions, [payload, ...])`` (a batch of requests in the compact form of
  :mod:`xlr_runtime.scripting.wire`, run one after the other), ``("stop",)``;
* worker -> parent: ``("ready", pid)`` once started, ``("log", run_id, [LogLine, ...])`` while a script runs
  (every :data:`STREAM_INTERVAL` seconds, so a run that hangs or crashes still shows what it printed),
  ``("secrets", run_id, [secret, ...], [username, ...])`` the moment the run's masker learns a secret (an OAuth2
  token), before the script gets it (so the parent masks a crashed run's stderr with it too), and
  ``("result", fields, retire)`` (a :class:`ScriptRunResult` as plain values,
  :func:`~xlr_runtime.scripting.wire.encode_result`) at the end of each run of a batch, sent at once (so the parent
  knows which run of a batch a crash or a timeout hit, and the next run's timeout starts from that result);
  ``retire`` is ``None``, or why the worker stops after this run (the rest of the batch never started).

Only the worker process itself sends: a process a script forks that carries on into the worker's code (the
script's end) exits instead of answering for the run, or reading the next requests. When a run ends, the processes
it started and left running are killed (:mod:`xlr_runtime.scripting.children`; those started other than through
Python's own functions when the batch ends), and its garbage is collected if it made the worker grow; a worker
whose processes cannot be ended, or whose memory stays above ``<max-memory-mb>`` (0: no limit,
:mod:`xlr_runtime.scripting.memory`), retires after the run.

The worker exits on ``stop``, when the parent closes the pipe, or when the parent process disappears.
"""

from __future__ import annotations

import contextlib
import faulthandler
import functools
import os
import posix
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import NoReturn

from xlr_runtime.compat import imports, modules
from xlr_runtime.scripting.children import become_subreaper, end_children, end_spawned, watch_spawns
from xlr_runtime.scripting.contract import Failure, RunOutcome, ScriptRunResult
from xlr_runtime.scripting.execution import extra_globals, run_script
from xlr_runtime.scripting.memory import MemoryWatch
from xlr_runtime.scripting.tasklog import TaskLog, route_output
from xlr_runtime.scripting.wire import Decoder, encode_result, run_id_of

#: Seconds between two batches of log lines streamed to the parent during a run.
STREAM_INTERVAL = 0.2


class _Channel:
    """The worker's end of the result pipe, shared by the running script's thread and the log streamer."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self._log: TaskLog | None = None
        self._run_id = 0
        self._pid = os.getpid()

    def attach(self, run_id: int, log: TaskLog) -> None:
        """Stream the lines of ``log`` (the run ``run_id``) until :meth:`finish`."""
        with self._lock:
            self._run_id, self._log = run_id, log

    def guard(self) -> None:
        """Exit at once unless this is the worker process: a process the script forked must never answer for a
        run (the pool would take its result for another run's) nor read the worker's requests."""
        if os.getpid() != self._pid:
            posix._exit(0)

    def last_words(self) -> None:
        """Send the lines of the running script not sent yet: the worker is about to exit. An unfinished line stays
        behind (it may hold the first half of a secret, which cannot be masked)."""
        if os.getpid() != self._pid or not self._lock.acquire(timeout=1.0):
            return
        try:
            lines = self._log.take_unsent() if self._log is not None else []
            if lines:
                self._conn.send(("log", self._run_id, lines))
        except OSError:
            pass
        finally:
            self._lock.release()

    def stream(self) -> None:
        """Send the lines the running script printed since the last call."""
        with self._lock:
            lines = self._log.take_unsent() if self._log is not None else []
            if lines:
                self._conn.send(("log", self._run_id, lines))

    def finish(self, result: ScriptRunResult, retire: str | None = None) -> None:
        """Stop streaming and send the run's result (stamped with this worker's pid); ``retire`` says why this
        worker stops after it. Called in the worker process only (:meth:`guard` first)."""
        with self._lock:
            self._log = None
            try:
                data = encode_result(result, self._pid, retire)
            except Exception as exc:  # a result that cannot be pickled must still end the run
                data = encode_result(_internal_failure(result.run_id, exc), self._pid, retire)
            self._conn.send_bytes(data)

    def send(self, message: tuple[object, ...]) -> None:
        """Send one message (from the worker process only: a forked copy of it, which may learn a secret, does not
        send, and carries on)."""
        if os.getpid() != self._pid:
            return
        with self._lock:
            self._conn.send(message)


def serve(requests: Connection, results: Connection, max_log_bytes: int, max_memory_mb: int = 0) -> None:
    """Run requests from ``requests`` until told to stop (or this worker retires); answer on ``results``."""
    channel = _Channel(results)
    memory = MemoryWatch(max_memory_mb)
    _flush_before_exit(channel)
    parent = os.getppid()
    threading.Thread(target=_supervise, args=(channel, parent), name="xlr-log-streamer", daemon=True).start()
    channel.send(("ready", os.getpid()))
    decoder = Decoder()
    while True:
        try:
            message = requests.recv()
        except (EOFError, OSError):
            return
        if message[0] != "runs":
            return
        decoder.define(message[1])
        for payload in message[2]:
            result = _run_one(decoder, payload, max_log_bytes, channel)
            channel.guard()  # a forked copy of this worker ends here
            retire = None if end_spawned() else "processes the script started could not be ended"
            retire = retire or memory.after_run(result.ended_at - result.started_at)
            channel.finish(result, retire)
            if retire is not None:
                return  # the pool replaces this worker (and kills its process group)
        end_children()  # idle now: processes started some other way (see children.py) end here at the latest


def _run_one(decoder: Decoder, payload: bytes, max_log_bytes: int, channel: _Channel) -> ScriptRunResult:
    try:
        request = decoder.decode(payload)
    except Exception as exc:  # a bug of ours must fail the run, not the worker
        return _internal_failure(run_id_of(payload), exc)
    early = request.not_before - time.time()
    if early > 0:  # claimed ahead of its due time (sent with others falling due together): start on time
        time.sleep(early)
    try:
        return run_script(
            request,
            max_log_bytes=max_log_bytes,
            on_log=lambda log, run_id=request.run_id: channel.attach(run_id, log),
            on_secrets=lambda secrets, users, run_id=request.run_id: channel.send(("secrets", run_id, secrets, users)),
        )
    except Exception as exc:  # a bug of ours must fail the run, not the worker
        return _internal_failure(request.run_id, exc)


def _flush_before_exit(channel: _Channel) -> None:
    """Make ``os._exit`` and ``os.abort`` send what the running script printed first (the streamer sends lines only
    every :data:`STREAM_INTERVAL`), so a run that ends its worker this way keeps its last lines. A segfault or a
    SIGKILL still loses what was printed in the last interval."""
    exit_now, abort_now = os._exit, os.abort

    @functools.wraps(exit_now)
    def _exit(status: int) -> NoReturn:
        channel.last_words()
        exit_now(status)

    @functools.wraps(abort_now)
    def abort() -> NoReturn:
        channel.last_words()
        abort_now()

    os._exit, os.abort = _exit, abort


def _supervise(channel: _Channel, parent: int) -> None:
    while True:
        time.sleep(STREAM_INTERVAL)
        if os.getppid() != parent:
            os._exit(0)  # the runtime is gone: nobody will read what this worker does
        try:
            channel.stream()
        except OSError:
            os._exit(0)


def _internal_failure(run_id: int, exc: BaseException) -> ScriptRunResult:
    return ScriptRunResult(
        run_id=run_id,
        outcome=RunOutcome.FAILED,
        started_at=time.time(),
        ended_at=time.time(),
        failure=Failure(
            "InternalError",
            f"xlr-runtime could not run the script: {type(exc).__name__}: {exc}",
            "".join(traceback.format_exception(exc)),
        ),
    )


def main(argv: list[str]) -> None:
    """Entry point: ``<request-fd> <result-fd> <max-log-bytes> <max-memory-mb>``."""
    request_fd, result_fd, max_log_bytes, max_memory_mb = (int(arg) for arg in argv)
    faulthandler.enable()  # a segfault prints the script's frames to stderr, which the pool reports
    become_subreaper()  # processes a script detaches stay this worker's children, to end with the run
    watch_spawns()
    imports.install()
    modules.install_in_worker()  # plugin modules come from the plugin roots, never the working folder
    with contextlib.suppress(Exception):  # a broken plugin is reported by the runs that need its globals
        extra_globals()  # loads the plugins now, at start-up, rather than in (and against the timeout of) a run
    route_output()  # from now on, what a thread prints goes to its own run's log, or nowhere
    serve(Connection(request_fd, writable=False), Connection(result_fd, readable=False), max_log_bytes, max_memory_mb)


if __name__ == "__main__":
    main(sys.argv[1:])
