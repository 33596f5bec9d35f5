"""Every error of the HTTP API is JSON: ``{"error": message, "field": name or null, "hint": text or null}`` (a page
of the dashboard gets an HTML page instead).

Domain errors map to statuses here, in one place: bad input 400, unknown objects 404, a state that does not allow
the operation 409, a store that cannot be written for now 503. Anything else is a bug: a 500 whose body says only
that (no traceback, no internals), with the traceback in the serve log.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from xlr_runtime.errors import (
    ApiRequestError,
    NotFoundError,
    StateError,
    StoreUnavailableError,
    TaskInputError,
    UnknownTypeError,
    XlrError,
)
from xlr_runtime.http.rundeck.common import is_rundeck_path, rundeck_error_for

log = logging.getLogger("xlr_runtime.http")


def is_page_path(path: str) -> bool:
    """True for a path of the dashboard (anything outside ``/api/``), whose errors are pages."""
    return not path.startswith("/api/")


def error_response(status: int, message: str, *, field: str | None = None, hint: str | None = None) -> JSONResponse:
    """The JSON body every error of the API has."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": message, "field": field, "hint": hint}, status_code=status, headers=headers)


def status_and_field(error: XlrError) -> tuple[int, str | None]:
    """The HTTP status of a domain error and the field it names (if any)."""
    if isinstance(error, ApiRequestError):
        return error.status, error.field
    if isinstance(error, TaskInputError):
        return 400, f"inputs.{error.prop}" if error.prop else "inputs"
    if isinstance(error, UnknownTypeError):
        return 400, "type"
    if isinstance(error, NotFoundError):
        return 404, None
    if isinstance(error, StateError):
        return 409, None
    if isinstance(error, StoreUnavailableError):
        return 503, None
    return 400, None


async def domain_error(request: Request, exc: Exception) -> Response:
    """An :class:`XlrError` (its message is written for users and never holds a secret) as its status."""
    assert isinstance(exc, XlrError)
    status, field = status_and_field(exc)
    if is_page_path(request.url.path):
        from xlr_runtime.http.web.render import error_page

        return error_page(request, status, exc.message, hint=exc.hint)
    return error_response(status, exc.message, field=field, hint=exc.hint)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (no such route: 404; a method the route does not take: 405) as JSON (in Rundeck's
    form under Rundeck's API)."""
    assert isinstance(exc, HTTPException)
    headers: dict[str, Any] = dict(exc.headers or {})
    if is_rundeck_path(request.url.path):
        response = rundeck_error_for(request, exc.status_code, f"{exc.detail}: {request.method} {request.url.path}")
    elif is_page_path(request.url.path):
        from xlr_runtime.http.web.render import error_page

        response = error_page(request, exc.status_code, f"{exc.detail}: {request.method} {request.url.path}")
    else:
        response = error_response(exc.status_code, str(exc.detail))
    response.headers.update(headers)
    return response


async def internal_error(request: Request, exc: Exception) -> Response:
    """A bug: logged with its traceback, answered with a 500 that shows nothing of it."""
    log.error("HTTP API: %s %s failed", request.method, request.url.path, exc_info=exc, extra={"event": "http.error"})
    message = "internal error: the server log has the details"
    if is_page_path(request.url.path):
        from xlr_runtime.http.web.render import error_page

        return error_page(request, 500, message)
    return error_response(500, message)


EXCEPTION_HANDLERS = {XlrError: domain_error, HTTPException: http_error, Exception: internal_error}
