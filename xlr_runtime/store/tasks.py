"""Tasks, their script runs and their log lines: the schema, the records of runs and log lines, and the repository
(the task records are in :mod:`xlr_runtime.task_records`).

A task is a chain of script runs: the first is due when the task is created; each completion either adds the
next run (``due_at = now + interval``) or ends the task, in one transaction. Claiming due runs is one short
``UPDATE … RETURNING`` transaction that stamps an owner and a lease, so several runtimes on a shared server
database could later claim side by side.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import operator
import random
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from xlr_runtime.errors import NotFoundError, StateError, StoreError
from xlr_runtime.records import frozen_record
from xlr_runtime.scripting.contract import Failure, LogLine
from xlr_runtime.store.base import fits_row_id, like_escaped, storable_text, storable_value
from xlr_runtime.store.migrations import MigrationSet
from xlr_runtime.task_records import Task, TaskStatus, TaskSummary

if TYPE_CHECKING:
    from sqlite_utils import Database

    from xlr_runtime.store.base import StoreBase


#: Statuses by their stored text (calling the enum class is several times slower than a dict lookup).
_STATUSES: dict[str, TaskStatus] = {str(status): status for status in TaskStatus}


class RunState(StrEnum):
    """Where one script run is."""

    DUE = "due"  # waiting for its due time and a free worker
    RUNNING = "running"  # claimed by a runtime (owner, lease) and handed to a worker
    DONE = "done"  # ended; ``outcome`` says how
    CANCELLED = "cancelled"  # its task was aborted, skipped or retried before it ran


#: The columns of a :class:`TaskSummary`, in its field order.
_SUMMARY_COLUMNS = "id, type, title, status, status_line, attempt, created_at, started_at, ended_at, failure"


@dataclass(frozen=True)
class ScriptRun:
    """One execution of one script of a task (``seq`` counts runs within an attempt, from 1)."""

    id: int
    task_id: str
    attempt: int
    seq: int
    script_path: str
    due_at: float
    state: RunState
    owner: str | None = None
    lease_until: float | None = None
    worker_pid: int | None = None
    started_at: float | None = None
    ended_at: float | None = None
    outcome: str | None = None
    failure: Failure | None = None
    restarts: int = 0
    status_line: str | None = None  # the status line the run set (``None``: it set none), after masking and cuts
    #: The fencing token of the run's current claim: each claim adds one, so a completion carrying an older token
    #: (from a runtime that lost its lease meanwhile) is refused (:meth:`TaskRepository.complete`).
    claim_token: int = 0

    @property
    def duration(self) -> float | None:
        """Seconds from start to end on the runtime's clock, once the run has ended."""
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "task_id": int(self.task_id),
            "attempt": self.attempt,
            "seq": self.seq,
            "script_path": self.script_path,
            "due_at": self.due_at,
            "state": str(self.state),
            "worker_pid": self.worker_pid,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "outcome": self.outcome,
            "restarts": self.restarts,
            "status_line": self.status_line,
            "claim_token": self.claim_token,
            "failure": None if self.failure is None else {"kind": self.failure.kind, "message": self.failure.message},
        }


