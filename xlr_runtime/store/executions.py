"""Rundeck job executions and their log lines: the schema, the typed records and the repository.

An execution is a durable state machine: ``queued`` (due at ``due_at``) -> ``running`` (claimed by one owner)
-> a final status. While it runs, its ``cursor`` (where the workflow is) and ``context`` (the data context) are
saved after every step on every node, so a runtime that restarts after a crash re-queues it and carries on
from the step that was running. Option values are stored masked; the secure ones only as an encrypted blob.

Each claim adds one to the execution's fencing token (``claim_token``). The writes of the runtime driving it —
progress, log lines, its end, the job references and plugin tasks it starts — name the token of its claim and
change nothing once the execution runs under another claim or no longer runs (another runtime re-queued it
after this one's lease ran out): they raise :class:`~xlr_runtime.errors.ClaimLostError` instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NoReturn

from xlr_runtime.errors import AlreadyFiredError, ClaimLostError, NotFoundError, StateError
from xlr_runtime.store.base import fits_row_id, like_escaped
from xlr_runtime.store.migrations import MigrationSet

if TYPE_CHECKING:
    from sqlite_utils import Database

    from xlr_runtime.store.base import StoreBase


class ExecutionStatus(StrEnum):
    """Rundeck's execution statuses (``other`` is a custom status from a log-limit halt)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"
    TIMEDOUT = "timedout"
    FAILED_WITH_RETRY = "failed-with-retry"
    OTHER = "other"

    @property
    def is_final(self) -> bool:
        """True once the execution has ended."""
        return self not in (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING)


