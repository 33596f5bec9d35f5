"""A database of the version before runtime owners were recorded (issue 12) opens and migrates: the owners table
appears, a due run left to a task that had ended (re-queued by the old recovery) is cancelled, and recovery takes
over the old version's runs only when their process is gone."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from task_helpers import DEMO_PLUGIN, ThreadScriptExecutor

from tests.upgrade_helpers import migrations_before
from xlr_runtime.clock import SystemClock
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.scheduler import Scheduler
from xlr_runtime.settings import defaults
from xlr_runtime.store import RunState, Store, applied_migrations, apply_migrations
from xlr_runtime.typesystem.registry import load_registry

FIRST_NEW_STEP = ("tasks", "cancel due runs of tasks that ended")


def previous_version(path: Path) -> None:
    """The schema as the previous version left it: the tasks set without its new steps."""
    store = Store(path)
    try:
        apply_migrations(store, migrations_before(*FIRST_NEW_STEP))
    finally:
        store.close()


def add_task(store: Store, status: str, run_state: str, owner: str | None, now: float) -> int:
    """A task and its first run written with the old columns (as the previous version wrote them)."""
    task_id = store.execute(
        "INSERT INTO tasks (type, title, status, properties, inputs, variables, attempt, created_at) "
        "VALUES ('demo.Counter', 't', ?, '{}', '{}', '{}', 1, ?)",
        [status, now],
    ).lastrowid
    store.execute(
        "INSERT INTO script_runs (task_id, attempt, seq, script_path, due_at, state, owner, lease_until, started_at) "
        "VALUES (?, 1, 1, 'demo/Counter.py', ?, ?, ?, ?, ?)",
        [task_id, now, run_state, owner, now + 3660 if owner else None, now if owner else None],
    )
    return int(task_id or 0)


def test_a_database_of_the_version_before_owners_migrates_and_recovers_only_dead_owners(tmp_path: Path) -> None:
    database = tmp_path / "xlr.db"
    previous_version(database)
    live = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    host = socket.gethostname()
    now = time.time()
    try:
        old = Store(database)
        try:
            aborted = add_task(old, "aborted", "due", None, now)
            dead_owner = add_task(old, "in_progress", "running", f"{host}:{ended.pid}:0a1b2c3d", now)
            live_owner = add_task(old, "in_progress", "running", f"{host}:{live.pid}:0a1b2c3d", now)
            waiting = add_task(old, "in_progress", "due", None, now)
        finally:
            old.close()

        with Store.open(database) as store:
            assert FIRST_NEW_STEP in {(s, n) for s, n, _ in applied_migrations(store)}
            assert store.owners.all() == []
            state = {t: store.tasks.runs(t)[0].state for t in (aborted, dead_owner, live_owner, waiting)}
            assert state == {
                aborted: RunState.CANCELLED,
                dead_owner: RunState.RUNNING,
                live_owner: RunState.RUNNING,
                waiting: RunState.DUE,
            }
            registry = load_registry(plugin_paths=[DEMO_PLUGIN], pm=build_plugin_manager(load_installed=False))
            executor = ThreadScriptExecutor(1)
            scheduler = Scheduler(store, registry, executor, defaults(), SystemClock())
            try:
                [requeued] = scheduler.recover().runs
            finally:
                scheduler.shutdown(grace_period=0)
                executor.shutdown()
            assert (requeued.task_id, requeued.state, requeued.restarts) == (str(dead_owner), RunState.DUE, 1)
            assert store.tasks.runs(live_owner)[0].state is RunState.RUNNING
            assert store.integrity_check() == "ok"
    finally:
        live.kill()
        live.wait()
