"""Contract tests of the tasks repository. They assert behaviour, never SQL: a second backend (PostgreSQL) adds
itself to ``STORE_BACKENDS`` in conftest.py (the ``store`` fixture's params) and must pass them unchanged."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.store_backends import another_store
from xlr_runtime.errors import NotFoundError, StateError, StoreError
from xlr_runtime.scripting.contract import Failure, LogLine
from xlr_runtime.store import MigrationSet, RunCompletion, RunState, Store, TaskStatus, applied_migrations

T0 = 1_700_000_000.0


def new_task(store: Store, *, title: str = "t", now: float = T0, script: str = "demo/Poll.py") -> str:
    task = store.tasks.create(
        type_name="demo.Poll",
        title=title,
        properties={"n": 1, "out": None},
        inputs={"n": 1},
        variables={},
        first_script=script,
        now=now,
    )
    return task.id


def test_created_task_is_planned_with_its_first_run_due_now(store: Store) -> None:
    task_id = new_task(store)
    task = store.tasks.get(task_id)
    assert (task.status, task.attempt, task.properties, task.created_at) == (
        TaskStatus.PLANNED,
        1,
        {"n": 1, "out": None},
        T0,
    )
    [run] = store.tasks.runs(task_id)
    assert (run.state, run.due_at, run.seq, run.script_path) == (RunState.DUE, T0, 1, "demo/Poll.py")
    assert store.tasks.next_due_at() == T0


def test_claim_takes_only_due_runs_oldest_first_and_bounded(store: Store) -> None:
    ids = [new_task(store, now=T0 + i) for i in range(5)]
    assert store.tasks.claim_due(T0 - 1, 10, owner="a", lease=60) == []
    claimed = store.tasks.claim_due(T0 + 2, 2, owner="a", lease=60)
    assert [r.task_id for r in claimed] == ids[:2]
    assert all(r.state is RunState.RUNNING and r.owner == "a" and r.lease_until == T0 + 62 for r in claimed)
    assert store.tasks.get(ids[0]).status is TaskStatus.IN_PROGRESS
    assert store.tasks.get(ids[0]).started_at == T0 + 2
    assert [r.task_id for r in store.tasks.claim_due(T0 + 10, 10, owner="b", lease=60)] == ids[2:]
    assert store.tasks.claim_due(T0 + 10, 10, owner="b", lease=60) == []


def test_concurrent_claims_never_hand_out_a_run_twice(tmp_path: Path, store: Store) -> None:
    for i in range(200):
        new_task(store, now=T0 + i)
    results: list[list[int]] = []

    def claimer(name: str) -> None:
        with another_store(store, owner=name) as other:
            mine: list[int] = []
            while batch := other.tasks.claim_due(T0 + 1000, 7, owner=name, lease=60):
                mine.extend(r.id for r in batch)
            results.append(mine)

    threads = [threading.Thread(target=claimer, args=(f"c{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [run_id for chunk in results for run_id in chunk]
    assert len(every) == 200 and len(set(every)) == 200


def test_completion_with_next_script_commits_everything_at_once(store: Store) -> None:
    task_id = new_task(store)
    [run] = store.tasks.claim_due(T0, 1, owner=store.owner, lease=60)
    done = RunCompletion(
        run_id=run.id,
        outcome="succeeded",
        started_at=T0,
        ended_at=T0 + 1,
        worker_pid=42,
        properties={"out": "x"},
        status_line="Waiting for build #3",
        log=[LogLine(T0 + 0.5, "stdout", "queued")],
        next_script="demo/Check.py",
        next_due_at=T0 + 6,
    )
    assert store.tasks.complete([done], owner=store.owner) == [run.id]
    task = store.tasks.get(task_id)
    assert (task.status, task.status_line, task.properties) == (
        TaskStatus.IN_PROGRESS,
        "Waiting for build #3",
        {"n": 1, "out": "x"},
    )
    first, second = store.tasks.runs(task_id)
    assert (first.state, first.outcome, first.worker_pid, first.ended_at) == (RunState.DONE, "succeeded", 42, T0 + 1)
    assert (second.state, second.seq, second.script_path, second.due_at) == (RunState.DUE, 2, "demo/Check.py", T0 + 6)
    assert [(line.stream, line.text, line.run_id) for line in store.tasks.log(task_id)] == [
        ("stdout", "queued", run.id)
    ]


def test_each_run_keeps_the_status_line_it_set_and_the_task_keeps_the_last(store: Store) -> None:
    task_id = new_task(store)
    lines = ["Build queued", None, "Build #1: SUCCESS"]
    for seq, line in enumerate(lines, start=1):
        [run] = store.tasks.claim_due(T0 + seq, 1, owner=store.owner, lease=60)
        last = seq == len(lines)
        done = RunCompletion(
            run_id=run.id,
            outcome="succeeded",
            started_at=T0 + seq,
            ended_at=T0 + seq + 0.5,
            status_line=line,
            next_script=None if last else "demo/Check.py",
            next_due_at=None if last else T0 + seq + 1,
            task_status=TaskStatus.COMPLETED if last else None,
        )
        store.tasks.complete([done], owner=store.owner)
        expected_task_line = line or lines[seq - 2]  # a run that set none leaves the task's line as it was
        assert store.tasks.get(task_id).status_line == expected_task_line
    runs = store.tasks.runs(task_id)
    assert [(run.status_line, run.duration) for run in runs] == [(line, 0.5) for line in lines]


def test_completion_that_ends_the_task_and_failures_are_data(store: Store) -> None:
    task_id = new_task(store)
    [run] = store.tasks.claim_due(T0, 1, owner=store.owner, lease=60)
    failure = Failure("ValueError", "bad build", "Traceback ...")
    store.tasks.complete(
        [
            RunCompletion(
                run_id=run.id,
                outcome="failed",
                started_at=T0,
                ended_at=T0 + 2,
                failure=failure,
                task_status=TaskStatus.FAILED,
                task_failure="ValueError: bad build",
            )
        ],
        owner=store.owner,
    )
    task = store.tasks.get(task_id)
    assert (task.status, task.failure, task.ended_at) == (TaskStatus.FAILED, "ValueError: bad build", T0 + 2)
    assert store.tasks.get_run(run.id).failure == failure
    assert store.tasks.next_due_at() is None


def test_group_commit_and_results_of_other_owners_are_ignored(store: Store) -> None:
    ids = [new_task(store) for _ in range(3)]
    runs = store.tasks.claim_due(T0, 3, owner=store.owner, lease=60)
    completions = [
        RunCompletion(run_id=r.id, outcome="succeeded", started_at=T0, ended_at=T0, task_status=TaskStatus.COMPLETED)
        for r in runs
    ]
    assert store.tasks.complete(completions, owner="someone-else") == []
    assert store.tasks.complete(completions, owner=store.owner) == [r.id for r in runs]
    assert {store.tasks.get(i).status for i in ids} == {TaskStatus.COMPLETED}
    assert store.tasks.complete(completions, owner=store.owner) == []


def test_requeue_after_a_crash_keeps_due_time_and_logs(store: Store) -> None:
    task_id = new_task(store)
    [run] = store.tasks.claim_due(T0 + 5, 1, owner="dead", lease=60)
    [requeued] = store.tasks.requeue_running(now=T0 + 100, note="re-run {path} after a restart")
    assert (requeued.id, requeued.state, requeued.due_at, requeued.restarts) == (run.id, RunState.DUE, T0, 1)
    assert store.tasks.log(task_id)[-1].text == "re-run demo/Poll.py after a restart"
    assert [r.id for r in store.tasks.claim_due(T0 + 100, 5, owner="new", lease=60)] == [run.id]


def test_abort_cancels_the_pending_run_and_a_late_result_does_not_change_the_task(store: Store) -> None:
    task_id = new_task(store)
    [run] = store.tasks.claim_due(T0, 1, owner=store.owner, lease=60)
    store.tasks.finish(
        task_id,
        status=TaskStatus.ABORTED,
        allowed_from=[TaskStatus.IN_PROGRESS],
        now=T0 + 1,
        note="Aborted by user",
        failure="Aborted by user",
    )
    late = RunCompletion(
        run_id=run.id,
        outcome="succeeded",
        started_at=T0,
        ended_at=T0 + 2,
        properties={"out": "late"},
        next_script="demo/Poll.py",
        next_due_at=T0 + 7,
    )
    assert store.tasks.complete([late], owner=store.owner) == [run.id]
    task = store.tasks.get(task_id)
    assert (task.status, task.properties["out"]) == (TaskStatus.ABORTED, None)
    assert [r.state for r in store.tasks.runs(task_id)] == [RunState.DONE]
    with pytest.raises(StateError, match=r"^task 1 is aborted; cannot make it skipped$"):
        store.tasks.finish(task_id, status=TaskStatus.SKIPPED, allowed_from=[TaskStatus.IN_PROGRESS], now=T0, note="x")


def test_restart_starts_a_new_attempt_from_the_first_script(store: Store) -> None:
    task_id = new_task(store)
    [run] = store.tasks.claim_due(T0, 1, owner=store.owner, lease=60)
    store.tasks.complete(
        [
            RunCompletion(
                run_id=run.id,
                outcome="failed",
                started_at=T0,
                ended_at=T0,
                task_status=TaskStatus.FAILED,
                task_failure="boom",
            )
        ],
        owner=store.owner,
    )
    task = store.tasks.restart(
        task_id,
        allowed_from=[TaskStatus.FAILED],
        properties={"n": 1, "out": None},
        first_script="demo/Poll.py",
        now=T0 + 50,
        note="Retry",
    )
    assert (task.status, task.attempt, task.failure) == (TaskStatus.PLANNED, 2, None)
    assert [(r.attempt, r.seq, r.state) for r in store.tasks.runs(task_id)] == [
        (1, 1, RunState.DONE),
        (2, 1, RunState.DUE),
    ]
    with pytest.raises(StateError):
        store.tasks.restart(
            task_id, allowed_from=[TaskStatus.FAILED], properties={}, first_script="x", now=T0, note="Retry"
        )


def test_list_filters_and_counts(store: Store) -> None:
    ids = [new_task(store, title=f"t{i}") for i in range(3)]
    store.tasks.finish(ids[1], status=TaskStatus.SKIPPED, allowed_from=[TaskStatus.PLANNED], now=T0, note="s")
    assert [t.id for t in store.tasks.list()] == ids[::-1]
    assert [t.id for t in store.tasks.list(statuses=[TaskStatus.SKIPPED])] == [ids[1]]
    assert store.tasks.count_by_status() == {TaskStatus.PLANNED: 2, TaskStatus.SKIPPED: 1}


def test_unknown_task_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match=r"^no task '99'$"):
        store.tasks.get("99")
    with pytest.raises(NotFoundError, match=r"^no task 'abc'$"):
        store.tasks.get("abc")


# -- SQLite specifics ------------------------------------------------------------------------------------------


def test_sqlite_file_uses_wal_and_the_configured_synchronous_mode(tmp_path: Path) -> None:
    with Store.open(tmp_path / "a.db", synchronous="FULL") as store:
        assert store.query_one("PRAGMA journal_mode") == {"journal_mode": "wal"}
        assert store.query_one("PRAGMA synchronous") == {"synchronous": 2}
        assert store.integrity_check() == "ok"
    with Store.open(tmp_path / "a.db") as store:
        assert store.query_one("PRAGMA synchronous") == {"synchronous": 1}


def test_migrations_are_recorded_once_and_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store.open(tmp_path / "a.db") as store:
        first = applied_migrations(store)
        assert ("tasks", "create tasks, script_runs, task_log") in [(s, n) for s, n, _ in first]
        assert store.migrate() == []
        broken = MigrationSet("extra")

        @broken.step("half")
        def _half(db) -> None:  # type: ignore[no-untyped-def]
            db.execute("CREATE TABLE half (x INTEGER)")
            raise RuntimeError("step failed")

        from xlr_runtime.store.migrations import apply_migrations

        with pytest.raises(RuntimeError):
            apply_migrations(store, [broken])
        assert store.query_one("SELECT name FROM sqlite_master WHERE name = 'half'") is None
        assert applied_migrations(store) == first


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    with Store.open(tmp_path / "a.db") as store:
        store.execute("INSERT INTO _migrations VALUES ('tasks', 'from the future', 0)")
    with pytest.raises(StoreError, match=r"migration tasks/from the future is not known to this xlr-runtime"):
        Store.open(tmp_path / "a.db")


def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    path.write_text("this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"x.db: cannot open the database: file is not a database$"):
        Store.open(path)


def test_atomic_rolls_back_everything_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.atomic():
        new_task(store)
        raise RuntimeError("no")
    assert store.tasks.list() == []


def _step(store: Store, task_id: str, now: float, **changes: object) -> None:
    """Claim the task's due run and complete it with ``changes``, scheduling the next run at once."""
    [run] = store.tasks.claim_due(now, 1, owner=store.owner, lease=60, task_id=task_id)
    done = RunCompletion(
        run_id=run.id,
        outcome="succeeded",
        started_at=now,
        ended_at=now,
        next_script="demo/Poll.py",
        next_due_at=now,
        **changes,  # type: ignore[arg-type]
    )
    assert store.tasks.complete([done], owner=store.owner) == [run.id]


