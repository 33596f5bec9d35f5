"""The authentication methods of ``configuration.HttpConnection``, as :class:`~xlr_runtime.scripting.http.HttpRequest`
applies them.

The connection's ``authenticationMethod`` (XL Release's enum ``HttpConnection$AuthenticationMethod``) is compared
ignoring case. ``HttpRequest(params, username, password, domain)`` credentials, when a username (PAT: a password) is
given, replace the connection's, as in XL Release's own ``HttpRequest.py``:

* ``None``, ``Basic`` or absent: preemptive ``Authorization: Basic`` with the username and password; no username,
  no header (the built-in sends Basic for every method but ``Ntlm``).
* ``Ntlm``: NTLM challenge/response (requests-ntlm on pyspnego) as ``DOMAIN\\username`` with the password; the
  domain goes with the credentials it came with (the call's ``domain`` with the call's username, else the
  connection's ``domain``), as the built-in builds ``NTCredentials``. A username is required.
* ``PAT``: ``Authorization: Bearer <token>``; the token is the call's password, else the connection's
  ``accessToken`` (when its type has one), else the connection's ``password``.
* ``OAuth2``: an access token from ``accessTokenUrl`` (grant ``oauth2GrantType``: ``client_credentials`` by
  default, or ``password`` with the username and password), with ``clientId``/``clientSecret`` and ``scope``;
  then ``Authorization: Bearer <access token>``. The client authenticates with HTTP Basic (RFC 6749 §2.3.1) and,
  if the endpoint answers ``invalid_client``, once more with the credentials in the form body. A token with an
  ``expires_in`` is reused by every ``HttpRequest`` of the worker with the same settings until 30 s before it
  expires, or until a server answers 401 to it (the script sees that 401; the next request fetches a new token).
  The token is masked in everything the script run produces (a cached token too, in every run that uses it).

Every credential a method uses (a password with its username's Basic form, a PAT, a client secret, an access token)
is masked in everything the script run produces, even one the script wrote in its own text.

Any other value, or a method without what it needs, raises :class:`~xlr_runtime.errors.HttpAuthenticationError`
before anything is sent to the server.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from xlr_runtime.errors import HttpAuthenticationError
from xlr_runtime.mask import hide

#: The values of ``authenticationMethod`` HttpRequest supports, as XL Release spells them.
AUTHENTICATION_METHODS = ("None", "Basic", "Ntlm", "PAT", "OAuth2")

#: The OAuth2 grants ``oauth2GrantType`` may name (empty means ``client_credentials``).
OAUTH2_GRANTS = ("client_credentials", "password")

#: A cached OAuth2 token is not used in its last seconds, so it cannot expire on the way to the server.
TOKEN_EXPIRY_MARGIN = 30.0

#: Reads one property of the connection (``None`` when it has none).
Param = Callable[[str], Any]
#: Posts a form to a URL with an optional auth and returns the reply (connection failures raise).
PostForm = Callable[[str, Mapping[str, str], AuthBase | None], requests.Response]


@dataclass(frozen=True)
class CallCredentials:
    """The ``username``, ``password`` and ``domain`` given to ``HttpRequest(...)`` (each may be ``None``)."""

    username: str | None = None
    password: str | None = None
    domain: str | None = None


def connection_auth(param: Param, call: CallCredentials, post: PostForm) -> AuthBase | None:
    """The requests auth for the connection read by ``param`` (``None``: send no credentials).

    Raises :class:`HttpAuthenticationError` for an unsupported method or one that lacks what it needs.
    """
    method = param("authenticationMethod")
    name = _canonical(method)
    if name in ("None", "Basic"):
        return _basic(param, call)
    if name == "Ntlm":
        return _ntlm(method, param, call)
    if name == "PAT":
        return _pat(method, param, call)
    if name == "OAuth2":
        return _oauth2(method, param, call, post)
    raise HttpAuthenticationError(
        method,
        f"is not supported by xlr-runtime (supported: {', '.join(AUTHENTICATION_METHODS)}); "
        "send the credentials yourself with headers={'Authorization': ...}",
    )


class BearerAuth(AuthBase):
    """``Authorization: Bearer <token>`` (RFC 6750) on every request."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


