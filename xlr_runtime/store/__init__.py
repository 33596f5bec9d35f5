"""The durable store (see ``docs/store.md``): :class:`Store`, migrations, and one repository per area.

Every SQL statement of xlr-runtime lives in this package.
"""

from xlr_runtime.store.base import new_owner_id
from xlr_runtime.store.migrations import (
    Migration,
    MigrationSet,
    applied_migrations,
    apply_migrations,
    pending_migrations,
)
from xlr_runtime.store.store import AREA_MODULES, Store
from xlr_runtime.store.tasks import (
    RunCompletion,
    RunState,
    ScriptRun,
    TaskLogLine,
    TaskRepository,
)
from xlr_runtime.task_records import Task, TaskStatus, TaskSummary

__all__ = [
    "AREA_MODULES",
    "Migration",
    "MigrationSet",
    "RunCompletion",
    "RunState",
    "ScriptRun",
    "Store",
    "Task",
    "TaskLogLine",
    "TaskRepository",
    "TaskStatus",
    "TaskSummary",
    "applied_migrations",
    "apply_migrations",
    "new_owner_id",
    "pending_migrations",
]
