"""The job definition a stored execution was started with (kept as XML in the execution row)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from xlr_runtime.rundeck.jobs.model import Job
from xlr_runtime.rundeck.jobs.xml_codec import load_jobs_xml

if TYPE_CHECKING:
    from xlr_runtime.store.executions import Execution


def job_of(execution: Execution) -> Job:
    """The job definition an execution was started with. Its schedule may have stopped firing since (a year that
    is over): that only matters when a job is imported, never when a stored execution runs or notifies."""
    return load_jobs_xml(execution.job_xml, path=f"execution {execution.id}", require_future=False)[0]
