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
from xlr_runtime.clock import SystemClock, VirtualClock, wait_for_due
from xlr_runtime.rundeck.schedules import ScheduleService
from xlr_runtime.rundeck.xml_codec import load_jobs_xml
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


def run_in_thread(loop: Loop, *, until: Callable[[], bool] | None, max_wait: float, limit: float) -> float:
    """Run ``loop`` until ``until()`` (or ``limit`` real seconds, then stop it); return the real seconds taken."""
    started = time.monotonic()
    thread = threading.Thread(target=loop.run, kwargs={"until": until, "max_wait": max_wait}, daemon=True)
    thread.start()
    thread.join(limit)
    loop.request_stop()
    thread.join(5)
    assert not thread.is_alive()
    return time.monotonic() - started


# -- wait_for_due --------------------------------------------------------------------------------------------------


def test_wait_for_due_jumps_a_virtual_clock_to_the_due_time_at_once() -> None:
    clock, event = VirtualClock(START), threading.Event()
    started = time.monotonic()
    assert wait_for_due(clock, event, START + 3600, max_wait=1.0) is False
    assert clock.now() == START + 3600 and time.monotonic() - started < 0.5


def test_wait_for_due_idles_in_real_time_without_moving_a_virtual_clock() -> None:
    clock, event = VirtualClock(START), threading.Event()
    started = time.monotonic()
    assert wait_for_due(clock, event, None, max_wait=0.1) is False
    assert clock.now() == START and time.monotonic() - started >= 0.09


def test_wait_for_due_bounds_a_real_wait_by_max_wait_and_ends_on_the_event() -> None:
    clock, event = SystemClock(), threading.Event()
    started = time.monotonic()
    assert wait_for_due(clock, event, clock.now() + 3600, max_wait=0.1) is False
    assert 0.09 <= time.monotonic() - started < 1.0
    assert wait_for_due(clock, event, clock.now() - 1, max_wait=5) is False  # due already: no wait
    threading.Timer(0.05, event.set).start()
    assert wait_for_due(clock, event, None, max_wait=5) is True
    assert time.monotonic() - started < 1.5


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
    try:
        taken = run_in_thread(loops[loop_name], until=None, max_wait=0.05, limit=0.3)
    finally:
        world.store.close()
    assert clock.now() == START
    assert taken >= 0.29


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
        taken = run_in_thread(world.notifier, until=lambda: bool(hooks.requests), max_wait=0.1, limit=10)
    finally:
        world.store.close()
    assert [r["path"] for r in hooks.requests] == ["/slow"]
    assert clock.now() == START + 3600 and taken < 5


def test_the_execution_loop_jumps_a_virtual_clock_to_a_delayed_retry(tmp_path: Path) -> None:
    clock = VirtualClock(START)
    world = _world(tmp_path, clock)
    xml = job_xml(QUIET, command="exit 1", extra="<retry delay='1h'>1</retry>")
    job = load_jobs_xml(xml, path="t.xml")[0]
    try:
        first = world.service.start("P", job, {})
        taken = run_in_thread(
            world.service, until=lambda: world.service.final_of_chain(first.id).status.is_final, max_wait=1.0, limit=20
        )
        world.service.join(5)
        final = world.service.final_of_chain(first.id)
        ended = world.store.executions.get(first.id).ended_at
    finally:
        world.store.close()
    assert (final.id != first.id, final.status, final.attempt) == (True, ExecutionStatus.FAILED, 1)
    assert ended is not None and final.started_at is not None and final.started_at - ended >= 3600
    assert taken < 10


def test_the_schedule_loop_waits_for_a_fire_in_real_time_under_the_system_clock(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.store.jobs.load(
        "P",
        load_jobs_xml(job_xml(QUIET, extra="<schedule crontab='0 0 0 1 1 ? 2099'/>"), path="t.xml"),
        now=time.time(),
    )
    schedules = ScheduleService(world.store, world.service, default_zone=None)
    try:
        taken = run_in_thread(schedules, until=None, max_wait=0.05, limit=0.3)
        assert world.store.executions.list() == []
    finally:
        world.store.close()
    assert 0.29 <= taken < 3


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
