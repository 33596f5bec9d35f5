"""The Rundeck API's part of the OpenAPI document (:mod:`xlr_runtime.http.openapi` merges it): Rundeck's paths,
parameters and answers, as written next to the routes of this package."""

from __future__ import annotations

from typing import Any

from xlr_runtime.http.rundeck.common import CURRENT_VERSION, MINIMUM_VERSION
from xlr_runtime.http.rundeck.executions import DEFAULT_PAGE, MAX_PAGE
from xlr_runtime.http.rundeck.output import MAX_OUTPUT_LINES
from xlr_runtime.http.rundeck.queries import EXECUTION_TYPES, STATUS_FILTERS
from xlr_runtime.http.rundeck.resources import FILTER_KEYS, FORMATS
from xlr_runtime.rundeck.jobs.jobstore import DupeOption, UuidOption

_VERSION = {
    "name": "version",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": MINIMUM_VERSION, "maximum": CURRENT_VERSION},
    "description": f"Rundeck's API version: {MINIMUM_VERSION} to {CURRENT_VERSION} (others: 400)",
}
_TEXT = {"type": "string"}
_OBJECT = {"type": "object"}
_ARRAY = {"type": "array", "items": _OBJECT}
_JSON, _XML, _YAML, _PLAIN = "application/json", "application/xml", "application/yaml", "text/plain"
#: Every endpoint answers JSON, or XML when the request asks for it (``Accept``, or ``format=xml`` where it picks
#: the answer's form), errors included.
_JSON_OR_XML = (_JSON, _XML)
_ERROR = {
    "description": "Rundeck's error form (its XML form when the request asks for XML)",
    "content": {_JSON: {"schema": {"$ref": "#/components/schemas/RundeckError"}}, _XML: {"schema": _TEXT}},
}

