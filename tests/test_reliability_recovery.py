"""Issue 12, defects 3 and 4: recovery takes over only what is really abandoned, with real ``xlr serve`` processes.

* A script running when its server was killed (``kill -9``) is not re-run when its task was aborted or skipped
  meanwhile: the next start cancels the run (its side effects do not repeat).
* A second server started after ``xlr.lock`` was deleted finds the live holder in the store and refuses to start,
  and no recovery takes over the live server's running script.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
from serve_helpers import RELIABILITY_PLUGIN, Serve, wait_for
from task_helpers import XLR_COMMAND, ThreadScriptExecutor

from xlr_runtime.clock import SystemClock
from xlr_runtime.home import Home
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.runtime import LOCK_FILE, Runtime
from xlr_runtime.scheduler import Scheduler
from xlr_runtime.settings import defaults
from xlr_runtime.store import RunState, Store, TaskStatus
from xlr_runtime.typesystem.registry import load_registry


def starts(trace: Path) -> int:
    return trace.read_text().count("started") if trace.exists() else 0


def xlr(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*XLR_COMMAND, *args, "--home", str(home.root), "--plugins", str(RELIABILITY_PLUGIN)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(("operation", "status"), [("abort", TaskStatus.ABORTED), ("skip", TaskStatus.SKIPPED)])
def test_a_script_killed_with_its_server_is_not_rerun_after_its_task_ended(
    tmp_path: Path, operation: str, status: TaskStatus
) -> None:
    home = Home(tmp_path / "home").ensure()
    trace = tmp_path / "trace.txt"
    with Runtime(home, plugin_paths=[RELIABILITY_PLUGIN]) as runtime:
        slow = runtime.create_task("rel.Slow", {"trace": str(trace), "seconds": "60"}).id
    log = tmp_path / "serve.log"
    with Serve(home.root, log) as first:
        first.wait_ready()
        wait_for(lambda: starts(trace) == 1, 60, first.output)
        first.kill()
    done = xlr(home, "task", operation, slow)
    assert (done.returncode, done.stdout) == (0, f"Task {slow} is {status}\n"), done.stderr

    with Serve(home.root, log) as second:
        second.wait_ready()  # recovery is done when it says it serves
        with Store.open(home.database) as store:
            [run] = store.tasks.runs(slow)
            assert (run.state, run.restarts, run.owner) == (RunState.CANCELLED, 0, None), run
            assert store.tasks.get(slow).status is status
            assert store.tasks.log(slow)[-1].text == (
                "Script rel/Slow.py was interrupted (its runtime stopped) and is not re-run: the task was aborted, "
                "skipped or retried meanwhile."
            )
            # the server works: a new task runs to its end, and the old script did not start again
            with Runtime(home, plugin_paths=[RELIABILITY_PLUGIN]) as runtime:
                quick = runtime.create_task("rel.Slow", {"trace": str(tmp_path / "quick.txt"), "seconds": "0"}).id
            wait_for(lambda: store.tasks.get(quick).status is TaskStatus.COMPLETED, 60, second.output)
        assert second.stop() == 0, second.output()
    assert starts(trace) == 1


def test_a_second_server_refuses_a_home_whose_lock_file_was_deleted(tmp_path: Path) -> None:
    home = Home(tmp_path / "home").ensure()
    home.config_file.write_text('[settings]\n"serve.grace_period" = 0.5\n')
    trace = tmp_path / "trace.txt"
    with Runtime(home, plugin_paths=[RELIABILITY_PLUGIN]) as runtime:
        slow = runtime.create_task("rel.Slow", {"trace": str(trace), "seconds": "60"}).id
    with Serve(home.root, tmp_path / "first.log") as first:
        first.wait_ready()
        wait_for(lambda: starts(trace) == 1, 60, first.output)
        with Store.open(home.database) as store:
            [running] = store.tasks.runs(slow)
        assert running.state is RunState.RUNNING

        # a recovery from another process never takes over the live server's run, whatever the lock says
        registry = load_registry(plugin_paths=[RELIABILITY_PLUGIN], pm=build_plugin_manager(load_installed=False))
        executor = ThreadScriptExecutor(1)
        with Store.open(home.database) as store:
            scheduler = Scheduler(store, registry, executor, defaults(), SystemClock())
            assert scheduler.recover().runs == []
            scheduler.shutdown(grace_period=0)
            assert store.tasks.runs(slow) == [running]
        executor.shutdown()

        (home.root / LOCK_FILE).unlink()
        second = Serve(home.root, tmp_path / "second.log")
        wait_for(lambda: not second.alive() or "Serving " in second.output(), 60, second.output)
        assert second.process.wait(timeout=30) == 1, second.output()
        assert second.output().startswith(
            f"Error: home {home.root} is in use by pid {first.process.pid} (xlr serve) on {socket.gethostname()}, "
            f"although {LOCK_FILE} did not say so (it was deleted or replaced)\nHint: Stop that process first"
        ), second.output()
        assert "Traceback" not in second.output()

        assert first.alive()
        with Store.open(home.database) as store:
            assert store.tasks.runs(slow) == [running]
        assert starts(trace) == 1
        assert first.stop() == 0, first.output()
    with Store.open(home.database) as store:
        [requeued] = store.tasks.runs(slow)
        assert (requeued.state, requeued.restarts) == (RunState.DUE, 1)  # by its own server's graceful stop
        assert store.owners.all() == []
