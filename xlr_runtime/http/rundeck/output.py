"""Rundeck's execution output (``/api/{version}/execution/{id}/output``, and its ``/node/NODE``, ``/step/STEPCTX``
and ``/node/NODE/step/STEPCTX`` filters): the log entries after an offset, with what a follower needs to know when
to stop (``completed``, ``execCompleted``) and whether anything changed (``lastmod`` → ``unmodified``), in JSON,
XML or plain text, optionally in Rundeck's compacted form.

The ``offset`` is a position in the stored log (the id of the last entry given), not a byte count: a client passes
back the ``offset`` it got, as Rundeck's API asks. Log lines are stored masked, so no entry holds a secure value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lxml import etree
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from xlr_runtime.http.context import context_of
from xlr_runtime.http.params import bool_param, int_param
from xlr_runtime.http.rundeck.common import endpoint, iso_time
from xlr_runtime.http.rundeck.executions import execution_of, rundeck_status
from xlr_runtime.http.rundeck.xmlforms import answer, element, leaves
from xlr_runtime.store.base import MAX_ROW_ID
from xlr_runtime.store.executions import Execution, ExecutionLogLine

#: Output entries in one answer without ``maxlines``, and the most one may hold.
MAX_OUTPUT_LINES = 10000
_FIELDS = ("time", "absolute_time", "level", "log", "user", "node", "stepctx")


def _entry(line: ExecutionLogLine, user: str) -> dict[str, Any]:
    return {
        "time": dt.datetime.fromtimestamp(line.time, dt.UTC).strftime("%H:%M:%S"),
        "absolute_time": iso_time(line.time),
        "level": "NORMAL" if line.level == "INFO" else line.level,
        "log": line.text,
        "user": user,
        "node": line.node or "",
        "stepctx": line.step or "",
    }


def compacted(entries: list[dict[str, Any]]) -> list[dict[str, Any] | str]:
    """Rundeck's compacted entries: the first in full, then only what changed from the previous one (a removed
    value as ``null``); an entry whose only change is its ``log`` is just the log text."""
    shown: list[dict[str, Any] | str] = []
    previous: dict[str, Any] = {}
    for entry in entries:
        changed = {key: value for key, value in entry.items() if previous.get(key) != value}
        changed |= {key: None for key in previous if key not in entry}
        shown.append(changed["log"] if previous and list(changed) == ["log"] else changed)
        previous = entry
    return shown


def _output(request: Request, execution: Execution, *, compact: bool) -> dict[str, Any]:
    """The output answer (JSON form) after the request's ``offset``, with its filters (``compact``: entries in
    Rundeck's compacted form)."""
    store = context_of(request).store
    node, step = request.path_params.get("node"), request.path_params.get("stepctx")
    after = int_param(request, "offset", 0, minimum=0, maximum=MAX_ROW_ID)
    most = int_param(request, "maxlines", MAX_OUTPUT_LINES, minimum=1, maximum=MAX_OUTPUT_LINES)
    lastmod = int_param(request, "lastmod", 0, minimum=0, maximum=MAX_ROW_ID)
    last = int_param(request, "lastlines", 0, minimum=0, maximum=MAX_OUTPUT_LINES)
    lines = store.executions.log(execution.id, after=after, limit=most + 1, node=node, step=step, last=last)
    shown, more = (lines, False) if last else (lines[:most], len(lines) > most)
    ended = execution.status.is_final
    times = [line.time for line in shown] + [t for t in (execution.started_at, execution.ended_at) if t is not None]
    last_modified = int(max(times, default=execution.created_at) * 1000)
    now = context_of(request).clock.now()
    started = execution.started_at
    entries = [_entry(line, execution.user) for line in shown]
    shown_output: dict[str, Any] = {
        "id": str(execution.id),
        "offset": str(shown[-1].id if shown else after),
        "completed": ended and not more,
        "execCompleted": ended,
        "hasFailedNodes": bool(execution.failed_nodes),
        "execState": rundeck_status(execution, now),
        "lastModified": str(last_modified),
        "execDuration": None if started is None else int(((execution.ended_at or now) - started) * 1000),
        "percentLoaded": 100.0 if not more else None,
        "retryBackoff": 0,
        "clusterExec": False,
        "compacted": False,
        "entries": entries,
    }
    if node is not None or step is not None:
        named = (("nodename", node), ("stepctx", step))
        shown_output["filter"] = {key: value for key, value in named if value is not None}
    if compact:
        shown_output |= {"compacted": True, "compactedAttr": "log", "entries": compacted(entries)}
    if lastmod and not shown and last_modified <= lastmod:
        shown_output["unmodified"] = True
    return shown_output


def _output_xml(output: dict[str, Any]) -> etree._Element:
    """Rundeck's XML form of the output: ``<output>`` with one element per field and ``<entries>`` of ``<entry>``
    elements whose fields are attributes (a compacted entry lists what it removed in ``removed``)."""
    root = leaves(element("output"), {k: v for k, v in output.items() if k not in ("entries", "filter")})
    if "filter" in output:
        root.append(element("filter", output["filter"]))
    entries = element("entries")
    for entry in output["entries"]:
        fields = {"log": entry} if isinstance(entry, str) else entry
        removed = ",".join(key for key, value in fields.items() if value is None)
        entries.append(element("entry", {**fields, "removed": removed or None}))
    root.append(entries)
    return root


_TEXT_HEADERS = {
    "offset": "X-Rundeck-ExecOutput-Offset",
    "completed": "X-Rundeck-ExecOutput-Completed",
    "unmodified": "X-Rundeck-ExecOutput-Unmodified",
    "execCompleted": "X-Rundeck-Exec-Completed",
    "execState": "X-Rundeck-Exec-State",
    "execDuration": "X-Rundeck-Exec-Duration",
    "lastModified": "X-Rundeck-ExecOutput-LastModifed",  # sic: Rundeck's header name
}


def _output_text(output: dict[str, Any]) -> Response:
    """The plain-text form: the log lines, with the answer's fields in Rundeck's ``X-Rundeck-…`` headers."""
    headers = {header: _header(output[key]) for key, header in _TEXT_HEADERS.items() if output.get(key) is not None}
    text = "".join(entry["log"] + "\n" for entry in output["entries"])
    return PlainTextResponse(text, headers=headers)


def _header(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _wants_text(request: Request) -> bool:
    fmt = request.query_params.get("format")
    if fmt is not None:
        return fmt == "text"
    accept = request.headers.get("accept", "")
    return "text/plain" in accept and "json" not in accept and "xml" not in accept


def execution_output(request: Request) -> Response:
    """The output after ``offset`` (the ``offset`` a previous answer gave; 0 from the start), at most
    ``maxlines`` entries (or the last ``lastlines`` entries), of one node and/or step when the path names them;
    ``format=json|xml|text`` (or ``Accept``). ``execCompleted``: the execution has ended; ``completed``: and this
    answer holds its last line. With ``lastmod`` (epoch ms, a previous ``lastModified``), no entry after
    ``offset`` and nothing newer: ``unmodified``."""
    execution = execution_of(request)
    if _wants_text(request):
        return _output_text(_output(request, execution, compact=False))
    output = _output(request, execution, compact=bool_param(request, "compacted"))
    return answer(request, output, lambda: _output_xml(output))


ROUTES = [
    Route(f"/api/{{version}}/execution/{{id}}/output{tail}", endpoint(execution_output), methods=["GET"])
    for tail in ("", "/node/{node}", "/step/{stepctx:path}", "/node/{node}/step/{stepctx:path}")
]
