"""How ``xlr run`` and ``xlr demo`` show a task's progress: ``plain`` lines or a ``rich`` live status line.

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
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import click

from xlr_runtime.store import RunState, Store, Task, TaskStatus

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
    """One change seen in the store: ``kind`` is ``status``, ``started``, ``ended``, ``requeued`` or ``log``."""

    time: float
    kind: str
    text: str
    stream: str = "stdout"  # for ``log``: the log line's stream


_ORDER = {"started": 0, "requeued": 0, "log": 1, "ended": 2, "status": 3}


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


class Progress:
    """Shows a task's progress in ``mode`` (``plain`` or ``rich``) on ``stream`` (``stdout`` or ``stderr``):
    :meth:`refresh` polls, :meth:`note` and :meth:`echo` add lines of our own."""

    def __init__(self, store: Store, task_id: str, mode: str, *, stream: str = "stderr") -> None:
        self.watcher = TaskWatcher(store, task_id)
        self.task_id = task_id
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
                elif self.mode == "plain":
                    self.echo(f"{clock_time(event.time)} task {self.task_id} {event.text}")
            if self._status is not None and self.watcher.task is not None:
                from rich.markup import escape

                self._status.update(escape(status_text(self.watcher.task)))  # not rich markup

    def note(self, text: str) -> None:
        """Print one line of our own (not from the task log)."""
        with self._lock:
            self.echo(text, style="yellow")

    def __exit__(self, *exc: object) -> None:
        self.refresh()
        if self._status is not None:
            self._status.stop()
            if self.watcher.task is not None:  # the spinner's line goes with it: leave the final one printed
                self.echo(f"Task {self.task_id} {status_text(self.watcher.task)}")
