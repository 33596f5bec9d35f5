"""Ad hoc commands (Rundeck's ``rd adhoc``): one command line on the nodes a filter selects, run as an execution.

An ad hoc execution is an execution of a one-step job built here, never stored as a job: its name is ``adhoc``,
its description the command, and it has no uuid (so ``xlr executions`` lists it, and nothing else can run it).
"""

from __future__ import annotations

from xlr_runtime.rundeck.jobs.model import Dispatch, ExecStep, Job, Workflow

#: The job name ad hoc executions are shown with.
ADHOC_NAME = "adhoc"


def adhoc_job(command: str, *, node_filter: str | None, threadcount: int = 1, keepgoing: bool = False) -> Job:
    """The job of an ad hoc ``command`` on the nodes ``node_filter`` selects (the server node without one),
    ``threadcount`` at a time; with ``keepgoing`` the other nodes go on after one fails."""
    return Job(
        name=ADHOC_NAME,
        description=command,
        sequence=Workflow(steps=(ExecStep(command=command),)),
        node_filter=node_filter,
        dispatch=Dispatch(threadcount=str(threadcount), keepgoing=keepgoing),
        multiple_executions=True,
    )