@dataclass(frozen=True)
class TaskLogLine:
    """One stored line of a task log; ``id`` orders lines and lets a follower ask for newer ones."""

    id: int
    task_id: str
    run_id: int | None
    time: float
    stream: str
    text: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``xlr task log --json``, the HTTP API)."""
        return {"id": self.id, "time": self.time, "run_id": self.run_id, "stream": self.stream, "text": self.text}

    def to_text(self) -> str:
        """The line as ``xlr task log`` prints it: its time (UTC), a marker (``!`` stderr, ``*`` the runtime's
        notes) and the text."""
        when = dt.datetime.fromtimestamp(self.time, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        return f"{when} {_STREAM_MARKERS.get(self.stream, ' ')} {self.text}"


#: The marker of a log line's stream in text output.
_STREAM_MARKERS = {"stderr": "!", "system": "*"}


@dataclass(frozen=True)
class RunCompletion:
    """Everything one finished script run changes, committed together by :meth:`TaskRepository.complete`.

    Exactly one of ``next_script`` (with ``next_due_at``) and ``task_status`` is set, unless the engine leaves
    the task as it is (a result for a task that was aborted or skipped meanwhile is still recorded).
    """

    run_id: int
    outcome: str
    started_at: float
    ended_at: float
    worker_pid: int | None = None
    failure: Failure | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    status_line: str | None = None
    log: Sequence[LogLine] = ()
    next_script: str | None = None
    next_due_at: float | None = None
    task_status: TaskStatus | None = None
    task_failure: str | None = None
    variables: dict[str, dict[str, Any]] | None = None  # the three variable maps, when a script changed them
    #: The claim's fencing token (:attr:`ScriptRun.claim_token`): the completion is recorded only while the run is
    #: still running under this very claim. ``None`` checks the owner only.
    claim_token: int | None = None


MIGRATIONS = MigrationSet("tasks")


@MIGRATIONS.step("create tasks, script_runs, task_log")
def _create_tables(db: Database) -> None:
    db.execute(
        "CREATE TABLE tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, title TEXT NOT NULL, "
        "status TEXT NOT NULL, status_line TEXT, properties TEXT NOT NULL, inputs TEXT NOT NULL, "
        "variables TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 1, created_at REAL NOT NULL, "
        "started_at REAL, ended_at REAL, failure TEXT)"
    )
    db.execute("CREATE INDEX tasks_status ON tasks (status)")
    db.execute(
        "CREATE TABLE script_runs (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "task_id INTEGER NOT NULL REFERENCES tasks (id), attempt INTEGER NOT NULL, seq INTEGER NOT NULL, "
        "script_path TEXT NOT NULL, due_at REAL NOT NULL, state TEXT NOT NULL, owner TEXT, lease_until REAL, "
        "worker_pid INTEGER, started_at REAL, ended_at REAL, outcome TEXT, failure_kind TEXT, "
        "failure_message TEXT, failure_traceback TEXT, restarts INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute("CREATE INDEX script_runs_due ON script_runs (state, due_at)")
    db.execute("CREATE INDEX script_runs_task ON script_runs (task_id)")
    db.execute(
        "CREATE TABLE task_log (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id INTEGER NOT NULL REFERENCES tasks (id), "
        "run_id INTEGER, time REAL NOT NULL, stream TEXT NOT NULL, text TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX task_log_task ON task_log (task_id, id)")


@MIGRATIONS.step("cancel due runs of tasks that ended")
def _cancel_orphan_runs(db: Database) -> None:
    # Before this version a restart re-queued a run that was running when its task was aborted, skipped or
    # retried; such a run must not start.
    db.execute(
        "UPDATE script_runs SET state = 'cancelled', ended_at = ? WHERE state = 'due' AND NOT EXISTS "
        "(SELECT 1 FROM tasks t WHERE t.id = script_runs.task_id AND t.attempt = script_runs.attempt "
        "AND t.status IN ('planned', 'in_progress'))",
        [time.time()],
    )


@MIGRATIONS.step("record runtime owners and their leases")
def _create_owners(db: Database) -> None:
    # see xlr_runtime.store.owners: who claimed running runs, how to tell whether that process still runs
    db.execute(
        "CREATE TABLE runtime_owners (owner TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, "
        "boot_id TEXT NOT NULL, pid_ns TEXT NOT NULL, start TEXT NOT NULL, purpose TEXT NOT NULL, "
        "started_at REAL NOT NULL, lease_until REAL NOT NULL)"
    )


@MIGRATIONS.step("keep the status line each script run set")
def _add_run_status_line(db: Database) -> None:
    # the task keeps only the last status line; each run's own is its history (the harness's status_lines)
    db.execute("ALTER TABLE script_runs ADD COLUMN status_line TEXT")


@MIGRATIONS.step("give each task a version that every write changes")
def _add_task_version(db: Database) -> None:
    # every write of a task stores a new version (see _new_version), so a cached copy of it is served only while
    # its version is the stored one
    db.execute("ALTER TABLE tasks ADD COLUMN version INTEGER NOT NULL DEFAULT 0")


@MIGRATIONS.step("give each claim of a script run a fencing token")
def _add_claim_token(db: Database) -> None:
    # each claim adds one; a completion is recorded only under the token it was claimed with, so a runtime that
    # lost its lease (stalled, cut off) and comes back cannot overwrite the result of the one that took over
    db.execute("ALTER TABLE script_runs ADD COLUMN claim_token INTEGER NOT NULL DEFAULT 0")


@MIGRATIONS.step("record the digest of each runtime owner's types")
def _add_owner_digests(db: Database) -> None:
    # hosts sharing a store compare them: a run of a type another live host defines differently is failed, not run
    # with one host's script (xlr_runtime.store.owners.OwnerRepository.differing); '' for owners that record none
    db.execute("ALTER TABLE runtime_owners ADD COLUMN registry_digest TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE runtime_owners ADD COLUMN type_digests TEXT NOT NULL DEFAULT '{}'")


#: One encoder for every JSON column (``json.dumps`` with options builds a new encoder per call).
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str)


def _dumps(value: Any) -> str:
    """``value`` as JSON text; a string in it without a UTF-8 form is kept as its escape (:func:`storable_text`)."""
    text = _ENCODER.encode(value)
    # the encoder escapes every non-ASCII character: a lone surrogate shows as \udXXX (so does a pair, harmlessly)
    return text if "\\ud" not in text else _ENCODER.encode(storable_value(value))


def _read_back(value: Any, text: str) -> Any:
    """``value`` as reading its JSON ``text`` back gives it: itself for a number, a boolean, ``None`` or text
    without escaped surrogates (most property values), else decoded (a tuple becomes a list, keys become text)."""
    kind = type(value)
    if value is None or kind is int or kind is bool or (kind is str and "\\ud" not in text):
        return value
    return _loads(text)


def _text(text: str | None) -> str | None:
    return None if text is None else storable_text(text)


#: One decoder for every JSON column read (``json.loads`` checks its argument and its options on every call).
_DECODER = json.JSONDecoder()


def _loads(text: str) -> Any:
    """A JSON column's value; ``{}`` (no variables, no inputs: most tasks) without parsing."""
    return {} if text == "{}" else _DECODER.decode(text)


def _task_id(task_id: str | int) -> int:
    try:
        number = int(task_id)
    except (TypeError, ValueError):
        number = None
    if number is None or not fits_row_id(number):
        raise NotFoundError(f"no task {task_id!r}", hint="Run 'xlr tasks' to list tasks.") from None
    return number


