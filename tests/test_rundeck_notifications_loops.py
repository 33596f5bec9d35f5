"""The service loops around notifications and the average they use: every loop waits for its next due time
through the injected clock (a virtual clock jumps there) and idles in real time without moving the clock; a
job's average duration counts its referenced runs as Rundeck's job statistics do."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.notification_helpers import Hooks, World, job_xml, running_webhooks, succeeded
from tests.waiting import DEADLINE, joined, returns_within
from xlr_runtime.clock import SystemClock, VirtualClock, wait_for_due
from xlr_runtime.rundeck.jobs.jobstore import JobStore
from xlr_runtime.rundeck.jobs.xml_codec import load_jobs_xml
from xlr_runtime.rundeck.schedules.schedules import ScheduleService
from xlr_runtime.store.executions import ExecutionStatus

START = 5000.0
QUIET = "<onsuccess><plugin type='unused'/></onsuccess>"  # a notification that never fires in these tests


@pytest.fixture
def webhooks() -> Iterator[tuple[Hooks, str]]:
    with running_webhooks() as server:
        yield server


class Loop(Protocol):
    def run(self, until: Callable[[], bool] | None = None, *, max_wait: float = 1.0) -> None: ...

    def request_stop(self) -> None: ...


def run_until(loop: Loop, until: Callable[[], bool], *, max_wait: float, what: str) -> None:
    """Run ``loop`` in a thread until ``until()``; fail with ``what`` (and stop the loop) when that takes longer
    than the generous deadline."""
    thread = threading.Thread(target=loop.run, kwargs={"until": until, "max_wait": max_wait}, daemon=True)
    thread.start()
    try:
        joined(thread, what)
    finally:
        loop.request_stop()
        joined(thread, "the loop did not stop when asked")


class Passes:
    """An ``until`` for a loop that is never done: it records, at each pass, the real time and the virtual clock,
    and ends the loop after ``count`` calls."""

    def __init__(self, clock: VirtualClock | None, count: int) -> None:
        self.clock, self.count = clock, count
        self.real: list[float] = []
        self.virtual: list[float] = []

    def __call__(self) -> bool:
        self.real.append(time.monotonic())
        if self.clock is not None:
            self.virtual.append(self.clock.now())
        return len(self.real) >= self.count


# -- wait_for_due --------------------------------------------------------------------------------------------------


def test_wait_for_due_jumps_a_virtual_clock_to_the_due_time_at_once() -> None:
    clock, event = VirtualClock(START), threading.Event()
    # max_wait an hour: a real wait would block far past the deadline of returns_within
    woken = returns_within(lambda: wait_for_due(clock, event, START + 3600, max_wait=3600.0), "a real wait")
    assert woken is False and clock.now() == START + 3600


def test_wait_for_due_idles_in_real_time_without_moving_a_virtual_clock() -> None:
    clock, event = VirtualClock(START), threading.Event()
    started = time.monotonic()
    assert wait_for_due(clock, event, None, max_wait=0.1) is False
    assert clock.now() == START and time.monotonic() - started >= 0.09


def test_wait_for_due_bounds_a_real_wait_by_max_wait_and_ends_on_the_event() -> None:
    clock, event = SystemClock(), threading.Event()
    started = time.monotonic()
    # due in an hour: returning at all (within the deadline) shows the wait was bounded by max_wait
    assert returns_within(lambda: wait_for_due(clock, event, clock.now() + 3600, max_wait=0.1), "max_wait") is False
    assert time.monotonic() - started >= 0.09
    due_already = returns_within(lambda: wait_for_due(clock, event, clock.now() - 1, max_wait=3600), "no wait")
    assert due_already is False
    threading.Timer(0.05, event.set).start()
    assert returns_within(lambda: wait_for_due(clock, event, None, max_wait=3600), "the event") is True


# -- the three loops -----------------------------------------------------------------------------------------------


def _world(tmp_path: Path, clock: VirtualClock) -> World:
    return World(tmp_path, clock=clock)


@pytest.mark.parametrize("loop_name", ["executions", "notifications", "schedules"])
def test_an_idle_loop_waits_in_real_time_and_leaves_the_virtual_clock_alone(tmp_path: Path, loop_name: str) -> None:
    clock = VirtualClock(START)
    world = _world(tmp_path, clock)
    loops: dict[str, Any] = {
        "executions": world.service,
        "notifications": world.notifier,
        "schedules": ScheduleService(world.store, world.service, clock=clock),
    }
    passes = Passes(clock, 7)  # at least three idle waits (the execution loop asks twice a pass)
    try:
        run_until(loops[loop_name], passes, max_wait=0.05, what="seven passes of the idle loop")
    finally:
        world.store.close()
    assert clock.now() == START and set(passes.virtual) == {START}
    assert passes.real[-1] - passes.real[0] >= 3 * 0.05 * 0.9  # each idle pass waited max_wait in real time


def test_the_notifier_loop_jumps_a_virtual_clock_to_an_avgduration_threshold(
    tmp_path: Path, webhooks: tuple[Hooks, str]
) -> None:
    hooks, base = webhooks
    clock = VirtualClock(START)
    world = _world(tmp_path, clock)
    succeeded(world, "uuid-job", 1000.0, 3600.0)  # an average of one hour
    job = load_jobs_xml(job_xml(f"<onavgduration><webhook urls='{base}/slow'/></onavgduration>"), path="t.xml")[0]
    world.service.start("P", job, {})
    with world.store.atomic():
        (running,) = world.store.executions.claim_due(START, owner=world.store.owner, limit=1)
        world.notifier.record_started([running])
    try:
        # idle waits never move the clock: the hook is sent only when the loop jumps to the threshold
        run_until(world.notifier, lambda: bool(hooks.requests), max_wait=0.1, what="the onavgduration webhook")
    finally:
        world.store.close()
    assert [r["path"] for r in hooks.requests] == ["/slow"]
    assert clock.now() == START + 3600


def test_the_execution_loop_jumps_a_virtual_clock_to_a_delayed_retry(tmp_path: Path) -> None:
    clock = VirtualClock(START)
    world = _world(tmp_path, clock)
    xml = job_xml(QUIET, command="exit 1", extra="<retry delay='1h'>1</retry>")
    job = load_jobs_xml(xml, path="t.xml")[0]
    try:
        first = world.service.start("P", job, {})
        run_until(
            world.service,
            lambda: world.service.final_of_chain(first.id).status.is_final,
            max_wait=1.0,
            what="the retry an hour later (virtual) ended",
        )
        world.service.join(DEADLINE)
        final = world.service.final_of_chain(first.id)
        ended = world.store.executions.get(first.id).ended_at
    finally:
        world.store.close()
    assert (final.id != first.id, final.status, final.attempt) == (True, ExecutionStatus.FAILED, 1)
    # idle waits never move the clock: the retry ran an hour after the first attempt only through the jump
    assert ended is not None and final.started_at is not None and final.started_at - ended >= 3600


def test_the_schedule_loop_waits_for_a_fire_in_real_time_under_the_system_clock(tmp_path: Path) -> None:
    world = World(tmp_path)
    JobStore(world.store).load(
        "P",
        load_jobs_xml(job_xml(QUIET, extra="<schedule crontab='0 0 0 1 1 ? 2099'/>"), path="t.xml"),
        now=time.time(),
    )
    schedules = ScheduleService(world.store, world.service, default_zone=None)
    passes = Passes(None, 4)
    try:
        # the fire time is in 2099: further passes come only because each wait is bounded by max_wait
        run_until(schedules, passes, max_wait=0.05, what="four passes of the schedule loop")
        assert world.store.executions.list() == []
    finally:
        world.store.close()
    assert passes.real[-1] - passes.real[0] >= 3 * 0.05 * 0.9  # real waits, not a jump to the fire time


# -- the average counts referenced runs ---------------------------------------------------------------------------


def test_referenced_runs_count_in_the_job_average_and_failed_ones_do_not(
    tmp_path: Path, webhooks: tuple[Hooks, str]
) -> None:
    hooks, base = webhooks
    world = World(tmp_path)
    child_xml = job_xml(f"<onsuccess><webhook urls='{base}/child' format='json'/></onsuccess>", name="child",
                        command="${option.env}")  # fmt: skip
    world.jobs.add("P", load_jobs_xml(child_xml, path="c.xml")[0])
    parent_xml = (
        "<joblist><job><name>parent</name><description/><uuid>uuid-parent</uuid><context><options>"
        "<option name='token' secure='true' valueExposed='true'/></options></context><sequence keepgoing='true' "
        "strategy='node-first'><command><jobref name='child'><arg line='-env true'/></jobref></command>"
        "<command><jobref name='child'><arg line='-env false'/></jobref></command></sequence></job></joblist>"
    )
    try:
        parent = world.run(parent_xml)
        children = sorted(
            (e for e in world.store.executions.list(project="P") if e.parent_id == parent.id), key=lambda e: e.id
        )
        durations = world.store.notifications.successful_durations("P", "uuid-child", before=10**9)
        top = world.run(child_xml, {"env": "true"})
    finally:
        world.store.close()
    assert [c.status for c in children] == [ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED]
    ok = children[0]
    assert ok.started_at is not None and ok.ended_at is not None
    assert durations == [pytest.approx(ok.ended_at - ok.started_at)]
    body = json.loads(hooks.requests[-1]["body"])
    assert body["executionId"] == top.id
    assert body["execution"]["job"]["averageDuration"] == int((ok.ended_at - ok.started_at) * 1000)
