"""Helpers for the engine, scheduler and runtime tests: the demo plugin and a small in-thread script executor.

:class:`ThreadScriptExecutor` is a real (if minimal) :class:`ScriptExecutor`: it ``exec``s each script in a
thread with its properties as globals and a ``task`` object offering ``schedule``/``setStatusLine``. The
scheduler tests use it to stay independent of the worker pool; integration tests use the real pool.
"""

from __future__ import annotations

import functools
import io
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from xlr_runtime.scripting.contract import (
    Failure,
    LogLine,
    RunOutcome,
    ScheduleRequest,
    ScriptRunRequest,
    ScriptRunResult,
)

DEMO_PLUGIN = Path(__file__).parent / "data" / "plugins" / "demo"
#: The ``xlr`` command line as a real subprocess of this interpreter (append the command and its options).
XLR_COMMAND = [sys.executable, "-c", "from xlr_runtime.cli import main; main()"]


class _Task:
    def __init__(self, request: ScriptRunRequest) -> None:
        self.id = request.task_id
        self.schedule_request: ScheduleRequest | None = None
        self.status_line: str | None = None

    def schedule(self, path: str, interval: float | None = None) -> None:
        self.schedule_request = ScheduleRequest(path, interval)

    def setStatusLine(self, text: str) -> None:
        self.status_line = text


class ThreadScriptExecutor:
    """Runs scripts in threads of this process (tests only: no isolation, no timeouts; only ``print`` reaches the
    run's log)."""

    def __init__(self, size: int = 4, *, delay: float = 0.0) -> None:
        self._pool = ThreadPoolExecutor(max_workers=size)
        self.requests: list[ScriptRunRequest] = []
        self.delay = delay

    def submit(self, request: ScriptRunRequest) -> Future[ScriptRunResult]:
        self.requests.append(request)
        return self._pool.submit(self._run, request, self.delay)

    def shutdown(self, *, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)

    @staticmethod
    def _run(request: ScriptRunRequest, delay: float) -> ScriptRunResult:
        time.sleep(max(0.0, request.not_before - time.time()))  # as a worker does
        started = time.time()
        time.sleep(delay)
        task = _Task(request)
        namespace: dict[str, Any] = {**request.properties, **request.cis, "task": task, "__name__": "__builtin__"}
        namespace.update({k: v.values for k, v in request.cis.items() if not isinstance(v, list)})
        out = io.StringIO()
        # the script's own print, not a swapped sys.stdout: these threads outlive tests, and a swap restored while
        # a later test's CliRunner has sys.stdout would drop (and so close) that runner's stream
        namespace["print"] = functools.partial(print, file=out)
        failure = None
        try:
            exec(compile(request.source, request.script_file, "exec"), namespace)
        except Exception as exc:
            failure = Failure(type(exc).__name__, str(exc))
        outputs = {
            p.name: namespace.get(p.name) for p in request.task_type.properties.values() if p.is_output or p.is_script
        }
        log = [LogLine(time.time(), "stdout", line) for line in out.getvalue().splitlines()]
        return ScriptRunResult(
            run_id=request.run_id,
            outcome=RunOutcome.FAILED if failure else RunOutcome.SUCCEEDED,
            properties=outputs,
            status_line=task.status_line,
            schedule=task.schedule_request,
            log=log,
            failure=failure,
            started_at=started,
            ended_at=time.time(),
        )