def _due(due_at: float, what: str) -> float:
    """``due_at`` when it is a finite time; :class:`StoreError` otherwise (SQLite would keep NaN as NULL and an
    infinite time as a run that never comes due, and no wait can reach it)."""
    if not math.isfinite(due_at):
        raise StoreError(f"refusing to store {what} due at {due_at!r}: a due time must be a finite number")
    return due_at


def _new_version() -> int:
    """The version a task gets at each write: a random 63-bit number, not a count, so a write rolled back (which
    leaves the stored version as it was) can never make a copy cached with the new one look current."""
    return _VERSIONS.getrandbits(63)


#: The source of versions: its own generator (seeded from the system's entropy), so seeding ``random`` elsewhere
#: cannot make two writers draw the same numbers.
_VERSIONS = random.Random()


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


#: Property names that a JSON path ``$."name"`` names alike in every SQLite version and in the PostgreSQL store's
#: ``json_set``: printable ASCII without ``"`` (SQLite 3.40 ends the label at any ``"``) or ``\\`` (a plain
#: character in SQLite 3.40, an escape in 3.51), which the stored JSON spells as themselves: the encoder escapes
#: every other character, and SQLite 3.40 compares a label with a key as its JSON text spells it.
_PATH_SAFE_NAME = re.compile(r"[ !#-\[\]-~]+")


@functools.lru_cache(maxsize=4096)
def _json_path(name: str) -> str | None:
    """The ``json_set`` path of the property ``name``, or ``None`` when no path names it on every backend and
    SQLite version (:data:`_PATH_SAFE_NAME`): the task's properties are then merged here, not by ``json_set``."""
    return f'$."{name}"' if _PATH_SAFE_NAME.fullmatch(name) else None


