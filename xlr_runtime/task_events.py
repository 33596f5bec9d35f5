"""The serve log's task events: one line when a task starts and when it ends (with its status, and its failure),
from the ``xlr_task_started``/``xlr_task_ended`` hooks, under the ``xlr_runtime.serve`` logger with the ``event``,
``task_id`` and ``status`` fields of a JSON line. ``xlr serve`` and its HTTP server's process register it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from xlr_runtime import hookimpl

if TYPE_CHECKING:
    from xlr_runtime.store import Task

log = logging.getLogger("xlr_runtime.serve")


class TaskEvents:
    """Logs the task hooks while ``xlr serve`` runs (registered with the runtime's plugin manager only then)."""

    @hookimpl
    def xlr_task_started(self, task: Task) -> None:
        if log.isEnabledFor(logging.INFO):
            log.info(
                "task %s (%s) started", task.id, task.type, extra={"event": "task.started", "task_id": int(task.id)}
            )

    @hookimpl
    def xlr_task_ended(self, task: Task) -> None:
        if task.status == "failed":
            log.warning(
                "task %s (%s) ended: %s: %s", task.id, task.type, task.status, task.failure,
                extra={"event": "task.ended", "task_id": int(task.id), "status": str(task.status)},
            )  # fmt: skip
        elif log.isEnabledFor(logging.INFO):
            log.info(
                "task %s (%s) ended: %s", task.id, task.type, task.status,
                extra={"event": "task.ended", "task_id": int(task.id), "status": str(task.status)},
            )  # fmt: skip
