"""The records of a task: its status, and what a listing (:class:`TaskSummary`) or a read (:class:`Task`) gives of
it. A module of the foundation, outside the store that writes them (:mod:`xlr_runtime.store.tasks`), so that the
plugin hooks that pass a task (:mod:`xlr_runtime.hookspecs`) do not import the store; :mod:`xlr_runtime.store`
hands them on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class TaskStatus(StrEnum):
    """Where a task is in its lifecycle."""

    PLANNED = "planned"  # created; its first script run is due but has not started
    IN_PROGRESS = "in_progress"  # a script run is running or the next one is scheduled
    COMPLETED = "completed"  # the last script ended without scheduling another
    FAILED = "failed"  # a script failed (exception, non-zero exit, timeout, crash, bad schedule)
    ABORTED = "aborted"  # stopped by a user; its pending script run was cancelled
    SKIPPED = "skipped"  # passed over by a user without running (further)

    @property
    def is_final(self) -> bool:
        """True for the statuses a task only leaves by retry."""
        return self in FINAL_STATUSES

    @property
    def is_active(self) -> bool:
        """True while the task has a script run due or running."""
        return self in (TaskStatus.PLANNED, TaskStatus.IN_PROGRESS)


FINAL_STATUSES = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.ABORTED, TaskStatus.SKIPPED})


@dataclass(frozen=True)
class TaskSummary:
    """What a listing shows of a task: a :class:`Task` without its property values, inputs and variables (the
    JSON blobs are not read, so listing a large home stays cheap)."""

    id: str
    type: str
    title: str
    status: TaskStatus
    status_line: str | None
    attempt: int
    created_at: float
    started_at: float | None = None
    ended_at: float | None = None
    failure: str | None = None

    @property
    def current_status_line(self) -> str | None:
        """The status line while it still says what the task is doing: none once the task was aborted or skipped
        (the line its last script run left would read as if it were still running; ``status_line`` keeps it)."""
        return None if self.status in (TaskStatus.ABORTED, TaskStatus.SKIPPED) else self.status_line

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict. Ids are numbers, as execution ids are (and Rundeck's); ``status_line`` is the current
        one (``null`` once aborted or skipped) and ``last_status_line`` the one the last script run left."""
        return {
            "id": int(self.id),
            "type": self.type,
            "title": self.title,
            "status": str(self.status),
            "status_line": self.current_status_line,
            "last_status_line": self.status_line,
            "attempt": self.attempt,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "failure": self.failure,
        }


@dataclass(frozen=True, kw_only=True)
class Task(TaskSummary):
    """A stored task: its type, inputs and current values, status and times (epoch seconds)."""

    properties: dict[str, Any]
    inputs: dict[str, Any]
    variables: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (secrets must be masked by the caller, which knows the type): the keys of
        :meth:`TaskSummary.to_json` and ``properties``."""
        return {**super().to_json(), "properties": self.properties}
