"""Rundeck's execution query parameters (``/project/{project}/executions``, ``/job/{id}/executions``,
``.../executions/running``) read into a store :class:`~xlr_runtime.store.executions.ExecutionQuery`.

Bad values are a 400 naming the parameter; a filter Rundeck has and this server does not is refused the same way
rather than ignored (an ignored filter would answer executions the client asked to leave out).
"""

from __future__ import annotations

import datetime as dt
import re

from starlette.requests import Request

from xlr_runtime.errors import ApiRequestError
from xlr_runtime.http.params import bool_param, choice_param, whole_number
from xlr_runtime.store.base import MAX_ROW_ID
from xlr_runtime.store.executions import ExecutionQuery, ExecutionStatus

#: Rundeck's status filter values, and the stored statuses each keeps.
STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "running": (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING),
    "succeeded": (ExecutionStatus.SUCCEEDED,),
    "failed": (ExecutionStatus.FAILED,),
    "aborted": (ExecutionStatus.ABORTED,),
    "timedout": (ExecutionStatus.TIMEDOUT,),
    "failed-with-retry": (ExecutionStatus.FAILED_WITH_RETRY,),
    "other": (ExecutionStatus.OTHER,),
}
EXECUTION_TYPES = ("scheduled", "user", "user-scheduled")
#: Rundeck's filters this server does not apply (refused with a 400 rather than ignored).
UNSUPPORTED = ("abortedbyFilter", "excludeGroupPath", "excludeGroupPathExact", "excludeJobFilter",
               "excludeJobExactFilter")  # fmt: skip
_PERIOD = re.compile(r"^(\d+)([snhdwmy])$")
_UNITS = {"s": 1, "n": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "m": 30 * 86400, "y": 365 * 86400}


def period_seconds(name: str, text: str) -> float:
    """A period such as ``2w`` (Rundeck's ``recentFilter``: s, n (minutes), h, d, w, m (30 days), y) in seconds."""
    match = _PERIOD.match(text.strip())
    if match is None:
        raise ApiRequestError(
            400, f"{name} must be a number then one of s, n, h, d, w, m, y (such as 2w), got {text!r}", field=name
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


def instant(name: str, text: str) -> float:
    """A time given as Unix milliseconds or as ``yyyy-MM-ddTHH:mm:ssZ``, in epoch seconds."""
    millis = whole_number(text.strip())
    if millis is not None and millis <= MAX_ROW_ID:
        return millis / 1000
    try:
        parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ApiRequestError(
            400, f"{name} must be Unix milliseconds or a date such as 2026-12-03T07:42:01Z, got {text!r}", field=name
        ) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()


def _listed(request: Request, name: str) -> tuple[str, ...]:
    return tuple(
        part.strip() for item in request.query_params.getlist(name) for part in item.split(",") if part.strip()
    )


def _group(value: str | None) -> str | None:
    return None if value is None or value == "" else ("" if value == "-" else value.strip("/"))


def statuses(request: Request, name: str) -> tuple[str, ...]:
    """The stored statuses Rundeck's status filter ``name`` keeps (all when absent)."""
    chosen = choice_param(request, name, tuple(STATUS_FILTERS))
    return () if chosen is None else tuple(str(status) for status in STATUS_FILTERS[chosen])


def execution_query(
    request: Request, *, project: str | None, now: float, status_name: str = "statusFilter"
) -> ExecutionQuery:
    """The query of the request's filters over ``project``'s executions (every project's when ``None``)."""
    for name in UNSUPPORTED:
        if request.query_params.get(name):
            raise ApiRequestError(400, f"{name} is not supported by this server", field=name)
    query = request.query_params
    ended_after = ended_before = None
    if query.get("recentFilter"):
        ended_after = now - period_seconds("recentFilter", query["recentFilter"])
    if query.get("olderFilter"):
        ended_before = now - period_seconds("olderFilter", query["olderFilter"])
    if query.get("begin"):
        ended_after = max(ended_after or 0.0, instant("begin", query["begin"]))
    if query.get("end"):
        end = instant("end", query["end"])
        ended_before = end if ended_before is None else min(ended_before, end)
    return ExecutionQuery(
        project=project,
        job_ids=_listed(request, "jobIdListFilter"),
        exclude_job_ids=_listed(request, "excludeJobIdListFilter"),
        job_names=tuple(name.strip("/") for name in query.getlist("jobListFilter") if name.strip()),
        exclude_job_names=tuple(name.strip("/") for name in query.getlist("excludeJobListFilter") if name.strip()),
        group=_group(query.get("groupPath")),
        group_exact=_group(query.get("groupPathExact")),
        name_contains=query.get("jobFilter") or None,
        name=query.get("jobExactFilter") or None,
        statuses=statuses(request, status_name),
        user=query.get("userFilter") or None,
        execution_type=choice_param(request, "executionTypeFilter", EXECUTION_TYPES),
        adhoc=bool_param(request, "adhoc") if query.get("adhoc") else None,
        ended_after=ended_after,
        ended_before=ended_before,
    )
