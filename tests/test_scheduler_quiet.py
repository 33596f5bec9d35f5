"""The run loop claims only when a run can be due: a finished run wakes the loop between due times to be
committed, without a claim (a write transaction); a :meth:`Scheduler.wake` or the next due time claims again."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from task_helpers import DEMO_PLUGIN

from xlr_runtime.clock import VirtualClock
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.scheduler import Scheduler
from xlr_runtime.scripting.contract import RunOutcome, ScheduleRequest, ScriptRunRequest, ScriptRunResult
from xlr_runtime.settings import defaults
from xlr_runtime.store import Store
from xlr_runtime.typesystem.registry import load_registry

T0 = 1_700_000_000.0
CLAIM = "UPDATE script_runs SET state = 'running'"


class HeldExecutor:
    """Keeps every run until :meth:`finish` ends the oldest one, asking for the next poll 5 s later."""

    def __init__(self) -> None:
        self.held: list[tuple[ScriptRunRequest, Future[ScriptRunResult]]] = []

    def submit(self, request: ScriptRunRequest) -> Future[ScriptRunResult]:
        future: Future[ScriptRunResult] = Future()
        future.set_running_or_notify_cancel()
        self.held.append((request, future))
        return future

    def finish(self) -> None:
        request, future = self.held.pop(0)
        schedule = ScheduleRequest("demo/Counter.next.py", 5)
        future.set_result(ScriptRunResult(run_id=request.run_id, outcome=RunOutcome.SUCCEEDED, schedule=schedule))

    def shutdown(self, *, wait: bool = True) -> None:
        self.held.clear()


@pytest.fixture
def traced(tmp_path: Path) -> Iterator[tuple[Scheduler, HeldExecutor, list[str]]]:
    statements: list[str] = []
    registry = load_registry(plugin_paths=[DEMO_PLUGIN], pm=build_plugin_manager(load_installed=False))
    executor = HeldExecutor()
    with Store.open(tmp_path / "xlr.db") as store:
        store.conn.set_trace_callback(statements.append)
        yield Scheduler(store, registry, executor, defaults(), VirtualClock(T0)), executor, statements  # type: ignore[arg-type]


def claims(statements: list[str]) -> int:
    return sum(s.startswith(CLAIM) for s in statements)


def loop_round(scheduler: Scheduler, now: float) -> float | None:
    """One pass of Scheduler.run: a tick, then the time it would sleep until."""
    scheduler._loop_tick(now)
    return scheduler._next_wake(None)


def test_finished_runs_between_due_times_are_committed_without_a_claim(
    traced: tuple[Scheduler, HeldExecutor, list[str]],
) -> None:
    scheduler, executor, statements = traced
    for _ in range(2):
        scheduler.engine.create_task("demo.Counter", {"polls": 3})

    assert loop_round(scheduler, T0) is None  # both runs running: nothing due
    executor.finish()
    assert loop_round(scheduler, T0 + 1) == T0 + 5  # committed; its next run is due 5 s after the commit (clock time)
    executor.finish()
    assert loop_round(scheduler, T0 + 2) == T0 + 5

    assert claims(statements) == 1
    assert [run.state for run in scheduler.store.tasks.runs("1")] == ["done", "due"]


def test_a_wake_or_the_due_time_claims_again(traced: tuple[Scheduler, HeldExecutor, list[str]]) -> None:
    scheduler, executor, statements = traced
    scheduler.engine.create_task("demo.Counter", {"polls": 3})
    loop_round(scheduler, T0)
    executor.finish()
    assert loop_round(scheduler, T0 + 1) == T0 + 5

    scheduler.engine.create_task("demo.Counter", {"polls": 3})  # added by another thread, which wakes the loop
    scheduler.wake()
    loop_round(scheduler, T0 + 2)
    assert claims(statements) == 2
    assert len(executor.held) == 1  # the new task's first run, though the next known due time is T0 + 5

    loop_round(scheduler, T0 + 5)
    assert claims(statements) == 3
    assert len(executor.held) == 2
