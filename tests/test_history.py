"""Pruning ended history (xlr_runtime.store.history): what goes, what stays, and that nothing is left orphaned."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from history_helpers import DAY, ended_task, execution, planned_task

from tests.waiting import wait_until
from xlr_runtime.clock import SystemClock
from xlr_runtime.home import Home
from xlr_runtime.pruner import HistoryPruner
from xlr_runtime.retention import Retention
from xlr_runtime.settings import defaults
from xlr_runtime.store import Store, TaskStatus
from xlr_runtime.store.executions import ExecutionStatus
from xlr_runtime.store.history import BATCH_SIZE, PruneCounts

NOW = 1_800_000_000.0

#: Every table of the store's migrations, and how its rows point at the history a prune removes (a table
#: that is not here must be added, with its relation, when a migration creates it).
HISTORY_REFERENCES = {
    "script_runs": "SELECT COUNT(*) FROM script_runs WHERE task_id NOT IN (SELECT id FROM tasks)",
    "task_log": "SELECT COUNT(*) FROM task_log WHERE task_id NOT IN (SELECT id FROM tasks)",
    "execution_log": "SELECT COUNT(*) FROM execution_log WHERE execution_id NOT IN (SELECT id FROM executions)",
    "executions": "SELECT COUNT(*) FROM executions WHERE parent_id IS NOT NULL "
    "AND parent_id NOT IN (SELECT id FROM executions)",
    "notification_events": "SELECT COUNT(*) FROM notification_events "
    "WHERE execution_id NOT IN (SELECT id FROM executions)",
    "notification_deliveries": "SELECT COUNT(*) FROM notification_deliveries "
    "WHERE event_id NOT IN (SELECT id FROM notification_events)",
}
NOT_HISTORY = {
    "tasks",
    "runtime_owners",
    "projects",
    "jobs",
    "job_schedules",
    "keys",
    "api_tokens",
    "ended_sessions",
    "store_key_check",
    "_migrations",
}


def foreign_key_violations(store: Store) -> list[tuple[object, ...]]:
    """Rows whose foreign keys name no row: SQLite checks them when asked (PRAGMA foreign_key_check); PostgreSQL
    refuses the statement that would store one."""
    return store.execute("PRAGMA foreign_key_check").fetchall() if store.dialect.name == "sqlite" else []


def orphans(store: Store) -> dict[str, int]:
    return {table: int(store.execute(sql).fetchone()[0]) for table, sql in HISTORY_REFERENCES.items()}


def test_every_table_of_the_migrations_is_accounted_for(store: Store) -> None:
    assert set(store.row_counts()) == set(HISTORY_REFERENCES) | NOT_HISTORY
    assert foreign_key_violations(store) == []


def test_an_age_removes_what_ended_before_it_with_every_row_of_it(store: Store) -> None:
    old = [ended_task(store, NOW - 40 * DAY, log_lines=4) for _ in range(3)]
    recent = ended_task(store, NOW - 2 * DAY)
    counts = store.history.prune(Retention(max_age=30 * DAY), NOW)
    assert counts == PruneCounts(tasks=3, script_runs=3, task_log=12)
    assert [t.id for t in store.tasks.list()] == [recent.id]
    assert all(store.execute("SELECT COUNT(*) FROM task_log WHERE task_id = ?", [t.id]).fetchone()[0] == 0 for t in old)
    assert orphans(store) == dict.fromkeys(HISTORY_REFERENCES, 0)
    assert foreign_key_violations(store) == []


def test_a_count_keeps_the_newest_ended_and_never_what_is_in_flight(store: Store) -> None:
    ended = [ended_task(store, NOW - n * DAY) for n in range(5, 0, -1)]  # oldest first
    planned = planned_task(store, NOW - 100 * DAY)
    failed = ended_task(store, NOW - 90 * DAY, status=TaskStatus.FAILED)
    retried = store.tasks.restart(
        failed.id, allowed_from=[TaskStatus.FAILED], properties={}, first_script="a.py", now=NOW, note="retry"
    )
    counts = store.history.prune(Retention(max_count=2), NOW)
    assert counts.tasks == 3
    remaining = {t.id for t in store.tasks.list()}
    assert remaining == {ended[-1].id, ended[-2].id, planned.id, retried.id}


def test_an_age_and_a_count_remove_what_is_beyond_either(store: Store) -> None:
    ended = [ended_task(store, NOW - n * DAY) for n in (40, 20, 10, 5, 1)]
    store.history.prune(Retention(max_age=30 * DAY, max_count=3), NOW)
    assert {t.id for t in store.tasks.list()} == {t.id for t in ended[2:]}


def test_a_dry_run_counts_and_removes_nothing(store: Store) -> None:
    for _ in range(3):
        ended_task(store, NOW - 40 * DAY, log_lines=2)
    execution(store, NOW - 40 * DAY, log_lines=5)
    before = store.row_counts()
    counts = store.history.prune(Retention(max_age=DAY), NOW, dry_run=True)
    assert counts == PruneCounts(3, 3, 6, 1, 5, 1, 1)
    assert store.row_counts() == before
    assert store.history.prune(Retention(max_age=DAY), NOW) == counts


def test_an_execution_goes_with_its_children_logs_and_notifications(store: Store) -> None:
    parent = execution(store, NOW - 40 * DAY)
    child = execution(store, NOW - 40 * DAY, parent_id=parent.id)
    execution(store, NOW - 40 * DAY, parent_id=child.id, notification=None)
    kept = execution(store, NOW - DAY)
    counts = store.history.prune(Retention(max_age=30 * DAY), NOW)
    assert (counts.executions, counts.execution_log, counts.notification_events, counts.notification_deliveries) == (
        3, 6, 2, 2,
    )  # fmt: skip
    assert [e.id for e in store.executions.list()] == [kept.id]
    assert orphans(store) == dict.fromkeys(HISTORY_REFERENCES, 0)
    assert foreign_key_violations(store) == []


@pytest.mark.parametrize(
    "in_flight",
    ["queued", "running child", "pending notification", "queued retry"],
)
def test_an_execution_that_something_in_flight_needs_stays(store: Store, in_flight: str) -> None:
    old = NOW - 40 * DAY
    if in_flight == "queued":
        kept = execution(store, old, status=ExecutionStatus.QUEUED)
    elif in_flight == "running child":
        kept = execution(store, old)
        execution(store, old, parent_id=kept.id, status=ExecutionStatus.RUNNING)
    elif in_flight == "pending notification":
        kept = execution(store, old, notification="pending")
    else:
        kept = execution(store, old, status=ExecutionStatus.FAILED)
        execution(store, NOW, status=ExecutionStatus.QUEUED, retry_prev_id=kept.id)
    gone = execution(store, old)
    store.history.prune(Retention(max_age=30 * DAY), NOW)
    ids = {e.id for e in store.executions.list()}
    assert kept.id in ids
    assert gone.id not in ids


def test_a_task_held_by_a_running_execution_stays(store: Store) -> None:
    task = ended_task(store, NOW - 40 * DAY)
    running = execution(store, NOW - 40 * DAY, status=ExecutionStatus.RUNNING)
    store.executions.save_progress(running.id, cursor={"tasks": {"1:node1": task.id}}, context=[])
    store.history.prune(Retention(max_age=30 * DAY), NOW)
    assert store.tasks.get(task.id).status is TaskStatus.COMPLETED


def test_a_task_retried_after_it_was_chosen_stays(store: Store) -> None:
    task = ended_task(store, NOW - 40 * DAY, status=TaskStatus.FAILED)
    chosen = store.history.prunable_tasks(Retention(max_age=30 * DAY), NOW)
    store.tasks.restart(task.id, allowed_from=[TaskStatus.FAILED], properties={}, first_script="a.py", now=NOW, note="")
    assert chosen == [int(task.id)]
    assert store.history.delete_tasks(chosen) == PruneCounts()
    assert store.tasks.get(task.id).status is TaskStatus.PLANNED


def test_tasks_are_deleted_in_batches_and_a_stop_leaves_the_rest_for_later(store: Store) -> None:
    for _ in range(BATCH_SIZE + 5):
        ended_task(store, NOW - 40 * DAY, log_lines=0)
    asked = []

    def stop() -> bool:
        asked.append(True)
        return len(asked) > 1  # the first batch only

    assert store.history.prune(Retention(max_age=DAY), NOW, stop=stop).tasks == BATCH_SIZE
    assert store.history.prune(Retention(max_age=DAY), NOW).tasks == 5


def test_pruning_frees_pages_and_vacuum_gives_them_back(tmp_path: Path) -> None:
    with Store.open(tmp_path / "empty.db") as empty:
        schema_only = empty.space().used_bytes
    with Store.open(tmp_path / "xlr.db") as store:
        for _ in range(300):
            ended_task(store, NOW - 40 * DAY, log_lines=20)
        full = store.space()
        store.history.prune(Retention(max_age=DAY), NOW)
        pruned = store.space()
        store.vacuum()
        vacuumed = store.space()
    assert pruned.used_bytes == schema_only < full.used_bytes, (full, pruned)
    assert pruned.free_bytes == full.used_bytes - schema_only
    assert vacuumed.file_bytes < full.file_bytes / 4, (full, vacuumed)


def test_the_pruner_of_a_server_prunes_at_start_and_again_each_interval(home: Home) -> None:
    with Store.open(home.database) as store:
        first = ended_task(store, time.time() - DAY)
    pruner = HistoryPruner(home, Retention(max_age=60), SystemClock(), settings=defaults(), interval=0.05).start()
    try:
        with Store.open(home.database) as store:
            wait_until(lambda: not store.tasks.list(), f"task {first.id} pruned at start")
            later = ended_task(store, time.time() - DAY)
            wait_until(lambda: not store.tasks.list(), f"task {later.id} pruned at the next interval")
    finally:
        pruner.request_stop()
