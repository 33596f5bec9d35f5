"""Injected time (DESIGN decision 3): the scheduler asks a :class:`Clock` for ``now`` and for waits.

:class:`SystemClock` is the real one. :class:`VirtualClock` starts at a given epoch and only moves when told
(``advance``) or when the scheduler sleeps until its next due time, which returns at once: a chain of
5-second polls runs without waiting.
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


class SystemClock:
    """Wall-clock time (``time.time``) and real waits."""

    def now(self) -> float:
        """Current time, UTC epoch seconds."""
        return time.time()

    def wait(self, event: threading.Event, until: float | None) -> bool:
        """Wait on ``event`` until the wall clock reaches ``until``."""
        if until is None:
            return event.wait()
        return event.wait(max(0.0, until - time.time()))


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
