"""Runs due within CLAIM_AHEAD are claimed with the runs due now and held until their due time: claimed in the
store (a crash re-queues them as any running run), handed over only when due, in due order, and re-queued at
once by a stop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from task_helpers import DEMO_PLUGIN
from test_scheduler_quiet import CLAIM, HeldExecutor

from xlr_runtime.clock import VirtualClock
from xlr_runtime.engine import STOPPED_NOTE
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.scheduler import CLAIM_AHEAD, Scheduler
from xlr_runtime.settings import defaults
from xlr_runtime.store import RunState, Store
from xlr_runtime.typesystem.registry import load_registry

T0 = 1_700_000_000.0
EARLY = T0 - CLAIM_AHEAD / 2  # the first runs (due T0) fall due within CLAIM_AHEAD


@pytest.fixture
def traced(tmp_path: Path) -> Iterator[tuple[Scheduler, HeldExecutor, list[str]]]:
    statements: list[str] = []
    registry = load_registry(plugin_paths=[DEMO_PLUGIN], pm=build_plugin_manager(load_installed=False))
    executor = HeldExecutor()
    with Store.open(tmp_path / "xlr.db") as store:
        store.conn.set_trace_callback(statements.append)
        yield Scheduler(store, registry, executor, defaults(), VirtualClock(T0)), executor, statements  # type: ignore[arg-type]


def test_runs_due_soon_are_claimed_now_and_handed_over_when_due(
    traced: tuple[Scheduler, HeldExecutor, list[str]],
) -> None:
    scheduler, executor, statements = traced
    ids = [scheduler.engine.create_task("demo.Counter", {"polls": 3}).id for _ in range(3)]

    assert scheduler.tick(EARLY) == 0
    assert executor.held == []
    assert [scheduler.store.tasks.runs(i)[0].state for i in ids] == [RunState.RUNNING] * 3
    assert scheduler._next_wake(None) == T0  # the held runs' due time

    statements.clear()
    scheduler._loop_tick(T0)  # the store said nothing else is due before T0 + CLAIM_AHEAD at the earliest
    assert [request.task_id for request, _ in executor.held] == ids
    assert not any(s.startswith(CLAIM) for s in statements)


def test_a_stop_requeues_held_runs_at_once(traced: tuple[Scheduler, HeldExecutor, list[str]]) -> None:
    scheduler, executor, _ = traced
    task = scheduler.engine.create_task("demo.Counter", {"polls": 3})
    scheduler.tick(EARLY)

    requeued = scheduler.shutdown(grace_period=3600)  # nothing runs: no grace period to wait

    assert [run.task_id for run in requeued] == [task.id]
    assert executor.held == []
    [run] = scheduler.store.tasks.runs(task.id)
    assert run.state == RunState.DUE
    assert scheduler.store.tasks.log(task.id)[-1].text == STOPPED_NOTE.format(path=run.script_path)