def test_current_tasks_are_the_stored_ones_after_every_kind_of_write(store: Store) -> None:
    task_id = new_task(store)
    assert store.tasks.current([task_id]) == store.tasks.get_many([task_id])
    changes: list[dict[str, object]] = [
        {"properties": {"out": ("a", 1)}, "status_line": "one"},  # a tuple is stored (and read back) as a list
        {"properties": {"n": {"k": [1.5, None]}, "new": "x\udcff"}},  # a lone surrogate is kept as its escape
        {"variables": {"global": {"v": 1}, "folder": {}, "release": {"r": "s"}}},
        {"status_line": "two"},
    ]
    for number, change in enumerate(changes):
        _step(store, task_id, T0 + number, **change)
        assert store.tasks.current([task_id]) == {task_id: store.tasks.get(task_id)}
    store.tasks.finish(task_id, status=TaskStatus.ABORTED, allowed_from=[TaskStatus.IN_PROGRESS], now=T0, note="x")
    assert store.tasks.current([task_id]) == {task_id: store.tasks.get(task_id)}
    store.tasks.restart(
        task_id,
        allowed_from=[TaskStatus.ABORTED],
        properties={"n": 2, "out": None},
        first_script="demo/Poll.py",
        now=T0 + 10,
        note="retry",
    )
    assert store.tasks.current([task_id, "999"]) == {task_id: store.tasks.get(task_id)}


