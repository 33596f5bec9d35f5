"""Issue 12, defect 3: recovery takes over only what is really abandoned, with real ``xlr serve`` processes.

* A script running when its server was killed (``kill -9``) is not re-run when its task was aborted or skipped
  meanwhile: the next start cancels the run (its side effects do not repeat).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from serve_helpers import RELIABILITY_PLUGIN, Serve, wait_for
from task_helpers import XLR_COMMAND

from xlr_runtime.home import Home
from xlr_runtime.runtime import Runtime
from xlr_runtime.store import RunState, Store, TaskStatus


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
