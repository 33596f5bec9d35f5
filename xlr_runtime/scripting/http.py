"""``HttpRequest`` and ``HttpResponse``: XL Release's HTTP helpers for scripts, on requests.

Injected into every script and importable as ``from xlrelease.HttpRequest import HttpRequest``. Semantics follow
the XL Release built-in:

* URL: the connection's ``url`` without trailing slashes, ``/`` unless the context starts with one, the context;
  then URL-quoted keeping ``:/?&=%`` as the built-in's ``urllib.quote(url, ':/?&=%')`` (so a space becomes ``%20``
  and an existing ``%2F`` stays). One difference with Python 2: ``~`` stays ``~`` (RFC 3986 unreserved; requests
  would send ``%7E`` as ``~`` anyway, and servers treat both alike).
* ``Content-Type`` and ``Accept`` are both set from ``contentType``; ``headers`` are applied after and win.
* Authentication follows the connection's ``authenticationMethod`` (``None``, ``Basic``, ``Ntlm``, ``PAT``,
  ``OAuth2``; see :mod:`xlr_runtime.scripting.httpauth`); the call's ``username``/``password``/``domain`` replace
  the connection's. A script's own ``Authorization`` header wins over every method.
* A proxy is used when ``proxyHost`` is set (``proxyPort``, ``proxyUsername``, ``proxyPassword``).
* Credentials are masked in everything the script run produces: those of the authentication method, the proxy's,
  and a password written into the connection's ``url`` (``https://user:password@host``).
* Like Apache HttpClient, redirects are followed for GET and HEAD only; other methods return the 3xx response.
* The environment's proxy variables and ``.netrc`` are not used (the connection says what to use);
  ``REQUESTS_CA_BUNDLE`` / ``SSL_CERT_FILE`` still select the CA bundle.

A connection failure (refused, DNS, TLS, reset) raises :class:`HttpConnectionError`, a subclass of ``OSError``
(``IOError``), where XL Release raises a Java ``IOException``: ``except IOError`` and ``except Exception`` both
catch it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from contextlib import suppress
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from xlr_runtime.compat.http_errors import HttpConnectionError, connection_reason
from xlr_runtime.errors import ScriptError
from xlr_runtime.mask import hide

if TYPE_CHECKING:
    import requests
    from requests.auth import AuthBase

#: Methods HttpRequest sends; the body is sent for POST, PUT and PATCH only (as the built-in does).
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD")
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_REDIRECTED = frozenset({"GET", "HEAD"})


class HttpResponse:
    """What an :class:`HttpRequest` call returns: ``status``, ``response`` (the body as text) and ``headers``."""

    def __init__(self, status: int, response: str | None, headers: Mapping[str, str] | Any = None) -> None:
        self.status = status
        self.response = response
        if headers is not None and not isinstance(headers, Mapping):
            # Apache HttpClient Header objects, as a plugin's copy of XL Release's HttpRequest.py passes them
            headers = {str(h.getName()): str(h.getValue()) for h in headers}
        self.headers = Headers(headers or {})

    def getStatus(self) -> int:
        """The HTTP status code."""
        return self.status

    def getResponse(self) -> str | None:
        """The body as text."""
        return self.response

    def getHeaders(self) -> Headers:
        """The response headers: a dict whose lookups ignore case (``'Location' in h``, ``h['location']``)."""
        return self.headers

    def isSuccessful(self) -> bool:
        """True for a status from 200 to 399."""
        return 200 <= self.status < 400

    def errorDump(self) -> None:
        """Print the status, the body and the headers to the task log."""
        print(f"Status: {self.status}")
        print(f"Response: {self.response}")
        print(f"Response headers: {dict(self.headers)}")

    def __repr__(self) -> str:
        return f"<HttpResponse {self.status}>"


class Headers(dict[str, str]):
    """A plain ``dict`` of response headers whose lookups ignore case."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        super().__init__(headers)
        self._lower = {key.lower(): key for key in headers}

    def _key(self, key: object) -> object:
        return self._lower.get(key.lower(), key) if isinstance(key, str) else key

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(self._key(key))  # type: ignore[arg-type]

    def __contains__(self, key: object) -> bool:
        return super().__contains__(self._key(key))

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        """The header's value (any case of ``key``), or ``default``."""
        return super().get(self._key(key), default)  # type: ignore[call-overload]


