"""A database written by the previous schema version opens and migrates: job definitions get their digest, the
schedule rows keep a digest instead of a copy of the definition, retries get their index."""

from __future__ import annotations

import importlib
from pathlib import Path

from xlr_runtime.rundeck.jobs.model import ExecStep, Job, Workflow
from xlr_runtime.rundeck.jobs.xml_codec import dump_jobs_xml
from xlr_runtime.store import AREA_MODULES, MigrationSet, Store, applied_migrations, apply_migrations
from xlr_runtime.store.jobs import definition_sha256

NOW = 1_700_000_000.0
#: The first step of each set that the previous version did not have (it and every later step are left out).
NEW_STEPS = {
    "jobs": "add jobs.definition_sha256",
    "schedules": "keep the digest of the job definition, not the definition",
    "executions": "one execution per fire time, one active execution of an exclusive job",
    "tasks": "cancel due runs of tasks that ended",
}


def previous_version(path: Path) -> None:
    """Create ``path`` as the previous xlr-runtime left it: its schema, a job whose schedule row is up to date
    and one whose row was computed from an older definition."""
    sets = []
    for module in AREA_MODULES:
        current: MigrationSet = importlib.import_module(module).MIGRATIONS
        names = [step.name for step in current.steps]
        cut = names.index(NEW_STEPS[current.name]) if current.name in NEW_STEPS else len(names)
        sets.append(MigrationSet(current.name, current.steps[:cut]))
    store = Store(path)
    try:
        apply_migrations(store, sets)
        store.execute("INSERT INTO projects (name, created_at) VALUES ('p', ?)", [NOW])
        for uuid, command, scheduled_from in (("u-same", "one", "one"), ("u-changed", "two", "old")):
            store.execute(
                "INSERT INTO jobs (uuid, project, group_path, name, definition, created_at, updated_at) "
                "VALUES (?, 'p', '', ?, ?, ?, ?)",
                [uuid, uuid, definition(uuid, command), NOW, NOW],
            )
            store.execute(
                "INSERT INTO job_schedules (job_uuid, project, definition, crontab, time_zone, next_fire_at, note, "
                "updated_at) VALUES (?, 'p', ?, NULL, NULL, NULL, 'not scheduled', ?)",
                [uuid, definition(uuid, scheduled_from), NOW],
            )
    finally:
        store.close()


def definition(uuid: str, command: str) -> str:
    return dump_jobs_xml([Job(name=uuid, uuid=uuid, sequence=Workflow(steps=(ExecStep(command=command),)))])


def columns(store: Store, table: str) -> list[str]:
    return [row["name"] for row in store.query(f"PRAGMA table_info({table})")]


def test_a_database_of_the_previous_version_migrates(tmp_path: Path) -> None:
    previous_version(tmp_path / "xlr.db")
    with Store.open(tmp_path / "xlr.db") as store:
        assert set(NEW_STEPS.items()) <= {(s, n) for s, n, _ in applied_migrations(store)}
        digests = {r["uuid"]: r["definition_sha256"] for r in store.query("SELECT uuid, definition_sha256 FROM jobs")}
        assert digests == {u: definition_sha256(definition(u, c)) for u, c in (("u-same", "one"), ("u-changed", "two"))}
        assert "definition" not in columns(store, "job_schedules")
        # the row computed from the current definition stays; the other is stale, as it was before the upgrade
        assert [(s.job_uuid, s.definition_sha256) for s in store.schedules.stale()] == [
            ("u-changed", digests["u-changed"])
        ]
        assert store.schedules.get("u-same") is not None
        indexes = {row["name"] for row in store.query("PRAGMA index_list(executions)")}
        assert {"executions_retry_prev", "executions_one_per_fire", "executions_one_exclusive"} <= indexes
        assert {"fire_at", "exclusive"} <= set(columns(store, "executions"))
        assert store.integrity_check() == "ok"
