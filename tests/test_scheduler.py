"""The scheduler: tick(now), chains of polls under a virtual clock, intervals, capacity, restart recovery,
graceful stop and wake-ups. Scripts run for real, in threads (tests/task_helpers.py); the worker-pool
integration is in tests/test_runtime.py."""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from task_helpers import DEMO_PLUGIN, ThreadScriptExecutor

from tests.waiting import WatchedClock, joined, wait_until
from xlr_runtime.clock import SystemClock, VirtualClock
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.scheduler import Scheduler
from xlr_runtime.scripting.contract import ScriptRunRequest, ScriptRunResult
from xlr_runtime.settings import Settings, defaults, load
from xlr_runtime.store import RunState, Store, TaskStatus
from xlr_runtime.typesystem.registry import TypeRegistry, load_registry

T0 = 1_700_000_000.0


@pytest.fixture(scope="module")
def registry() -> TypeRegistry:
    return load_registry(plugin_paths=[DEMO_PLUGIN], pm=build_plugin_manager(load_installed=False))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "xlr.db") as opened:
        yield opened


@pytest.fixture
def executor() -> Iterator[ThreadScriptExecutor]:
    pool = ThreadScriptExecutor(4)
    yield pool
    pool.shutdown()


def make(
    store: Store,
    registry: TypeRegistry,
    executor: object,
    settings: Settings | None = None,
    clock: object = None,
    **kwargs: object,
) -> Scheduler:
    return Scheduler(store, registry, executor, settings or defaults(), clock or VirtualClock(T0), **kwargs)  # type: ignore[arg-type]