SCHEMAS: dict[str, Any] = {
    "RundeckError": {
        "type": "object",
        "required": ["error", "apiversion", "errorCode", "message"],
        "properties": {
            "error": {"type": "boolean"},
            "apiversion": {"type": "integer"},
            "errorCode": _TEXT,
            "message": _TEXT,
        },
    }
}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _TEXT}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _op(summary: str, *parameters: dict[str, Any], ok: str = "200", answers: tuple[str, ...] = _JSON_OR_XML,
        shape: dict[str, Any] = _OBJECT, body: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """An operation answering ``ok`` in each media type of ``answers`` (JSON or YAML of ``shape``, XML or plain
    text), or Rundeck's error form."""
    errors = {status: _ERROR for status in ("400", "401", "403", "404", "409")}
    forms = {media: {"schema": shape if media in (_JSON, _YAML) else _TEXT} for media in answers}
    content = {} if ok == "204" else {"content": forms}
    operation: dict[str, Any] = {
        "summary": summary,
        "tags": ["rundeck"],
        "parameters": [_VERSION, *parameters],
        "responses": {ok: {"description": summary, **content}, **errors},
    }
    if body is not None:
        operation["requestBody"] = {"required": False, "content": body}
    return operation


_FILTERS = (
    _query("idlist", _TEXT, "Job ids, comma-separated"),
    _query("groupPath", _TEXT, "A group and its subgroups; '-' for jobs without a group"),
    _query("groupPathExact", _TEXT, "Exactly this group"),
    _query("jobFilter", _TEXT, "Names containing this (any case)"),
    _query("jobExactFilter", _TEXT, "Exactly this name"),
)
_FORMAT = _query("format", {"type": "string", "enum": ["xml", "yaml", "json"]}, "Default: from Accept, else xml")
#: The answer's form, on the endpoints that answer JSON (the default) or XML.
_ANSWER = _query("format", {"type": "string", "enum": ["json", "xml"]}, "Default: from Accept, else json")
_OUTPUT = (
    _query("format", {"type": "string", "enum": ["json", "xml", "text"]}, "Default: from Accept, else json"),
    _query("offset", {"type": "integer", "minimum": 0}, "The offset a previous answer gave"),
    _query("maxlines", {"type": "integer", "minimum": 1, "maximum": MAX_OUTPUT_LINES}, "Most entries"),
    _query("lastlines", {"type": "integer", "minimum": 1, "maximum": MAX_OUTPUT_LINES}, "The last entries (no offset)"),
    _query("lastmod", {"type": "integer", "minimum": 0}, "A previous lastModified (epoch ms)"),
    _query("compacted", {"type": "boolean"}, "Entries in Rundeck's compacted form"),
)
_OUTPUT_FORMS = (_JSON, _XML, _PLAIN)
_RESOURCE_FORMS = (_JSON, _YAML, _XML)
_DEFINITION_FORMS = (_XML, _YAML, _JSON)
_PROJECT, _ID = _path("project"), _path("id")
_DEFINITIONS = {"application/xml": {"schema": _TEXT}, "application/yaml": {"schema": _TEXT}}
_RUN = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {
                "options": {"type": "object", "additionalProperties": True},
                "argString": _TEXT,
                "loglevel": {"type": "string", "enum": ["DEBUG", "VERBOSE", "INFO", "WARN", "ERROR"]},
            },
        }
    }
}
_QUERY = (
    _query("statusFilter", {"type": "string", "enum": list(STATUS_FILTERS)}, "Executions with this status"),
    _query("jobIdListFilter", _TEXT, "Executions of these jobs (repeatable)"),
    _query("excludeJobIdListFilter", _TEXT, "Not of these jobs (repeatable)"),
    _query("jobListFilter", _TEXT, "Of the job group/name (repeatable)"),
    _query("excludeJobListFilter", _TEXT, "Not of the job group/name (repeatable)"),
    _query("groupPath", _TEXT, "Of jobs in this group or its subgroups; '-': jobs without a group"),
    _query("groupPathExact", _TEXT, "Of jobs in exactly this group"),
    _query("jobFilter", _TEXT, "Of jobs whose name contains this"),
    _query("jobExactFilter", _TEXT, "Of jobs with exactly this name"),
    _query("userFilter", _TEXT, "Started by this user"),
    _query("executionTypeFilter", {"type": "string", "enum": list(EXECUTION_TYPES)}, "Started this way"),
    _query("adhoc", {"type": "boolean"}, "true: only those without a job; false: only job executions"),
    _query("recentFilter", _TEXT, "Ended within this period (2w: s, n, h, d, w, m, y)"),
    _query("olderFilter", _TEXT, "Ended before this period ago"),
    _query("begin", _TEXT, "Ended at or after (Unix ms or yyyy-MM-ddTHH:mm:ssZ)"),
    _query("end", _TEXT, "Ended at or before (Unix ms or yyyy-MM-ddTHH:mm:ssZ)"),
)
_RESOURCE_FORMAT = _query("format", {"type": "string", "enum": list(FORMATS)}, "Default: from Accept, else json")
_IDS = _query("ids", _TEXT, 'Execution ids, comma-separated (or the body: {"ids": [...]})')
_PROJECT_BODY = {"type": "object", "required": ["name"], "properties": {"name": _TEXT, "config": _OBJECT}}
_PAGE = (
    _query("max", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_PAGE}, "Page size"),
    _query("offset", {"type": "integer", "minimum": 0}, "Executions to skip"),
)

