"""Who may see a page or post a form, and reading a form's body.

A page (:func:`reader`) is open when reads are (``http.open_reads``), else it needs a session: without one it
redirects to the login page. A form that writes (:func:`writer`) always needs a session and its CSRF token. A
domain error becomes an error page with the status the JSON API would give (400 bad input, 404, 409, 503).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, quote

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from xlr_runtime.errors import ApiRequestError, XlrError
from xlr_runtime.http.errors import status_and_field
from xlr_runtime.http.params import MAX_BODY_BYTES
from xlr_runtime.http.web.render import error_page
from xlr_runtime.http.web.session import CSRF_FIELD, Session, Sessions

#: What a form body may be sent as.
FORM_MEDIA = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Form:
    """A posted form: every value of each field, in order."""

    fields: dict[str, list[str]]

    def get(self, name: str) -> str:
        """The field's last value, stripped (empty when absent)."""
        values = self.fields.get(name) or [""]
        return values[-1].strip()

    def getlist(self, name: str) -> list[str]:
        """Every non-empty value of the field (a multivalued option's checkboxes)."""
        return [value for value in self.fields.get(name, []) if value.strip()]


async def read_form(request: Request) -> Form:
    """The request's urlencoded body; :class:`ApiRequestError` (400 or 413, ``field`` ``body``) otherwise."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != FORM_MEDIA:
        raise ApiRequestError(400, f"a form is sent as {FORM_MEDIA}, not {media or 'nothing'}", field="body")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiRequestError(413, f"the form is larger than {MAX_BODY_BYTES} bytes", field="body")
    try:
        return Form(parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except (UnicodeDecodeError, ValueError):
        raise ApiRequestError(400, "the form is not UTF-8 text", field="body") from None


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.sessions
    return sessions


def _failed(request: Request, exc: XlrError) -> Response:
    status, _field = status_and_field(exc)
    return error_page(request, status, exc.message, hint=exc.hint)


def reader(handler: Callable[[Request], Response]) -> Callable[[Request], object]:
    """A page: run ``handler`` (in a thread) when the request may read, else redirect to the login page."""

    @functools.wraps(handler)
    async def run(request: Request) -> Response:
        request.state.session = await anyio.to_thread.run_sync(_sessions(request).of, request)
        if request.state.session is None and not request.app.state.open_reads:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        try:
            return await anyio.to_thread.run_sync(handler, request)
        except XlrError as exc:
            return _failed(request, exc)

    return run


def writer(handler: Callable[[Request, Session, Form], Response]) -> Callable[[Request], object]:
    """A form that writes: run ``handler`` (in a thread) with the session and the form when a session is open
    and the form carries its CSRF token; a 401 page asking to log in, or a 403 page, otherwise."""

    @functools.wraps(handler)
    async def run(request: Request) -> Response:
        session = await anyio.to_thread.run_sync(_sessions(request).of, request)
        request.state.session = session
        try:
            if session is None:
                return error_page(request, 401, "log in with an API token to change anything")
            form = await read_form(request)
            if not session.accepts(form.get(CSRF_FIELD) or None):
                return error_page(
                    request, 403, "the form's CSRF token is missing or not this session's: reload the page and retry"
                )
            return await anyio.to_thread.run_sync(handler, request, session, form)
        except XlrError as exc:
            return _failed(request, exc)

    return run
