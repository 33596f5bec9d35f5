"""Issue 12, defect 2: no ``task.schedule()`` interval can crash ``xlr serve``.

A number that is not finite, negative, above 30 days, or not a number at all is refused in the script, at its
line (the run fails like any script error); the engine refuses one from any other executor; the store never keeps
a due time that is not finite; a wait for a far due time (a database written before) does not overflow.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from serve_helpers import RELIABILITY_PLUGIN, Serve, all_final, wait_for
from task_helpers import DEMO_PLUGIN, ThreadScriptExecutor

from xlr_runtime.clock import SystemClock, VirtualClock
from xlr_runtime.errors import StoreError
from xlr_runtime.home import Home
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.runtime import Runtime
from xlr_runtime.scheduler import Scheduler
from xlr_runtime.scripting.contract import RunOutcome, ScheduleRequest, ScriptRunRequest, ScriptRunResult
from xlr_runtime.settings import defaults
from xlr_runtime.store import RunCompletion, RunState, Store, TaskStatus
from xlr_runtime.typesystem.registry import load_registry

#: The longest interval task.schedule() accepts: 30 days.
MAX_INTERVAL = 30 * 24 * 3600.0
SCRIPT = RELIABILITY_PLUGIN / "rel" / "Schedule.py"
#: The interval each bad key of rel/Schedule.py asks for, and how task.schedule() refuses it.
REFUSED = {
    "1e10": "must be at most 2592000 seconds (30 days), got 10000000000.0",
    "inf": "must be a finite number of seconds, got inf",
    "nan": "must be a finite number of seconds, got nan",
    "negative": "must not be negative, got -5",
    "text": "must be a number of seconds, got 'soon'",
    "list": "must be a number of seconds, got [5]",
    "huge int": "must be a number of seconds, got 1000000",
    "31 days": "must be at most 2592000 seconds (30 days), got 2678400",
}


def test_bad_intervals_fail_their_task_at_the_script_line_and_serve_keeps_running(tmp_path: Path) -> None:
    home = Home(tmp_path / "home").ensure()
    with Runtime(home, plugin_paths=[RELIABILITY_PLUGIN]) as runtime:
        bad = {key: runtime.create_task("rel.Schedule", {"interval": key}).id for key in REFUSED}
        month = runtime.create_task("rel.Schedule", {"interval": "30 days"}).id
    log = tmp_path / "serve.log"
    with Serve(home.root, log) as serve:
        serve.wait_ready()
        wait_for(lambda: not serve.alive() or all_final(home.database, list(bad.values())), 60, serve.output)
        assert serve.alive(), serve.output()
        with Store.open(home.database) as store:
            wait_for(lambda: len(store.tasks.runs(month)) == 2, 30, serve.output)
            for key, task_id in bad.items():
                task = store.tasks.get(task_id)
                assert task.status is TaskStatus.FAILED, (key, task)
                assert task.failure is not None and task.failure.startswith(
                    f"{SCRIPT}:14: ScriptError: task.schedule() interval {REFUSED[key]}"
                ), (key, task.failure)
            first, second = store.tasks.runs(month)
            assert (first.state, second.state, second.script_path) == (RunState.DONE, RunState.DUE, "rel/Done.py")
            assert second.due_at - first.ended_at == pytest.approx(MAX_INTERVAL, abs=5)  # type: ignore[operator]
        assert serve.stop() == 0, serve.output()
    # a far due time does not stop the next start either
    with Serve(home.root, log) as again:
        again.wait_ready()
        assert again.stop() == 0, again.output()


class _Asking:
    """An executor whose scripts all succeed and ask for the next script with a given interval (not checked by
    task.schedule(), as another executor could send)."""

    def __init__(self, interval: object) -> None:
        self.interval = interval

    def submit(self, request: ScriptRunRequest) -> Future[ScriptRunResult]:
        future: Future[ScriptRunResult] = Future()
        future.set_result(
            ScriptRunResult(
                run_id=request.run_id,
                outcome=RunOutcome.SUCCEEDED,
                schedule=ScheduleRequest("demo/Counter.next.py", self.interval),  # type: ignore[arg-type]
            )
        )
        return future

    def shutdown(self, *, wait: bool = True) -> None:
        pass


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "xlr.db") as opened:
        yield opened


@pytest.mark.parametrize("interval", [math.inf, math.nan, -1.0, 1e10, MAX_INTERVAL + 1, "5"])
def test_the_engine_fails_a_task_whose_interval_came_unchecked(store: Store, interval: object) -> None:
    registry = load_registry(plugin_paths=[DEMO_PLUGIN], pm=build_plugin_manager(load_installed=False))
    scheduler = Scheduler(store, registry, _Asking(interval), defaults(), VirtualClock())  # type: ignore[arg-type]
    task = scheduler.engine.create_task("demo.Counter", {"polls": "3"})
    scheduler.run(until=lambda: store.tasks.get(task.id).status.is_final)
    failed = store.tasks.get(task.id)
    shown = repr(interval) if isinstance(interval, float) else "of type str"  # text may hold a secret: not shown
    reason = f"task.schedule(): interval {shown} is not a number of seconds from 0 to 2592000"
    assert (failed.status, failed.failure) == (TaskStatus.FAILED, reason)
    assert [r.state for r in store.tasks.runs(task.id)] == [RunState.DONE]


def test_the_store_refuses_a_due_time_that_is_not_finite(store: Store) -> None:
    registry = load_registry(plugin_paths=[DEMO_PLUGIN], pm=build_plugin_manager(load_installed=False))
    executor = ThreadScriptExecutor(1)
    scheduler = Scheduler(store, registry, executor, defaults(), VirtualClock())
    task = scheduler.engine.create_task("demo.Counter", {"polls": "3"})
    [run] = store.tasks.claim_due(scheduler.clock.now(), 1, owner=store.owner, lease=60)
    executor.shutdown()
    completion = RunCompletion(
        run_id=run.id,
        outcome="succeeded",
        started_at=run.due_at,
        ended_at=run.due_at,
        next_script="demo/Counter.next.py",
        next_due_at=math.nan,
    )
    with pytest.raises(StoreError, match=r"refusing to store the run after run \d+ due at nan"):
        store.tasks.complete([completion], owner=store.owner)
    assert store.tasks.get_run(run.id).state is RunState.RUNNING  # nothing of it was written
    # through the engine, the run fails with the reason instead
    assert [t.status for t in scheduler.engine.commit([completion])] == [TaskStatus.FAILED]
    failed = store.tasks.get(task.id)
    assert failed.failure is not None and "refusing to store the run after run" in failed.failure


def test_a_wait_for_a_far_due_time_does_not_overflow() -> None:
    event = threading.Event()
    timer = threading.Timer(0.2, event.set)
    timer.start()
    started = time.monotonic()
    assert SystemClock().wait(event, time.time() + 1e12) is True
    assert SystemClock().wait(event, math.inf) is True
    assert time.monotonic() - started < 30
