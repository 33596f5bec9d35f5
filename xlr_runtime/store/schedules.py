"""The schedules area: the next fire time of every stored job, kept durable so ``xlr serve`` fires on time and
a restart knows what it missed.

One row per stored job (scheduled or not), holding the digest of the job definition it was computed from
(``jobs.definition_sha256``): when ``xlr jobs load`` stores a new version, the digests differ and the row is
computed again; a deleted job's row goes.
Firing advances ``next_fire_at`` with a compare-and-set in the same transaction that queues the execution,
so a fire is neither lost nor doubled by a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xlr_runtime.store.jobs import definition_sha256
from xlr_runtime.store.migrations import MigrationSet

if TYPE_CHECKING:
    from sqlite_utils import Database

    from xlr_runtime.store.base import StoreBase

MIGRATIONS = MigrationSet("schedules")


@MIGRATIONS.step("create job_schedules")
def _create_tables(db: Database) -> None:
    db.execute(
        "CREATE TABLE job_schedules (job_uuid TEXT PRIMARY KEY, project TEXT NOT NULL, definition TEXT NOT NULL, "
        "crontab TEXT, time_zone TEXT, next_fire_at REAL, note TEXT, last_fire_at REAL, last_execution_id INTEGER, "
        "last_error TEXT, updated_at REAL NOT NULL)"
    )
    db.execute("CREATE INDEX job_schedules_due ON job_schedules (next_fire_at)")


@MIGRATIONS.step("keep the digest of the job definition, not the definition")
def _definition_sha256(db: Database) -> None:
    db.execute("ALTER TABLE job_schedules ADD COLUMN definition_sha256 TEXT NOT NULL DEFAULT ''")
    rows = db.execute("SELECT job_uuid, definition FROM job_schedules").fetchall()
    db.conn.executemany(
        "UPDATE job_schedules SET definition_sha256 = ? WHERE job_uuid = ?",
        [(definition_sha256(d), u) for u, d in rows],
    )
    db.execute("ALTER TABLE job_schedules DROP COLUMN definition")


@dataclass(frozen=True)
class ScheduleRow:
    """The stored schedule of one job.

    ``next_fire_at`` is ``None`` when the job does not fire (no schedule, disabled, invalid: ``note`` says
    which). ``last_*`` describe the latest fire: when, the execution it queued, or why it queued none.
    """

    job_uuid: str
    project: str
    crontab: str | None
    time_zone: str | None
    next_fire_at: float | None
    note: str | None
    last_fire_at: float | None
    last_execution_id: int | None
    last_error: str | None
    updated_at: float
    definition_sha256: str


@dataclass(frozen=True)
class StaleJob:
    """A stored job whose schedule row is missing or was computed from another definition (and its digest)."""

    job_uuid: str
    project: str
    definition: str
    definition_sha256: str
    previous: ScheduleRow | None


class ScheduleRepository:
    """Schedule rows of the stored jobs. Every method is one transaction."""

    def __init__(self, store: StoreBase) -> None:
        self._store = store

    def stale(self) -> list[StaleJob]:
        """Jobs without a row, or whose definition changed since their row was computed.

        Called about once a second by ``xlr serve``: it compares digests (``jobs_definition_sha256`` covers
        them) and reads the definitions of the stale jobs only."""
        rows = self._store.query(
            "SELECT j.uuid AS job_uuid_, j.project AS project_, j.definition AS definition_, "
            "j.definition_sha256 AS definition_sha256_, s.* FROM jobs j "
            "LEFT JOIN job_schedules s ON s.job_uuid = j.uuid "
            "WHERE s.job_uuid IS NULL OR s.definition_sha256 != j.definition_sha256 ORDER BY j.uuid"
        )
        return [
            StaleJob(
                row["job_uuid_"],
                row["project_"],
                row["definition_"],
                row["definition_sha256_"],
                None if row["job_uuid"] is None else _row({k: v for k, v in row.items() if not k.endswith("_")}),
            )
            for row in rows
        ]

    def save(
        self,
        job_uuid: str,
        *,
        project: str,
        definition_sha256: str,
        crontab: str | None,
        time_zone: str | None,
        next_fire_at: float | None,
        note: str | None,
        now: float,
    ) -> None:
        """Store the schedule computed from the definition whose digest is ``definition_sha256`` (the fire history
        of the job is kept)."""
        self._store.execute(
            "INSERT INTO job_schedules (job_uuid, project, definition_sha256, crontab, time_zone, next_fire_at, "
            "note, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_uuid) DO UPDATE SET "
            "project = excluded.project, definition_sha256 = excluded.definition_sha256, "
            "crontab = excluded.crontab, time_zone = excluded.time_zone, "
            "next_fire_at = excluded.next_fire_at, note = excluded.note, updated_at = excluded.updated_at",
            (job_uuid, project, definition_sha256, crontab, time_zone, next_fire_at, note, now),
        )

    def remove_orphans(self) -> list[str]:
        """Delete the rows of jobs that no longer exist; return their uuids."""
        rows = self._store.query(
            "DELETE FROM job_schedules WHERE job_uuid NOT IN (SELECT uuid FROM jobs) RETURNING job_uuid"
        )
        return sorted(row["job_uuid"] for row in rows)

    def due(self, now: float) -> list[ScheduleRow]:
        """Rows whose next fire time has come, earliest first."""
        rows = self._store.query(
            "SELECT * FROM job_schedules WHERE next_fire_at IS NOT NULL AND next_fire_at <= ? "
            "ORDER BY next_fire_at, job_uuid",
            (now,),
        )
        return [_row(row) for row in rows]

    def advance(self, job_uuid: str, *, expected: float, next_fire_at: float | None, fired_at: float) -> bool:
        """Move a row past a fire, only if its next fire time is still ``expected`` (compare-and-set)."""
        cursor = self._store.execute(
            "UPDATE job_schedules SET next_fire_at = ?, last_fire_at = ?, last_execution_id = NULL, last_error = NULL "
            "WHERE job_uuid = ? AND next_fire_at = ?",
            (next_fire_at, fired_at, job_uuid, expected),
        )
        return cursor.rowcount == 1

    def record_fire(self, job_uuid: str, *, execution_id: int | None, error: str | None) -> None:
        """Record what the latest fire queued: an execution, or the reason it queued none."""
        self._store.execute(
            "UPDATE job_schedules SET last_execution_id = ?, last_error = ? WHERE job_uuid = ?",
            (execution_id, error, job_uuid),
        )

    def next_due_at(self) -> float | None:
        """The earliest next fire time of any job, or ``None``."""
        row = self._store.query_one("SELECT MIN(next_fire_at) AS due FROM job_schedules")
        return None if row is None or row["due"] is None else float(row["due"])

    def get(self, job_uuid: str) -> ScheduleRow | None:
        """The row of one job, or ``None``."""
        row = self._store.query_one("SELECT * FROM job_schedules WHERE job_uuid = ?", (job_uuid,))
        return None if row is None else _row(row)

    def list(self, project: str) -> list[ScheduleRow]:
        """The rows of one project's jobs."""
        rows = self._store.query("SELECT * FROM job_schedules WHERE project = ? ORDER BY job_uuid", (project,))
        return [_row(row) for row in rows]


def _row(row: dict[str, Any]) -> ScheduleRow:
    return ScheduleRow(**row)
