"""The injected clocks: the system clock waits for real; the virtual clock jumps to the deadline."""

from __future__ import annotations

import threading
import time

from tests.waiting import returns_within
from xlr_runtime.clock import Clock, SystemClock, VirtualClock


def test_virtual_clock_moves_only_when_told_and_jumps_to_deadlines() -> None:
    clock = VirtualClock(100.0)
    assert isinstance(clock, Clock) and clock.now() == 100.0
    assert clock.advance(5) == 105.0
    clock.set(90)
    assert clock.now() == 105.0  # never backwards
    event = threading.Event()
    # an hour ahead: a real wait would block far past the deadline of returns_within
    assert returns_within(lambda: clock.wait(event, 3600.0 + 105.0), "a real wait of an hour") is False
    assert clock.now() == 3705.0
    event.set()
    assert clock.wait(event, 9999.0) is True and clock.now() == 3705.0


def test_system_clock_waits_until_the_deadline_or_the_event() -> None:
    clock = SystemClock()
    event = threading.Event()
    started = time.monotonic()
    assert clock.wait(event, clock.now() + 0.05) is False
    assert time.monotonic() - started >= 0.04
    threading.Timer(0.05, event.set).start()
    assert clock.wait(event, None) is True
