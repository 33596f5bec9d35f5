"""A long-lived worker process: imports the script API once, then runs the script runs its pool sends it.

Started by :class:`xlr_runtime.scripting.pool.WorkerPool` as ``python -m xlr_runtime.scripting.worker
<request-fd> <result-fd> <max-log-bytes>``: a fresh interpreter (fork + exec, so nothing of the parent — its
database connection included — is inherited; only the two pipe ends are passed). Messages are pickled tuples:

* parent -> worker: ``("run", ScriptRunRequest)``, ``("stop",)``;
* worker -> parent: ``("ready", pid)`` once started, ``("log", run_id, [LogLine, ...])`` while a script runs
  (every :data:`STREAM_INTERVAL` seconds, so a run that hangs or crashes still shows what it printed), and
  ``("result", ScriptRunResult)`` at its end.

The worker exits on ``stop``, when the parent closes the pipe, or when the parent process disappears.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection

from xlr_runtime.compat import imports
from xlr_runtime.scripting.contract import Failure, RunOutcome, ScriptRunRequest, ScriptRunResult
from xlr_runtime.scripting.execution import run_script
from xlr_runtime.scripting.tasklog import TaskLog

#: Seconds between two batches of log lines streamed to the parent during a run.
STREAM_INTERVAL = 0.2


class _Channel:
    """The worker's end of the result pipe, shared by the running script's thread and the log streamer."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self._log: TaskLog | None = None
        self._run_id = 0

    def attach(self, run_id: int, log: TaskLog) -> None:
        """Stream the lines of ``log`` (the run ``run_id``) until :meth:`finish`."""
        with self._lock:
            self._run_id, self._log = run_id, log

    def stream(self) -> None:
        """Send the lines the running script printed since the last call."""
        with self._lock:
            lines = self._log.take_unsent() if self._log is not None else []
            if lines:
                self._conn.send(("log", self._run_id, lines))

    def finish(self, result: ScriptRunResult) -> None:
        """Stop streaming and send the run's result."""
        with self._lock:
            self._log = None
            try:
                self._conn.send(("result", result))
            except Exception as exc:  # a result that cannot be pickled must still end the run
                self._conn.send(("result", _internal_failure(result.run_id, exc)))

    def send(self, message: tuple[object, ...]) -> None:
        """Send one message."""
        with self._lock:
            self._conn.send(message)


def serve(requests: Connection, results: Connection, max_log_bytes: int) -> None:
    """Run requests from ``requests`` until told to stop; answer on ``results``."""
    channel = _Channel(results)
    parent = os.getppid()
    threading.Thread(target=_supervise, args=(channel, parent), name="xlr-log-streamer", daemon=True).start()
    channel.send(("ready", os.getpid()))
    while True:
        try:
            message = requests.recv()
        except (EOFError, OSError):
            return
        if message[0] != "run":
            return
        request: ScriptRunRequest = message[1]
        try:
            result = run_script(
                request,
                max_log_bytes=max_log_bytes,
                on_log=lambda log, run_id=request.run_id: channel.attach(run_id, log),
            )
        except Exception as exc:  # a bug of ours must fail the run, not the worker
            result = _internal_failure(request.run_id, exc)
        channel.finish(result)


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
    """Entry point: ``<request-fd> <result-fd> <max-log-bytes>``."""
    request_fd, result_fd, max_log_bytes = (int(arg) for arg in argv)
    faulthandler.enable()  # a segfault prints the script's frames to stderr, which the pool reports
    imports.install()
    serve(Connection(request_fd, writable=False), Connection(result_fd, readable=False), max_log_bytes)


if __name__ == "__main__":
    main(sys.argv[1:])
