"""Issue 12, defect 1: nothing a script produces can stop the runtime.

Text without a UTF-8 form (a lone surrogate: ``"\\udcff"``, what ``surrogateescape`` makes of a stray byte) in
printed output, a status line, an exception or ``sys.exit()`` message or an output value is stored with the code
point escaped (``\\udcff``), by a real ``xlr serve``. A result the store refuses for any other reason fails its
own run and task with the cause, and the others of its batch are committed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from serve_helpers import RELIABILITY_PLUGIN, Serve, all_final, wait_for
from task_helpers import DEMO_PLUGIN, XLR_COMMAND, ThreadScriptExecutor

from xlr_runtime.clock import VirtualClock
from xlr_runtime.home import Home
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.runtime import Runtime
from xlr_runtime.scheduler import Scheduler
from xlr_runtime.settings import defaults
from xlr_runtime.store import RunState, Store, TaskStatus
from xlr_runtime.typesystem.registry import load_registry

#: What the scripts' ``"bad \udcff text"`` is stored as: the lone surrogate as its backslash escape.
ESCAPED = "bad \\udcff text"
SOURCES = ("print", "stderr", "status", "exception", "exit", "output", "list")


def test_text_without_a_utf8_form_is_stored_escaped_and_serve_goes_on(tmp_path: Path) -> None:
    home = Home(tmp_path / "home").ensure()
    with Runtime(home, plugin_paths=[RELIABILITY_PLUGIN, DEMO_PLUGIN]) as runtime:
        ids = {what: runtime.create_task("rel.Emit", {"what": what}).id for what in SOURCES}
        good = runtime.create_task("demo.Counter", {"polls": "0"}).id
    everything = [*ids.values(), good]
    with Serve(home.root, tmp_path / "serve.log", RELIABILITY_PLUGIN, DEMO_PLUGIN) as serve:
        serve.wait_ready()
        wait_for(lambda: not serve.alive() or all_final(home.database, everything), 60, serve.output)
        assert serve.alive(), serve.output()
        with Store.open(home.database) as store:
            tasks = {what: store.tasks.get(task_id) for what, task_id in ids.items()}
            logs = {what: [line.text for line in store.tasks.log(task_id)] for what, task_id in ids.items()}
            runs = {what: store.tasks.runs(task_id) for what, task_id in ids.items()}
            assert store.tasks.get(good).status is TaskStatus.COMPLETED
        assert serve.stop() == 0, serve.output()
    assert "Traceback" not in serve.output()

    for what in ("print", "stderr", "status", "output", "list"):
        assert tasks[what].status is TaskStatus.COMPLETED, (what, tasks[what], logs[what])
    assert ESCAPED in logs["print"] and ESCAPED in logs["stderr"]
    assert tasks["status"].status_line == ESCAPED
    assert tasks["output"].properties["result"] == ESCAPED
    assert tasks["list"].properties["items"] == ["fine", ESCAPED]
    for what in ("exception", "exit"):
        task = tasks[what]
        assert task.status is TaskStatus.FAILED, task
        assert ESCAPED in (task.failure or ""), task.failure
        [run] = runs[what]
        assert run.failure is not None and ESCAPED in run.failure.message, run
        assert f"Task failed: {task.failure}" in logs[what]
    assert tasks["exception"].failure.endswith(f"Emit.py:12: Exception: {ESCAPED}")  # type: ignore[union-attr]
    assert tasks["exit"].failure == ESCAPED

    # and the CLI shows them
    for command in (["tasks"], ["task", "show", ids["status"]], ["task", "log", ids["print"]]):
        shown = subprocess.run(
            [*XLR_COMMAND, *command, "--home", str(home.root), "--plugins", str(RELIABILITY_PLUGIN)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shown.returncode == 0, shown.stderr
        assert ESCAPED in shown.stdout, shown.stdout


@pytest.fixture
def scheduler(tmp_path: Path) -> Scheduler:
    registry = load_registry(plugin_paths=[DEMO_PLUGIN], pm=build_plugin_manager(load_installed=False))
    store = Store.open(tmp_path / "xlr.db")
    executor = ThreadScriptExecutor(4)
    yield Scheduler(store, registry, executor, defaults(), VirtualClock())
    executor.shutdown()
    store.close()


def test_a_result_the_store_refuses_fails_its_own_run_and_task_only(scheduler: Scheduler) -> None:
    store = scheduler.store
    refused = scheduler.engine.create_task("demo.Counter", {"polls": "2"})
    others = [scheduler.engine.create_task("demo.Counter", {"polls": "2"}) for _ in range(5)]
    # SQLite itself refuses to record one task's successful runs, as it would a value it cannot keep
    store.execute(
        "CREATE TRIGGER refuse BEFORE UPDATE OF state ON script_runs "
        f"WHEN NEW.state = 'done' AND NEW.outcome = 'succeeded' AND NEW.task_id = {int(refused.id)} "
        "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
    )
    scheduler.run(until=lambda: all(store.tasks.get(t.id).status.is_final for t in [refused, *others]))

    for task in others:
        done = store.tasks.get(task.id)
        assert (done.status, done.properties["count"]) == (TaskStatus.COMPLETED, 2), done
    failed = store.tasks.get(refused.id)
    reason = "its result could not be stored (IntegrityError: refused by the test); its output was dropped"
    assert (failed.status, failed.failure) == (TaskStatus.FAILED, reason)
    [run] = store.tasks.runs(refused.id)
    assert (run.state, run.outcome, run.failure.kind, run.failure.message) == (  # type: ignore[union-attr]
        RunState.DONE,
        "failed",
        "StoreError",
        reason,
    )
    assert [line.text for line in store.tasks.log(refused.id)] == [f"Task failed: {reason}"]
