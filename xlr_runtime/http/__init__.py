"""The HTTP API of ``xlr serve`` (``docs/http.md``): a Starlette application on uvicorn, in a thread of the serve
process, added through the ``xlr_serve_services`` hook (:mod:`xlr_runtime.http.plugin`) so the runtime core
never imports it.

Modules: ``plugin`` (the hook), ``server`` (the listening socket and uvicorn's thread), ``app`` (routes and
shared state), ``auth`` (tokens and open reads), ``tokens`` (issuing and checking API tokens), ``errors`` (JSON
errors), ``params`` (query and body parsing), ``tasks``, ``types``, ``config`` (the routes), ``openapi`` (the
OpenAPI 3 document), the sub-package ``rundeck`` (Rundeck's own API under ``/api/{version}``) and the
sub-package ``web`` (the dashboard's pages, outside ``/api/``). Nothing here is imported until a server starts or
``xlr token`` runs.
"""