class OAuth2Auth(AuthBase):
    """``Authorization: Bearer <access token>``, the token fetched from the token endpoint when first needed."""

    def __init__(
        self, method: object, token_url: str, client_id: str, client_secret: str, grant: dict[str, str], post: PostForm
    ) -> None:
        self.method = method
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.grant = grant
        self._post = post
        self._token: _Token | None = None
        self._key = hashlib.sha256(json.dumps([token_url, client_id, client_secret, grant]).encode()).hexdigest()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.access_token()}"
        request.register_hook("response", self._forget_if_refused)
        return request

    def _forget_if_refused(self, response: requests.Response, **_: Any) -> requests.Response:
        """A 401 means the token is no longer good (revoked early): the next request fetches a new one."""
        if response.status_code == 401:
            self._token = None
            _TOKENS.pop(self._key, None)
        return response

    def access_token(self) -> str:
        """A valid access token: this request's, else one cached in the worker, else a new one."""
        now = time.monotonic()
        for token in (self._token, _TOKENS.get(self._key)):
            if token is not None and token.valid_until > now:
                self._token = token
                hide(token.value)  # fetched by an earlier run of this worker: masked in this run too
                return token.value
        self._token = self._fetch(now)
        if self._token.valid_until != float("inf"):
            _TOKENS[self._key] = self._token
        return self._token.value

    def _fetch(self, now: float) -> _Token:
        if self.client_secret:
            basic = HTTPBasicAuth(quote_plus(self.client_id), quote_plus(self.client_secret))
            reply = self._post(self.token_url, self.grant, basic)
            if _invalid_client(reply):  # the endpoint wants the client's credentials in the body
                reply = self._post(self.token_url, {**self.grant, **self._client_form()}, None)
        else:
            reply = self._post(self.token_url, {**self.grant, **self._client_form()}, None)
        body = _json_object(reply)
        value = body.get("access_token")
        if reply.status_code != 200 or not isinstance(value, str) or not value:
            raise HttpAuthenticationError(
                self.method, f"got no access token from {self.token_url}: {_why(reply, body)}"
            )
        hide(value)
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if _is_number(expires_in) else None
        valid_until = float("inf") if lifetime is None else now + lifetime - TOKEN_EXPIRY_MARGIN
        return _Token(value, valid_until)

    def _client_form(self) -> dict[str, str]:
        form = {"client_id": self.client_id}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        return form


@dataclass(frozen=True)
class _Token:
    value: str
    valid_until: float  # time.monotonic() after which it is not used; inf: only by the HttpRequest that fetched it


#: OAuth2 tokens with a known lifetime, shared by the HttpRequests of this worker process (keyed by a hash of the
#: token URL, client and grant: no secret is kept in clear as a key).
_TOKENS: dict[str, _Token] = {}


def _canonical(method: object) -> str | None:
    text = str(method or "").strip().lower()
    if text == "":
        return "None"
    return next((name for name in AUTHENTICATION_METHODS if name.lower() == text), None)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _basic(param: Param, call: CallCredentials) -> AuthBase | None:
    if call.username:
        username, password = call.username, _text(call.password)
    elif param("username"):
        username, password = str(param("username")), _text(param("password"))
    else:
        return None
    hide(password, username)  # a server that echoes the Authorization header shows ********
    return HTTPBasicAuth(username, password)


def _ntlm(method: object, param: Param, call: CallCredentials) -> AuthBase:
    if call.username:
        username, password, domain = call.username, call.password, call.domain
    else:
        username, password, domain = param("username"), param("password"), param("domain")
    if not username:
        raise HttpAuthenticationError(method, "needs a username (the connection's or the call's)")
    user = f"{domain}\\{username}" if domain else str(username)
    hide(_text(password))
    from requests_ntlm import HttpNtlmAuth  # the NTLM/SPNEGO stack costs ~150 ms: only for a connection using it

    return HttpNtlmAuth(user, _text(password))


def _pat(method: object, param: Param, call: CallCredentials) -> AuthBase:
    token = call.password or param("accessToken") or param("password")
    if not token:
        raise HttpAuthenticationError(
            method, "needs a token: the call's password, or the connection's accessToken or password"
        )
    hide(str(token))
    return BearerAuth(str(token))


def _oauth2(method: object, param: Param, call: CallCredentials, post: PostForm) -> AuthBase:
    token_url, client_id = _text(param("accessTokenUrl")), _text(param("clientId"))
    if not token_url or not client_id:
        raise HttpAuthenticationError(method, "needs accessTokenUrl and clientId on the connection")
    grant_type = _text(param("oauth2GrantType")).strip() or "client_credentials"
    if grant_type not in OAUTH2_GRANTS:
        raise HttpAuthenticationError(
            method, f"does not support oauth2GrantType {grant_type!r} (supported: {', '.join(OAUTH2_GRANTS)})"
        )
    grant = {"grant_type": grant_type}
    if grant_type == "password":
        username, password = (call.username, call.password) if call.username else (param("username"), param("password"))
        if not username:
            raise HttpAuthenticationError(
                method, "with grant password needs a username (the connection's or the call's)"
            )
        grant.update(username=str(username), password=_text(password))
        hide(_text(password), str(username))
    scope = _text(param("scope")).strip()
    if scope:
        grant["scope"] = scope
    hide(_text(param("clientSecret")))
    return OAuth2Auth(method, token_url, client_id, _text(param("clientSecret")), grant, post)


def _json_object(reply: requests.Response) -> dict[str, Any]:
    try:
        body = reply.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _invalid_client(reply: requests.Response) -> bool:
    return reply.status_code in (400, 401) and _json_object(reply).get("error") in ("invalid_client", None)


def _why(reply: requests.Response, body: Mapping[str, Any]) -> str:
    if reply.status_code == 200:
        return "the reply has no access_token"
    error = body.get("error")
    description = body.get("error_description")
    why = f"HTTP {reply.status_code}" + (f" {error}" if error else "") + (f" ({description})" if description else "")
    return " ".join(why.split())[:300]


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
