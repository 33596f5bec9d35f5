"""How ``xlr run``, ``xlr demo`` and ``xlr jobs run --follow`` show progress: ``plain`` lines or a ``rich`` live
status line.

Both read the task from the store (:class:`TaskWatcher`), the one source that works whether this process drives
the task or an ``xlr serve`` of the same home does: the status line changes only when a script run's result is
committed, so a poll sees every change of a chain of runs. ``plain`` (chosen when the transcript's stream is not
a terminal, as in CI logs) prints one timestamped line per status or status line change and per script run start
and end::

    12:00:03 task 1 [in progress] Build queued
    12:00:03 task 1 script jenkins/Build.wait-for-queue.py started

``rich`` keeps a spinner with the status line on a terminal and leaves the final one printed. ``xlr run`` writes
its transcript to stderr (stdout carries the outputs, or the JSON); ``xlr demo`` to stdout, so that
``xlr demo > out.txt`` holds the whole story.

An execution of a Rundeck job is watched the same way (:class:`ExecutionWatcher`): its log, each step's start
and end on each node (the ``steps`` its workflow keeps in the cursor), its status, and at its end each node's
result; it follows the retries of the execution::

    12:00:03 execution 4 step 1 (say hello) started on web1
    12:00:04 execution 4 step 1 (say hello) on web1 succeeded in 0.3 s
    12:00:04 execution 4 node web1 succeeded
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import click

from xlr_runtime.store import RunState, Store, Task, TaskStatus
from xlr_runtime.store.executions import Execution, ExecutionLogLine, ExecutionStatus

MODES = ("auto", "plain", "rich")
PROGRESS_ENV = "XLR_PROGRESS"

progress_option = click.option(
    "--progress",
    type=click.Choice(MODES),
    envvar=PROGRESS_ENV,
    default="auto",
    show_default=True,
    help="plain: one timestamped line per status line change and script run; rich: a live status line; "
    "auto: rich on a terminal, else plain [env XLR_PROGRESS].",
)


def resolve_mode(mode: str, stream: str = "stderr") -> str:
    """``plain`` or ``rich``: ``auto`` is rich only when ``stream`` (``stdout`` or ``stderr``, where the
    transcript goes) is a terminal."""
    if mode != "auto":
        return mode
    target = sys.stdout if stream == "stdout" else sys.stderr  # click's get_text_stream is deprecated (click 9)
    return "rich" if target.isatty() else "plain"


def clock_time(epoch: float) -> str:
    """``HH:MM:SS`` in local time, as a progress line starts."""
    return dt.datetime.fromtimestamp(epoch).strftime("%H:%M:%S")


def status_text(task: Task) -> str:
    """``[in progress] Build queued``: the status and the status line, as both modes show them."""
    status = str(task.status).replace("_", " ")
    line = task.current_status_line
    if task.status in (TaskStatus.ABORTED, TaskStatus.SKIPPED):
        line = task.failure  # why, rather than nothing
    return f"[{status}] {line}" if line else f"[{status}]"


@dataclass(frozen=True)
class Event:
    """One change seen in the store: ``kind`` is ``status``, ``started``, ``ended``, ``requeued``, ``log`` or
    ``retry``."""

    time: float
    kind: str
    text: str
    stream: str = "stdout"  # for ``log``: the log line's stream


_ORDER = {"started": 0, "requeued": 0, "log": 1, "ended": 2, "status": 3, "retry": 4}


class Watcher(Protocol):
    """What :class:`Progress` shows: ``subject`` (``task 1``) and the events and status text of what it watches."""

    @property
    def subject(self) -> str:
        """``task 1`` or ``execution 4``: how plain lines name what they are about."""
        ...

    def poll(self) -> list[Event]:
        """The changes since the last call, in time order (the first call reports the current state)."""
        ...

    def status(self) -> str | None:
        """The current status text (``[in progress] Build queued``), once known."""
        ...


class TaskWatcher:
    """Reads what changed about one task since the last :meth:`poll`, as events in time order."""

    def __init__(self, store: Store, task_id: str) -> None:
        self.store = store
        self.task_id = task_id
        self.after = 0  # the last log line seen
        self.first_open = 0  # the lowest run id that may still change
        self._runs: dict[int, tuple[RunState, float | None, int]] = {}  # run id -> (state, started_at, restarts)
        self._shown: str | None = None
        self.task: Task | None = None

    @property
    def subject(self) -> str:
        """``task 1``."""
        return f"task {self.task_id}"

    def status(self) -> str | None:
        """The status and status line of the task (:func:`status_text`), once polled."""
        return None if self.task is None else status_text(self.task)

    def poll(self) -> list[Event]:
        """The changes since the last call (the first call reports the task's state)."""
        events: list[Event] = []
        for line in self.store.tasks.log(self.task_id, after=self.after):
            self.after = line.id
            events.append(Event(line.time, "log", line.text, line.stream))
        latest_end: float | None = None
        open_ids: list[int] = []
        for run in self.store.tasks.runs(self.task_id, from_id=self.first_open):
            seen = self._runs.get(run.id)
            self._runs[run.id] = (run.state, run.started_at, run.restarts)
            if run.state in (RunState.DUE, RunState.RUNNING):
                open_ids.append(run.id)
            if seen is not None and seen[2] < run.restarts and seen[0] is RunState.RUNNING:
                events.append(Event(time.time(), "requeued", f"script {run.script_path} re-queued"))
            if run.started_at is not None and (seen is None or seen[1] != run.started_at):
                events.append(Event(run.started_at, "started", f"script {run.script_path} started"))
            if run.state is RunState.DONE and (seen is None or seen[0] is not RunState.DONE):
                ended = run.ended_at or time.time()
                took = f" in {ended - run.started_at:.1f} s" if run.started_at is not None else ""
                events.append(Event(ended, "ended", f"script {run.script_path} ended: {run.outcome}{took}"))
                latest_end = ended if latest_end is None else max(latest_end, ended)
        self.first_open = min(open_ids) if open_ids else max(self._runs, default=0) + 1
        task = self.store.tasks.get(self.task_id)
        self.task = task
        shown = status_text(task)
        if shown != self._shown:
            self._shown = shown
            if task.status.is_final and task.ended_at is not None:
                at = max(task.ended_at, latest_end or 0)
            else:
                at = latest_end or task.started_at or task.created_at
            events.append(Event(at, "status", shown))
        events.sort(key=lambda e: (e.time, _ORDER[e.kind]))
        return events


def execution_log_text(line: ExecutionLogLine) -> str:
    """A log line of an execution as printed: its text, after ``[LEVEL]`` unless the level is ``NORMAL``."""
    return line.text if line.level == "NORMAL" else f"[{line.level}] {line.text}"


#: The stream style of an execution's log line by level (``Progress`` shows stderr red, system yellow).
_LEVEL_STREAMS = {"ERROR": "stderr", "WARN": "system"}


class ExecutionWatcher:
    """Reads what changed about an execution (and the retries that follow it) since the last :meth:`poll`."""

    def __init__(self, store: Store, execution_id: int) -> None:
        self.store = store
        self.execution_id = execution_id
        self.after = 0  # the last log line seen of the current execution
        self._steps: dict[str, tuple[str, float | None]] = {}  # step key -> (state, started)
        self._shown: str | None = None
        self._retry: int | None = None  # the retry to follow from the next poll on
        self.execution: Execution | None = None

    @property
    def subject(self) -> str:
        """``execution 4`` (the retry, once a poll after the one that told of it began following it)."""
        return f"execution {self.execution_id}"

    @property
    def ended(self) -> bool:
        """True once the last poll saw the execution ended with no retry to follow (all its lines were read)."""
        return self.execution is not None and self.execution.status.is_final and self._retry is None

    def status(self) -> str | None:
        """``[running]``, or the final status with why it failed."""
        execution = self.execution
        if execution is None:
            return None
        failure = execution.failure if execution.status != ExecutionStatus.SUCCEEDED else None
        return f"[{execution.shown_status}] {failure}" if failure else f"[{execution.shown_status}]"

    def poll(self) -> list[Event]:
        """The changes since the last call: log lines, step starts and ends, the status, each node's result at
        the end, and a ``retry`` event (its text: ``execution 5 (attempt 2)``) when a retry follows."""
        if self._retry is not None:  # told at the end of the last poll; its lines name it from now on
            self.execution_id, self.after, self._steps, self._shown, self._retry = self._retry, 0, {}, None, None
        # one consistent read: the lines and the steps that wrote them are seen together (read apart, a whole step
        # could run between the two reads, and its lines would be shown a poll before its start and end)
        with self.store.snapshot():
            execution = self.store.executions.get(self.execution_id)
            lines = self.store.executions.log(self.execution_id, after=self.after)
        self.execution = execution
        events: list[Event] = []
        for line in lines:
            self.after = line.id
            events.append(Event(line.time, "log", execution_log_text(line), _LEVEL_STREAMS.get(line.level, "stdout")))
        events += self._step_events(execution.cursor.get("steps", {}))
        shown = self.status()
        if shown != self._shown:
            self._shown = shown
            at = execution.started_at or execution.created_at
            if execution.status.is_final:  # after the lines it wrote as it ended
                at = max([execution.ended_at or time.time(), *(e.time for e in events)])
            events.append(Event(at, "status", shown or ""))
            if execution.status.is_final:
                events += [Event(at, "ended", f"node {name} succeeded") for name in execution.succeeded_nodes]
                events += [Event(at, "ended", f"node {name} failed") for name in execution.failed_nodes]
        events.sort(key=lambda e: (e.time, _ORDER[e.kind]))
        retry = (
            self.store.executions.retry_of(execution.id)
            if execution.status == ExecutionStatus.FAILED_WITH_RETRY
            else None
        )
        if retry is not None:
            events.append(Event(time.time(), "retry", f"execution {retry.id} (attempt {retry.attempt})"))
            self._retry = retry.id
        return events

    def _step_events(self, steps: dict[str, dict[str, Any]]) -> list[Event]:
        events: list[Event] = []
        for key, step in steps.items():
            seen = self._steps.get(key)
            self._steps[key] = (step["state"], step.get("started"))
            label = f"step {step['step']}" + (" error handler" if step.get("handler") else "")
            label += f" ({step['description']})" if step.get("description") else ""
            where = f" on {step['node']}" if step.get("node") else ""
            if step.get("started") is not None and (seen is None or seen[1] != step["started"]):
                events.append(Event(step["started"], "started", f"{label} started{where}"))
            if step["state"] != "running" and (seen is None or seen[0] == "running" or seen[1] != step["started"]):
                took = f" in {step['ended'] - step['started']:.1f} s" if step.get("ended") is not None else ""
                reason = f" ({step['reason']})" if step.get("reason") else ""
                events.append(
                    Event(step.get("ended") or time.time(), "ended", f"{label}{where} {step['state']}{took}{reason}")
                )
        return events


class Progress:
    """Shows what ``watcher`` sees (a task's or an execution's progress) in ``mode`` (``plain`` or ``rich``) on
    ``stream`` (``stdout`` or ``stderr``): :meth:`refresh` polls, :meth:`note` and :meth:`echo` add lines of our
    own."""

    def __init__(self, watcher: Watcher, mode: str, *, stream: str = "stderr") -> None:
        self.watcher = watcher
        self.mode = mode
        self.to_stderr = stream == "stderr"
        from rich.console import Console  # imported when progress is shown, not by every command of the module

        self.console = Console(stderr=self.to_stderr, highlight=False, soft_wrap=True)
        self._status: Any = None
        self._lock = threading.Lock()

    def echo(self, text: str, *, style: str | None = None) -> None:
        """One line of the transcript."""
        if self.mode == "rich":
            self.console.print(text, style=style, markup=False)
        else:
            click.echo(text, err=self.to_stderr)

    def __enter__(self) -> Progress:
        if self.mode == "rich":
            self._status = self.console.status("planned")
            self._status.start()
        return self

    def refresh(self) -> None:
        """Show what changed since the last refresh."""
        with self._lock:
            for event in self.watcher.poll():
                if event.kind == "log":
                    style = {"stderr": "red", "system": "yellow"}.get(event.stream)
                    self.echo(event.text, style=style)
                elif event.kind == "retry":
                    self.echo(f"Retry: {event.text}", style="yellow")
                elif self.mode == "plain":
                    self.echo(f"{clock_time(event.time)} {self.watcher.subject} {event.text}")
            shown = self.watcher.status()
            if self._status is not None and shown is not None:
                from rich.markup import escape

                self._status.update(escape(shown))  # not rich markup

    def note(self, text: str) -> None:
        """Print one line of our own (not from the task log)."""
        with self._lock:
            self.echo(text, style="yellow")

    def __exit__(self, *exc: object) -> None:
        self.refresh()
        if self._status is not None:
            self._status.stop()
            shown = self.watcher.status()
            if shown is not None:  # the spinner's line goes with it: leave the final one printed
                self.echo(f"{self.watcher.subject.capitalize()} {shown}")
