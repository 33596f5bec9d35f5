"""Ended history and its removal: which ended tasks and Rundeck executions lie beyond a retention, and deleting
them with every row that belongs to them.

What is removed, table by table (every table of the store's migrations is either here or holds no history):

* a task: its ``tasks`` row, its ``script_runs`` and its ``task_log`` lines;
* a Rundeck execution: its ``executions`` row and those of its child executions (job references, found through
  ``parent_id`` at any depth), their ``execution_log`` lines, their ``notification_events`` and those events'
  ``notification_deliveries``;
* never: ``projects``, ``jobs``, ``job_schedules`` (definitions, not history), ``runtime_owners`` (live
  processes), ``_migrations``.

Nothing in flight is ever removed: a task must have a final status and no script run due or running, and no
queued or running execution may hold it in its cursor (a ``step-plugin`` step's task); an execution and all its
children must have ended, with no notification pending or being sent, and no queued or running retry of it.
Candidates are chosen once; each batch is then deleted in its own short transaction that checks those
conditions again, so a task retried meanwhile stays, and a server sharing the database waits for one batch at
most, never for the whole prune.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from xlr_runtime.retention import Retention

if TYPE_CHECKING:
    from xlr_runtime.store.base import StoreBase

#: Rows deleted per transaction: small enough that a writer waiting for the lock (a running ``xlr serve``)
#: waits milliseconds.
BATCH_SIZE = 200

#: Top-level executions deleted per transaction (each with its children, logs and notifications).
EXECUTION_BATCH_SIZE = 20

_TASK_FINAL = "('completed', 'failed', 'aborted', 'skipped')"
_EXECUTION_ACTIVE = "('queued', 'running')"

#: The task is still ended and nothing in flight needs it (``t`` is the task).
_TASK_STILL_ENDED = (
    f"t.status IN {_TASK_FINAL} "
    "AND NOT EXISTS (SELECT 1 FROM script_runs r WHERE r.task_id = t.id AND r.state IN ('due', 'running')) "
    "AND t.id NOT IN (SELECT CAST(j.value AS INTEGER) FROM executions e, json_each(e.cursor, '$.tasks') j "
    f"WHERE e.status IN {_EXECUTION_ACTIVE})"
)

#: The execution ``x`` (top level) and its children have ended and nothing in flight needs them.
_EXECUTION_STILL_ENDED = (
    f"x.status NOT IN {_EXECUTION_ACTIVE} "
    "AND NOT EXISTS (SELECT 1 FROM family f JOIN executions c ON c.id = f.id "
    f"WHERE c.status IN {_EXECUTION_ACTIVE}) "
    "AND NOT EXISTS (SELECT 1 FROM family f JOIN notification_events n ON n.execution_id = f.id "
    "WHERE n.state IN ('pending', 'sending')) "
    "AND NOT EXISTS (SELECT 1 FROM family f JOIN executions r ON r.retry_prev_id = f.id "
    f"WHERE r.status IN {_EXECUTION_ACTIVE})"
)

#: ``family``: the execution ``:root`` and its children at any depth.
_FAMILY = (
    "WITH RECURSIVE family(id) AS (SELECT CAST(:root AS BIGINT) UNION SELECT c.id FROM executions c "
    "JOIN family ON c.parent_id = family.id) "
)


@dataclass(frozen=True)
class PruneCounts:
    """Rows removed (or, in a dry run, that would be) by table."""

    tasks: int = 0
    script_runs: int = 0
    task_log: int = 0
    executions: int = 0
    execution_log: int = 0
    notification_events: int = 0
    notification_deliveries: int = 0

    def __add__(self, other: PruneCounts) -> PruneCounts:
        return PruneCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def to_json(self) -> dict[str, int]:
        """The counts by table name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class HistoryRepository:
    """Ended tasks and executions beyond a :class:`~xlr_runtime.retention.Retention`, and their removal."""

    def __init__(self, store: StoreBase) -> None:
        self.store = store

    # -- choosing ----------------------------------------------------------------------------------------------

    def prunable_tasks(self, retention: Retention, now: float) -> list[int]:
        """Ids of the ended tasks beyond ``retention`` (oldest first) that nothing in flight needs."""
        ended = (
            f"SELECT id FROM tasks WHERE status IN {_TASK_FINAL} ORDER BY COALESCE(ended_at, created_at) DESC, id DESC"
        )
        return self._beyond(
            f"SELECT t.id FROM tasks t WHERE {_TASK_STILL_ENDED}",
            "COALESCE(t.ended_at, t.created_at)",
            "t.id",
            ended,
            retention,
            now,
        )

    def prunable_executions(self, retention: Retention, now: float) -> list[int]:
        """Ids of the ended top-level executions beyond ``retention`` (oldest first); their children go with
        them. Whether nothing in flight needs them is checked when they are deleted."""
        ended = (
            f"SELECT id FROM executions WHERE parent_id IS NULL AND status NOT IN {_EXECUTION_ACTIVE} "
            "ORDER BY COALESCE(ended_at, created_at) DESC, id DESC"
        )
        return self._beyond(
            f"SELECT x.id FROM executions x WHERE x.parent_id IS NULL AND x.status NOT IN {_EXECUTION_ACTIVE}",
            "COALESCE(x.ended_at, x.created_at)",
            "x.id",
            ended,
            retention,
            now,
        )

    def _beyond(
        self, candidates: str, ended_at: str, id_column: str, newest: str, retention: Retention, now: float
    ) -> list[int]:
        if retention.keeps_everything:
            return []
        limits: list[str] = []
        params: dict[str, Any] = {}
        if retention.max_age is not None:
            limits.append(f"{ended_at} < :cutoff")
            params["cutoff"] = now - retention.max_age
        if retention.max_count is not None:
            limits.append(f"{id_column} NOT IN ({newest} LIMIT :count)")
            params["count"] = retention.max_count
        sql = f"{candidates} AND ({' OR '.join(limits)}) ORDER BY {ended_at}, {id_column}"
        return [row[0] for row in self.store.execute(sql, params).fetchall()]

    # -- counting and deleting ---------------------------------------------------------------------------------

    def count_tasks(self, task_ids: Sequence[int]) -> PruneCounts:
        """The rows that deleting ``task_ids`` removes (for a dry run)."""
        total = PruneCounts()
        for batch in _batches(task_ids, BATCH_SIZE):
            marks = _marks(batch)
            total += PruneCounts(
                tasks=len(batch),
                script_runs=self._count(f"SELECT COUNT(*) FROM script_runs WHERE task_id IN ({marks})", batch),
                task_log=self._count(f"SELECT COUNT(*) FROM task_log WHERE task_id IN ({marks})", batch),
            )
        return total

    def delete_tasks(self, task_ids: Sequence[int]) -> PruneCounts:
        """Delete at most :data:`BATCH_SIZE` tasks of ``task_ids`` that are still ended and needed by nothing in
        flight, with their runs and log lines, in one transaction; return what was removed."""
        marks = _marks(task_ids)
        with self.store.atomic():
            ids = [row[0] for row in self.store.execute(
                f"SELECT t.id FROM tasks t WHERE t.id IN ({marks}) AND {_TASK_STILL_ENDED}", list(task_ids)
            ).fetchall()]  # fmt: skip
            if not ids:
                return PruneCounts()
            marks = _marks(ids)
            runs = self.store.execute(f"DELETE FROM script_runs WHERE task_id IN ({marks})", ids).rowcount
            log = self.store.execute(f"DELETE FROM task_log WHERE task_id IN ({marks})", ids).rowcount
            tasks = self.store.execute(f"DELETE FROM tasks WHERE id IN ({marks})", ids).rowcount
        return PruneCounts(tasks=tasks, script_runs=runs, task_log=log)

    def delete_executions(self, execution_ids: Sequence[int], *, dry_run: bool = False) -> PruneCounts:
        """Delete the top-level executions ``execution_ids`` (at most :data:`EXECUTION_BATCH_SIZE`) with their
        children, logs and notifications in one transaction, each only if it and its children have still ended
        and nothing in flight needs them; return what was removed (``dry_run``: what would be, deleting nothing)."""
        total = PruneCounts()
        with self.store.snapshot() if dry_run else self.store.atomic():
            for root in execution_ids:
                still = self.store.execute(
                    f"{_FAMILY}SELECT 1 FROM executions x WHERE x.id = :root AND {_EXECUTION_STILL_ENDED}",
                    {"root": root},
                ).fetchone()
                if still is not None:
                    total += self._execution_rows(root, delete=not dry_run)
        return total

    def prune(
        self, retention: Retention, now: float, *, dry_run: bool = False, stop: Callable[[], bool] = lambda: False
    ) -> PruneCounts:
        """Remove every ended task and execution beyond ``retention`` (see the module docstring), batch by batch,
        oldest first; return what was removed (``dry_run``: what would be, removing nothing). ``stop`` is asked
        between batches: when it says so, the rest waits for the next prune."""
        tasks = self.prunable_tasks(retention, now)
        total = self.count_tasks(tasks) if dry_run else PruneCounts()
        if not dry_run:
            for batch in _batches(tasks, BATCH_SIZE):
                if stop():
                    return total
                total += self.delete_tasks(batch)
        for batch in _batches(self.prunable_executions(retention, now), EXECUTION_BATCH_SIZE):
            if stop():
                return total
            total += self.delete_executions(batch, dry_run=dry_run)
        return total

    def _execution_rows(self, root: int, *, delete: bool) -> PruneCounts:
        family = [row[0] for row in self.store.execute(f"{_FAMILY}SELECT id FROM family", {"root": root}).fetchall()]
        marks = _marks(family)
        events = f"SELECT id FROM notification_events WHERE execution_id IN ({marks})"
        statements = {
            "notification_deliveries": f"notification_deliveries WHERE event_id IN ({events})",
            "notification_events": f"notification_events WHERE execution_id IN ({marks})",
            "execution_log": f"execution_log WHERE execution_id IN ({marks})",
            "executions": f"executions WHERE id IN ({marks})",
        }
        counts = {}
        for name, rows in statements.items():  # children before parents: foreign keys hold at every statement
            if delete:
                counts[name] = self.store.execute(f"DELETE FROM {rows}", family).rowcount
            else:
                counts[name] = self._count(f"SELECT COUNT(*) FROM {rows}", family)
        return PruneCounts(**counts)

    def _count(self, sql: str, params: Sequence[Any]) -> int:
        return int(self.store.execute(sql, list(params)).fetchone()[0])


def _marks(ids: Sequence[int]) -> str:
    return ", ".join("?" * len(ids))


def _batches(ids: Sequence[int], size: int) -> list[Sequence[int]]:
    """``ids`` in slices of ``size`` (also under SQLite's limit of bound parameters)."""
    return [ids[start : start + size] for start in range(0, len(ids), size)]
