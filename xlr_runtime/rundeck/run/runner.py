"""Executions inside a :class:`~xlr_runtime.runtime.Runtime`: the execution loop and the task scheduler side by
side in one process, so plugin steps whose type is a task type run through the same durable scheduler.

``xlr jobs run`` and ``xlr execution resume`` use :class:`ExecutionRunner`; it holds the home lock while it
drives (a restart after ``kill -9`` resumes the executions and the tasks the dead process left running).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from xlr_runtime.rundeck.jobs.model import Job
from xlr_runtime.rundeck.notify.notifications import Notifier, notification_types_from
from xlr_runtime.rundeck.run.execution import ExecutionService, StoredJobs, step_types_from
from xlr_runtime.rundeck.schedules.schedules import ScheduleService, serve_schedules
from xlr_runtime.runtime import Runtime, notify_server
from xlr_runtime.scheduler import Scheduler
from xlr_runtime.store.executions import Execution

#: How often a process that follows an execution driven by ``xlr serve`` reads the store (seconds).
FOLLOW_INTERVAL = 0.2


def _service(runtime: Runtime, scheduler: Scheduler, user: str | None = None) -> ExecutionService:
    return ExecutionService(
        runtime.store,
        home_root=runtime.home.root,
        jobs=StoredJobs(runtime.store),
        clock=runtime.clock,
        engine=scheduler.engine,
        wake_tasks=scheduler.wake,
        step_types=step_types_from(runtime.pm),
        user=user,
        notifier=Notifier(
            runtime.store,
            settings=runtime.settings,
            clock=runtime.clock,
            plugin_types=notification_types_from(runtime.pm),
            home_root=runtime.home.root,
        ),
        lease=scheduler.lease,  # a lost owner's executions are resumed as soon as its runs
    )


def serve_executions(runtime: Runtime, scheduler: Scheduler) -> ExecutionService:
    """Drive every due execution of the home in a background thread, beside ``scheduler`` (``xlr serve``);
    call ``request_stop()`` on the result to end it. It re-queues the executions of dead processes first.
    Job schedules fire and notifications are sent beside it, in their own threads, until that stop."""
    service = _service(runtime, scheduler)
    threading.Thread(target=service.run, kwargs={"max_wait": 0.5}, name="xlr-executions", daemon=True).start()
    assert service.notifier is not None
    service.notifier.start()
    schedules = ScheduleService(runtime.store, service, clock=runtime.clock)
    serve_schedules(schedules, until=lambda: service.stop_requested)
    return service


class ExecutionRunner:
    """An :class:`ExecutionService` wired to a runtime's store, engine and scheduler."""

    def __init__(self, runtime: Runtime, *, user: str | None = None) -> None:
        self.runtime = runtime
        self.scheduler = runtime.scheduler()
        self.service = _service(runtime, self.scheduler, user)

    def start(self, project: str, job: Job, supplied: Mapping[str, str | list[str]], **kwargs: str) -> Execution:
        """Check options and queue an execution (see :meth:`ExecutionService.start`)."""
        return self.service.start(project, job, supplied, **kwargs)

    def drive(self, execution_id: int, *, on_tick: Callable[[], None] | None = None) -> Execution:
        """Drive the execution (and its retries) to the end with the task scheduler running beside it; return
        the last execution of the chain. When ``xlr serve`` holds the home, it drives and this only follows."""
        purpose = f"xlr jobs run, execution {execution_id}"
        if not self.runtime.lock.try_acquire(purpose):
            return self._follow(execution_id, on_tick)
        assert self.service.notifier is not None
        done = threading.Event()
        tasks = threading.Thread(
            target=self.scheduler.run,
            kwargs={"until": done.is_set, "max_wait": 0.2, "grace_period": 0.0},
            name="xlr-task-scheduler",
            daemon=True,
        )
        try:
            self.runtime.register(self.scheduler, purpose)  # before the first claim: an owner without a row is gone
            self.scheduler.recover()
            self.service.notifier.start(max_wait=0.2)
            tasks.start()

            def finished() -> bool:
                if on_tick is not None:
                    on_tick()
                return self.service.final_of_chain(execution_id).status.is_final or self.runtime.stop_requested

            self.service.run(until=finished, max_wait=0.1)
            if not self.runtime.stop_requested:
                self.service.join()
            self.service.notifier.close()  # the end's notifications go out before this process exits
            if on_tick is not None:
                on_tick()
        finally:
            done.set()
            self.scheduler.wake()
            if tasks.ident is not None:  # started
                tasks.join(5)
            self.runtime.lock.release()
        return self.service.final_of_chain(execution_id)

    def _follow(self, execution_id: int, on_tick: Callable[[], None] | None) -> Execution:
        notify_server(self.runtime.home)
        while True:
            if on_tick is not None:
                on_tick()
            final = self.service.final_of_chain(execution_id)
            if final.status.is_final or self.runtime.stop_requested:
                return final
            time.sleep(FOLLOW_INTERVAL)
