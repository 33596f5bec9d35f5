"""Who may do what: writes (any method but GET, HEAD) need a valid API token, in ``Authorization: Bearer TOKEN``
or Rundeck's ``X-Rundeck-Auth-Token: TOKEN``; reads need one too unless reads are open (``http.open_reads``:
``auto`` opens them only while the server listens on a loopback address).

Missing or unknown token: 401; a revoked token: 403. A valid token's name is ``request.state.token_name`` (a
Rundeck run is that user's). A read may also carry the dashboard's session cookie instead of a token (its live
updates read the API); a write never may, so no other site can make a browser write through the API. The
dashboard's pages (every path outside ``/api/``) check their sessions themselves (:mod:`xlr_runtime.http.web`).
A plain ASGI middleware, so it also guards streamed responses and routes that do not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

import anyio.to_thread
from starlette.requests import Request, cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from xlr_runtime.clock import Clock
from xlr_runtime.http.errors import error_response
from xlr_runtime.http.rundeck.common import is_rundeck_path, rundeck_error_for
from xlr_runtime.http.tokens import match
from xlr_runtime.http.web.session import COOKIE, Sessions
from xlr_runtime.store import Store

READ_METHODS = frozenset({"GET", "HEAD"})
#: The key of ``request.state`` that names the request's valid token (absent on an open read).
TOKEN_NAME = "token_name"


def presented_token(headers: dict[bytes, bytes], query: str = "") -> str | None:
    """The token of a request: ``Authorization: Bearer …`` first, else ``X-Rundeck-Auth-Token``, else (as
    Rundeck accepts) the ``authtoken`` query parameter."""
    authorization = headers.get(b"authorization", b"").decode("latin-1").strip()
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    rundeck = headers.get(b"x-rundeck-auth-token", b"").decode("latin-1").strip()
    in_query = parse_qs(query).get("authtoken", [""])[0].strip()
    return rundeck or in_query or None


@dataclass(frozen=True)
class Verdict:
    """Whether a request may go on; if not, its status and message. ``token_name`` names the valid token."""

    status: int = 0
    message: str = ""
    token_name: str | None = None

    @property
    def allowed(self) -> bool:
        """True when the request may go on."""
        return self.status == 0


class TokenGate:
    """The ASGI middleware in front of every route."""

    def __init__(self, app: ASGIApp, *, store: Store, clock: Clock, open_reads: bool, sessions: Sessions) -> None:
        self.app = app
        self.store = store
        self.clock = clock
        self.open_reads = open_reads
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        is_read = scope.get("method") in READ_METHODS
        if scope["type"] != "http" or not scope["path"].startswith("/api/") or (self.open_reads and is_read):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        token = presented_token(headers, scope.get("query_string", b"").decode("latin-1"))
        if token is None and is_read:
            session = await anyio.to_thread.run_sync(self.sessions.read, _cookie(headers))
            if session is not None:
                scope.setdefault("state", {})[TOKEN_NAME] = session.name
                await self.app(scope, receive, send)
                return
        verdict = await anyio.to_thread.run_sync(self.check, token)
        if verdict.allowed:
            scope.setdefault("state", {})[TOKEN_NAME] = verdict.token_name
            await self.app(scope, receive, send)
            return
        if is_rundeck_path(scope["path"]):
            response = rundeck_error_for(Request(scope), verdict.status, verdict.message)
        else:
            response = error_response(
                verdict.status, verdict.message, field="Authorization", hint=_HINTS[verdict.status]
            )
        await response(scope, receive, send)

    def check(self, token: str | None) -> Verdict:
        """The verdict on ``token`` (records its use when it is valid)."""
        if token is None:
            return Verdict(401, "an API token is required (Authorization: Bearer TOKEN, or X-Rundeck-Auth-Token)")
        row = match(self.store.tokens.listed(include_revoked=True), token)
        if row is None:
            return Verdict(401, "the API token is not valid")
        if row.revoked_at is not None:
            return Verdict(403, f"the API token {row.name!r} was revoked")
        self.store.tokens.mark_used(row.id, now=self.clock.now())
        return Verdict(token_name=row.name)


def _cookie(headers: dict[bytes, bytes]) -> str | None:
    """The session cookie's value in a request's ``Cookie`` header."""
    return cookie_parser(headers.get(b"cookie", b"").decode("latin-1")).get(COOKIE)


_HINTS = {
    401: "Create one with 'xlr token create NAME' on the server's machine.",
    403: "Create a new one with 'xlr token create NAME'.",
}