def test_current_never_serves_a_task_another_connection_changed(store: Store) -> None:
    task_id = new_task(store)
    _step(store, task_id, T0, properties={"out": "mine"})
    assert store.tasks.current([task_id])[task_id].properties["out"] == "mine"
    with another_store(store, owner=store.owner) as other:
        _step(other, task_id, T0 + 1, properties={"out": "theirs"})
    assert store.tasks.current([task_id])[task_id].properties["out"] == "theirs"


def test_current_never_serves_a_write_that_was_rolled_back(store: Store) -> None:
    task_id = new_task(store)
    _step(store, task_id, T0, properties={"out": "kept"})
    store.tasks.current([task_id])
    with pytest.raises(RuntimeError, match=r"^undone$"), store.atomic():
        _step(store, task_id, T0 + 1, properties={"out": "undone"})
        raise RuntimeError("undone")
    assert store.tasks.current([task_id]) == {task_id: store.tasks.get(task_id)}
    assert store.tasks.get(task_id).properties["out"] == "kept"


def test_writes_to_a_cached_task_keep_every_property(store: Store) -> None:
    task_id = new_task(store)
    _step(store, task_id, T0, properties={"out": "first"}, status_line="one")
    store.tasks.current([task_id])  # cached as stored: the next writes keep the copy in step
    _step(store, task_id, T0 + 1, properties={"out": ("a", 1), "new": {"k": [1.5, None]}, "odd": "x\udcff"})
    _step(store, task_id, T0 + 2, variables={"global": {"v": 1}, "folder": {}, "release": {}})
    task = store.tasks.get(task_id)
    assert task.properties == {"n": 1, "out": ["a", 1], "new": {"k": [1.5, None]}, "odd": "x\\udcff"}
    assert (task.status_line, task.variables) == ("one", {"global": {"v": 1}, "folder": {}, "release": {}})
    assert store.tasks.current([task_id]) == {task_id: task}


def test_a_task_too_large_to_cache_is_still_current(store: Store) -> None:
    task_id = new_task(store)
    _step(store, task_id, T0, properties={"out": "x" * 200_000})
    assert store.tasks.current([task_id]) == {task_id: store.tasks.get(task_id)}
    _step(store, task_id, T0 + 1, properties={"n": 2})
    assert store.tasks.current([task_id]) == {task_id: store.tasks.get(task_id)}
    assert store.tasks.get(task_id).properties == {"n": 2, "out": "x" * 200_000}
