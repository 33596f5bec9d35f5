"""Injected time (DESIGN decision 3): the scheduler asks a :class:`Clock` for ``now`` and for waits.

:class:`SystemClock` is the real one. :class:`VirtualClock` starts at a given epoch and only moves when told
(``advance``) or when the scheduler sleeps until its next due time, which returns at once: a chain of
5-second polls runs without waiting. :func:`wait_for_due` is the wait of the service loops (Rundeck executions,
notifications and schedules): due times go through the clock, idle waits are real.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Where the scheduler reads the time and waits."""

    def now(self) -> float:
        """Current time, UTC epoch seconds."""
        ...

    def wait(self, event: threading.Event, until: float | None) -> bool:
        """Block until ``event`` is set or the clock reaches ``until`` (``None``: no deadline).

        Returns True when the event was set. A virtual clock jumps to ``until`` instead of waiting.
        """
        ...


#: The longest single wait (seconds): a due time further away (or infinite, in a database written before due times
#: were checked) is waited for in steps, instead of overflowing the wait.
MAX_WAIT = 86400.0


class SystemClock:
    """Wall-clock time (``time.time``) and real waits."""

    def now(self) -> float:
        """Current time, UTC epoch seconds."""
        return time.time()

    def wait(self, event: threading.Event, until: float | None) -> bool:
        """Wait on ``event`` until the wall clock reaches ``until``."""
        if until is None:
            return event.wait()
        return event.wait(min(max(0.0, until - time.time()), MAX_WAIT))


class VirtualClock:
    """A clock that moves only when told: ``advance(seconds)``, ``set(epoch)``, or a wait with a deadline."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        """The virtual time."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds``; return the new time."""
        with self._lock:
            self._now += max(0.0, seconds)
            return self._now

    def set(self, epoch: float) -> None:
        """Move to ``epoch`` (never backwards)."""
        with self._lock:
            self._now = max(self._now, float(epoch))

    def wait(self, event: threading.Event, until: float | None) -> bool:
        """Return at once: True if ``event`` is set; otherwise jump to ``until`` (or block for the event)."""
        if event.is_set():
            return True
        if until is None:
            return event.wait()
        self.set(until)
        return event.is_set()


def wait_for_due(clock: Clock, event: threading.Event, due: float | None, *, max_wait: float) -> bool:
    """The wait of a service loop whose next stored work is due at ``due`` (clock time; ``None``: nothing
    due). Returns True when ``event`` (the loop's wake-up) was set.

    * ``due`` reached: no wait (the loop has more to do now).
    * ``due`` ahead: through the clock. A :class:`SystemClock` waits at most ``max_wait`` seconds, so the loop
      sees work another process added without waking it; a :class:`VirtualClock` jumps straight to ``due``, so
      a retry delay, a fire time or an average-duration threshold costs no real time in a test.
    * nothing due: ``max_wait`` *real* seconds whatever the clock. Steps, processes and deliveries run in real
      time in other threads; an idle loop that jumped a virtual clock by ``max_wait`` per pass would race the
      shared clock past their timeouts and thresholds and keep a core busy.
    """
    if event.is_set():
        return True
    if due is None:
        return event.wait(max_wait)
    now = clock.now()
    if due <= now:
        return False
    if isinstance(clock, VirtualClock):
        return clock.wait(event, due)
    return clock.wait(event, min(due, now + max_wait))
