"""Projects and their Rundeck job definitions: the schema, the import rules and the repository.

A job is stored as its canonical XML export (one ``<joblist>`` with one ``<job>``, see
:mod:`xlr_runtime.rundeck.jobs.xml_export`), keyed by uuid, in one project. An import follows ``rd jobs load``
(Rundeck's ``ScheduledExecutionService.loadImportedJobs``): a job with a uuid matches only the job with that
uuid in the project; a job without one matches by group + name, and only when exactly one job has them.
``dupe_option`` says what happens to a match (``update`` — the default —, ``skip``) or ``create`` a new job
without looking for one; ``uuid_option`` keeps the file's uuids (``preserve``) or drops them (``remove``, the
job gets a new one). Creating a job whose uuid is already taken, in any project, is an error, as in Rundeck.
An import is one transaction: all jobs or none.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid as uuidlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from xlr_runtime.errors import JobDefinitionError, NotFoundError, StateError
from xlr_runtime.store.migrations import MigrationSet

if TYPE_CHECKING:
    from sqlite_utils import Database

    from xlr_runtime.rundeck.jobs.model import Job
    from xlr_runtime.store.base import Store


class DupeOption(StrEnum):
    """What an import does with a job that already exists (``rd jobs load -d``)."""

    UPDATE = "update"
    SKIP = "skip"
    CREATE = "create"


class UuidOption(StrEnum):
    """Whether an import keeps the file's job uuids (``rd jobs load -r``)."""

    PRESERVE = "preserve"
    REMOVE = "remove"


class ImportAction(StrEnum):
    """What happened to one job of an import."""

    CREATED = "created"
    UPDATED = "updated"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class ImportResult:
    """One job of an import: what happened and the job as stored (with its uuid and project)."""

    action: ImportAction
    job: Job


@dataclass(frozen=True)
class Project:
    """A project and how many jobs it holds."""

    name: str
    job_count: int
    created_at: float


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
    """Projects and job definitions. Every public method is one transaction."""

    def __init__(self, store: Store) -> None:
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

    def load(
        self,
        project: str,
        jobs: Sequence[Job],
        *,
        now: float,
        dupe_option: DupeOption | str = DupeOption.UPDATE,
        uuid_option: UuidOption | str = UuidOption.PRESERVE,
    ) -> list[ImportResult]:
        """Import ``jobs`` into ``project`` (created if needed) as ``rd jobs load`` does; all or nothing."""
        dupe, keep = DupeOption(dupe_option), UuidOption(uuid_option)
        results: list[ImportResult] = []
        with self._store.atomic():
            self.ensure_project(project, now=now)
            for job in jobs:
                incoming = job if keep is UuidOption.PRESERVE else dataclasses.replace(job, uuid=None, id=None)
                results.append(self._import_one(project, incoming, dupe, now))
        return results

    def _import_one(self, project: str, job: Job, dupe: DupeOption, now: float) -> ImportResult:
        existing = None if dupe is DupeOption.CREATE else self._match(project, job)
        if existing is not None and dupe is DupeOption.SKIP:
            return ImportResult(ImportAction.SKIPPED, existing)
        if existing is not None and dupe is DupeOption.UPDATE:
            stored = dataclasses.replace(job, uuid=existing.uuid, id=None, project=project)
            definition = _readable_definition(stored)
            self._store.execute(
                "UPDATE jobs SET group_path = ?, name = ?, definition = ?, definition_sha256 = ?, updated_at = ? "
                "WHERE uuid = ?",
                [stored.group or "", stored.name, definition, definition_sha256(definition), now, stored.uuid],
            )
            return ImportResult(ImportAction.UPDATED, stored)
        if job.uuid is not None:
            taken = self._row(job.uuid)
            if taken is not None:
                raise JobDefinitionError(
                    f"cannot create a job with uuid {job.uuid}: a job already exists with this uuid "
                    f"({taken['project']}/{_full_name(taken)})",
                    path=None,
                    job=job.full_name,
                    hint="Change the uuid, delete the other job, or load with -r remove to give the job a new uuid.",
                )
        new_uuid = job.uuid or str(uuidlib.uuid4())
        stored = dataclasses.replace(job, uuid=new_uuid, id=None, project=project)
        definition = _readable_definition(stored)
        self._store.execute(
            "INSERT INTO jobs (uuid, project, group_path, name, definition, definition_sha256, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [new_uuid, project, stored.group or "", stored.name, definition, definition_sha256(definition), now, now],
        )
        return ImportResult(ImportAction.CREATED, stored)

    def _match(self, project: str, job: Job) -> Job | None:
        """The job an update or skip applies to: the one with the job's uuid in this project, else (without a
        uuid) the only job of the project with its group and name; ``None`` when there is none (or several)."""
        if job.uuid:
            row = self._row(job.uuid)
            return _job(row) if row is not None and row["project"] == project else None
        rows = self._store.query(
            "SELECT * FROM jobs WHERE project = ? AND group_path = ? AND name = ?",
            [project, job.group or "", job.name],
        )
        return _job(rows[0]) if len(rows) == 1 else None

    def list(self, project: str, *, group: str | None = None, name: str | None = None) -> list[Job]:
        """Jobs of ``project`` by group, then name; ``group`` also matches its subgroups, ``name`` is exact."""
        sql, params = "SELECT * FROM jobs WHERE project = ?", [project]
        if group is not None:
            trimmed = group.strip("/")
            sql += " AND (group_path = ? OR group_path LIKE ? ESCAPE '\\')"
            params += [trimmed, _like_prefix(trimmed) + "/%"]
        if name is not None:
            sql += " AND name = ?"
            params.append(name)
        return [_job(row) for row in self._store.query(sql + " ORDER BY group_path, name, uuid", params)]

    def get(self, job_uuid: str) -> Job:
        """The job with ``job_uuid``; :class:`NotFoundError` if there is none."""
        row = self._row(job_uuid)
        if row is None:
            raise NotFoundError(f"no job with uuid {job_uuid}")
        return _job(row)

    def find(self, project: str, full_name: str) -> Job:
        """The one job of ``project`` called ``group/name`` (or ``name`` without a group)."""
        return _job(self._find_row(project, full_name))

    def find_uuid(self, project: str, full_name: str) -> str:
        """The uuid of the one job of ``project`` called ``group/name``, without reading its definition (so a
        definition that no longer reads back can still be named and deleted)."""
        return str(self._find_row(project, full_name)["uuid"])

    def _find_row(self, project: str, full_name: str) -> dict[str, Any]:
        group, _, name = full_name.strip("/").rpartition("/")
        rows = self._store.query(
            "SELECT * FROM jobs WHERE project = ? AND group_path = ? AND name = ? ORDER BY uuid", [project, group, name]
        )
        if not rows:
            raise NotFoundError(f'no job "{full_name}" in project "{project}"')
        if len(rows) > 1:
            uuids = ", ".join(row["uuid"] for row in rows)
            raise StateError(
                f'{len(rows)} jobs are called "{full_name}" in project "{project}": {uuids}',
                hint="Name the job by its uuid (-i).",
            )
        return rows[0]

    def set_enabled(
        self, job_uuid: str, *, schedule: bool | None = None, execution: bool | None = None, now: float
    ) -> Job:
        """Turn the job's schedule and/or its executions on or off (``None`` leaves one as it is) and return the
        job. The flags are Rundeck's ``scheduleEnabled`` and ``executionEnabled``, kept in the definition: an export
        shows them, a run checks them, and the schedule loop replans the job as for a new version."""
        with self._store.atomic():
            row = self._row(job_uuid)
            if row is None:
                raise NotFoundError(f"no job with uuid {job_uuid}")
            job = _job(row)
            changed = dataclasses.replace(
                job,
                schedule_enabled=job.schedule_enabled if schedule is None else schedule,
                execution_enabled=job.execution_enabled if execution is None else execution,
            )
            if changed != job:
                definition = _readable_definition(changed)
                self._store.execute(
                    "UPDATE jobs SET definition = ?, definition_sha256 = ?, updated_at = ? WHERE uuid = ?",
                    [definition, definition_sha256(definition), now, job_uuid],
                )
        return changed

    def delete(self, project: str, job_uuid: str) -> Job:
        """Delete the job ``job_uuid`` of ``project`` and return it. A definition that no longer reads back (stored
        by an older version) is deleted all the same: the job returned then has only its identity."""
        with self._store.atomic():
            row = self._row(job_uuid)
            if row is None or row["project"] != project:
                raise NotFoundError(f'no job with uuid {job_uuid} in project "{project}"')
            self._store.execute("DELETE FROM jobs WHERE uuid = ?", [job_uuid])
        try:
            return _job(row)
        except JobDefinitionError:
            from xlr_runtime.rundeck.jobs.model import Job, Workflow

            return Job(
                name=row["name"],
                group=row["group_path"] or None,
                uuid=row["uuid"],
                project=row["project"],
                sequence=Workflow(steps=()),
            )

    def label(self, job_uuid: str) -> str:
        """``project/group/name (uuid)`` of a stored job, read without its definition (for messages about a job
        whose definition may not read back); just the uuid when there is no such job."""
        row = self._store.query_one("SELECT project, group_path, name FROM jobs WHERE uuid = ?", [job_uuid])
        return f"{row['project']}/{_full_name(row)} ({job_uuid})" if row is not None else job_uuid

    def _row(self, job_uuid: str) -> dict[str, Any] | None:
        return self._store.query_one("SELECT * FROM jobs WHERE uuid = ?", [job_uuid])