@dataclass(frozen=True)
class ExecutionSummary:
    """What a listing shows of an execution (times are epoch seconds): an :class:`Execution` without its job
    definition, sealed secure options, cursor, context and ownership, whose columns ``xlr executions`` does not
    read."""

    id: int
    project: str
    job_id: str | None
    job_name: str
    job_group: str | None
    status: ExecutionStatus
    options: dict[str, str]
    arg_string: str
    user: str
    execution_type: str
    attempt: int
    created_at: float
    due_at: float
    custom_status: str | None = None
    retry_initial_id: int | None = None
    retry_prev_id: int | None = None
    parent_id: int | None = None
    started_at: float | None = None
    ended_at: float | None = None
    failure: str | None = None
    succeeded_nodes: list[str] = field(default_factory=list)
    failed_nodes: list[str] = field(default_factory=list)
    restarts: int = 0

    @property
    def job_full_name(self) -> str:
        """``group/name`` or just the name."""
        return f"{self.job_group}/{self.job_name}" if self.job_group else self.job_name

    @property
    def shown_status(self) -> str:
        """The status as shown: a custom status string when a log-limit halt set one."""
        return self.custom_status or str(self.status)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict, without the job definition, the cursor, the context or any secret."""
        return {
            "id": self.id,
            "project": self.project,
            "job": {"id": self.job_id, "name": self.job_name, "group": self.job_group},
            "status": self.shown_status,
            "options": self.options,
            "argstring": self.arg_string,
            "user": self.user,
            "executionType": self.execution_type,
            "retryAttempt": self.attempt,
            "retryInitialExecId": self.retry_initial_id,
            "retryPrevExecId": self.retry_prev_id,
            "parentId": self.parent_id,
            "createdAt": self.created_at,
            "dueAt": self.due_at,
            "startedAt": self.started_at,
            "endedAt": self.ended_at,
            "failure": self.failure,
            "successfulNodes": self.succeeded_nodes,
            "failedNodes": self.failed_nodes,
            "restarts": self.restarts,
        }


#: The columns of an :class:`ExecutionSummary`, in its field order.
_SUMMARY_COLUMNS = ", ".join(f'"{f.name}"' for f in fields(ExecutionSummary))  # quoted: "user" is a keyword


@dataclass(frozen=True, kw_only=True)
class Execution(ExecutionSummary):
    """One run of a job: what :class:`ExecutionSummary` lists, with the job definition (as XML), the sealed
    secure options, the cursor and context a resume carries on from, and who runs it under which claim
    (``claim_token``: its fencing token, one more at each claim); ``fire_at`` is the schedule fire time that queued
    it (``None`` for any other start), ``exclusive`` that its job forbade multiple executions when it was
    queued."""

    job_xml: str
    secure_blob: str | None = None
    deadline_at: float | None = None
    owner: str | None = None
    abort_requested: bool = False
    fire_at: float | None = None
    exclusive: bool = False
    cursor: dict[str, Any] = field(default_factory=dict)
    context: list[dict[str, Any]] = field(default_factory=list)
    claim_token: int = 0


@dataclass(frozen=True)
class ExecutionLogLine:
    """One stored log line; ``id`` orders lines and lets a follower ask for newer ones."""

    id: int
    execution_id: int
    time: float
    level: str
    node: str | None
    step: str | None
    text: str


MIGRATIONS = MigrationSet("executions")


@MIGRATIONS.step("create executions, execution_log")
def _create_tables(db: Database) -> None:
    db.execute(
        "CREATE TABLE executions (id INTEGER PRIMARY KEY AUTOINCREMENT, project TEXT NOT NULL, job_id TEXT, "
        "job_name TEXT NOT NULL, job_group TEXT, job_xml TEXT NOT NULL, status TEXT NOT NULL, custom_status TEXT, "
        'options TEXT NOT NULL, secure_blob TEXT, arg_string TEXT NOT NULL, "user" TEXT NOT NULL, '
        "execution_type TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 0, retry_initial_id INTEGER, "
        "retry_prev_id INTEGER, parent_id INTEGER, created_at REAL NOT NULL, due_at REAL NOT NULL, "
        "started_at REAL, ended_at REAL, deadline_at REAL, owner TEXT, abort_requested INTEGER NOT NULL DEFAULT 0, "
        "cursor TEXT NOT NULL DEFAULT '{}', context TEXT NOT NULL DEFAULT '[]', failure TEXT, "
        "succeeded_nodes TEXT NOT NULL DEFAULT '[]', failed_nodes TEXT NOT NULL DEFAULT '[]', "
        "restarts INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute("CREATE INDEX executions_due ON executions (status, due_at)")
    db.execute("CREATE INDEX executions_job ON executions (project, job_id, status)")
    db.execute(
        "CREATE TABLE execution_log (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "execution_id INTEGER NOT NULL REFERENCES executions (id), time REAL NOT NULL, level TEXT NOT NULL, "
        "node TEXT, step TEXT, text TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX execution_log_execution ON execution_log (execution_id, id)")


@MIGRATIONS.step("index executions by retry_prev_id")
def _index_retries(db: Database) -> None:
    db.execute("CREATE INDEX executions_retry_prev ON executions (retry_prev_id) WHERE retry_prev_id IS NOT NULL")


@MIGRATIONS.step("one execution per fire time, one active execution of an exclusive job")
def _cluster_keys(db: Database) -> None:
    # enforced by the database, so they hold for every host on one PostgreSQL, whatever each host checked first
    db.execute("ALTER TABLE executions ADD COLUMN fire_at REAL")
    db.execute("ALTER TABLE executions ADD COLUMN exclusive INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE UNIQUE INDEX executions_one_per_fire ON executions (job_id, fire_at) WHERE fire_at IS NOT NULL")
    db.execute(
        "CREATE UNIQUE INDEX executions_one_exclusive ON executions (project, job_id) "
        "WHERE exclusive = 1 AND status IN ('queued', 'running') AND parent_id IS NULL"
    )


@MIGRATIONS.step("give each claim of an execution a fencing token")
def _add_claim_token(db: Database) -> None:
    # each claim adds one; the writes of the runtime driving the execution name the token of its claim, so a
    # runtime that lost its lease (stalled, cut off) and comes back changes nothing of an execution another resumed
    db.execute("ALTER TABLE executions ADD COLUMN claim_token INTEGER NOT NULL DEFAULT 0")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


_JSON_COLUMNS = ("options", "cursor", "context", "succeeded_nodes", "failed_nodes")
#: The condition of a fenced write: the execution (``id``) runs under the writer's claim (``claim_token``).
_HELD = "id = ? AND status = 'running' AND claim_token = ?"
_ACTIVE = (str(ExecutionStatus.QUEUED), str(ExecutionStatus.RUNNING))


def _summary(row: dict[str, Any]) -> ExecutionSummary:
    values = dict(row)
    for name in ("options", "succeeded_nodes", "failed_nodes"):
        values[name] = json.loads(values[name])
    values["status"] = ExecutionStatus(values["status"])
    return ExecutionSummary(**values)


@dataclass(frozen=True)
class ExecutionQuery:
    """Which top-level executions a listing keeps (Rundeck's execution query); every field left empty keeps all.

    ``statuses`` are stored statuses (``other`` keeps those with a custom status); ``ended_after`` and
    ``ended_before`` (epoch seconds) keep executions that ended in that span; ``job_names`` are full names
    (``group/name``); ``group`` keeps a group and its subgroups (``""``: jobs without a group), ``group_exact`` one
    group; ``name_contains`` (any case) and ``name`` are on the job's name; ``adhoc`` keeps only executions without
    a job (``True``) or only those with one (``False``)."""

    project: str | None = None
    job_ids: tuple[str, ...] = ()
    exclude_job_ids: tuple[str, ...] = ()
    job_names: tuple[str, ...] = ()
    exclude_job_names: tuple[str, ...] = ()
    group: str | None = None
    group_exact: str | None = None
    name_contains: str | None = None
    name: str | None = None
    statuses: tuple[str, ...] = ()
    user: str | None = None
    execution_type: str | None = None
    adhoc: bool | None = None
    ended_after: float | None = None
    ended_before: float | None = None

    def where(self) -> tuple[str, list[Any]]:
        """The ``WHERE`` clause of the executions this query keeps, and its parameters."""
        full_name = "(CASE WHEN COALESCE(job_group, '') = '' THEN job_name ELSE job_group || '/' || job_name END)"
        clauses: list[str] = ["parent_id IS NULL"]
        params: list[Any] = []
        for column, value in (("project", self.project), ('"user"', self.user), ("execution_type", self.execution_type),
                              ("job_name", self.name), ("COALESCE(job_group, '')", self.group_exact)):  # fmt: skip
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        lists = [("job_id", self.job_ids, ""), ("job_id", self.exclude_job_ids, "NOT "),
                 (full_name, self.job_names, ""), (full_name, self.exclude_job_names, "NOT ")]  # fmt: skip
        for column, values, negate in lists:
            if values:
                clauses.append(f"COALESCE({column}, '') {negate}IN ({', '.join('?' * len(values))})")
                params.extend(values)
        if self.statuses:
            plain = [s for s in self.statuses if s != str(ExecutionStatus.OTHER)]
            either = [f"(status IN ({', '.join('?' * len(plain))}) AND custom_status IS NULL)"] if plain else []
            either += ["custom_status IS NOT NULL"] if len(plain) < len(self.statuses) else []
            clauses.append(f"({' OR '.join(either)})")
            params.extend(plain)
        if self.group is not None:
            clauses.append("(COALESCE(job_group, '') = ? OR job_group LIKE ? ESCAPE '\\')" if self.group else
                           "COALESCE(job_group, '') = ?")  # fmt: skip
            params.extend([self.group, like_escaped(self.group) + "/%"] if self.group else [""])
        if self.name_contains:
            clauses.append("LOWER(job_name) LIKE ? ESCAPE '\\'")
            params.append("%" + like_escaped(self.name_contains.lower()) + "%")
        if self.adhoc is not None:
            clauses.append("job_id IS NULL" if self.adhoc else "job_id IS NOT NULL")
        for operator, bound in ((">=", self.ended_after), ("<=", self.ended_before)):
            if bound is not None:
                clauses.append(f"ended_at {operator} ?")
                params.append(bound)
        return "WHERE " + " AND ".join(clauses), params


def _top_level(project: str | None, job_id: str | None = None) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause of the top-level executions (of ``project``, of ``job_id``), and its parameters."""
    return ExecutionQuery(project=project, job_ids=() if job_id is None else (job_id,)).where()


def _execution(row: dict[str, Any]) -> Execution:
    values = dict(row)
    for name in _JSON_COLUMNS:
        values[name] = json.loads(values[name])
    values["status"] = ExecutionStatus(values["status"])
    values["abort_requested"] = bool(values["abort_requested"])
    values["exclusive"] = bool(values["exclusive"])
    return Execution(**values)


class ExecutionRepository:
    """Executions and their logs in one store. Every method is one transaction."""

    def __init__(self, store: StoreBase) -> None:
        self._store = store

    def create(
        self,
        *,
        project: str,
        job_id: str | None,
        job_name: str,
        job_group: str | None,
        job_xml: str,
        options: dict[str, str],
        arg_string: str,
        user: str,
        now: float,
        due_at: float | None = None,
        secure_blob: str | None = None,
        execution_type: str = "user",
        attempt: int = 0,
        retry_initial_id: int | None = None,
        retry_prev_id: int | None = None,
        parent_id: int | None = None,
        exclusive: bool = False,
        fire_at: float | None = None,
    ) -> Execution:
        """Store a queued execution due at ``due_at`` (default ``now``).

        With ``exclusive`` (a job with multipleExecutions=false) no other execution of the job may be queued or
        running: checked in the same transaction, and held by a unique index for two hosts that insert at once.
        One that is raises :class:`StateError`. ``fire_at`` is the schedule fire time this execution is for; a
        fire time that already has its execution (fired by another host) raises :class:`AlreadyFiredError`.
        """
        with self._store.atomic():
            if fire_at is not None and job_id is not None:  # before the running check: the fire is what is taken
                self._refuse_if_fired(job_id, _full(job_name, job_group), fire_at)
            if exclusive and job_id is not None:
                self._refuse_if_active(project, job_id, _full(job_name, job_group))
            cursor = self._store.execute(
                "INSERT INTO executions (project, job_id, job_name, job_group, job_xml, status, options, "
                "secure_blob, arg_string, \"user\", execution_type, attempt, retry_initial_id, retry_prev_id, "
                "parent_id, created_at, due_at, fire_at, exclusive) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                (
                    project, job_id, job_name, job_group, job_xml, str(ExecutionStatus.QUEUED), _dumps(options),
                    secure_blob, arg_string, user, execution_type, attempt, retry_initial_id, retry_prev_id,
                    parent_id, now, now if due_at is None else due_at, fire_at, int(exclusive and job_id is not None),
                ),
            )  # fmt: skip
            row = cursor.fetchone()
            if row is None:  # a unique index refused it: another host queued this fire, or an exclusive execution
                self._refuse_conflict(project, job_id, _full(job_name, job_group), fire_at)
            return self.get(int(row[0]))

    def _refuse_if_active(self, project: str, job_id: str, job: str) -> None:
        """:class:`StateError` when an execution of ``job_id`` is queued or running."""
        active = self.active_for_job(project, job_id)
        if active:
            raise StateError(
                f"job {job!r} is already running (execution {active[0].id}) and does not allow multiple executions"
            )

    def _refuse_if_fired(self, job_id: str, job: str, fire_at: float) -> None:
        """:class:`AlreadyFiredError` when the fire time ``fire_at`` of ``job_id`` has its execution."""
        fired = self._store.query_one("SELECT id FROM executions WHERE job_id = ? AND fire_at = ?", (job_id, fire_at))
        if fired is not None:
            raise AlreadyFiredError(job, fire_at, int(fired["id"]))

    def _refuse_conflict(self, project: str, job_id: str | None, job: str, fire_at: float | None) -> NoReturn:
        """The error of an insert a unique index refused (what another host committed first)."""
        if job_id is not None:
            if fire_at is not None:
                self._refuse_if_fired(job_id, job, fire_at)
            self._refuse_if_active(project, job_id, job)
        raise StateError(f"job {job!r}: the execution was refused by the store and no conflicting one is stored")

    def get(self, execution_id: int) -> Execution:
        """The execution ``execution_id``; :class:`NotFoundError` when there is none."""
        if not fits_row_id(execution_id):
            raise NotFoundError(f"no execution {execution_id}")
        row = self._store.query_one("SELECT * FROM executions WHERE id = ?", (execution_id,))
        if row is None:
            raise NotFoundError(f"no execution {execution_id}")
        return _execution(row)

    def list(self, *, project: str | None = None, job_id: str | None = None, limit: int = 100) -> list[Execution]:
        """The newest executions first, optionally of one project and/or one job."""
        clauses, params = [], []
        for column, value in (("project", project), ("job_id", job_id)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._store.query(f"SELECT * FROM executions {where} ORDER BY id DESC LIMIT ?", (*params, limit))
        return [_execution(row) for row in rows]

    def summaries(
        self,
        *,
        project: str | None = None,
        job_id: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        query: ExecutionQuery | None = None,
    ) -> list[ExecutionSummary]:
        """What ``xlr executions`` lists: the top-level executions (not the children job references start), newest
        first, optionally of one project and/or one job (or those ``query`` keeps); at most ``limit`` (the newest
        after the first ``offset``), read without the job definition, the secure options, the cursor and the
        context."""
        where, params = _top_level(project, job_id) if query is None else query.where()
        tail = " LIMIT ? OFFSET ?" if limit is not None else ""
        rows = self._store.query(
            f"SELECT {_SUMMARY_COLUMNS} FROM executions {where} ORDER BY id DESC{tail}",
            (*params, *([] if limit is None else [limit, offset])),
        )
        return [_summary(row) for row in rows]

    def count(
        self, *, project: str | None = None, job_id: str | None = None, query: ExecutionQuery | None = None
    ) -> int:
        """How many top-level executions there are (of ``project``, of ``job_id``, when given; or that ``query``
        keeps)."""
        where, params = _top_level(project, job_id) if query is None else query.where()
        return int(self._store.execute(f"SELECT COUNT(*) FROM executions {where}", params).fetchone()[0])

    def retry_of(self, execution_id: int) -> Execution | None:
        """The execution queued to retry ``execution_id`` (its ``retry_prev_id``), or ``None``: one indexed
        lookup, however many executions the job has."""
        row = self._store.query_one(
            "SELECT * FROM executions WHERE retry_prev_id = ? ORDER BY id DESC LIMIT 1", (execution_id,)
        )
        return None if row is None else _execution(row)

    def active_for_job(self, project: str, job_id: str) -> list[Execution]:
        """Queued or running executions of one job (top-level ones, not job-reference children)."""
        rows = self._store.query(
            "SELECT * FROM executions WHERE project = ? AND job_id = ? AND status IN (?, ?) AND parent_id IS NULL "
            "ORDER BY id",
            (project, job_id, *_ACTIVE),
        )
        return [_execution(row) for row in rows]

    def claim_due(self, now: float, *, owner: str, limit: int) -> list[Execution]:
        """Mark up to ``limit`` queued executions due at ``now`` as running for ``owner`` and return them."""
        if limit <= 0:
            return []
        with self._store.atomic():
            rows = self._store.query(
                "UPDATE executions SET status = ?, owner = ?, started_at = COALESCE(started_at, ?), "
                "claim_token = claim_token + 1 WHERE id IN "
                "(SELECT id FROM executions WHERE status = ? AND due_at <= ? AND parent_id IS NULL "
                f"ORDER BY due_at, id LIMIT ?{self._store.dialect.skip_locked}) RETURNING *",
                (str(ExecutionStatus.RUNNING), owner, now, str(ExecutionStatus.QUEUED), now, limit),
            )
        return sorted((_execution(row) for row in rows), key=lambda e: e.id)

    def start_child(self, execution_id: int, *, owner: str, now: float) -> Execution:
        """Mark a job-reference child execution as running (a claim: its token goes up) in its parent's thread."""
        self._store.execute(
            "UPDATE executions SET status = ?, owner = ?, started_at = COALESCE(started_at, ?), "
            "claim_token = claim_token + 1 WHERE id = ?",
            (str(ExecutionStatus.RUNNING), owner, now, execution_id),
        )
        return self.get(execution_id)

    def hold(self, execution_id: int, claim_token: int) -> None:
        """Check that ``execution_id`` still runs under the claim ``claim_token``, and keep it so until the current
        transaction ends (its row locked on PostgreSQL; SQLite has one writer): call it first in an
        :meth:`~xlr_runtime.store.base.StoreBase.atomic` block whose writes only its driver may make.
        :class:`ClaimLostError` when it does not."""
        row = self._store.query_one(
            f"SELECT id FROM executions WHERE {_HELD}{self._store.dialect.for_update}", (execution_id, claim_token)
        )
        if row is None:
            raise ClaimLostError(execution_id, claim_token)

    def next_due_at(self) -> float | None:
        """The earliest due time of a queued top-level execution, or ``None``."""
        row = self._store.query_one(
            "SELECT MIN(due_at) AS due FROM executions WHERE status = ? AND parent_id IS NULL",
            (str(ExecutionStatus.QUEUED),),
        )
        return None if row is None or row["due"] is None else float(row["due"])

    def save_progress(
        self,
        execution_id: int,
        *,
        cursor: dict[str, Any],
        context: list[dict[str, Any]],
        deadline_at: float | None = None,
        claim_token: int | None = None,
    ) -> None:
        """Record where the workflow is and the data context (after each step on each node); with ``claim_token``
        (the driver's claim) only while the execution runs under it, else :class:`ClaimLostError`."""
        self._fenced(
            "cursor = ?, context = ?, deadline_at = COALESCE(?, deadline_at)",
            (_dumps(cursor), _dumps(context), deadline_at),
            execution_id,
            claim_token,
        )

    def _fenced(self, assignments: str, values: tuple[Any, ...], execution_id: int, claim_token: int | None) -> None:
        """``UPDATE executions SET assignments`` of ``execution_id``; with ``claim_token``, only while the execution
        runs under that claim (one statement: checked and written together), else :class:`ClaimLostError`."""
        if claim_token is None:
            self._store.execute(f"UPDATE executions SET {assignments} WHERE id = ?", (*values, execution_id))
            return
        sql = f"UPDATE executions SET {assignments} WHERE {_HELD}"
        if not self._store.execute(sql, (*values, execution_id, claim_token)).rowcount:
            raise ClaimLostError(execution_id, claim_token)

    def finish(
        self,
        execution_id: int,
        *,
        status: ExecutionStatus,
        now: float,
        failure: str | None = None,
        custom_status: str | None = None,
        succeeded_nodes: Sequence[str] = (),
        failed_nodes: Sequence[str] = (),
        claim_token: int | None = None,
    ) -> Execution:
        """End an execution with ``status`` (a final one); with ``claim_token`` (the driver's claim) only while it
        runs under it, else :class:`ClaimLostError`."""
        if not status.is_final:
            raise StateError(f"{status} is not a final status")
        self._fenced(
            "status = ?, custom_status = ?, ended_at = ?, failure = ?, succeeded_nodes = ?, failed_nodes = ?, "
            "owner = NULL",
            (str(status), custom_status, now, failure, _dumps(list(succeeded_nodes)), _dumps(list(failed_nodes))),
            execution_id,
            claim_token,
        )
        return self.get(execution_id)

    def request_abort(self, execution_id: int, *, now: float) -> Execution:
        """Abort: a queued execution ends at once; a running one is flagged and its runner stops it.
        :class:`StateError` for one that has already ended."""
        with self._store.atomic():
            execution = self.get(execution_id)
            if execution.status.is_final:
                raise StateError(f"execution {execution_id} has already ended ({execution.shown_status})")
            if execution.status == ExecutionStatus.QUEUED:
                return self.finish(execution_id, status=ExecutionStatus.ABORTED, now=now, failure="Aborted by user")
            self._store.execute("UPDATE executions SET abort_requested = 1 WHERE id = ?", (execution_id,))
            return self.get(execution_id)

    def abort_requested(self, execution_id: int) -> bool:
        """True when a user asked to abort this execution (or the parent whose job reference it runs)."""
        row = self._store.query_one(
            "SELECT e.abort_requested AS own, p.abort_requested AS parent FROM executions e "
            "LEFT JOIN executions p ON p.id = e.parent_id WHERE e.id = ?",
            (execution_id,),
        )
        return bool(row and (row["own"] or row["parent"]))

    def running_owners(self) -> list[str]:
        """The distinct owners of running executions (to find those left by a process that died)."""
        rows = self._store.query(
            "SELECT DISTINCT owner FROM executions WHERE status = ? AND owner IS NOT NULL",
            (str(ExecutionStatus.RUNNING),),
        )
        return [row["owner"] for row in rows]

    def requeue_running(self, *, now: float, owners: Sequence[str]) -> list[Execution]:
        """After a crash of the processes ``owners``: their running top-level executions become queued (due
        now) with the cursor kept; their running job-reference children end as aborted (the parent re-runs
        the step)."""
        if not owners:
            return []
        marks = ", ".join("?" for _ in owners)
        with self._store.atomic():
            self._store.execute(
                "UPDATE executions SET status = ?, ended_at = ?, failure = ?, owner = NULL "
                f"WHERE status = ? AND parent_id IS NOT NULL AND owner IN ({marks})",
                (str(ExecutionStatus.ABORTED), now, "The runtime stopped while this job reference ran; the parent "
                 "re-runs the step", str(ExecutionStatus.RUNNING), *owners),
            )  # fmt: skip
            rows = self._store.query(
                "UPDATE executions SET status = ?, owner = NULL, due_at = ?, restarts = restarts + 1 "
                f"WHERE status = ? AND parent_id IS NULL AND owner IN ({marks}) RETURNING *",
                (str(ExecutionStatus.QUEUED), now, str(ExecutionStatus.RUNNING), *owners),
            )
        return sorted((_execution(row) for row in rows), key=lambda e: e.id)

    def add_log(
        self,
        execution_id: int,
        lines: Iterable[tuple[float, str, str | None, str | None, str]],
        *,
        claim_token: int | None = None,
    ) -> None:
        """Append ``(time, level, node, step, text)`` lines; with ``claim_token`` (the driver's claim) only while the
        execution runs under it, else :class:`ClaimLostError` and none of them."""
        rows = [(execution_id, *line) for line in lines]
        insert = "INSERT INTO execution_log (execution_id, time, level, node, step, text) "
        if claim_token is None:
            self._store.executemany(insert + "VALUES (?, ?, ?, ?, ?, ?)", rows)
        elif len(rows) == 1:  # the usual case, a line at a time: checked and written in one statement
            fenced = (
                f"{insert}SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS "
                f"(SELECT 1 FROM executions WHERE {_HELD}{self._store.dialect.for_update})"
            )
            if not self._store.execute(fenced, (*rows[0], execution_id, claim_token)).rowcount:
                raise ClaimLostError(execution_id, claim_token)
        elif rows:  # several: the claim checked once and held while they are written
            with self._store.atomic(concurrent=True):
                self.hold(execution_id, claim_token)
                self._store.executemany(insert + "VALUES (?, ?, ?, ?, ?, ?)", rows)

    def log(
        self,
        execution_id: int,
        *,
        after: int = 0,
        limit: int = -1,
        node: str | None = None,
        step: str | None = None,
        last: int = 0,
    ) -> list[ExecutionLogLine]:
        """Log lines with an id greater than ``after``, in order; the first ``limit`` of them (all when negative),
        or with ``last`` the last ``last`` of them; only those of ``node`` and of step ``step`` (a step context such
        as ``2``, with its sub-steps) when given."""
        sql, params = "SELECT * FROM execution_log WHERE execution_id = ? AND id > ?", [execution_id, after]
        if node is not None:
            sql += " AND node = ?"
            params.append(node)
        if step is not None:
            sql += " AND (step = ? OR step LIKE ? ESCAPE '\\')"
            params += [step, like_escaped(step) + "/%"]
        if last > 0:
            rows = self._store.query(sql + " ORDER BY id DESC LIMIT ?", (*params, last))[::-1]
        else:
            tail, bound = (" LIMIT ?", [limit]) if limit >= 0 else ("", [])
            rows = self._store.query(sql + " ORDER BY id" + tail, (*params, *bound))
        return [ExecutionLogLine(**row) for row in rows]


def _full(name: str, group: str | None) -> str:
    return f"{group}/{name}" if group else name