class HttpRequest:
    """Sends HTTP requests to the server of ``params`` (a CI object or a plain dict with ``url`` and optionally
    ``username``, ``password``, ``domain``, ``authenticationMethod``, ``accessToken``, ``accessTokenUrl``,
    ``clientId``, ``clientSecret``, ``scope``, ``oauth2GrantType``, ``proxyHost``, ``proxyPort``, ``proxyUsername``,
    ``proxyPassword``). ``username``/``password``/``domain`` override the connection's credentials."""

    def __init__(
        self, params: Any, username: str | None = None, password: str | None = None, domain: str | None = None
    ) -> None:
        self.params = params
        self.username = username
        self.password = password
        self.domain = domain
        import requests  # ≈ 60 ms: imported by the first HttpRequest, not by every worker at start

        self._session = requests.Session()
        self._session.trust_env = False
        self._authentication: AuthBase | None = None

    def get(
        self, context: str, body: Any = None, contentType: str | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        """GET ``context`` (a body, if given, is ignored)."""
        return self.doRequest(method="GET", context=context, body=body, contentType=contentType, headers=headers)

    def post(
        self, context: str, body: Any = None, contentType: str | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        """POST ``body`` to ``context``."""
        return self.doRequest(method="POST", context=context, body=body, contentType=contentType, headers=headers)

    def put(
        self, context: str, body: Any = None, contentType: str | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        """PUT ``body`` to ``context``."""
        return self.doRequest(method="PUT", context=context, body=body, contentType=contentType, headers=headers)

    def delete(
        self, context: str, body: Any = None, contentType: str | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        """DELETE ``context`` (a body, if given, is ignored)."""
        return self.doRequest(method="DELETE", context=context, body=body, contentType=contentType, headers=headers)

    def patch(
        self, context: str, body: Any = None, contentType: str | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        """PATCH ``body`` to ``context``."""
        return self.doRequest(method="PATCH", context=context, body=body, contentType=contentType, headers=headers)

    def doRequest(
        self,
        method: str = "GET",
        context: str | None = "",
        body: Any = None,
        contentType: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """Send one request and return its :class:`HttpResponse` (any status; only connection failures raise)."""
        import requests

        prepared = self.prepare(method, context, body, contentType, headers)
        try:
            reply = self._session.send(
                prepared, allow_redirects=prepared.method in _REDIRECTED, proxies=self._proxies(), verify=_ca_bundle()
            )
        except requests.RequestException as exc:
            raise HttpConnectionError(f"{prepared.method} {prepared.url} failed: {connection_reason(exc)}") from None
        return HttpResponse(reply.status_code, reply.text, dict(reply.headers))

    def prepare(
        self, method: str, context: str | None, body: Any, content_type: str | None, headers: Mapping[str, str] | None
    ) -> requests.PreparedRequest:
        """The request :meth:`doRequest` would send (URL, headers, auth and body), without sending it (OAuth2
        fetches its access token here, when no cached one is valid)."""
        verb = str(method or "GET").upper()
        if verb not in METHODS:
            raise ScriptError(f"HttpRequest: unsupported HTTP method {method!r} (use one of {', '.join(METHODS)})")
        request_headers: dict[str, str] = {}
        if content_type is not None:
            request_headers["Content-Type"] = content_type
            request_headers["Accept"] = content_type
        request_headers.update({str(k): str(v) for k, v in (headers or {}).items()})
        import requests

        auth = self._auth()
        if any(name.lower() == "authorization" for name in request_headers):
            auth = None  # the script's own Authorization header (a token) wins
        request = requests.Request(
            verb,
            self.url(context),
            headers=request_headers,
            data=_body(body) if verb in _WITH_BODY else None,
            auth=auth,
        )
        return self._session.prepare_request(request)

    def url(self, context: str | None) -> str:
        """The full, quoted URL of ``context`` on this connection."""
        base = re.sub("/*$", "", str(self._param("url") or ""))
        if not base:
            raise ScriptError("HttpRequest: the connection has no url")
        _hide_url_password(base)
        if context is None:
            full = base
        elif context.startswith("/"):
            full = base + context
        else:
            full = base + "/" + context
        return quote(full, safe=":/?&=%")

    def _param(self, name: str) -> Any:
        params = self.params
        if params is None:
            return None
        try:
            return params.get(name) if isinstance(params, Mapping) else params[name]
        except (KeyError, TypeError):
            return getattr(params, name, None)

    def _auth(self) -> AuthBase | None:
        if self._authentication is None:
            from xlr_runtime.scripting.httpauth import CallCredentials, connection_auth

            call = CallCredentials(
                _optional_text(self.username), _optional_text(self.password), _optional_text(self.domain)
            )
            self._authentication = connection_auth(self._param, call, self._post_form)
        return self._authentication

    def _post_form(self, url: str, form: Mapping[str, str], auth: AuthBase | None) -> requests.Response:
        """POST ``form`` to ``url`` through this connection's proxy (the OAuth2 token request)."""
        import requests

        try:
            return self._session.post(
                url,
                data=dict(form),
                auth=auth,
                headers={"Accept": "application/json"},
                proxies=self._proxies(),
                verify=_ca_bundle(),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise HttpConnectionError(f"POST {url} failed: {connection_reason(exc)}") from None

    def _proxies(self) -> dict[str, str] | None:
        host = self._param("proxyHost")
        if not host:
            return None
        port = self._param("proxyPort")
        user = self._param("proxyUsername")
        credentials = ""
        if user:
            password = self._param("proxyPassword") or ""
            hide(str(password), str(user))
            credentials = f"{quote(str(user), safe='')}:{quote(str(password), safe='')}@"
        address = f"http://{credentials}{host}{f':{port}' if port else ''}"
        return {"http": address, "https": address}


def _hide_url_password(url: str) -> None:
    """Mask the password of a URL's ``user:password@`` (as written and decoded) in the run's output."""
    with suppress(ValueError):  # a URL too broken to split fails when it is sent, with its password masked
        parts = urlsplit(url)
        if parts.password:
            hide(parts.password, parts.username)
            hide(unquote(parts.password), unquote(parts.username or ""))


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _body(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    return str(body).encode("utf-8")


def _ca_bundle() -> str | bool:
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or True
