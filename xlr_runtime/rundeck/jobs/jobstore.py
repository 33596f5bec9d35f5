"""Rundeck jobs in the store: the import rules of ``rd jobs load``, and the jobs read back through the XML codec.

The store keeps each job as its canonical XML export (one ``<joblist>`` with one ``<job>``, see
:mod:`xlr_runtime.rundeck.jobs.xml_export`) beside its uuid, project, group and name (:mod:`xlr_runtime.store.jobs`);
:class:`JobStore` writes and reads those definitions. An import follows ``rd jobs load`` (Rundeck's
``ScheduledExecutionService.loadImportedJobs``): a job with a uuid matches only the job with that uuid in the
project; a job without one matches by group + name, and only when exactly one job has them. ``dupe_option`` says
what happens to a match (``update`` — the default —, ``skip``) or ``create`` a new job without looking for one;
``uuid_option`` keeps the file's uuids (``preserve``) or drops them (``remove``, the job gets a new one). Creating a
job whose uuid is already taken, in any project, is an error, as in Rundeck. An import is one transaction: all jobs
or none.
"""

from __future__ import annotations

import dataclasses
import uuid as uuidlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from xlr_runtime.errors import JobDefinitionError, NotFoundError
from xlr_runtime.rundeck.jobs.model import Job, Workflow
from xlr_runtime.store import Store
from xlr_runtime.store.jobs import JobRow


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


class JobStore:
    """The Rundeck jobs of one store. Every public method is one transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

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
        with self.store.atomic():
            self.store.jobs.ensure_project(project, now=now)
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
            self.store.jobs.update(_row(stored), now=now)
            return ImportResult(ImportAction.UPDATED, stored)
        if job.uuid is not None:
            taken = self.store.jobs.get(job.uuid)
            if taken is not None:
                raise JobDefinitionError(
                    f"cannot create a job with uuid {job.uuid}: a job already exists with this uuid "
                    f"({taken.project}/{taken.full_name})",
                    path=None,
                    job=job.full_name,
                    hint="Change the uuid, delete the other job, or load with -r remove to give the job a new uuid.",
                )
        stored = dataclasses.replace(job, uuid=job.uuid or str(uuidlib.uuid4()), id=None, project=project)
        self.store.jobs.insert(_row(stored), now=now)
        return ImportResult(ImportAction.CREATED, stored)

    def _match(self, project: str, job: Job) -> Job | None:
        """The job an update or skip applies to: the one with the job's uuid in this project, else (without a
        uuid) the only job of the project with its group and name; ``None`` when there is none (or several)."""
        if job.uuid:
            row = self.store.jobs.get(job.uuid)
            return _job(row) if row is not None and row.project == project else None
        rows = self.store.jobs.named(project, job.group or "", job.name)
        return _job(rows[0]) if len(rows) == 1 else None

    def list(self, project: str, *, group: str | None = None, name: str | None = None) -> list[Job]:
        """Jobs of ``project`` by group, then name; ``group`` also matches its subgroups, ``name`` is exact."""
        return [_job(row) for row in self.store.jobs.list(project, group=group, name=name)]

    def get(self, job_uuid: str) -> Job:
        """The job with ``job_uuid``; :class:`NotFoundError` if there is none."""
        row = self.store.jobs.get(job_uuid)
        if row is None:
            raise NotFoundError(f"no job with uuid {job_uuid}")
        return _job(row)

    def find(self, project: str, full_name: str) -> Job:
        """The one job of ``project`` called ``group/name`` (or ``name`` without a group)."""
        return _job(self.store.jobs.find(project, full_name))

    def set_enabled(
        self, job_uuid: str, *, schedule: bool | None = None, execution: bool | None = None, now: float
    ) -> Job:
        """Turn the job's schedule and/or its executions on or off (``None`` leaves one as it is) and return the
        job. The flags are Rundeck's ``scheduleEnabled`` and ``executionEnabled``, kept in the definition: an export
        shows them, a run checks them, and the schedule loop replans the job as for a new version."""
        with self.store.atomic():
            job = self.get(job_uuid)
            changed = dataclasses.replace(
                job,
                schedule_enabled=job.schedule_enabled if schedule is None else schedule,
                execution_enabled=job.execution_enabled if execution is None else execution,
            )
            if changed != job:
                self.store.jobs.update(_row(changed), now=now)
        return changed

    def delete(self, project: str, job_uuid: str) -> Job:
        """Delete the job ``job_uuid`` of ``project`` and return it. A definition that no longer reads back (stored
        by an older version) is deleted all the same: the job returned then has only its identity."""
        row = self.store.jobs.delete(project, job_uuid)
        try:
            return _job(row)
        except JobDefinitionError:
            return Job(
                name=row.name,
                group=row.group_path or None,
                uuid=row.uuid,
                project=row.project,
                sequence=Workflow(steps=()),
            )


def _row(job: Job) -> JobRow:
    """The stored form of ``job`` (which has its uuid and project), checked to read back: nothing goes into the
    store that the store, the schedule loop or an export could not read again (the codecs refuse such input first,
    naming the file and field)."""
    from xlr_runtime.rundeck.jobs.xml_codec import dump_jobs_xml, load_jobs_xml  # only where jobs are written

    definition = dump_jobs_xml([dataclasses.replace(job, project=None)])
    try:
        load_jobs_xml(definition, path="the stored form", require_future=False)
    except JobDefinitionError as exc:
        raise JobDefinitionError(
            f"cannot be stored: its XML form does not read back ({exc.detail})", path=None, job=job.full_name
        ) from None
    return JobRow(str(job.uuid), str(job.project), job.group or "", job.name, definition)


def _job(row: JobRow) -> Job:
    """The job of a stored row; a definition that does not read back (stored by an older version) is a
    :class:`JobDefinitionError` naming the job and how to get rid of it."""
    from xlr_runtime.rundeck.jobs.xml_codec import load_jobs_xml  # only where jobs are read

    try:
        (job,) = load_jobs_xml(row.definition, path=f"store:jobs/{row.uuid}", require_future=False)
    except JobDefinitionError as exc:
        raise JobDefinitionError(
            f"the stored definition ({row.project}, uuid {row.uuid}) cannot be read: {exc.detail}",
            path=None,
            job=row.full_name,
            hint=f"Delete it with 'xlr jobs delete -p {row.project} -i {row.uuid}' and load it again.",
        ) from None
    return dataclasses.replace(job, project=row.project)
