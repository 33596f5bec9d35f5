"""Rundeck's own API under ``/api/{version}`` (``docs/http.md``, *Rundeck's API*): its paths, parameters, JSON, XML
and error form, so an existing Rundeck API client works against ``xlr serve`` unchanged.

Modules: ``common`` (API versions, Rundeck's error form, URLs and times), ``xmlforms`` (JSON or XML, and the XML
builder), ``system`` (system info and projects), ``jobs`` (list, definition, export, import, delete),
``schedules`` (schedule and execution switches, the scheduler's jobs), ``executions`` (run, show, list, running,
abort), ``queries`` (the execution query's parameters), ``output`` (output by offset, node and step), ``state``
(the workflow state), ``deletions`` (execution deletes), ``resources`` (a project's nodes), ``openapi`` (their
part of the OpenAPI document) and ``routes`` (every route, for the application).
"""
