"""`kill -9` of `xlr serve` at random moments loses nothing: every task ends with the right outputs, every
script run of every chain ran and is recorded once, only runs in flight at a kill ran again, and the database
passes `PRAGMA integrity_check`.

Each script of the demo Counter appends "TASK STEP" to a trace file when it runs, so the test counts real
executions (the worker processes are killed with the server: the whole process group gets SIGKILL).
"""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from task_helpers import DEMO_PLUGIN, XLR_COMMAND

from tests.waiting import DEADLINE
from xlr_runtime.home import Home
from xlr_runtime.runtime import Runtime
from xlr_runtime.store import RunState, Store, TaskStatus

SERVE = [*XLR_COMMAND, "serve"]


def _start_serve(home: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [*SERVE, "--home", str(home), "--plugins", str(DEMO_PLUGIN)], stdout=out, stderr=out, start_new_session=True
        )


def _wait_ready(log: Path, starts: int, deadline: float) -> None:
    while log.read_text(errors="replace").count("Serving ") < starts:
        assert time.monotonic() < deadline, log.read_text(errors="replace")
        time.sleep(0.02)


def _running(database: Path) -> set[int]:
    """The script runs claimed and not finished (the ones a kill leaves in flight)."""
    with Store.open(database) as store:
        rows = store.query("SELECT id FROM script_runs WHERE state = ?", (str(RunState.RUNNING),))
    return {row["id"] for row in rows}


def _all_final(database: Path) -> bool:
    with Store.open(database) as store:
        counts = store.tasks.count_by_status()
    return not counts.get(TaskStatus.PLANNED) and not counts.get(TaskStatus.IN_PROGRESS)


def crash_and_recover(tmp_path: Path, *, tasks: int, polls: int, kills: int, seed: int, budget: float) -> None:
    home = Home(tmp_path / "home").ensure()
    home.config_file.write_text('[settings]\n"workers.size" = 4\n')
    trace = tmp_path / "trace.txt"
    log = tmp_path / "serve.log"
    with Runtime(home, plugin_paths=[DEMO_PLUGIN]) as runtime:
        ids = [
            runtime.create_task("demo.Counter", {"polls": polls, "interval": "1", "trace": str(trace)}).id
            for _ in range(tasks)
        ]
    rng = random.Random(seed)
    deadline = time.monotonic() + budget
    in_flight: set[int] = set()  # runs left running by a kill: exactly these must be re-run
    start = 0
    # the planned kills, then more (at once) until one hit a run in flight: a loaded machine may be slow to claim
    while start < kills or not in_flight:
        start += 1
        process = _start_serve(home.root, log)
        _wait_ready(log, start, deadline)
        while not _running(home.database):  # the server is working: runs are claimed
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.02)
        if start <= kills:
            time.sleep(rng.uniform(0.05, 1.2))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        in_flight |= _running(home.database)
    process = _start_serve(home.root, log)
    while not _all_final(home.database):
        assert time.monotonic() < deadline, f"tasks not done in time\n{log.read_text(errors='replace')[-3000:]}"
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=DEADLINE) == 0, log.read_text(errors="replace")[-3000:]

    executions = collections.Counter(tuple(line.split()) for line in trace.read_text().splitlines())
    with Store.open(home.database) as store:
        assert store.integrity_check() == "ok"
        repeated = 0
        for task_id in ids:
            task = store.tasks.get(task_id)
            assert (task.status, task.properties["count"], task.properties["done"]) == (
                TaskStatus.COMPLETED,
                polls,
                "yes",
            ), task
            runs = store.tasks.runs(task_id)
            assert [(r.seq, r.state, r.outcome) for r in runs] == [
                (seq, RunState.DONE, "succeeded") for seq in range(1, polls + 2)
            ]
            for run in runs:
                ran = executions[(task_id, str(run.seq - 1))]
                if run.restarts == 0:
                    assert ran == 1, (task_id, run)
                else:
                    assert 1 <= ran <= 1 + run.restarts, (task_id, run, ran)
                    repeated += 1
                    notes = [ln.text for ln in store.tasks.log(task_id) if ln.run_id == run.id]
                    assert (
                        f"Script {run.script_path} is re-run after a restart (it was running when the runtime "
                        "stopped)." in notes
                    )
        assert sum(executions.values()) == sum(len(store.tasks.runs(i)) for i in ids) + sum(
            executions[(i, str(r.seq - 1))] - 1 for i in ids for r in store.tasks.runs(i)
        )
    assert repeated == len(in_flight) > 0  # exactly the runs the kills left in flight ran again


def test_kill_9_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    crash_and_recover(tmp_path, tasks=200, polls=3, kills=3, seed=4, budget=240)  # about 30 s under load


@pytest.mark.slow
def test_kill_9_soak(tmp_path: Path) -> None:
    # 30 polls a second apart: work left for all ten kills (with 6, a server that starts in a fraction of a second
    # ended every task before the tenth start, which then waited for a claim until the budget ran out)
    crash_and_recover(tmp_path, tasks=600, polls=30, kills=10, seed=11, budget=600)
