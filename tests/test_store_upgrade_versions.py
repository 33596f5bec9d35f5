"""A database of the version before tasks had a version (issue 18) opens and migrates: its tasks get version 0,
are served by ``current`` as stored, and the first write of each gives it a version of its own."""

from __future__ import annotations

from pathlib import Path

from tests.upgrade_helpers import migrations_before
from xlr_runtime.store import RunCompletion, Store, apply_migrations

FIRST_NEW_STEP = ("tasks", "give each task a version that every write changes")
NOW = 1_700_000_000.0


def previous_version(path: Path) -> None:
    """The schema as the previous version left it (the tasks set without its new step), with one task due."""
    store = Store(path)
    try:
        apply_migrations(store, migrations_before(*FIRST_NEW_STEP))
        store.execute(
            "INSERT INTO tasks (type, title, status, properties, inputs, variables, attempt, created_at) "
            "VALUES ('demo.Poll', 'old', 'planned', '{\"out\":null}', '{}', '{}', 1, ?)",
            [NOW],
        )
        store.execute(
            "INSERT INTO script_runs (task_id, attempt, seq, script_path, due_at, state) "
            "VALUES (1, 1, 1, 'demo/Poll.py', ?, 'due')",
            [NOW],
        )
    finally:
        store.close()


def test_tasks_of_the_previous_version_get_a_version_and_are_served_as_stored(tmp_path: Path) -> None:
    previous_version(tmp_path / "xlr.db")
    with Store.open(tmp_path / "xlr.db") as store:
        assert store.execute("SELECT version FROM tasks").fetchall() == [(0,)]
        assert store.tasks.current(["1"]) == {"1": store.tasks.get("1")}
        [run] = store.tasks.claim_due(NOW, 1, owner=store.owner, lease=60)
        done = RunCompletion(
            run_id=run.id,
            outcome="succeeded",
            started_at=NOW,
            ended_at=NOW,
            properties={"out": "new"},
            next_script="demo/Poll.py",
            next_due_at=NOW + 5,
        )
        assert store.tasks.complete([done], owner=store.owner) == [run.id]
        assert store.execute("SELECT version FROM tasks").fetchone()[0] != 0
        assert store.tasks.current(["1"])["1"].properties == {"out": "new"} == store.tasks.get("1").properties
        assert store.integrity_check() == "ok"
