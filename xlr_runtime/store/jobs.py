"""Projects and their Rundeck job definitions: the schema and the repository.

The store keeps each job as the Rundeck layer gives it (:class:`JobRow`): its uuid, project, group and name, the
columns an import matches on and a listing filters by, and its definition, the canonical XML export as text,
with the definition's digest beside it. It never reads a definition: the Rundeck layer writes and reads them
with its codec, and applies the import rules of ``rd jobs load`` (:mod:`xlr_runtime.rundeck.jobs.jobstore`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xlr_runtime.errors import NotFoundError, StateError
from xlr_runtime.store.base import like_escaped
from xlr_runtime.store.migrations import MigrationSet

if TYPE_CHECKING:
    from sqlite_utils import Database

    from xlr_runtime.store.base import StoreBase


@dataclass(frozen=True)
class Project:
    """A project and how many jobs it holds."""

    name: str
    job_count: int
    created_at: float


@dataclass(frozen=True)
class JobRow:
    """One stored job: its identity, group (``""`` for none) and name, and its definition (canonical XML)."""

    uuid: str
    project: str
    group_path: str
    name: str
    definition: str = field(repr=False)

    @property
    def full_name(self) -> str:
        """``group/name``, or ``name`` without a group."""
        return f"{self.group_path}/{self.name}" if self.group_path else self.name


MIGRATIONS = MigrationSet("jobs")


@MIGRATIONS.step("create projects, jobs")
def _create_tables(db: Database) -> None:
    db.execute("CREATE TABLE projects (name TEXT PRIMARY KEY, created_at REAL NOT NULL)")
    db.execute(
        "CREATE TABLE jobs (uuid TEXT PRIMARY KEY, project TEXT NOT NULL REFERENCES projects (name), "
        "group_path TEXT NOT NULL DEFAULT '', name TEXT NOT NULL, definition TEXT NOT NULL, "
        "created_at REAL NOT NULL, updated_at REAL NOT NULL)"
    )
    db.execute("CREATE INDEX jobs_project_name ON jobs (project, group_path, name)")


@MIGRATIONS.step("add jobs.definition_sha256")
def _add_definition_sha256(db: Database) -> None:
    """The digest of each definition, so the schedule loop notices a changed job by comparing 64 characters
    (from an index) instead of whole definitions."""
    db.execute("ALTER TABLE jobs ADD COLUMN definition_sha256 TEXT NOT NULL DEFAULT ''")
    rows = db.execute("SELECT uuid, definition FROM jobs").fetchall()
    db.conn.executemany(
        "UPDATE jobs SET definition_sha256 = ? WHERE uuid = ?", [(definition_sha256(d), u) for u, d in rows]
    )
    db.execute("CREATE INDEX jobs_definition_sha256 ON jobs (uuid, definition_sha256)")


def definition_sha256(definition: str) -> str:
    """The hex SHA-256 of a stored job definition (``jobs.definition_sha256``): equal digests, equal jobs."""
    return hashlib.sha256(definition.encode("utf-8")).hexdigest()


class JobRepository:
    """Projects and job rows. Every public method is one statement or one transaction; an import of several
    jobs is one :meth:`StoreBase.atomic` block of the caller's."""

    def __init__(self, store: StoreBase) -> None:
        self._store = store

    # -- projects ----------------------------------------------------------------------------------------------

    def ensure_project(self, name: str, *, now: float) -> None:
        """Create the project ``name`` unless it exists."""
        if not name or name != name.strip() or "/" in name:
            raise StateError(f'invalid project name "{name}": no slashes, no surrounding spaces')
        self._store.execute("INSERT INTO projects (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING", [name, now])

    def projects(self) -> list[Project]:
        """Every project, by name, with its job count."""
        rows = self._store.query(
            "SELECT p.name, p.created_at, COUNT(j.uuid) AS job_count FROM projects p "
            "LEFT JOIN jobs j ON j.project = p.name GROUP BY p.name ORDER BY p.name"
        )
        return [Project(row["name"], row["job_count"], row["created_at"]) for row in rows]

    # -- jobs --------------------------------------------------------------------------------------------------

    def get(self, job_uuid: str) -> JobRow | None:
        """The job with ``job_uuid``, in any project, or ``None``."""
        data = self._store.query_one(f"SELECT {_COLUMNS} FROM jobs WHERE uuid = ?", [job_uuid])
        return None if data is None else JobRow(**data)

    def named(self, project: str, group_path: str, name: str) -> list[JobRow]:
        """The jobs of ``project`` with exactly this group (``""`` for none) and name, by uuid."""
        rows = self._store.query(
            f"SELECT {_COLUMNS} FROM jobs WHERE project = ? AND group_path = ? AND name = ? ORDER BY uuid",
            [project, group_path, name],
        )
        return [JobRow(**data) for data in rows]

    def list(self, project: str, *, group: str | None = None, name: str | None = None) -> list[JobRow]:
        """Jobs of ``project`` by group, then name; ``group`` also matches its subgroups, ``name`` is exact."""
        sql, params = f"SELECT {_COLUMNS} FROM jobs WHERE project = ?", [project]
        if group is not None:
            trimmed = group.strip("/")
            sql += " AND (group_path = ? OR group_path LIKE ? ESCAPE '\\')"
            params += [trimmed, like_escaped(trimmed) + "/%"]
        if name is not None:
            sql += " AND name = ?"
            params.append(name)
        return [JobRow(**data) for data in self._store.query(sql + " ORDER BY group_path, name, uuid", params)]

    def find(self, project: str, full_name: str) -> JobRow:
        """The one job of ``project`` called ``group/name`` (or ``name`` without a group)."""
        group, _, name = full_name.strip("/").rpartition("/")
        rows = self.named(project, group, name)
        if not rows:
            raise NotFoundError(f'no job "{full_name}" in project "{project}"')
        if len(rows) > 1:
            uuids = ", ".join(row.uuid for row in rows)
            raise StateError(
                f'{len(rows)} jobs are called "{full_name}" in project "{project}": {uuids}',
                hint="Name the job by its uuid (-i).",
            )
        return rows[0]

    def insert(self, row: JobRow, *, now: float) -> None:
        """Store a new job (its project must exist)."""
        digest = definition_sha256(row.definition)
        self._store.execute(
            "INSERT INTO jobs (uuid, project, group_path, name, definition, definition_sha256, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [row.uuid, row.project, row.group_path, row.name, row.definition, digest, now, now],
        )

    def update(self, row: JobRow, *, now: float) -> None:
        """Replace the group, name and definition of the stored job ``row.uuid`` (it keeps its project)."""
        self._store.execute(
            "UPDATE jobs SET group_path = ?, name = ?, definition = ?, definition_sha256 = ?, updated_at = ? "
            "WHERE uuid = ?",
            [row.group_path, row.name, row.definition, definition_sha256(row.definition), now, row.uuid],
        )

    def delete(self, project: str, job_uuid: str) -> JobRow:
        """Delete the job ``job_uuid`` of ``project`` and return it as it was stored."""
        with self._store.atomic():
            row = self.get(job_uuid)
            if row is None or row.project != project:
                raise NotFoundError(f'no job with uuid {job_uuid} in project "{project}"')
            self._store.execute("DELETE FROM jobs WHERE uuid = ?", [job_uuid])
        return row

    def label(self, job_uuid: str) -> str:
        """``project/group/name (uuid)`` of a stored job (for messages about a job whose definition may not read
        back); just the uuid when there is no such job."""
        row = self.get(job_uuid)
        return f"{row.project}/{row.full_name} ({job_uuid})" if row is not None else job_uuid


_COLUMNS = "uuid, project, group_path, name, definition"