def _status_filter(statuses: Iterable[TaskStatus]) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause (empty for every status) and its parameters."""
    wanted: list[Any] = [str(s) for s in statuses]
    return (f"WHERE status IN ({','.join('?' * len(wanted))})" if wanted else "", wanted)


def _limit(limit: int | None) -> list[int]:
    return [] if limit is None else [limit]


def _only_task(task_id: str | int | None) -> tuple[str, list[Any]]:
    return ("", []) if task_id is None else (" AND task_id = ?", [_task_id(task_id)])


#: Most ids in one ``IN (...)`` list (SQLite's default limit of host parameters is 32,766).
_CHUNK = 500


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _holds_claim(completion: RunCompletion, running: dict[int, tuple[int, int, int, int]]) -> bool:
    """True when ``completion``'s run is among ``running`` (see ``_running_of``) under the completion's token."""
    run = running.get(completion.run_id)
    return run is not None and completion.claim_token in (None, run[3])


def _done_row(c: RunCompletion) -> tuple[Any, ...]:
    failure = c.failure
    return (
        c.outcome,
        c.worker_pid,
        c.started_at,
        c.ended_at,
        failure and storable_text(failure.kind),
        failure and storable_text(failure.message),
        failure and storable_text(failure.traceback),
        _text(c.status_line),
        c.run_id,
    )


def _task(row: dict[str, Any]) -> Task:
    return frozen_record(
        Task,
        id=str(row["id"]),
        type=row["type"],
        title=row["title"],
        status=_STATUSES[row["status"]],
        status_line=row["status_line"],
        properties=_loads(row["properties"]),
        inputs=_loads(row["inputs"]),
        variables=_loads(row["variables"]),
        attempt=row["attempt"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        failure=row["failure"],
    )


def _summary(row: Sequence[Any]) -> TaskSummary:
    """A :class:`TaskSummary` from a row of :data:`_SUMMARY_COLUMNS`."""
    return TaskSummary(
        id=str(row[0]),
        type=row[1],
        title=row[2],
        status=_STATUSES[row[3]],
        status_line=row[4],
        attempt=row[5],
        created_at=row[6],
        started_at=row[7],
        ended_at=row[8],
        failure=row[9],
    )


def _run(row: dict[str, Any]) -> ScriptRun:
    failure = None
    if row["failure_kind"] is not None:
        failure = Failure(row["failure_kind"], row["failure_message"] or "", row["failure_traceback"] or "")
    return ScriptRun(
        id=row["id"],
        task_id=str(row["task_id"]),
        attempt=row["attempt"],
        seq=row["seq"],
        script_path=row["script_path"],
        due_at=float(row["due_at"]),
        state=RunState(row["state"]),
        owner=row["owner"],
        lease_until=_float(row["lease_until"]),
        worker_pid=row["worker_pid"],
        started_at=_float(row["started_at"]),
        ended_at=_float(row["ended_at"]),
        outcome=row["outcome"],
        failure=failure,
        restarts=row["restarts"],
        status_line=row["status_line"],
        claim_token=row["claim_token"],
    )


_ACTIVE = (str(TaskStatus.PLANNED), str(TaskStatus.IN_PROGRESS))

#: The log line of a run that was running when its runtime stopped while its task ended (aborted, skipped, or a
#: new attempt started): it is cancelled, never re-run.
ENDED_NOTE = (
    "Script {path} was interrupted (its runtime stopped) and is not re-run: the task was aborted, skipped or "
    "retried meanwhile."
)

#: Where a running run's task is no longer active on the run's attempt (``script_runs`` unqualified).
_TASK_ENDED = (
    "NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = script_runs.task_id AND t.attempt = script_runs.attempt "
    "AND t.status IN ('planned', 'in_progress'))"
)

#: Claimed rows ``(id, task_id, attempt, seq, script_path, due_at, restarts, claim_token)`` in claim order: oldest
#: due first.
_DUE_ORDER = operator.itemgetter(5, 0)


#: Most tasks :meth:`TaskRepository.current` keeps, and most bytes of their JSON columns (the oldest cached go
#: first); a task whose JSON is above a 64th of that is read every time instead (a property may hold a megabyte).
TASK_CACHE_SIZE = 4096
TASK_CACHE_BYTES = 8 * 1024 * 1024


class TaskRepository:
    """Reads and writes tasks, script runs and task logs. Every method is one transaction."""

    def __init__(self, store: StoreBase) -> None:
        self._store = store
        #: task id -> (its version, the task, the size of its JSON): what :meth:`current` serves while the stored
        #: version is the same; ``_cached_bytes`` is the sum of the sizes.
        self._cache: dict[int, tuple[int, Task, int]] = {}
        self._cached_bytes = 0

    # -- reads -------------------------------------------------------------------------------------------------

    def get(self, task_id: str | int) -> Task:
        """The task, or :class:`NotFoundError`."""
        row = self._store.query_one("SELECT * FROM tasks WHERE id = ?", [_task_id(task_id)])
        if row is None:
            raise NotFoundError(f"no task {task_id!r}", hint="Run 'xlr tasks' to list tasks.")
        return _task(row)

    def get_many(self, task_ids: Iterable[str | int]) -> dict[str, Task]:
        """The tasks with these ids that exist, by id (one query)."""
        ids = sorted({_task_id(t) for t in task_ids})
        if not ids:
            return {}
        rows = self._store.query(f"SELECT * FROM tasks WHERE id IN ({','.join('?' * len(ids))})", ids)
        return {str(r["id"]): _task(r) for r in rows}

    def current(self, task_ids: Iterable[str | int]) -> dict[str, Task]:
        """:meth:`get_many` through a cache of tasks by version (the scheduler reads the task of every claimed
        run): one query reads the versions, and only tasks written since they were cached (by anyone: every
        write stores a new version) or not cached are read with their JSON columns. The records are shared with
        the cache: treat their dicts as read-only."""
        ids = sorted({_task_id(t) for t in task_ids})
        if not ids:
            return {}
        cache = self._cache
        found: dict[str, Task] = {}
        stale: list[int] = []
        for chunk in _chunks(ids):
            rows = self._store.execute(
                f"SELECT id, version FROM tasks WHERE id IN ({','.join('?' * len(chunk))})", chunk
            ).fetchall()
            for task_id, version in rows:
                cached = cache.get(task_id)
                if cached is not None and cached[0] == version:
                    found[str(task_id)] = cached[1]
                else:
                    stale.append(task_id)
        for chunk in _chunks(stale):
            for row in self._store.query(f"SELECT * FROM tasks WHERE id IN ({','.join('?' * len(chunk))})", chunk):
                task = found[str(row["id"])] = _task(row)
                size = len(row["properties"]) + len(row["inputs"]) + len(row["variables"])
                self._remember(row["id"], row["version"], task, size)
        return found

    def _remember(self, task_id: int, version: int, task: Task, size: int) -> None:
        """Cache ``task`` at ``version`` (``size``: the bytes of its JSON), making room for it."""
        self._forget(task_id)  # (then cached again last: the oldest go first)
        if size > TASK_CACHE_BYTES // 64:
            return
        cache = self._cache
        while cache and (len(cache) >= TASK_CACHE_SIZE or self._cached_bytes + size > TASK_CACHE_BYTES):
            self._forget(next(iter(cache)))
        cache[task_id] = (version, task, size)
        self._cached_bytes += size

    def _forget(self, task_id: int) -> tuple[int, Task, int] | None:
        """Drop the cached copy of a task; return it (``None`` when there was none)."""
        cached = self._cache.pop(task_id, None)
        if cached is not None:
            self._cached_bytes -= cached[2]
        return cached

    def list(self, *, statuses: Iterable[TaskStatus] = (), limit: int | None = None) -> list[Task]:
        """Tasks, newest first, optionally only those in ``statuses``."""
        where, params = _status_filter(statuses)
        tail = " LIMIT ?" if limit is not None else ""
        rows = self._store.query(f"SELECT * FROM tasks {where} ORDER BY id DESC{tail}", [*params, *_limit(limit)])
        return [_task(r) for r in rows]

    def summaries(
        self,
        *,
        statuses: Iterable[TaskStatus] = (),
        limit: int | None = None,
        type_name: str | None = None,
        text: str | None = None,
        before: int | None = None,
    ) -> list[TaskSummary]:
        """What ``xlr tasks`` lists: :class:`TaskSummary` records, newest first, optionally only those in
        ``statuses``, of type ``type_name``, whose title or status line holds ``text`` (ASCII letters in any case)
        and whose id is below ``before`` (the next page); at most ``limit``, read without the JSON columns."""
        where, params = _status_filter(statuses)
        conditions = [where.removeprefix("WHERE ")] if where else []
        if type_name is not None:
            conditions.append("type = ?")
            params.append(type_name)
        if text:
            conditions.append("(title LIKE ? ESCAPE '\\' OR status_line LIKE ? ESCAPE '\\')")
            params += [f"%{like_escaped(text)}%"] * 2
        if before is not None:
            conditions.append("id < ?")
            params.append(before)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        tail = " LIMIT ?" if limit is not None else ""
        cursor = self._store.execute(
            f"SELECT {_SUMMARY_COLUMNS} FROM tasks {where} ORDER BY id DESC{tail}", [*params, *_limit(limit)]
        )
        return [_summary(row) for row in cursor.fetchall()]

    def count(self, *, statuses: Iterable[TaskStatus] = ()) -> int:
        """How many tasks there are (in ``statuses``, when given)."""
        where, params = _status_filter(statuses)
        return int(self._store.execute(f"SELECT COUNT(*) FROM tasks {where}", params).fetchone()[0])

    def count_by_status(self) -> dict[TaskStatus, int]:
        """How many tasks are in each status (statuses without tasks are left out)."""
        rows = self._store.query("SELECT status, COUNT(*) AS n FROM tasks GROUP BY status")
        return {TaskStatus(r["status"]): r["n"] for r in rows}

    def runs(self, task_id: str | int, *, from_id: int = 0) -> list[ScriptRun]:
        """Every script run of the task (with ``id >= from_id``: a follower skips runs that ended), oldest first."""
        rows = self._store.query(
            "SELECT * FROM script_runs WHERE task_id = ? AND id >= ? ORDER BY id", [_task_id(task_id), from_id]
        )
        return [_run(r) for r in rows]

    def get_run(self, run_id: int) -> ScriptRun:
        """One script run, or :class:`NotFoundError`."""
        row = self._store.query_one("SELECT * FROM script_runs WHERE id = ?", [run_id])
        if row is None:
            raise NotFoundError(f"no script run {run_id}")
        return _run(row)

    def task_ids_of_runs(self, run_ids: Iterable[int]) -> dict[int, str]:
        """The task id of each of these script runs that exists, by run id."""
        ids = sorted(set(run_ids))
        found: dict[int, str] = {}
        for chunk in _chunks(ids):
            rows = self._store.execute(
                f"SELECT id, task_id FROM script_runs WHERE id IN ({','.join('?' * len(chunk))})", chunk
            ).fetchall()
            found.update((row[0], str(row[1])) for row in rows)
        return found

    def log(self, task_id: str | int, *, after: int = 0, limit: int | None = None) -> list[TaskLogLine]:
        """Log lines of the task with ``id > after``, oldest first."""
        sql = "SELECT * FROM task_log WHERE task_id = ? AND id > ? ORDER BY id" + (" LIMIT ?" if limit else "")
        params: list[Any] = [_task_id(task_id), after, *([limit] if limit else [])]
        return [
            TaskLogLine(r["id"], str(r["task_id"]), r["run_id"], r["time"], r["stream"], r["text"])
            for r in self._store.query(sql, params)
        ]

    def next_due_at(self, *, task_id: str | int | None = None) -> float | None:
        """The earliest due time of any due script run (of one task), or ``None`` when nothing is due."""
        only, params = _only_task(task_id)
        row = self._store.query_one(f"SELECT MIN(due_at) AS due FROM script_runs WHERE state = 'due'{only}", params)
        return None if row is None or row["due"] is None else float(row["due"])

    # -- writes ------------------------------------------------------------------------------------------------

    def create(
        self,
        *,
        type_name: str,
        title: str,
        properties: dict[str, Any],
        inputs: dict[str, Any],
        variables: dict[str, Any],
        first_script: str,
        now: float,
    ) -> Task:
        """Store a planned task and its first script run, due ``now``."""
        with self._store.atomic() as s:
            cursor = s.execute(
                "INSERT INTO tasks (type, title, status, properties, inputs, variables, attempt, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 1, ?) RETURNING id",
                [
                    type_name,
                    storable_text(title),
                    str(TaskStatus.PLANNED),
                    _dumps(properties),
                    _dumps(inputs),
                    _dumps(variables),
                    now,
                ],
            )
            task_id = int(cursor.fetchone()[0])
            self._add_run(task_id, 1, 1, first_script, now)
            self._store.announce_work()
            return self.get(task_id)

    def claim_due(
        self,
        now: float,
        limit: int,
        *,
        owner: str,
        lease: float,
        task_id: str | int | None = None,
        ahead: float = 0.0,
    ) -> list[ScriptRun]:
        """Mark up to ``limit`` runs due at ``now`` (or within ``ahead`` seconds after it; of one task, if given) as
        running for ``owner`` (lease until ``now + lease``), each with ``started_at`` ``now`` (so a run claimed
        before its due time is told by its ``due_at``). Oldest due first; their tasks move to in progress. One
        short transaction.
        """
        if limit <= 0:
            return []
        only, params = _only_task(task_id)
        with self._store.atomic(concurrent=True) as s:  # its rows: FOR UPDATE SKIP LOCKED, a conditional UPDATE
            rows = s.execute(
                "UPDATE script_runs SET state = 'running', owner = ?, lease_until = ?, started_at = ?, "
                "claim_token = claim_token + 1 "
                f"WHERE id IN (SELECT id FROM script_runs WHERE state = 'due' AND due_at <= ?{only} "
                f"ORDER BY due_at, id LIMIT ?{s.dialect.skip_locked}) "
                "RETURNING id, task_id, attempt, seq, script_path, due_at, restarts, claim_token",
                [owner, now + lease, now, now + ahead, *params, limit],
            ).fetchall()
            firsts = [(now, _new_version(), row[1]) for row in rows if row[3] == 1]
            if firsts:  # only a first run (of a new task or a retry) can find its task planned
                s.executemany(
                    "UPDATE tasks SET status = 'in_progress', started_at = COALESCE(started_at, ?), version = ? "
                    "WHERE id = ? AND status = 'planned'",
                    firsts,
                )
        lease_until = now + lease
        rows.sort(key=_DUE_ORDER)  # RETURNING gives no order
        running = RunState.RUNNING
        return [
            frozen_record(
                ScriptRun,
                id=run_id,
                task_id=str(task),
                attempt=attempt,
                seq=seq,
                script_path=path,
                due_at=float(due_at),
                state=running,
                owner=owner,
                lease_until=lease_until,
                worker_pid=None,
                started_at=now,
                ended_at=None,
                outcome=None,
                failure=None,
                restarts=restarts,
                status_line=None,
                claim_token=token,
            )
            for run_id, task, attempt, seq, path, due_at, restarts, token in rows
        ]

    def complete(self, completions: Sequence[RunCompletion], *, owner: str) -> list[int]:
        """Commit finished runs in one transaction (group commit); return the run ids that were recorded.

        A run no longer running for ``owner`` under the completion's claim token (re-queued by a restart, taken
        over after its lease ran out, claimed again meanwhile) is ignored: the check and the write are one
        transaction holding the run's row, so a runtime that lost its lease never overwrites another's result. A run
        whose task left its active statuses meanwhile (aborted, skipped) is recorded, but its task is not changed.
        A batch costs a fixed handful of statements (``executemany``), not a few per run.
        """
        if not completions:
            return []
        with self._store.atomic(concurrent=True) as s:  # its runs, then their tasks: FOR UPDATE
            runs = self._running_of(owner, [c.run_id for c in completions])
            recorded = [c for c in completions if _holds_claim(c, runs)]
            if not recorded:
                return []
            s.executemany(
                "UPDATE script_runs SET state = 'done', outcome = ?, worker_pid = ?, started_at = ?, ended_at = ?, "
                "failure_kind = ?, failure_message = ?, failure_traceback = ?, status_line = ?, lease_until = NULL "
                "WHERE id = ? AND state = 'running' AND owner = ? AND claim_token = ?",
                [(*_done_row(c), owner, runs[c.run_id][3]) for c in recorded],
            )
            lines = [
                (runs[c.run_id][0], c.run_id, line.time, line.stream, storable_text(line.text))
                for c in recorded
                for line in c.log
            ]
            if lines:
                s.executemany(
                    "INSERT INTO task_log (task_id, run_id, time, stream, text) VALUES (?, ?, ?, ?, ?)", lines
                )
            self._advance_tasks(recorded, runs)
        return [c.run_id for c in recorded]

    def _running_of(self, owner: str, run_ids: Sequence[int]) -> dict[int, tuple[int, int, int, int]]:
        """``run id -> (task id, attempt, seq, claim token)`` of the runs among ``run_ids`` still running for
        ``owner``; their rows stay locked until the transaction ends (``FOR UPDATE`` on PostgreSQL)."""
        found: dict[int, tuple[int, int, int, int]] = {}
        for chunk in _chunks(run_ids):
            rows = self._store.execute(
                "SELECT id, task_id, attempt, seq, claim_token FROM script_runs WHERE state = 'running' "
                f"AND owner = ? AND id IN ({','.join('?' * len(chunk))}) ORDER BY id{self._store.dialect.for_update}",
                [owner, *chunk],
            ).fetchall()
            found.update((row[0], (row[1], row[2], row[3], row[4])) for row in rows)
        return found

    def _advance_tasks(self, recorded: Sequence[RunCompletion], runs: dict[int, tuple[int, int, int, int]]) -> None:
        """Merge properties and status into each task still active on the run's attempt; add next runs."""
        active: dict[int, int] = {}  # task id -> attempt, for tasks planned or in progress
        versions: dict[int, int] = {}  # their versions before this transaction, then after each update
        for chunk in _chunks(sorted({runs[c.run_id][0] for c in recorded})):
            rows = self._store.execute(
                f"SELECT id, attempt, version FROM tasks WHERE id IN ({','.join('?' * len(chunk))}) "
                f"AND status IN ('planned', 'in_progress'){self._store.dialect.for_update}",
                chunk,
            ).fetchall()
            active.update((row[0], row[1]) for row in rows)
            versions.update((row[0], row[2]) for row in rows)
        updates: dict[tuple[bool, tuple[str, ...] | None], list[list[Any]]] = {}  # by (ending, names merged)
        next_runs: list[tuple[int, int, int, str, float]] = []
        for c in recorded:
            task_id, attempt, seq, _ = runs[c.run_id]
            if active.get(task_id) != attempt:
                continue
            ending = c.next_script is None and c.task_status is not None
            if ending:
                del active[task_id]  # a later completion of the same attempt no longer changes the task
            encoded = [(name, value, _dumps(value)) for name, value in c.properties.items()]
            variables = _dumps(c.variables) if c.variables is not None else None
            version = _new_version()
            merged = [p for name, _, text in encoded for p in (_json_path(name), text)]
            names: tuple[str, ...] | None = tuple(c.properties)
            if None in merged:  # a name that no JSON path names: the whole document, merged here
                names, merged = None, [self._merged_properties(task_id, encoded)]
            merged += [_text(c.status_line), variables, version]
            if ending:
                merged += [str(c.task_status), c.ended_at, _text(c.task_failure)]
            updates.setdefault((ending, names), []).append([*merged, task_id, attempt])
            self._follow(task_id, versions, version, None if ending else (encoded, c.status_line, variables))
            if c.next_script is not None:
                due = _due(c.next_due_at if c.next_due_at is not None else c.ended_at, f"the run after run {c.run_id}")
                next_runs.append((task_id, attempt, seq + 1, c.next_script, due))
        for (ending, names), rows in updates.items():
            properties = "?" if names is None else f"json_set(properties{', ?, json(?)' * len(names)})"
            # the status (and its index) is only written when the task ends
            ends = ", status = ?, ended_at = ?, failure = ?" if ending else ""
            self._store.executemany(
                f"UPDATE tasks SET properties = {properties}, status_line = COALESCE(?, status_line), "
                f"variables = COALESCE(?, variables), version = ?{ends} "
                "WHERE id = ? AND attempt = ? AND status IN ('planned', 'in_progress')",
                rows,
            )
        if next_runs:
            self._store.executemany(
                "INSERT INTO script_runs (task_id, attempt, seq, script_path, due_at, state) "
                "VALUES (?, ?, ?, ?, ?, 'due')",
                next_runs,
            )
            self._store.announce_work()  # another runtime may be idle while this one is busy

    def _merged_properties(self, task_id: int, encoded: list[tuple[str, Any, str]]) -> str:
        """The stored properties of ``task_id`` with ``encoded`` (``(name, value, its JSON text)``) merged in, as
        ``json_set`` merges: a property keeps its place, a new one goes last. For the names that no JSON path names
        (:func:`_json_path`); the task's row is locked (see :meth:`_advance_tasks`), so nothing changes it between
        this read and the write."""
        [text] = self._store.execute("SELECT properties FROM tasks WHERE id = ?", [task_id]).fetchone()
        return _dumps({**_loads(text), **{name: _loads(value) for name, _, value in encoded}})

    def _follow(
        self,
        task_id: int,
        versions: dict[int, int],
        version: int,
        change: tuple[list[tuple[str, Any, str]], str | None, str | None] | None,
    ) -> None:
        """Keep the cached copy of a task that a completion writes (``version`` after it) in step with the write:
        ``change`` is ``(properties as (name, value, its JSON text), status line, variables as JSON text)``, or
        ``None`` when the task ends (it is dropped: its runs are over). A copy not of the version the write started
        from is dropped too. (Were the transaction rolled back, the stored version stays the old one: the copy is
        never served.)"""
        before, versions[task_id] = versions[task_id], version
        cached = self._forget(task_id)
        if change is None or cached is None or cached[0] != before:
            return
        encoded, status_line, variables = change
        task = cached[1]
        properties = task.properties
        if encoded:  # as json_set stores them: each value as its JSON text reads back
            properties = {**properties, **{name: _read_back(value, text) for name, value, text in encoded}}
        self._remember(
            task_id,
            version,
            frozen_record(
                Task,
                **{
                    **task.__dict__,
                    "properties": properties,
                    "status_line": task.status_line if status_line is None else _text(status_line),
                    "variables": task.variables if variables is None else _loads(variables),
                },
            ),
            cached[2] + sum(len(text) for _, _, text in encoded) + len(variables or ""),  # (at most its size)
        )

    def add_log(self, task_id: str | int, lines: Sequence[LogLine], *, run_id: int | None = None) -> None:
        """Append lines to the task's log."""
        with self._store.atomic():
            self._insert_log(_task_id(task_id), run_id, lines)

    def requeue_running(self, *, now: float, note: str, owner: str | None = None) -> list[ScriptRun]:
        """Put running runs (all, or only ``owner``'s) back to due, keeping their due time, with a log line
        (``note``; ``{path}`` in it is replaced by the script path). A run whose task ended meanwhile (aborted,
        skipped, retried) is cancelled instead, with :data:`ENDED_NOTE`.

        Returns the runs re-queued. Recovery after a crash uses :meth:`requeue_owned` with the owners found gone.
        """
        where = "state = 'running'" + (" AND owner = ?" if owner is not None else "")
        return self._requeue(where, [owner] if owner is not None else [], now=now, note=note)

    def requeue_owned(
        self, owners: Sequence[str | None], *, now: float, note: str, lease_expired: bool = False
    ) -> list[ScriptRun]:
        """Put the running runs of ``owners`` (processes found gone; ``None``: runs without an owner) back to due,
        as :meth:`requeue_running` does. With ``lease_expired``, only the runs whose lease ran out by ``now`` (an
        owner that renewed meanwhile keeps its runs)."""
        names = sorted({o for o in owners if o is not None})
        clauses = [f"owner IN ({','.join('?' * len(names))})"] if names else []
        if None in owners:
            clauses.append("owner IS NULL")
        if not clauses:
            return []
        where = f"state = 'running' AND ({' OR '.join(clauses)})"
        params: list[Any] = list(names)
        if lease_expired:
            where += " AND (lease_until IS NULL OR lease_until <= ?)"
            params.append(now)
        return self._requeue(where, params, now=now, note=note)

    def requeue_runs(self, run_ids: Iterable[int], *, owner: str, now: float, note: str) -> list[ScriptRun]:
        """Put specific running runs of ``owner`` back to due (a stop that could not wait for them)."""
        ids = list(run_ids)
        if not ids:
            return []
        return self._requeue(
            f"state = 'running' AND owner = ? AND id IN ({','.join('?' * len(ids))})", [owner, *ids], now=now, note=note
        )

    def _requeue(self, where: str, params: list[Any], *, now: float, note: str) -> list[ScriptRun]:
        """Put the runs matching ``where`` back to due, each with the log line ``note`` (``{path}`` replaced),
        and return them by id; those whose task ended meanwhile are cancelled with :data:`ENDED_NOTE`."""
        with self._store.atomic() as s:
            ended = s.query(
                "UPDATE script_runs SET state = 'cancelled', owner = NULL, lease_until = NULL, ended_at = ? "
                f"WHERE {where} AND {_TASK_ENDED} RETURNING id, task_id, script_path",
                [now, *params],
            )
            for row in ended:
                text = ENDED_NOTE.format(path=row["script_path"])
                self._insert_log(row["task_id"], row["id"], [LogLine(now, "system", text)])
            rows = s.query(
                "UPDATE script_runs SET state = 'due', owner = NULL, lease_until = NULL, started_at = NULL, "
                f"restarts = restarts + 1 WHERE {where} RETURNING *",
                params,
            )
            for row in rows:
                text = note.format(path=row["script_path"])
                self._insert_log(row["task_id"], row["id"], [LogLine(now, "system", text)])
            if rows:
                self._store.announce_work()
        return sorted((_run(r) for r in rows), key=lambda run: run.id)

    def finish(
        self,
        task_id: str | int,
        *,
        status: TaskStatus,
        allowed_from: Iterable[TaskStatus],
        now: float,
        note: str,
        failure: str | None = None,
    ) -> Task:
        """End an active task by hand (abort, skip, or a failure found outside a run): cancel its due run.

        Raises :class:`StateError` when the task is not in one of ``allowed_from``.
        """
        tid = _task_id(task_id)
        with self._store.atomic() as s:
            current = self._locked(tid)
            if current.status not in set(allowed_from):
                raise StateError(f"task {tid} is {current.status}; cannot make it {status}")
            self._cancel_due_runs(tid, now)
            s.execute(
                "UPDATE tasks SET status = ?, ended_at = ?, failure = COALESCE(?, failure), version = ? WHERE id = ?",
                [str(status), now, _text(failure), _new_version(), tid],
            )
            self._insert_log(tid, None, [LogLine(now, "system", note)])
            return self.get(tid)

    def restart(
        self,
        task_id: str | int,
        *,
        allowed_from: Iterable[TaskStatus],
        properties: dict[str, Any],
        first_script: str,
        now: float,
        note: str,
    ) -> Task:
        """Start a new attempt: reset properties, clear the status line and failure, first run due ``now``.

        Raises :class:`StateError` when the task is not in one of ``allowed_from``.
        """
        tid = _task_id(task_id)
        with self._store.atomic() as s:
            current = self._locked(tid)
            if current.status not in set(allowed_from):
                raise StateError(f"task {tid} is {current.status}; only a failed or aborted task can be retried")
            attempt = current.attempt + 1
            self._cancel_due_runs(tid, now)
            s.execute(
                "UPDATE tasks SET status = 'planned', attempt = ?, properties = ?, status_line = NULL, "
                "failure = NULL, started_at = NULL, ended_at = NULL, version = ? WHERE id = ?",
                [attempt, _dumps(properties), _new_version(), tid],
            )
            self._insert_log(tid, None, [LogLine(now, "system", note)])
            self._add_run(tid, attempt, 1, first_script, now)
            self._store.announce_work()
            return self.get(tid)

    # -- helpers -----------------------------------------------------------------------------------------------

    def _locked(self, task_id: int) -> Task:
        """The task, its row and its due runs locked until the transaction ends (on PostgreSQL, where claims and
        completions do not wait for this transaction): due runs first, then the task, the order claims and
        completions lock them in, so that none of them deadlocks with an abort or a retry."""
        for_update = self._store.dialect.for_update
        self._store.execute(f"SELECT id FROM script_runs WHERE task_id = ? AND state = 'due'{for_update}", [task_id])
        self._store.execute(f"SELECT id FROM tasks WHERE id = ?{for_update}", [task_id])
        return self.get(task_id)

    def _cancel_due_runs(self, task_id: int, now: float) -> None:
        self._store.execute(
            "UPDATE script_runs SET state = 'cancelled', ended_at = ? WHERE task_id = ? AND state = 'due'",
            [now, task_id],
        )

    def _add_run(self, task_id: int, attempt: int, seq: int, script_path: str, due_at: float) -> None:
        self._store.execute(
            "INSERT INTO script_runs (task_id, attempt, seq, script_path, due_at, state) VALUES (?, ?, ?, ?, ?, 'due')",
            [task_id, attempt, seq, script_path, _due(due_at, f"the first run of task {task_id}")],
        )

    def _insert_log(self, task_id: int, run_id: int | None, lines: Sequence[LogLine]) -> None:
        if lines:
            self._store.executemany(
                "INSERT INTO task_log (task_id, run_id, time, stream, text) VALUES (?, ?, ?, ?, ?)",
                [(task_id, run_id, line.time, line.stream, storable_text(line.text)) for line in lines],
            )
