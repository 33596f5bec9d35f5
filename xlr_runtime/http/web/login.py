"""``/login`` and ``/logout``: open a session with an API token, end it; ``/`` leads to the task list.

The login form is protected against cross-site posting too: ``GET /login`` gives the browser a short-lived
random cookie that the form repeats (a double-submit token), since there is no session yet to carry one.
"""

from __future__ import annotations

import hmac
import re
import secrets

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from xlr_runtime.http.web.guard import Form, read_form, reader, writer
from xlr_runtime.http.web.render import page
from xlr_runtime.http.web.session import Session, Sessions, clear_cookie, set_cookie

#: The cookie (and form field) of the login form's double-submit token, and its lifetime in seconds.
LOGIN_COOKIE, LOGIN_MAX_AGE = "xlr_login", 3600


#: A path of this server: ``/`` not followed by ``/`` or ``\\``, and no backslash, space or control character anywhere
#: (browsers drop tabs and new lines from URLs, so ``/\t/host`` would lead to another site).
_LOCAL_PATH = re.compile(r"/(?![/\\])[^\s\x00-\x1f\x7f\\]*")


def _next(target: str) -> str:
    """Where to go after logging in: a path of this server only (never another site)."""
    return target if _LOCAL_PATH.fullmatch(target) else "/tasks"


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


def login_form(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    """The login form (with a fresh double-submit token)."""
    nonce = secrets.token_urlsafe(24)
    target = _next(request.query_params.get("next", "/tasks"))
    response = page(request, "login.html", {"nonce": nonce, "next": target, "error": error}, status=status)
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=LOGIN_MAX_AGE, path="/login", httponly=True,
                        samesite="strict", secure=_https(request))  # fmt: skip
    return response


async def show_login(request: Request) -> Response:
    """``GET /login``."""
    request.state.session = None
    return login_form(request)


async def log_in(request: Request) -> Response:
    """``POST /login``: the token opens a session and the browser goes on to ``next``; a wrong token re-renders the
    form with a 401 naming the field ``token``."""
    request.state.session = None
    form: Form = await read_form(request)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not hmac.compare_digest(nonce.encode(), form.get("nonce").encode()):
        return login_form(request, error="the login form expired or came from another site: try again", status=403)
    token = form.get("token")
    sessions: Sessions = request.app.state.sessions
    opened = await anyio.to_thread.run_sync(sessions.open, token) if token else None
    if opened is None:
        message = "token: enter an API token (xlr token create NAME)" if not token else "token: not a valid API token"
        return login_form(request, error=message, status=401)
    _session, cookie = opened
    response = RedirectResponse(_next(form.get("next") or "/tasks"), status_code=303)
    set_cookie(response, cookie, secure=_https(request))
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


def log_out(request: Request, session: Session, _form: Form) -> Response:
    """``POST /logout`` (with the CSRF token): end the session, on the server and in this browser."""
    sessions: Sessions = request.app.state.sessions
    sessions.end(session)
    response = RedirectResponse("/login", status_code=303)
    clear_cookie(response, secure=_https(request))
    return response


@reader
def home(_request: Request) -> Response:
    """``/``: the task list."""
    return RedirectResponse("/tasks", status_code=303)


ROUTES = [
    Route("/", home, methods=["GET"]),
    Route("/login", show_login, methods=["GET"]),
    Route("/login", log_in, methods=["POST"]),
    Route("/logout", writer(log_out), methods=["POST"]),
]
