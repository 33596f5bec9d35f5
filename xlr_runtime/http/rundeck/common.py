"""What every Rundeck API route shares: the API version in the path (Rundeck accepts any version from
:data:`MINIMUM_VERSION` to :data:`CURRENT_VERSION`), Rundeck's JSON error form, and its URLs and times."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from xlr_runtime.errors import (
    ApiRequestError,
    JobDefinitionError,
    NotFoundError,
    OptionValueError,
    StateError,
    StoreUnavailableError,
    XlrError,
)
from xlr_runtime.http.params import whole_number
from xlr_runtime.http.rundeck.xmlforms import error_xml, wants_xml, xml_response

#: The API version this server speaks, and the oldest one it still answers (as Rundeck 5).
CURRENT_VERSION, MINIMUM_VERSION = 47, 14
#: A path of Rundeck's API: ``/api/`` then its version (anything but ``v1``: ``/api/v1`` is the runtime's own API).
RUNDECK_PATH = re.compile(r"^/api/(?!v1(/|$))")

_CODES = {
    400: "api.error.parameter.invalid",
    401: "unauthorized",
    403: "unauthorized",
    404: "api.error.item.doesnotexist",
    409: "api.error.item.alreadyexists",
    413: "api.error.parameter.invalid",
    503: "api.error.unavailable",
}


def is_rundeck_path(path: str) -> bool:
    """True for a path of Rundeck's API (``/api/47/projects``), whose errors take Rundeck's form."""
    return RUNDECK_PATH.match(path) is not None


def rundeck_error(status: int, message: str, *, code: str | None = None, xml: bool = False) -> Response:
    """Rundeck's error body: ``{"error": true, "apiversion": N, "errorCode": "...", "message": "..."}`` (its XML
    form with ``xml``)."""
    code = code or _CODES.get(status, "api.error")
    if xml:
        return xml_response(error_xml(code, message, CURRENT_VERSION), status)
    body = {"error": True, "apiversion": CURRENT_VERSION, "errorCode": code, "message": message}
    return JSONResponse(body, status_code=status)


def rundeck_error_for(request: Request, status: int, message: str, *, code: str | None = None) -> Response:
    """Rundeck's error body in the form ``request`` asked for (XML when it asked for XML)."""
    return rundeck_error(status, message, code=code, xml=_error_in_xml(request))


def _error_in_xml(request: Request) -> bool:
    """True when the request asked for XML (its ``Accept`` header, or ``format=xml``)."""
    return request.query_params.get("format") == "xml" or wants_xml(request, by_format=False)


def _status_and_code(error: XlrError) -> tuple[int, str]:
    if isinstance(error, ApiRequestError):
        return error.status, _CODES.get(error.status, "api.error.invalid.request")
    if isinstance(error, NotFoundError):
        return 404, "api.error.item.doesnotexist"
    if isinstance(error, OptionValueError):
        return 400, "api.error.job.options-invalid"
    if isinstance(error, JobDefinitionError):
        return 400, "api.error.jobs.import.invalid"
    if isinstance(error, StateError):
        return 409, "api.error.execution.conflict"
    if isinstance(error, StoreUnavailableError):
        return 503, "api.error.unavailable"
    return 400, "api.error.invalid.request"


def check_version(request: Request) -> int:
    """The request's API version; Rundeck's 400 ``api.error.api-version.unsupported`` outside the range."""
    text = request.path_params["version"]
    version = whole_number(text) or 0
    if version > CURRENT_VERSION:
        reason = f"Current version: {CURRENT_VERSION}"
    elif version < MINIMUM_VERSION:
        reason = f"Minimum supported version: {MINIMUM_VERSION}"
    else:
        return version
    raise _Unsupported(f'Unsupported API Version "{text}". API Request: {request.url.path}. Reason: {reason}')


class _Unsupported(Exception):
    """A version outside the supported range (answered, never raised past :func:`endpoint`)."""


Handler = Callable[[Request], Response | Awaitable[Response]]


def endpoint(handler: Handler) -> Handler:
    """Wrap a route handler (sync or async): check the path's API version first; answer the runtime's errors in
    Rundeck's form (their messages are written for users and never hold a secret)."""

    def failure(request: Request, exc: Exception) -> Response:
        if isinstance(exc, _Unsupported):
            return rundeck_error_for(request, 400, str(exc), code="api.error.api-version.unsupported")
        assert isinstance(exc, XlrError)
        status, code = _status_and_code(exc)
        return rundeck_error_for(request, status, exc.message, code=code)

    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def run_async(request: Request) -> Response:
            try:
                check_version(request)
                return await handler(request)  # type: ignore[misc,no-any-return]
            except (XlrError, _Unsupported) as exc:
                return failure(request, exc)

        return run_async

    @functools.wraps(handler)
    def run(request: Request) -> Response:
        try:
            check_version(request)
            return handler(request)  # type: ignore[return-value]
        except (XlrError, _Unsupported) as exc:
            return failure(request, exc)

    return run


def api_url(request: Request, path: str) -> str:
    """The absolute URL of ``path`` in the request's API version (Rundeck's ``href``)."""
    return str(request.base_url).rstrip("/") + f"/api/{request.path_params['version']}/{path.lstrip('/')}"


def page_url(request: Request, path: str) -> str:
    """The absolute URL of a page of the server (Rundeck's ``permalink``)."""
    return str(request.base_url).rstrip("/") + "/" + path.lstrip("/")


def iso_time(epoch: float) -> str:
    """Rundeck's date form: ``2026-12-03T07:42:01Z``."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def date_of(epoch: float | None) -> dict[str, Any] | None:
    """Rundeck's ``date-started`` / ``date-ended`` object: ``{"unixtime": ms, "date": iso}``."""
    return None if epoch is None else {"unixtime": int(epoch * 1000), "date": iso_time(epoch)}
