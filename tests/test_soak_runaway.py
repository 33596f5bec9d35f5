"""Soak: one real `xlr serve` runs ~30 healthy polling chains beside one task per runaway behaviour (the
runaway test plugin, tests/data/plugins/runaway) and must come through untouched.

Asserted at the end: every healthy chain completed with the right outputs and only its own log lines, run by
workers of that same server; every runaway task ended with the status its behaviour implies; the server never
restarted or exited (same pid, one "Serving" line, no traceback in its log) and still runs a new task; the
password canary is in no file of the home (xlr.db, -wal, -shm …) nor the server's log; `PRAGMA integrity_check`
is ok. Every wait has a deadline; the server's process group is killed at the end whatever happened.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from task_helpers import XLR_COMMAND

from xlr_runtime.home import Home
from xlr_runtime.runtime import Runtime
from xlr_runtime.settings import SETTINGS
from xlr_runtime.store import RunState, Store, Task, TaskStatus

PLUGIN = Path(__file__).parent / "data" / "plugins" / "runaway"
CANARY = "Soak-canary-pw-8841"
HEALTHY = 30
POLLS = 6
TIMEOUT = 5  # scripts.timeout: the endless loop's run ends after it
BUDGET = 150  # seconds for the whole soak, start-up included: a stuck task fails the test, never hangs it
ESCAPED = "\\udcff"  # how a lone surrogate is stored: its backslash escape, six characters

#: behaviour -> (final task status, outcome of its last script run)
BEHAVIOURS: dict[str, tuple[TaskStatus, str]] = {
    "print-surrogate": (TaskStatus.COMPLETED, "succeeded"),
    "status-surrogate": (TaskStatus.COMPLETED, "succeeded"),
    "raise-surrogate": (TaskStatus.FAILED, "failed"),
    "exit-surrogate": (TaskStatus.FAILED, "failed"),
    "output-surrogate": (TaskStatus.COMPLETED, "succeeded"),
    "schedule-huge": (TaskStatus.FAILED, "failed"),
    "schedule-inf": (TaskStatus.FAILED, "failed"),
    "schedule-nan": (TaskStatus.FAILED, "failed"),
    "late-thread": (TaskStatus.COMPLETED, "succeeded"),
    "fd-write": (TaskStatus.COMPLETED, "succeeded"),
    "subprocess-echo": (TaskStatus.COMPLETED, "succeeded"),
    "fork": (TaskStatus.COMPLETED, "succeeded"),
    "exit-after-print": (TaskStatus.FAILED, "crashed"),
    "fd-write-crash": (TaskStatus.FAILED, "crashed"),
    "big-memory": (TaskStatus.COMPLETED, "succeeded"),
    "hoard-memory": (TaskStatus.COMPLETED, "succeeded"),
    "endless-loop": (TaskStatus.FAILED, "timed_out"),
    "huge-status": (TaskStatus.COMPLETED, "succeeded"),
    "huge-log": (TaskStatus.COMPLETED, "succeeded"),
}


def _config() -> str:
    settings = {
        "workers.size": 4,
        "scripts.timeout": TIMEOUT,
        "scripts.max_log_bytes": 1_000_000,
        "workers.max_memory_mb": 200,  # the hoarding worker (~250 MB) is replaced; a fresh one is ~40 MB
    }
    known = {setting.name for setting in SETTINGS}
    lines = [f'"{name}" = {value}' for name, value in settings.items() if name in known]
    return "[settings]\n" + "\n".join(lines) + "\n"


def _wait_for(condition: Callable[[], bool], deadline: float, what: Callable[[], str]) -> None:
    while not condition():
        assert time.monotonic() < deadline, what()
        time.sleep(0.2)


def _tasks(home: Home, ids: list[str]) -> dict[str, Task]:
    with Store.open(home.database) as store:
        return store.tasks.get_many(ids)


def _log(store: Store, task_id: str) -> list[str]:
    return [line.text for line in store.tasks.log(task_id)]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[tuple[Home, subprocess.Popen[bytes], Path]]:
    home = Home(tmp_path / "home").ensure()
    home.config_file.write_text(_config())
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*XLR_COMMAND, "serve", "--home", str(home.root), "--plugins", str(PLUGIN)],
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        yield home, process, log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


@pytest.mark.slow
def test_runaway_scripts_do_not_disturb_the_server_or_the_healthy_tasks(
    serve: tuple[Home, subprocess.Popen[bytes], Path],
) -> None:
    home, process, log = serve
    deadline = time.monotonic() + BUDGET

    def serve_log() -> str:
        return log.read_text(errors="replace")

    _wait_for(lambda: "Serving " in serve_log(), deadline, serve_log)
    with Runtime(home, plugin_paths=[PLUGIN]) as runtime:  # creates the tasks and wakes the server
        runaway = {
            name: runtime.create_task(
                "runaway.Misbehave", {"behaviour": name, "secret": CANARY}, title=f"runaway {name}"
            ).id
            for name in BEHAVIOURS
        }
        healthy = {
            runtime.create_task("runaway.Chain", {"label": f"chain-{n}", "polls": POLLS}).id: f"chain-{n}"
            for n in range(HEALTHY)
        }
    ids = [*runaway.values(), *healthy]

    def unfinished() -> str:
        left = {i: t.status for i, t in _tasks(home, ids).items() if not t.status.is_final}
        return f"tasks not ended in time: {left}\n{serve_log()[-3000:]}"

    _wait_for(lambda: all(t.status.is_final for t in _tasks(home, ids).values()), deadline, unfinished)
    assert process.poll() is None, serve_log()

    with Store.open(home.database) as store:
        # Healthy chains: completed, right outputs, only their own lines, run by this server's workers.
        for task_id, label in healthy.items():
            task = store.tasks.get(task_id)
            assert task.status == TaskStatus.COMPLETED, task
            assert task.properties["ticks"] == POLLS
            assert task.properties["summary"] == f"{label} done after {POLLS} ticks"
            assert task.properties["servedBy"] == process.pid
            assert task.status_line == f"{label} {POLLS}/{POLLS}"
            assert _log(store, task_id) == [f"start {label}"] + [
                f"tick {n}/{POLLS} {label}" for n in range(1, POLLS + 1)
            ]
            runs = store.tasks.runs(task_id)
            assert [(r.state, r.outcome, r.restarts) for r in runs] == [(RunState.DONE, "succeeded", 0)] * (POLLS + 1)

        # Runaway tasks: each ended as its behaviour implies.
        for name, task_id in runaway.items():
            task = store.tasks.get(task_id)
            last = store.tasks.runs(task_id)[-1]
            expected_status, expected_outcome = BEHAVIOURS[name]
            assert (task.status, last.state, last.outcome) == (expected_status, RunState.DONE, expected_outcome), (
                name,
                task,
                last,
            )
        task = {name: store.tasks.get(task_id) for name, task_id in runaway.items()}
        logs = {name: _log(store, task_id) for name, task_id in runaway.items()}
        last_run = {name: store.tasks.runs(task_id)[-1] for name, task_id in runaway.items()}

        assert f"a lone surrogate: {ESCAPED}" in logs["print-surrogate"]
        assert task["status-surrogate"].status_line == f"status with {ESCAPED} inside"
        assert f"undecodable {ESCAPED} in a message" in (task["raise-surrogate"].failure or "")
        assert f"exit message with {ESCAPED}" in (task["exit-surrogate"].failure or "")
        assert task["output-surrogate"].properties["result"] == f"value with {ESCAPED}"

        assert "must be at most 2592000 seconds" in (task["schedule-huge"].failure or "")
        assert "must be a finite number of seconds, got inf" in (task["schedule-inf"].failure or "")
        assert "must be a finite number of seconds, got nan" in (task["schedule-nan"].failure or "")
        for name in ("schedule-huge", "schedule-inf", "schedule-nan"):
            assert "ScriptError" in (task[name].failure or ""), task[name]
            assert len(store.tasks.runs(runaway[name])) == 1  # nothing was scheduled

        assert task["late-thread"].properties["result"] == "thread started"
        assert task["fd-write"].properties["result"] == "written below sys.stdout"
        assert task["subprocess-echo"].properties["result"] == "echoed"
        assert task["fork"].properties["result"] == "parent"

        assert "last words before os._exit" in logs["exit-after-print"]
        for name in ("exit-after-print", "fd-write-crash"):
            assert last_run[name].failure is not None and last_run[name].failure.kind == "WorkerCrash", last_run[name]

        assert task["big-memory"].properties["result"] == "allocated 200 MB"
        assert task["hoard-memory"].properties["result"] == "hoarded"
        assert last_run["endless-loop"].failure is not None and last_run["endless-loop"].failure.kind == "Timeout"

        status = task["huge-status"].status_line or ""
        assert len(status.encode()) <= 16384 and "[truncated: 10485760 bytes" in status, len(status)
        assert any(line.startswith("Warning: the status line of 10485760 bytes") for line in logs["huge-status"])
        assert logs["huge-log"][-1].startswith("[output truncated: the task log keeps 1000000 bytes")

        # Nothing a runaway wrote after or below its run reached any task's log.
        everything = [line for task_id in ids for line in _log(store, task_id)]
        assert not [line for line in everything if "late line" in line or "carries" in line or "echoes" in line]

    # The hoarding worker was replaced (workers.max_memory_mb), the endless loop's was killed: both are gone.
    for name in ("hoard-memory", "endless-loop"):
        pid = last_run[name].worker_pid
        assert pid and pid != process.pid
        _wait_for(lambda pid=pid: not _alive_worker(pid), deadline, lambda name=name: f"{name}'s worker still runs")

    # Still serving: a task created now completes, in this very server.
    with Runtime(home, plugin_paths=[PLUGIN]) as runtime:
        last_id = runtime.create_task("runaway.Chain", {"label": "after", "polls": 1}).id
    _wait_for(lambda: _tasks(home, [last_id])[last_id].status.is_final, deadline, unfinished)
    final = _tasks(home, [last_id])[last_id]
    assert (final.status, final.properties["servedBy"]) == (TaskStatus.COMPLETED, process.pid), final

    text = serve_log()
    assert process.poll() is None and text.count("Serving ") == 1, text
    assert "Traceback" not in text, text
    _assert_no_canary(home, log)

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0, serve_log()[-3000:]
    _assert_no_canary(home, log)
    with Store.open(home.database) as store:
        assert store.integrity_check() == "ok"


def _alive_worker(pid: int) -> bool:
    """Whether ``pid`` is still a running xlr worker (not gone, not a zombie, not a reused pid)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z" and b"xlr_runtime.scripting.worker" in cmdline


def _assert_no_canary(home: Home, log: Path) -> None:
    needle = CANARY.encode()
    files = [path for path in home.root.rglob("*") if path.is_file()] + [log]
    found = [str(path) for path in files if needle in path.read_bytes()]
    assert not found, f"the canary password is in {found}"
    assert re.search(r"xlr\.db$", " ".join(p.name for p in files))  # the database was searched
