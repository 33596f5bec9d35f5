"""Rundeck's own API under ``/api/{version}`` (``docs/http.md``, *Rundeck's API*): its paths, parameters, JSON and
error form, so an existing Rundeck API client works against ``xlr serve`` unchanged.

Modules: ``common`` (API versions, Rundeck's error form, URLs and times), ``system`` (system info and projects),
``jobs`` (list, definition, export, import, delete) and ``executions`` (run, show, list, output, abort).
"""
