"""Waiting in tests without depending on timing: wait for a condition with a generous deadline, never for a
fixed time. A deadline only costs time when the test fails; on a loaded machine the condition still comes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from xlr_runtime.clock import SystemClock

#: Script text for a script run in a worker process, defining ``streamer_passes(n)``: wait until the worker's
#: log streamer has begun ``n`` more passes (so at least ``n - 1`` whole passes, each taking and sending the
#: finished lines, ran since the call), for up to 60 s. A condition, not a sleep that hopes the streamer ran;
#: it counts the streamer's calls to the run's TaskLog (``sys.stdout`` is the run's stream in a worker).
STREAMER_PASSES = """\
import threading as _threading, time as _time
# a worker routes output by thread (the run's log is on its thread); in-process runs swap sys.stdout
_log = getattr(_threading.current_thread(), "_xlr_task_log", None) or sys.stdout._log
_passes, _lock = [0], _threading.Lock()
_take = _log.take_unsent
def _counted():
    with _lock:
        _passes[0] += 1
    return _take()
_log.take_unsent = _counted
def streamer_passes(n):
    with _lock:
        wanted = _passes[0] + n
    deadline = _time.monotonic() + 60
    while _passes[0] < wanted:
        if _time.monotonic() > deadline:
            raise RuntimeError('the log streamer did not run')
        _time.sleep(0.01)
"""

#: Real seconds a test waits for something that normally takes well under one: only a failure waits this long.
DEADLINE = 60.0

T = TypeVar("T")


def wait_until(
    condition: Callable[[], object],
    what: str | Callable[[], object],
    *,
    timeout: float = DEADLINE,
    interval: float = 0.02,
) -> None:
    """Poll ``condition`` until it is true; fail with ``what`` (a string or a callable giving one) after ``timeout``
    real seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout:g} s: {what() if callable(what) else what}")
        time.sleep(interval)


def returns_within(call: Callable[[], T], what: str, *, timeout: float = DEADLINE) -> T:
    """Run ``call`` in a daemon thread and return its result; fail with ``what`` when it has not returned after
    ``timeout`` real seconds (it would block far longer when the behaviour under test is broken)."""
    outcome: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise AssertionError(f"not within {timeout:g} s: {what}")
    if errors:
        raise errors[0]
    return outcome[0]


def joined(thread: threading.Thread, what: str, *, timeout: float = DEADLINE) -> None:
    """Join ``thread``; fail with ``what`` when it is still alive after ``timeout`` real seconds."""
    thread.join(timeout)
    if thread.is_alive():
        raise AssertionError(f"not within {timeout:g} s: {what}")


class WatchedClock(SystemClock):
    """The system clock, telling a test how the thread named ``thread`` sleeps in :meth:`wait`: whether it is
    asleep now, the deadline each of its sleeps had (``None``: none, so only its event can end it), and whether
    the event ended it. Lets a test act while a loop is asleep, and prove what woke it, without timing it."""

    def __init__(self, thread: str) -> None:
        self.thread = thread
        self.deadlines: list[float | None] = []
        self.woken: list[bool] = []
        self._asleep = threading.Event()

    def wait(self, event: threading.Event, until: float | None) -> bool:
        if threading.current_thread().name != self.thread:
            return super().wait(event, until)
        self.deadlines.append(until)
        self._asleep.set()
        try:
            woken = super().wait(event, until)
        finally:
            self._asleep.clear()
        self.woken.append(woken)
        return woken

    def asleep_without_deadline(self) -> int | None:
        """The index of the sleep the thread is in now when it has no deadline, else ``None``."""
        index = len(self.deadlines) - 1
        if self._asleep.is_set() and index >= 0 and self.deadlines[index] is None:
            return index
        return None

    def next_sleep_without_deadline(self) -> int:
        """Wait until the thread is in a sleep without a deadline; return that sleep's index."""
        found: list[int] = []

        def asleep() -> bool:
            index = self.asleep_without_deadline()
            if index is not None:
                found.append(index)
            return bool(found)

        wait_until(asleep, f"thread {self.thread!r} never slept without a deadline")
        return found[0]
