"""Homes full of stored tasks for the benchmarks, built in seconds with direct inserts into the store's schema.

:func:`task_home` opens a store (which creates the schema through the migrations of the code being measured) and
inserts the tasks in one transaction, with what a real task stores: a type, a title, a status (mostly
completed, some failed, aborted, in progress), a status line, JSON property values of a few hundred bytes and
times. Built homes are kept under the temporary folder, keyed by the task count and the schema's migration
steps, so a later run (or the code of another commit, whose schema differs) reuses or builds its own.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xlr_runtime.store import AREA_MODULES, Store

#: Statuses in the proportions the generated tasks have them (out of 20).
STATUSES = ("completed",) * 16 + ("failed", "failed", "aborted", "in_progress")
#: Property values of every task: the shape of a jenkins.Build task's (a few hundred bytes of JSON).
PROPERTIES = {
    "jenkinsServer": "jenkins",
    "jobName": "team/folder/application-build",
    "jobParameters": "env=prod\nversion=1.2.3\nregion=eu-west-1",
    "buildNumber": "1234",
    "buildStatus": "SUCCESS",
    "consoleOutputUrl": "https://jenkins.example.com/job/team/job/folder/job/application-build/1234/console",
}
#: Seconds between the creation times of consecutive tasks.
SPACING = 30.0
#: Rows per ``executemany`` call.
BATCH = 20_000


def schema_key() -> str:
    """A short digest of every migration step the code being measured knows (its schema version)."""
    names = []
    for module in AREA_MODULES:
        migrations = importlib.import_module(module).MIGRATIONS
        names += [f"{migrations.name}/{step.name}" for step in migrations.steps]
    return hashlib.sha256("\n".join(names).encode("utf-8")).hexdigest()[:12]


def task_home(tasks: int, *, cache: Path | None = None) -> Path:
    """A home folder holding ``tasks`` tasks (built once per task count and schema, then reused)."""
    root = (cache or Path(tempfile.gettempdir())) / f"xlr-bench-home-{tasks}-{schema_key()}"
    if (root / "complete").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    with Store.open(root / "xlr.db") as store, store.atomic():
        for batch in _batches(_rows(tasks), BATCH):
            store.executemany(
                "INSERT INTO tasks (type, title, status, status_line, properties, inputs, variables, attempt, "
                "created_at, started_at, ended_at, failure) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
                batch,
            )
    (root / "complete").write_text(f"{tasks} tasks\n", encoding="utf-8")
    return root


def _rows(count: int) -> Iterator[tuple[Any, ...]]:
    properties = json.dumps(PROPERTIES, separators=(",", ":"))
    inputs = json.dumps({k: PROPERTIES[k] for k in ("jenkinsServer", "jobName", "jobParameters")})
    start = 1_700_000_000.0
    for number in range(1, count + 1):
        status = STATUSES[number % len(STATUSES)]
        created = start + number * SPACING
        ended = None if status == "in_progress" else created + 12.5
        failure = "Build #1234: FAILURE" if status == "failed" else ("Aborted by user" if status == "aborted" else None)
        line = f"Build #{number}: {'SUCCESS' if status == 'completed' else 'FAILURE'}"
        yield (
            "jenkins.Build",
            f"Build {number}",
            status,
            line,
            properties,
            inputs,
            "{}",
            created,
            created + 1.0,
            ended,
            failure,
        )


def _batches(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


#: Properties of a ``bench.Chain`` task as the engine stores them (``steps`` 10).
CHAIN_PROPERTIES = {"scriptLocation": "bench/Chain.py", "iconLocation": None, "taskColor": None, "steps": 10, "n": 1}
#: When the pending runs are due: far in the future, so no claim takes them.
PENDING_DUE = 4_000_000_000.0


def pending_home(pending: int, *, cache: Path | None = None) -> Path:
    """A home folder whose store holds ``pending`` ``bench.Chain`` tasks in progress, each with its next run
    pending (due at :data:`PENDING_DUE`), built once per count and schema."""
    root = (cache or Path(tempfile.gettempdir())) / f"xlr-bench-pending-{pending}-{schema_key()}"
    if (root / "complete").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    properties = json.dumps(CHAIN_PROPERTIES, separators=(",", ":"))
    with Store.open(root / "xlr.db") as store, store.atomic():
        for start in range(0, pending, BATCH):
            ids = range(start + 1, min(pending, start + BATCH) + 1)
            store.executemany(
                "INSERT INTO tasks (id, type, title, status, properties, inputs, variables, attempt, created_at, "
                "started_at) VALUES (?, 'bench.Chain', 'bench.Chain', 'in_progress', ?, '{\"steps\":10}', '{}', 1, "
                "1700000000.0, 1700000000.0)",
                [(task_id, properties) for task_id in ids],
            )
            store.executemany(
                "INSERT INTO script_runs (task_id, attempt, seq, script_path, due_at, state) "
                "VALUES (?, 1, 2, 'bench/Chain.next.py', ?, 'due')",
                [(task_id, PENDING_DUE) for task_id in ids],
            )
    (root / "complete").write_text(f"{pending} pending runs\n", encoding="utf-8")
    return root


def plant_due_tasks(store: Store, count: int) -> list[int]:
    """Add ``count`` planned ``bench.Chain`` tasks whose first run is due now (inserted as ``Engine.create_task``
    stores them); return their ids."""
    properties = json.dumps({**CHAIN_PROPERTIES, "n": None}, separators=(",", ":"))
    ids = []
    with store.atomic():
        for _ in range(count):
            cursor = store.execute(
                "INSERT INTO tasks (type, title, status, properties, inputs, variables, attempt, created_at) "
                "VALUES ('bench.Chain', 'bench.Chain', 'planned', ?, '{\"steps\":10}', '{}', 1, 1700000000.0)",
                [properties],
            )
            ids.append(int(cursor.lastrowid or 0))
        store.executemany(
            "INSERT INTO script_runs (task_id, attempt, seq, script_path, due_at, state) "
            "VALUES (?, 1, 1, 'bench/Chain.py', 1700000000.0, 'due')",
            [(task_id,) for task_id in ids],
        )
    return ids