def dead_owner() -> str:
    """An owner name (``host:pid:random``) of a process of this host that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}:ended"


def due_times(store: Store, task_id: str) -> list[float]:
    return [run.due_at - T0 for run in store.tasks.runs(task_id)]


def test_a_chain_of_five_second_polls_runs_instantly_on_a_virtual_clock(
    store: Store, registry: TypeRegistry, executor: ThreadScriptExecutor
) -> None:
    scheduler = make(store, registry, executor)
    task = scheduler.engine.create_task("demo.Counter", {"polls": "10"})
    started = time.monotonic()
    scheduler.run(until=lambda: store.tasks.get(task.id).status.is_final)
    # faster than real time: waiting out the 50 virtual seconds for real would take at least that long
    assert time.monotonic() - started < 50
    done = store.tasks.get(task.id)
    assert (done.status, done.properties["count"], done.properties["done"], done.status_line) == (
        TaskStatus.COMPLETED,
        10,
        "yes",
        "10/10",
    )
    assert due_times(store, task.id) == [0.0, *[5.0 * i for i in range(1, 11)]]
    assert [line.text for line in store.tasks.log(task.id)][:2] == ["poll 1 of 10", "poll 2 of 10"]
    assert done.ended_at == T0 + 50


def test_interval_given_by_the_script_is_honoured(
    store: Store, registry: TypeRegistry, executor: ThreadScriptExecutor
) -> None:
    scheduler = make(store, registry, executor)
    task = scheduler.engine.create_task("demo.Counter", {"polls": "3", "interval": "7"})
    scheduler.run(until=lambda: store.tasks.get(task.id).status.is_final)
    assert due_times(store, task.id) == [0.0, 7.0, 14.0, 21.0]


def test_default_interval_from_xl_release_conf(
    tmp_path: Path, store: Store, registry: TypeRegistry, executor: ThreadScriptExecutor
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "xl-release.conf").write_text("xl.durations.customScriptTaskScheduleInterval = 10 seconds\n")
    scheduler = make(store, registry, executor, load(tmp_path))
    task = scheduler.engine.create_task("demo.Counter", {"polls": "2"})
    scheduler.run(until=lambda: store.tasks.get(task.id).status.is_final)
    assert due_times(store, task.id) == [0.0, 10.0, 20.0]


def test_interval_below_the_minimum_is_raised(
    store: Store, registry: TypeRegistry, executor: ThreadScriptExecutor
) -> None:
    scheduler = make(store, registry, executor)
    task = scheduler.engine.create_task("demo.Counter", {"polls": "2", "interval": "0.1"})
    scheduler.run(until=lambda: store.tasks.get(task.id).status.is_final)
    assert due_times(store, task.id) == [0.0, 1.0, 2.0]
    warnings = [line.text for line in store.tasks.log(task.id) if line.stream == "system"]
    assert warnings == ["Warning: task.schedule() interval 0.1s is below the minimum of 1s; using 1s."] * 2


def test_tick_claims_only_what_is_due(store: Store, registry: TypeRegistry, executor: ThreadScriptExecutor) -> None:
    clock = VirtualClock(T0)
    scheduler = make(store, registry, executor, clock=clock)
    task = scheduler.engine.create_task("demo.Counter", {"polls": "1"})
    assert scheduler.tick(T0) == 1

    def committed() -> bool:  # tick() itself may already have committed a fast run's result
        scheduler.collect()
        return len(store.tasks.runs(task.id)) >= 2

    wait_until(committed, "the first run's result was never committed")
    assert store.tasks.runs(task.id)[1].due_at == T0 + 5
    assert scheduler.tick(T0 + 4.9) == 0
    assert store.tasks.runs(task.id)[1].state is RunState.DUE
    assert scheduler.tick(T0 + 5) == 1
    assert store.tasks.runs(task.id)[1].state is RunState.RUNNING


def test_with_a_real_clock_runs_falling_due_soon_are_claimed_ahead_and_start_on_time(
    store: Store, registry: TypeRegistry, executor: ThreadScriptExecutor
) -> None:
    scheduler = make(store, registry, executor, clock=SystemClock())
    task = scheduler.engine.create_task("demo.Counter", {"polls": "1"})
    due = store.tasks.runs(task.id)[0].due_at

    assert scheduler.tick(due - scheduler.claim_ahead - 0.001) == 0  # not within the window yet
    assert scheduler.tick(due - scheduler.claim_ahead / 2) == 1
    run = store.tasks.runs(task.id)[0]
    assert run.state is RunState.RUNNING and run.owner == store.owner  # claimed and leased as any run
    assert [request.not_before for request in executor.requests] == [due]

    def committed() -> bool:
        scheduler.collect()
        return store.tasks.runs(task.id)[0].state is RunState.DONE

    wait_until(committed, "the run claimed ahead never ended")
    assert store.tasks.runs(task.id)[0].started_at == due  # not its claim: its executor held it back until then


def test_with_a_virtual_clock_nothing_is_claimed_ahead(store: Store, registry: TypeRegistry) -> None:
    scheduler = make(store, registry, ThreadScriptExecutor(1))
    assert (scheduler.claim_ahead, scheduler.wake_ahead) == (0.0, 0.0)


class CountingExecutor(ThreadScriptExecutor):
    def __init__(self) -> None:
        super().__init__(16, delay=0.05)
        self.running = 0
        self.peak = 0
        self._lock = threading.Lock()

    def submit(self, request: ScriptRunRequest) -> Future[ScriptRunResult]:
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        future = super().submit(request)
        future.add_done_callback(lambda _f: self._done())
        return future

    def _done(self) -> None:
        with self._lock:
            self.running -= 1


def test_many_tasks_run_concurrently_bounded_by_capacity(store: Store, registry: TypeRegistry) -> None:
    counting = CountingExecutor()
    scheduler = make(store, registry, counting, capacity=3)
    ids = [scheduler.engine.create_task("demo.Counter", {"polls": "2"}).id for _ in range(12)]
    scheduler.run(until=lambda: all(store.tasks.get(i).status.is_final for i in ids))
    counting.shutdown()
    assert {store.tasks.get(i).properties["count"] for i in ids} == {2}
    assert counting.peak == 3


def test_runs_left_running_by_a_dead_process_are_rerun_on_start(
    store: Store, registry: TypeRegistry, executor: ThreadScriptExecutor
) -> None:
    scheduler = make(store, registry, executor)
    task = scheduler.engine.create_task("demo.Counter", {"polls": "1"})
    [run] = store.tasks.claim_due(T0, 1, owner=dead_owner(), lease=60)
    scheduler.run(until=lambda: store.tasks.get(task.id).status.is_final)
    assert store.tasks.get(task.id).status is TaskStatus.COMPLETED
    assert store.tasks.get_run(run.id).restarts == 1
    assert store.tasks.log(task.id)[0].text == (
        "Script demo/Counter.py is re-run after a restart (it was running when the runtime stopped)."
    )


def test_stop_requeues_scripts_still_running_after_the_grace_period(
    store: Store, registry: TypeRegistry, executor: ThreadScriptExecutor
) -> None:
    scheduler = make(store, registry, executor, clock=SystemClock())
    task = scheduler.engine.create_task("demo.Sleep", {"seconds": "2"})
    assert scheduler.tick() == 1
    [requeued] = scheduler.shutdown(grace_period=0.1)
    assert requeued.state is RunState.DUE and requeued.restarts == 1
    assert store.tasks.get(task.id).status is TaskStatus.IN_PROGRESS
    assert store.tasks.log(task.id)[-1].text == (
        "Script demo/Sleep.py did not end within the grace period; it is re-run when the runtime starts again."
    )


def test_stop_waits_for_running_scripts_within_the_grace_period(
    store: Store, registry: TypeRegistry, executor: ThreadScriptExecutor
) -> None:
    scheduler = make(store, registry, executor, clock=SystemClock())
    task = scheduler.engine.create_task("demo.Sleep", {"seconds": "0"})
    assert scheduler.tick() == 1
    assert scheduler.shutdown(grace_period=10) == []
    assert store.tasks.get(task.id).status is TaskStatus.COMPLETED
    assert scheduler.tick() == 0


def test_run_sleeps_until_woken_by_new_work(
    store: Store, registry: TypeRegistry, executor: ThreadScriptExecutor
) -> None:
    clock = WatchedClock("scheduler")
    scheduler = make(store, registry, executor, clock=clock)
    thread = threading.Thread(target=scheduler.run, name="scheduler")
    thread.start()
    try:
        sleep = clock.next_sleep_without_deadline()  # nothing due: it sleeps until woken
        task = scheduler.engine.create_task("demo.Counter", {"polls": "0"})
        scheduler.wake()
        wait_until(lambda: store.tasks.get(task.id).status.is_final, "the task was not picked up")
        assert store.tasks.get(task.id).status is TaskStatus.COMPLETED
        assert clock.woken[sleep] is True  # picked up through wake(), not after a polling period
    finally:
        scheduler.request_stop()
        joined(thread, "the scheduler did not stop")


def test_a_script_failure_fails_only_its_task(
    store: Store, registry: TypeRegistry, executor: ThreadScriptExecutor
) -> None:
    scheduler = make(store, registry, executor)
    bad = scheduler.engine.create_task("demo.Fail", {"message": "no build"})
    good = scheduler.engine.create_task("demo.Counter", {"polls": "1"})
    scheduler.run(until=lambda: all(store.tasks.get(t.id).status.is_final for t in (bad, good)))
    assert store.tasks.get(bad.id).failure == "Exception: no build"
    assert store.tasks.get(good.id).status is TaskStatus.COMPLETED


class MislabellingExecutor(ThreadScriptExecutor):
    """An executor whose results name another run (a broken promise the scheduler survives)."""

    def submit(self, request: ScriptRunRequest) -> Future[ScriptRunResult]:
        wrong: Future[ScriptRunResult] = Future()
        super().submit(request).add_done_callback(
            lambda f: wrong.set_result(dataclasses.replace(f.result(), run_id=request.run_id + 1000))
        )
        return wrong


def test_a_result_counts_for_the_run_it_was_submitted_for_whatever_run_it_names(
    store: Store, registry: TypeRegistry
) -> None:
    mislabelling = MislabellingExecutor(2)
    scheduler = make(store, registry, mislabelling)
    task = scheduler.engine.create_task("demo.Counter", {"polls": "2"})
    scheduler.run(until=lambda: store.tasks.get(task.id).status.is_final)
    mislabelling.shutdown()
    assert store.tasks.get(task.id).properties["count"] == 2
    assert [r.state for r in store.tasks.runs(task.id)] == [RunState.DONE] * 3
