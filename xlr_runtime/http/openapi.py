"""The OpenAPI 3 document of the API, served at ``/api/v1/openapi.json``.

Written by hand next to the routes, as data; ``tests/test_http_openapi.py`` validates it against the OpenAPI
specification and fails when a route of the application and a path of this document disagree.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from xlr_runtime import __version__
from xlr_runtime.http.context import PREFIX
from xlr_runtime.http.rundeck import openapi as rundeck_openapi
from xlr_runtime.http.tasks import DEFAULT_LOG_LINES, DEFAULT_PAGE, MAX_LOG_LINES, MAX_PAGE, MAX_TEXT
from xlr_runtime.store import TaskStatus


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_ERROR = _json(_ref("Error"), "An error: its message, and the field at fault")
_ERRORS = {"400": _ERROR, "401": _ERROR, "403": _ERROR}
_TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
_NULLABLE_NUMBER = {"type": "number", "nullable": True}
_NULLABLE_TEXT = {"type": "string", "nullable": True}


def _operation(verb: str, text: str) -> dict[str, Any]:
    return {
        "summary": f"{verb.capitalize()} a task (as 'xlr task {verb}')",
        "description": text,
        "parameters": [_TASK_ID],
        "responses": {
            "200": _json(_ref("Task"), "The task after the operation"),
            **_ERRORS,
            "404": _ERROR,
            "409": _ERROR,
        },
    }


_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}, "field": _NULLABLE_TEXT, "hint": _NULLABLE_TEXT},
    },
    "TaskSummary": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "string", "enum": [str(s) for s in TaskStatus]},
            "status_line": _NULLABLE_TEXT,
            "last_status_line": _NULLABLE_TEXT,
            "attempt": {"type": "integer"},
            "created_at": {"type": "number"},
            "started_at": _NULLABLE_NUMBER,
            "ended_at": _NULLABLE_NUMBER,
            "failure": _NULLABLE_TEXT,
        },
    },
    "Task": {
        "allOf": [
            _ref("TaskSummary"),
            {
                "type": "object",
                "properties": {
                    "properties": {"type": "object", "description": "Property values; passwords as ********"},
                    "type_loaded": {"type": "boolean"},
                },
            },
        ]
    },
    "TaskDetail": {
        "allOf": [
            _ref("Task"),
            {
                "type": "object",
                "properties": {
                    "runs": {"type": "array", "items": {"type": "object"}},
                    "status_lines": {"type": "array", "items": {"type": "object"}},
                },
            },
        ]
    },
    "LogLine": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "time": {"type": "number"},
            "run_id": {"type": "integer", "nullable": True},
            "stream": {"type": "string"},
            "text": {"type": "string"},
        },
    },
    "NewTask": {
        "type": "object",
        "required": ["type"],
        "additionalProperties": False,
        "properties": {
            "type": {"type": "string", "description": "A loaded task type, e.g. jenkins.Build"},
            "title": {"type": "string"},
            "inputs": {"type": "object", "description": "Input property names to values"},
            "cis": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "CI properties to names of [ci.NAME] tables of xlr.toml",
            },
        },
    },
}

_PATHS: dict[str, Any] = {
    f"{PREFIX}/tasks": {
        "get": {
            "summary": "List tasks, newest first, a page at a time",
            "parameters": [
                _query("status", {"type": "string"}, "Only tasks in these statuses (repeat it, or separate by commas)"),
                _query("type", {"type": "string"}, "Only tasks of this type"),
                _query(
                    "text", {"type": "string", "maxLength": MAX_TEXT}, "Only tasks whose title or status line holds it"
                ),
                _query(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_PAGE},
                    "Page size",
                ),
                _query("cursor", {"type": "string"}, "The 'next' of the previous page"),
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "tasks": {"type": "array", "items": _ref("TaskSummary")},
                            "next": {"type": "string", "nullable": True},
                        },
                    },
                    "A page of tasks; 'next' is null on the last page",
                ),
                **_ERRORS,
            },
        },
        "post": {
            "summary": "Create a task (as 'xlr run --detach')",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewTask")}}},
            "responses": {"201": _json(_ref("Task"), "The task, planned"), **_ERRORS, "413": _ERROR},
        },
    },
    f"{PREFIX}/tasks/{{task_id}}": {
        "get": {
            "summary": "Show a task: properties (passwords masked), script runs, status-line history",
            "parameters": [_TASK_ID],
            "responses": {"200": _json(_ref("TaskDetail"), "The task"), **_ERRORS, "404": _ERROR},
        },
        "delete": {
            "summary": "Delete an ended task with its script runs and log",
            "parameters": [_TASK_ID],
            "responses": {
                "200": _json({"type": "object"}, "What was removed"),
                **_ERRORS,
                "404": _ERROR,
                "409": _ERROR,
            },
        },
    },
    f"{PREFIX}/tasks/{{task_id}}/log": {
        "get": {
            "summary": "The task's log: text, JSON, or followed live as server-sent events",
            "parameters": [
                _TASK_ID,
                _query("after", {"type": "integer", "minimum": 0}, "Only lines after this line id"),
                _query(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": MAX_LOG_LINES, "default": DEFAULT_LOG_LINES},
                    "Most lines",
                ),
                _query("format", {"type": "string", "enum": ["text", "json"]}, "text (default) or json"),
                _query("follow", {"type": "boolean"}, "Stream lines and status changes as server-sent events"),
            ],
            "responses": {
                "200": {
                    "description": "The lines",
                    "content": {
                        "text/plain": {"schema": {"type": "string"}},
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "lines": {"type": "array", "items": _ref("LogLine")},
                                    "next": {"type": "integer", "nullable": True},
                                },
                            }
                        },
                        "text/event-stream": {"schema": {"type": "string"}},
                    },
                },
                **_ERRORS,
                "404": _ERROR,
            },
        }
    },
    **{
        f"{PREFIX}/tasks/{{task_id}}/{verb}": {"post": _operation(verb, text)}
        for verb, text in (
            ("abort", "A planned or in-progress task; its pending script run is cancelled."),
            ("retry", "A failed or aborted task, from its first script, with its inputs."),
            ("skip", "A task that has not completed."),
        )
    },
    f"{PREFIX}/types": {
        "get": {
            "summary": "Every loaded type (as 'xlr types --json')",
            "responses": {"200": _json({"type": "object"}, "{'types': [...]}"), **_ERRORS},
        }
    },
    f"{PREFIX}/types/{{type_name}}": {
        "get": {
            "summary": "One type (as 'xlr types show TYPE --json')",
            "parameters": [{"name": "type_name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _json({"type": "object"}, "The type"), **_ERRORS, "404": _ERROR},
        }
    },
    f"{PREFIX}/settings": {
        "get": {
            "summary": "The effective settings (as 'xlr config --json'; secrets never shown)",
            "responses": {"200": _json({"type": "object"}, "{'settings': [...]}"), **_ERRORS},
        }
    },
    f"{PREFIX}/cis": {
        "get": {
            "summary": "The CIs of xlr.toml by name and type (never a value)",
            "responses": {"200": _json({"type": "object"}, "{'cis': [{'name', 'type'}, ...]}"), **_ERRORS},
        }
    },
    f"{PREFIX}/openapi.json": {
        "get": {"summary": "This document", "responses": {"200": _json({"type": "object"}, "OpenAPI 3"), **_ERRORS}}
    },
}

#: The document.
DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "xlr-runtime HTTP API",
        "version": __version__,
        "description": "Tasks, types, CIs and settings of the home 'xlr serve' serves, and Rundeck's own API for "
        "its jobs and executions (under /api/{version}). Writes need an API token "
        "('xlr token create NAME'); reads too unless they are open (http.open_reads).",
    },
    "paths": _PATHS | rundeck_openapi.PATHS,
    "components": {
        "schemas": _SCHEMAS | rundeck_openapi.SCHEMAS,
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "rundeck": {"type": "apiKey", "in": "header", "name": "X-Rundeck-Auth-Token"},
        },
    },
    "security": [{"bearer": []}, {"rundeck": []}, {}],
}


def openapi_document(_request: Request) -> Response:
    """The OpenAPI 3 document of this API."""
    return JSONResponse(DOCUMENT)


ROUTES = [Route(f"{PREFIX}/openapi.json", openapi_document, methods=["GET"])]