PATHS: dict[str, Any] = {
    "/api/{version}/system/info": {"get": _op("Rundeck's system info (version, API version, time)")},
    "/api/{version}/projects": {
        "get": _op("Every project", shape=_ARRAY),
        "post": _op("Create a project", ok="201", body={"application/json": {"schema": _PROJECT_BODY}}),
    },
    "/api/{version}/project/{project}": {"get": _op("One project", _PROJECT)},
    "/api/{version}/project/{project}/jobs": {"get": _op("The project's jobs", _PROJECT, *_FILTERS, shape=_ARRAY)},
    "/api/{version}/project/{project}/jobs/export": {
        "get": _op(
            "The project's job definitions", _PROJECT, _FORMAT, *_FILTERS, answers=_DEFINITION_FORMS, shape=_ARRAY
        )
    },
    "/api/{version}/project/{project}/jobs/import": {
        "post": _op(
            "Import job definitions (all or nothing)",
            _PROJECT,
            _query("fileformat", {"type": "string", "enum": ["xml", "yaml"]}, "Default: from Content-Type"),
            _query("dupeOption", {"type": "string", "enum": [o.value for o in DupeOption]}, "Default: create"),
            _query("uuidOption", {"type": "string", "enum": [o.value for o in UuidOption]}, "Default: preserve"),
            body=_DEFINITIONS,
        )
    },
    "/api/{version}/job/{id}": {
        "get": _op("A job's definition", _ID, _FORMAT, answers=_DEFINITION_FORMS, shape=_ARRAY),
        "delete": _op("Delete a job", _ID, ok="204"),
    },
    "/api/{version}/job/{id}/info": {"get": _op("A job's summary", _ID)},
    "/api/{version}/job/{id}/run": {"post": _op("Run a job now with options", _ID, body=_RUN)},
    "/api/{version}/project/{project}/executions": {
        "get": _op("The project's executions that the query keeps", _PROJECT, *_QUERY, *_PAGE)
    },
    "/api/{version}/project/{project}/executions/running": {
        "get": _op(
            "Running executions of a project ('*': of every project)",
            _PROJECT,
            _query("jobIdFilter", _TEXT, "Of this job only"),
            *_PAGE,
        )
    },
    "/api/{version}/job/{id}/executions": {
        "get": _op(
            "The job's executions",
            _ID,
            _query("status", {"type": "string", "enum": list(STATUS_FILTERS)}, "With this status"),
            *_PAGE,
        ),
        "delete": _op("Delete the job's executions", _ID),
        "post": _op("Run a job now with options (as job/{id}/run)", _ID, body=_RUN),
    },
    "/api/{version}/jobs/delete": {
        "post": _op(
            "Delete several jobs",
            _query("ids", _TEXT, "A job id (repeatable)"),
            _query("idlist", _TEXT, "Job ids, comma-separated"),
            body={"application/json": {"schema": _OBJECT}},
        ),
        "delete": _op(
            "Delete several jobs",
            _query("ids", _TEXT, "A job id (repeatable)"),
            _query("idlist", _TEXT, "Job ids, comma-separated"),
        ),
    },
    "/api/{version}/execution/{id}": {
        "get": _op("One execution", _ID),
        "delete": _op("Delete an execution that has ended", _ID, ok="204"),
    },
    "/api/{version}/executions/delete": {
        "post": _op("Delete executions", _IDS, body={"application/json": {"schema": _OBJECT}})
    },
    "/api/{version}/execution/{id}/output": {
        "get": _op("An execution's output after an offset", _ID, *_OUTPUT, answers=_OUTPUT_FORMS)
    },
    "/api/{version}/execution/{id}/output/node/{node}": {
        "get": _op("One node's output after an offset", _ID, _path("node"), *_OUTPUT, answers=_OUTPUT_FORMS)
    },
    "/api/{version}/execution/{id}/output/step/{stepctx}": {
        "get": _op("One step's output after an offset", _ID, _path("stepctx"), *_OUTPUT, answers=_OUTPUT_FORMS)
    },
    "/api/{version}/execution/{id}/output/node/{node}/step/{stepctx}": {
        "get": _op(
            "One step's output on one node", _ID, _path("node"), _path("stepctx"), *_OUTPUT, answers=_OUTPUT_FORMS
        )
    },
    **{
        f"/api/{{version}}/job/{{id}}/{switch}/{action}": {
            "post": _op(f"{action.capitalize()} the job's {switch}{'s' if switch == 'execution' else ''}", _ID)
        }
        for switch in ("schedule", "execution")
        for action in ("enable", "disable")
    },
    **{
        f"/api/{{version}}/jobs/{switch}/{action}": {
            "post": _op(
                f"{action.capitalize()} the {switch}{'s' if switch == 'execution' else ''} of several jobs",
                _query("ids", _TEXT, "A job id (repeatable)"),
                _query("idlist", _TEXT, "Job ids, comma-separated"),
                body={"application/json": {"schema": _OBJECT}},
            )
        }
        for switch in ("schedule", "execution")
        for action in ("enable", "disable")
    },
    "/api/{version}/project/{project}/resources": {
        "get": _op(
            "The project's nodes that the node filter keeps",
            _PROJECT,
            _RESOURCE_FORMAT,
            _query("filter", _TEXT, "A node filter, as jobs use (tags: web !name: web2)"),
            *(_query(key, _TEXT, f"Nodes whose {key} matches") for key in FILTER_KEYS),
            *(_query(f"exclude-{key}", _TEXT, f"Not the nodes whose {key} matches") for key in FILTER_KEYS),
            answers=_RESOURCE_FORMS,
        )
    },
    "/api/{version}/project/{project}/resource/{name}": {
        "get": _op("One node of the project", _PROJECT, _path("name"), _RESOURCE_FORMAT, answers=_RESOURCE_FORMS)
    },
    "/api/{version}/scheduler/jobs": {"get": _op("The jobs with a schedule, of every project", shape=_ARRAY)},
    "/api/{version}/execution/{id}/state": {"get": _op("An execution's workflow state", _ID, _ANSWER)},
    "/api/{version}/execution/{id}/abort": {"post": _op("Abort an execution", _ID)},
}