def _definition(job: Job) -> str:
    """The stored form: the job's canonical XML export (without its project)."""
    from xlr_runtime.rundeck.jobs.xml_codec import dump_jobs_xml  # the codec: only where jobs are read or written

    return dump_jobs_xml([dataclasses.replace(job, project=None)])


def _readable_definition(job: Job) -> str:
    """The stored form of ``job``, checked to read back: nothing goes into the store that the store, the schedule
    loop or an export could not read again (the codecs refuse such input first, naming the file and field)."""
    from xlr_runtime.rundeck.jobs.xml_codec import load_jobs_xml

    definition = _definition(job)
    try:
        load_jobs_xml(definition, path="the stored form", require_future=False)
    except JobDefinitionError as exc:
        raise JobDefinitionError(
            f"cannot be stored: its XML form does not read back ({exc.detail})", path=None, job=job.full_name
        ) from None
    return definition


def _job(row: dict[str, Any]) -> Job:
    """The job of a stored row; a definition that does not read back (stored by an older version) is a
    :class:`JobDefinitionError` naming the job and how to get rid of it."""
    from xlr_runtime.rundeck.jobs.xml_codec import load_jobs_xml

    try:
        (job,) = load_jobs_xml(row["definition"], path=f"store:jobs/{row['uuid']}", require_future=False)
    except JobDefinitionError as exc:
        raise JobDefinitionError(
            f"the stored definition ({row['project']}, uuid {row['uuid']}) cannot be read: {exc.detail}",
            path=None,
            job=_full_name(row),
            hint=f"Delete it with 'xlr jobs delete -p {row['project']} -i {row['uuid']}' and load it again.",
        ) from None
    return dataclasses.replace(job, project=row["project"])


def _full_name(row: dict[str, Any]) -> str:
    return f"{row['group_path']}/{row['name']}" if row["group_path"] else str(row["name"])


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
