"""SQL a scheduler round costs on a real store (sqlite3's trace callback): each claimed batch reads its tasks at
most once, even with lifecycle hooks (a task the scheduler wrote last is not read again), and a commit finds the
ended tasks without looking up their run ids."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from task_helpers import DEMO_PLUGIN, ThreadScriptExecutor

from xlr_runtime import hookimpl
from xlr_runtime.clock import VirtualClock
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.scheduler import Scheduler
from xlr_runtime.scripting.contract import ScriptRunRequest, ScriptRunResult
from xlr_runtime.settings import defaults
from xlr_runtime.store import Store, TaskStatus
from xlr_runtime.typesystem.registry import TypeRegistry, load_registry

T0 = 1_700_000_000.0
TASKS = 3
POLLS = 2  # each task: a first run and POLLS more, five seconds apart
READ_TASKS = "SELECT * FROM tasks WHERE id IN"
RUN_TASK_IDS = "SELECT id, task_id FROM script_runs WHERE id IN"


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, TaskStatus]] = []

    @hookimpl
    def xlr_task_started(self, task) -> None:  # type: ignore[no-untyped-def]
        self.events.append(("started", task.id, task.status))

    @hookimpl
    def xlr_task_ended(self, task) -> None:  # type: ignore[no-untyped-def]
        self.events.append(("ended", task.id, task.status))


class InlineExecutor:
    """Runs each script before ``submit`` returns, so one tick claims, runs and commits a whole batch."""

    def __init__(self) -> None:
        self._threads = ThreadScriptExecutor(1)

    def submit(self, request: ScriptRunRequest) -> Future[ScriptRunResult]:
        future = self._threads.submit(request)
        future.result()
        return future

    def shutdown(self) -> None:
        self._threads.shutdown()


@pytest.fixture
def statements(tmp_path: Path) -> Iterator[tuple[Store, list[str]]]:
    traced: list[str] = []
    with Store.open(tmp_path / "xlr.db") as store:
        store.conn.set_trace_callback(traced.append)
        yield store, traced


@pytest.fixture
def executor() -> Iterator[InlineExecutor]:
    inline = InlineExecutor()
    yield inline
    inline.shutdown()


def test_each_round_reads_its_tasks_once_and_never_looks_up_task_ids(
    statements: tuple[Store, list[str]], executor: InlineExecutor
) -> None:
    store, traced = statements
    registry: TypeRegistry = load_registry(plugin_paths=[DEMO_PLUGIN], pm=build_plugin_manager(load_installed=False))
    pm = build_plugin_manager(load_installed=False)
    recorder = Recorder()
    pm.register(recorder)
    scheduler = Scheduler(store, registry, executor, defaults(), VirtualClock(T0), pm=pm)  # type: ignore[arg-type]
    ids = [scheduler.engine.create_task("demo.Counter", {"polls": POLLS}).id for _ in range(TASKS)]
    per_round: list[tuple[int, int]] = []
    for step in range(POLLS + 1):
        traced.clear()
        assert scheduler.tick(T0 + 5 * step) == TASKS
        per_round.append(
            (sum(s.startswith(READ_TASKS) for s in traced), sum(s.startswith(RUN_TASK_IDS) for s in traced))
        )
    # first round: the started hooks and the requests share one read; then the tasks are cached (only their
    # versions are read), and the last round reads the ended tasks, once
    assert per_round == [(1, 0), (0, 0), (1, 0)]
    assert recorder.events == [
        *[("started", i, TaskStatus.IN_PROGRESS) for i in ids],
        *[("ended", i, TaskStatus.COMPLETED) for i in ids],
    ]
    assert [store.tasks.get(i).properties["count"] for i in ids] == [POLLS] * TASKS
