"""The dashboard's sessions: a person logs in with an API token (``xlr token create NAME``) and gets a session
cookie; every form that writes carries the session's CSRF token.

The cookie holds ``{"token": id, "csrf": random, "sid": random}`` sealed and signed with the home's key
(``secret.key``, through :class:`~xlr_runtime.secrets.SecretBox`), so it cannot be read or forged without that key,
and sessions outlive a restart of ``xlr serve``. It expires :data:`MAX_AGE` seconds after the login, and it is
valid only while its token is: revoking the token (``xlr token revoke NAME``) ends every session opened with it. A
log-out ends the session on the server too: the SHA-256 of its ``sid`` is kept until the cookie would have expired,
so a copy of the cookie taken before is refused. The cookie is ``HttpOnly``,
``SameSite=Lax`` (a form posted from another site never carries it; a link to a page does) and ``Secure`` when the
page was served over https. The token itself is never stored in it."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from starlette.requests import HTTPConnection
from starlette.responses import Response

from xlr_runtime.clock import Clock
from xlr_runtime.http.tokens import match
from xlr_runtime.secrets import SecretBox
from xlr_runtime.store import Store

#: The session cookie's name.
COOKIE = "xlr_session"
#: Seconds a session lasts from the login.
MAX_AGE = 12 * 3600
#: The hidden form field that carries the CSRF token.
CSRF_FIELD = "csrf"


@dataclass(frozen=True)
class Session:
    """A logged-in session: the id and name of the token it was opened with, its CSRF token, and its own id
    (which a log-out records as ended)."""

    token_id: int
    name: str
    csrf: str
    sid: str = field(repr=False)

    def accepts(self, presented: str | None) -> bool:
        """True when ``presented`` (a form's CSRF field) is this session's CSRF token (compared in constant
        time)."""
        return presented is not None and hmac.compare_digest(presented.encode(), self.csrf.encode())


class Sessions:
    """Opens sessions with a token, and reads them back from their cookie."""

    def __init__(self, store: Store, box: SecretBox, clock: Clock) -> None:
        self.store = store
        self.box = box
        self.clock = clock

    def open(self, token: str) -> tuple[Session, str] | None:
        """A new session for a valid (not revoked) ``token`` and its cookie value; ``None`` for another token."""
        row = match(self.store.tokens.listed(include_revoked=True), token.strip())
        if row is None or row.revoked_at is not None:
            return None
        self.store.tokens.mark_used(row.id, now=self.clock.now())
        session = Session(row.id, row.name, secrets.token_urlsafe(24), secrets.token_urlsafe(24))
        return session, self.box.seal_json({"token": row.id, "csrf": session.csrf, "sid": session.sid})

    def read(self, cookie: str | None) -> Session | None:
        """The session of a cookie value: ``None`` when there is none, it is forged, expired, logged out, or its
        token was revoked since."""
        if not cookie:
            return None
        data = self.box.open_fresh_json(cookie, max_age=MAX_AGE)
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("token"), int)
            or not isinstance(data.get("csrf"), str)
            or not isinstance(data.get("sid"), str)
        ):
            return None
        row = self.store.tokens.session_token(data["token"], _id_hash(data["sid"]))
        return None if row is None else Session(row.id, row.name, data["csrf"], data["sid"])

    def end(self, session: Session) -> None:
        """Log ``session`` out: its cookie, and every copy of it, no longer opens a session."""
        now = self.clock.now()
        self.store.tokens.end_session(_id_hash(session.sid), until=now + MAX_AGE, now=now)

    def of(self, connection: HTTPConnection) -> Session | None:
        """The session of a request (or ``None``)."""
        return self.read(connection.cookies.get(COOKIE))


def _id_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8", "surrogateescape")).hexdigest()


def set_cookie(response: Response, value: str, *, secure: bool) -> None:
    """Give ``response`` the session cookie (``Secure`` only when served over https)."""
    response.set_cookie(COOKIE, value, max_age=MAX_AGE, path="/", httponly=True, samesite="lax", secure=secure)


def clear_cookie(response: Response, *, secure: bool) -> None:
    """End the session in the browser."""
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
