"""Ended and in-flight history written through the store's own API, for the prune and backup tests."""

from __future__ import annotations

from xlr_runtime.scripting.contract import LogLine
from xlr_runtime.store import RunCompletion, Store, Task, TaskStatus
from xlr_runtime.store.executions import Execution, ExecutionStatus
from xlr_runtime.store.notifications import DeliveryState, EventState

DAY = 86400.0


def ended_task(store: Store, ended_at: float, *, log_lines: int = 3, status: TaskStatus = TaskStatus.COMPLETED) -> Task:
    """A task whose one script run ran at ``ended_at`` and wrote ``log_lines`` lines, ending it."""
    task = store.tasks.create(
        type_name="demo.Run", title="t", properties={"x": "1"}, inputs={}, variables={}, first_script="a.py",
        now=ended_at,
    )  # fmt: skip
    [run] = store.tasks.claim_due(ended_at, 1, owner="tester", lease=60, task_id=task.id)
    lines = [LogLine(ended_at, "stdout", f"line {n} of task {task.id}") for n in range(log_lines)]
    store.tasks.complete(
        [RunCompletion(run.id, "succeeded", ended_at, ended_at, log=lines, task_status=status)], owner="tester"
    )
    return store.tasks.get(task.id)


def planned_task(store: Store, created_at: float) -> Task:
    """A task whose first script run is due: in flight."""
    return store.tasks.create(
        type_name="demo.Run", title="p", properties={}, inputs={}, variables={}, first_script="a.py", now=created_at
    )


def execution(
    store: Store,
    at: float,
    *,
    status: ExecutionStatus = ExecutionStatus.SUCCEEDED,
    parent_id: int | None = None,
    retry_prev_id: int | None = None,
    log_lines: int = 2,
    notification: str | None = "done",
) -> Execution:
    """An execution at ``at`` (ended with ``status`` unless that is queued or running), with log lines and an
    ``onsuccess`` notification event (``done``: delivered, ``pending``: not yet) with one delivery."""
    created = store.executions.create(
        project="ops", job_id="job-1", job_name="deploy", job_group=None, job_xml="<job/>", options={},
        arg_string="", user="u", now=at, parent_id=parent_id, retry_prev_id=retry_prev_id,
    )  # fmt: skip
    store.executions.add_log(created.id, [(at, "NORMAL", "node1", "1", f"out {n}") for n in range(log_lines)])
    if notification is not None:
        store.notifications.add_event(created.id, "onsuccess", due_at=at, now=at)
        [event] = store.notifications.events(created.id)
        store.notifications.begin_delivery(event.id, 0, kind="email", target="a@b", now=at)
        if notification == "done":
            store.notifications.end_delivery(event.id, 0, state=DeliveryState.SENT, detail=None, now=at)
            store.notifications.finish_event(event.id, EventState.DONE)
    if status.is_final:
        store.executions.finish(created.id, status=status, now=at)
    elif status is ExecutionStatus.RUNNING:
        store.executions.start_child(created.id, owner="tester", now=at)
    return store.executions.get(created.id)
