"""``org.apache.http`` (Apache HttpClient 4.x): the subset plugins use for plain HTTP, sent with requests.

Plugins reach HttpClient directly, or through the copy of XL Release's own ``HttpRequest.py`` they ship
(``httputil/HttpRequest.py``)::

    client = HttpClients.createDefault()            # or HttpClients.custom()...build(), HttpClientBuilder.create()
    request = HttpPost(url)
    request.setEntity(StringEntity(body, ContentType.APPLICATION_JSON))
    request.addHeader("Accept", "application/json")
    response = client.execute(request)               # or execute(request, context), execute(HttpHost, request)
    status = response.getStatusLine().getStatusCode()
    text = EntityUtils.toString(response.getEntity(), "UTF-8")
    response.close(); client.close()

What HttpClient does and this does too: ``StringEntity(text)`` is ``text/plain`` in ISO-8859-1 (a character it
cannot encode becomes ``?``); an entity's type is sent only when the request has no ``Content-Type`` header;
``EntityUtils.toString`` decodes with the response's charset, else the one given, else UTF-8 for JSON, else
ISO-8859-1; redirects are followed for GET and HEAD only; credentials of a ``BasicCredentialsProvider`` are
sent when a server asks (``401`` with a ``Basic`` challenge; ``NTCredentials``: NTLM), and proxy credentials to
the proxy; ``RequestConfig`` sets the proxy and the connect/socket timeouts (milliseconds). Responses come back
decompressed. A connection failure raises ``IOException`` (``OSError``): ``GET http://x failed: Connection
refused``. Passwords of the credentials and of a script's own ``Authorization: Basic`` header are masked in the
run's output. Not served: TLS customisation (``SSLContext``, trust strategies), connection managers, Digest and
Kerberos authentication, cookies stores, async clients.

:data:`JAVA_PACKAGES` lists the classes of each Java package served from this module.
"""

from __future__ import annotations

import base64
import binascii
import http
import io
import os
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode, urlsplit

from xlr_runtime.compat.http_errors import HttpConnectionError, connection_reason
from xlr_runtime.compat.shims.apache_http_packages import JAVA_PACKAGES as JAVA_PACKAGES  # read by the shim finder
from xlr_runtime.mask import hide

_NO_BODY_STATUSES = frozenset({204, 205, 304})
_USER_AGENT = "Apache-HttpClient/4.5 (xlr-runtime)"


class HTTP:
    """``org.apache.http.protocol.HTTP``: header names and charsets."""

    CONTENT_TYPE = "Content-Type"
    CONTENT_LEN = "Content-Length"
    CONTENT_ENCODING = "Content-Encoding"
    TRANSFER_ENCODING = "Transfer-Encoding"
    USER_AGENT = "User-Agent"
    TARGET_HOST = "Host"
    CONN_DIRECTIVE = "Connection"
    CONN_KEEP_ALIVE = "Keep-Alive"
    EXPECT_DIRECTIVE = "Expect"
    UTF_8 = "UTF-8"
    ISO_8859_1 = "ISO-8859-1"
    US_ASCII = "US-ASCII"
    DEFAULT_CONTENT_CHARSET = "ISO-8859-1"
    PLAIN_TEXT_TYPE = "text/plain"
    OCTET_STREAM_TYPE = "application/octet-stream"


class HttpStatus:
    """``org.apache.http.HttpStatus``: ``SC_OK``, ``SC_NOT_FOUND`` … (every status Python knows, by Java's names)."""


for _status in http.HTTPStatus:
    setattr(HttpStatus, f"SC_{_status.name}", _status.value)
for _java_name, _code in {
    "SC_MOVED_TEMPORARILY": 302,
    "SC_REQUEST_TOO_LONG": 413,
    "SC_REQUEST_URI_TOO_LONG": 414,
    "SC_INSUFFICIENT_SPACE_ON_RESOURCE": 419,
    "SC_METHOD_FAILURE": 420,
}.items():
    setattr(HttpStatus, _java_name, _code)


class ClientProtocolException(OSError):
    """``org.apache.http.client.ClientProtocolException`` (an ``IOException``)."""


class HttpHost:
    """``HttpHost(hostname, port=-1, scheme="http")``: a server or a proxy."""

    def __init__(self, hostname: str, port: int = -1, scheme: str = "http") -> None:
        self.hostname = str(hostname)
        self.port = int(port) if port is not None else -1
        self.scheme = str(scheme or "http").lower()

    def getHostName(self) -> str:
        return self.hostname

    def getPort(self) -> int:
        return self.port

    def getSchemeName(self) -> str:
        return self.scheme

    def toURI(self) -> str:
        """``http://host:port`` (no port when it is -1)."""
        return f"{self.scheme}://{self.hostname}" + (f":{self.port}" if self.port >= 0 else "")

    toHostString = toURI

    def __str__(self) -> str:
        return self.toURI()

    toString = __str__


class Header:
    """A header (``BasicHeader(name, value)``): ``getName()``, ``getValue()``; prints as ``Name: value``."""

    def __init__(self, name: str, value: Any) -> None:
        self.name = str(name)
        self.value = None if value is None else str(value)

    def getName(self) -> str:
        return self.name

    def getValue(self) -> str | None:
        return self.value

    def __str__(self) -> str:
        return f"{self.name}: {self.value if self.value is not None else ''}"

    toString = __str__

    def __repr__(self) -> str:
        return f"Header({self.name!r}, {self.value!r})"


BasicHeader = Header


class BasicNameValuePair:
    """``BasicNameValuePair(name, value)`` (a form field for :class:`UrlEncodedFormEntity`)."""

    def __init__(self, name: str, value: Any) -> None:
        self.name = str(name)
        self.value = None if value is None else str(value)

    def getName(self) -> str:
        return self.name

    def getValue(self) -> str | None:
        return self.value

    def __str__(self) -> str:
        return self.name if self.value is None else f"{self.name}={self.value}"


NameValuePair = BasicNameValuePair


class ContentType:
    """``ContentType``: a MIME type and its charset; the constants (``APPLICATION_JSON`` is UTF-8, the text
    types ISO-8859-1, as in HttpClient), ``create(mime, charset)``, ``parse(text)``, ``getByMimeType``."""

    APPLICATION_JSON: ContentType
    APPLICATION_XML: ContentType
    APPLICATION_FORM_URLENCODED: ContentType
    APPLICATION_OCTET_STREAM: ContentType
    MULTIPART_FORM_DATA: ContentType
    TEXT_PLAIN: ContentType
    TEXT_HTML: ContentType
    TEXT_XML: ContentType
    WILDCARD: ContentType
    DEFAULT_TEXT: ContentType
    DEFAULT_BINARY: ContentType

    def __init__(self, mime_type: str, charset: str | None = None) -> None:
        self.mime_type = str(mime_type)
        self.charset = None if charset is None else str(charset)

    @staticmethod
    def create(mime_type: str, charset: Any = None) -> ContentType:
        """A content type; ``charset`` as a name (``"UTF-8"``)."""
        return ContentType(mime_type, None if charset is None else str(charset))

    @staticmethod
    def parse(text: str) -> ContentType:
        """``text/plain; charset=UTF-8`` as a content type."""
        mime, _, rest = str(text).partition(";")
        charset = None
        for parameter in rest.split(";"):
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip('"')
        return ContentType(mime.strip(), charset)

    @staticmethod
    def getByMimeType(mime_type: str) -> ContentType | None:
        """The constant for ``mime_type`` (``application/json`` -> UTF-8), or None."""
        return _BY_MIME.get(str(mime_type).lower())

    def getMimeType(self) -> str:
        return self.mime_type

    def getCharset(self) -> str | None:
        """The charset's name, or None."""
        return self.charset

    def withCharset(self, charset: Any) -> ContentType:
        return ContentType(self.mime_type, str(charset))

    def __str__(self) -> str:
        return self.mime_type + (f"; charset={self.charset}" if self.charset else "")

    toString = __str__


ContentType.APPLICATION_JSON = ContentType("application/json", "UTF-8")
ContentType.APPLICATION_XML = ContentType("application/xml", "ISO-8859-1")
ContentType.APPLICATION_FORM_URLENCODED = ContentType("application/x-www-form-urlencoded", "ISO-8859-1")
ContentType.APPLICATION_OCTET_STREAM = ContentType("application/octet-stream")
ContentType.MULTIPART_FORM_DATA = ContentType("multipart/form-data", "ISO-8859-1")
ContentType.TEXT_PLAIN = ContentType("text/plain", "ISO-8859-1")
ContentType.TEXT_HTML = ContentType("text/html", "ISO-8859-1")
ContentType.TEXT_XML = ContentType("text/xml", "ISO-8859-1")
ContentType.WILDCARD = ContentType("*/*")
ContentType.DEFAULT_TEXT = ContentType.TEXT_PLAIN
ContentType.DEFAULT_BINARY = ContentType.APPLICATION_OCTET_STREAM
_BY_MIME = {
    constant.mime_type: constant
    for constant in (
        ContentType.APPLICATION_JSON,
        ContentType.APPLICATION_XML,
        ContentType.APPLICATION_FORM_URLENCODED,
        ContentType.APPLICATION_OCTET_STREAM,
        ContentType.MULTIPART_FORM_DATA,
        ContentType.TEXT_PLAIN,
        ContentType.TEXT_HTML,
        ContentType.TEXT_XML,
        ContentType.WILDCARD,
    )
}


class HttpEntity:
    """A body (``HttpEntity``): ``getContent()`` (a byte stream), ``getContentLength()``, ``getContentType()``
    and ``getContentEncoding()`` (headers, or None)."""

    def __init__(self, content: bytes, content_type: ContentType | None = None, encoding: str | None = None) -> None:
        self._content = bytes(content)
        self._type = content_type
        self._encoding = encoding

    def getContent(self) -> io.BytesIO:
        return io.BytesIO(self._content)

    def getContentLength(self) -> int:
        return len(self._content)

    def getContentType(self) -> Header | None:
        return Header("Content-Type", str(self._type)) if self._type is not None else None

    def setContentType(self, content_type: Any) -> None:
        self._type = None if content_type is None else ContentType.parse(str(content_type))

    def getContentEncoding(self) -> Header | None:
        return Header("Content-Encoding", self._encoding) if self._encoding else None

    def setContentEncoding(self, encoding: Any) -> None:
        self._encoding = None if encoding is None else str(encoding)

    def isRepeatable(self) -> bool:
        return True

    def isStreaming(self) -> bool:
        return False

    def isChunked(self) -> bool:
        return False

    def writeTo(self, stream: Any) -> None:
        stream.write(self._content)

    def consumeContent(self) -> None:
        """Nothing to release."""

    def content_type(self) -> ContentType | None:
        """The entity's content type (for :class:`EntityUtils`)."""
        return self._type


class StringEntity(HttpEntity):
    """``StringEntity(text)`` (``text/plain``, ISO-8859-1), ``StringEntity(text, "UTF-8")`` (``text/plain`` in
    that charset) or ``StringEntity(text, ContentType.APPLICATION_JSON)``."""

    def __init__(self, text: Any, content_type: Any = None, charset: Any = None) -> None:
        if isinstance(content_type, ContentType):
            kind = content_type
        elif content_type is not None and charset is not None:  # StringEntity(text, mimeType, charset)
            kind = ContentType(str(content_type), str(charset))
        elif content_type is not None:
            kind = ContentType("text/plain", str(content_type))
        else:
            kind = ContentType.DEFAULT_TEXT
        encoding = kind.charset or "ISO-8859-1"
        super().__init__(str(text).encode(_codec(encoding), errors="replace"), kind)


class ByteArrayEntity(HttpEntity):
    """``ByteArrayEntity(bytes[, ContentType])``."""

    def __init__(self, data: Any, content_type: ContentType | None = None) -> None:
        super().__init__(bytes(data), content_type)


class UrlEncodedFormEntity(HttpEntity):
    """``UrlEncodedFormEntity(pairs[, charset])``: ``a=1&b=x+y`` as ``application/x-www-form-urlencoded``."""

    def __init__(self, pairs: Iterable[Any], charset: Any = "ISO-8859-1") -> None:
        encoding = str(charset or "ISO-8859-1")
        fields = [(pair.getName(), pair.getValue() or "") for pair in pairs]
        body = urlencode(fields, encoding=_codec(encoding), errors="replace")
        super().__init__(body.encode("ascii"), ContentType("application/x-www-form-urlencoded", encoding))


class EntityUtils:
    """``EntityUtils``: ``toString(entity[, defaultCharset])``, ``toByteArray``, ``consume``."""

    @staticmethod
    def toString(entity: HttpEntity | None, defaultCharset: Any = None) -> str:
        """The body as text, decoded with its charset, else ``defaultCharset``, else the MIME type's (UTF-8 for
        JSON), else ISO-8859-1; raises ``ValueError`` (Java's ``IllegalArgumentException``) for no entity."""
        if entity is None:
            raise ValueError("Entity may not be null")
        kind = entity.content_type()
        charset = kind.charset if kind is not None else None
        if charset is None and defaultCharset is not None:
            charset = str(defaultCharset)
        if charset is None and kind is not None:
            known = ContentType.getByMimeType(kind.mime_type)
            charset = known.charset if known is not None else None
        data = entity.getContent().read()
        return data.decode(_codec(charset or "ISO-8859-1"), errors="replace")

    @staticmethod
    def toByteArray(entity: HttpEntity | None) -> bytes:
        """The body's bytes."""
        if entity is None:
            raise ValueError("Entity may not be null")
        return entity.getContent().read()

    @staticmethod
    def getContentCharSet(entity: HttpEntity | None) -> str | None:
        """The charset the entity declares, or None."""
        kind = entity.content_type() if entity is not None else None
        return kind.charset if kind is not None else None

    @staticmethod
    def consume(entity: HttpEntity | None) -> None:
        """Nothing to release: bodies are read whole."""

    consumeQuietly = consume
    updateEntity = staticmethod(lambda response, entity: response.setEntity(entity))


def _codec(charset: str) -> str:
    """Java's charset name as Python's codec (``ISO-8859-1`` -> ``latin-1``); an unknown one is UTF-8."""
    import codecs

    try:
        return codecs.lookup(charset).name
    except LookupError:
        return "utf-8"


class HttpRequestBase:
    """A request (``HttpGet(url)`` …): headers (``addHeader``, ``setHeader``, ``getFirstHeader``,
    ``getAllHeaders``, ``removeHeaders``), ``setConfig(RequestConfig)``, ``getURI()``, ``getMethod()``."""

    METHOD_NAME = "GET"

    def __init__(self, uri: Any = None) -> None:
        self._uri = None if uri is None else str(uri)
        self._headers: list[Header] = []
        self._config: RequestConfig | None = None

    def getMethod(self) -> str:
        return self.METHOD_NAME

    def getURI(self) -> Any:
        from xlr_runtime.compat.shims.java_net import URI

        return URI(self._uri or "")

    def setURI(self, uri: Any) -> None:
        self._uri = str(uri)

    def url(self) -> str:
        """The request's URI as text."""
        return self._uri or ""

    def addHeader(self, name: Any, value: Any = None) -> None:
        """Add a header (``addHeader(name, value)`` or ``addHeader(header)``); a name may repeat."""
        self._headers.append(name if isinstance(name, Header) else Header(name, value))

    def setHeader(self, name: Any, value: Any = None) -> None:
        """Replace every header of that name with this one."""
        header = name if isinstance(name, Header) else Header(name, value)
        self.removeHeaders(header.name)
        self._headers.append(header)

    def setHeaders(self, headers: Iterable[Header]) -> None:
        self._headers = list(headers)

    def getFirstHeader(self, name: str) -> Header | None:
        return next((h for h in self._headers if h.name.lower() == str(name).lower()), None)

    def getLastHeader(self, name: str) -> Header | None:
        return next((h for h in reversed(self._headers) if h.name.lower() == str(name).lower()), None)

    def getHeaders(self, name: str) -> list[Header]:
        return [h for h in self._headers if h.name.lower() == str(name).lower()]

    def getAllHeaders(self) -> list[Header]:
        return list(self._headers)

    def containsHeader(self, name: str) -> bool:
        return self.getFirstHeader(name) is not None

    def removeHeaders(self, name: str) -> None:
        self._headers = [h for h in self._headers if h.name.lower() != str(name).lower()]

    def removeHeader(self, header: Header) -> None:
        self._headers = [h for h in self._headers if h is not header]

    def setConfig(self, config: RequestConfig | None) -> None:
        self._config = config

    def getConfig(self) -> RequestConfig | None:
        return self._config

    def body(self) -> HttpEntity | None:
        """The entity to send (none for requests without one)."""
        return None

    def releaseConnection(self) -> None:
        """Nothing to release: each response is read whole."""

    abort = reset = releaseConnection

    def __str__(self) -> str:
        return f"{self.METHOD_NAME} {self._uri} HTTP/1.1"

    toString = __str__


class HttpEntityEnclosingRequestBase(HttpRequestBase):
    """A request with a body: ``setEntity``/``getEntity``."""

    def __init__(self, uri: Any = None) -> None:
        super().__init__(uri)
        self._entity: HttpEntity | None = None

    def setEntity(self, entity: HttpEntity | None) -> None:
        self._entity = entity

    def getEntity(self) -> HttpEntity | None:
        return self._entity

    def body(self) -> HttpEntity | None:
        return self._entity


class HttpGet(HttpRequestBase):
    """``HttpGet(url)``."""

    METHOD_NAME = "GET"


class HttpHead(HttpRequestBase):
    """``HttpHead(url)``."""

    METHOD_NAME = "HEAD"


class HttpDelete(HttpRequestBase):
    """``HttpDelete(url)``."""

    METHOD_NAME = "DELETE"


class HttpOptions(HttpRequestBase):
    """``HttpOptions(url)``."""

    METHOD_NAME = "OPTIONS"


class HttpPost(HttpEntityEnclosingRequestBase):
    """``HttpPost(url)``."""

    METHOD_NAME = "POST"


class HttpPut(HttpEntityEnclosingRequestBase):
    """``HttpPut(url)``."""

    METHOD_NAME = "PUT"


class HttpPatch(HttpEntityEnclosingRequestBase):
    """``HttpPatch(url)``."""

    METHOD_NAME = "PATCH"


class AuthSchemes:
    """``org.apache.http.client.config.AuthSchemes``."""

    BASIC = "Basic"
    DIGEST = "Digest"
    NTLM = "NTLM"
    SPNEGO = "Negotiate"
    KERBEROS = "Kerberos"


class RequestConfig:
    """``RequestConfig.custom().setProxy(host).setConnectTimeout(ms).setSocketTimeout(ms).build()``; also
    ``setConnectionRequestTimeout``, ``setRedirectsEnabled``, ``setAuthenticationEnabled``,
    ``setTargetPreferredAuthSchemes``/``setProxyPreferredAuthSchemes`` and ``setCookieSpec`` (accepted; cookies
    are not kept between requests anyway). ``RequestConfig.copy(config)`` starts from another one."""

    DEFAULT: RequestConfig

    def __init__(self, **values: Any) -> None:
        self.proxy: HttpHost | None = values.get("proxy")
        self.connect_timeout: int = values.get("connect_timeout", -1)
        self.socket_timeout: int = values.get("socket_timeout", -1)
        self.connection_request_timeout: int = values.get("connection_request_timeout", -1)
        self.redirects_enabled: bool = values.get("redirects_enabled", True)
        self.authentication_enabled: bool = values.get("authentication_enabled", True)
        self.values = values

    @staticmethod
    def custom() -> _RequestConfigBuilder:
        return _RequestConfigBuilder({})

    @staticmethod
    def copy(config: RequestConfig) -> _RequestConfigBuilder:
        return _RequestConfigBuilder(dict(config.values))

    def getProxy(self) -> HttpHost | None:
        return self.proxy

    def getConnectTimeout(self) -> int:
        return self.connect_timeout

    def getSocketTimeout(self) -> int:
        return self.socket_timeout

    def getConnectionRequestTimeout(self) -> int:
        return self.connection_request_timeout

    def isRedirectsEnabled(self) -> bool:
        return self.redirects_enabled

    def isAuthenticationEnabled(self) -> bool:
        return self.authentication_enabled


class _RequestConfigBuilder:
    _SETTERS = {
        "setProxy": "proxy",
        "setConnectTimeout": "connect_timeout",
        "setSocketTimeout": "socket_timeout",
        "setConnectionRequestTimeout": "connection_request_timeout",
        "setRedirectsEnabled": "redirects_enabled",
        "setAuthenticationEnabled": "authentication_enabled",
        "setTargetPreferredAuthSchemes": "target_schemes",
        "setProxyPreferredAuthSchemes": "proxy_schemes",
        "setCookieSpec": "cookie_spec",
        "setExpectContinueEnabled": "expect_continue",
        "setMaxRedirects": "max_redirects",
        "setCircularRedirectsAllowed": "circular_redirects",
        "setRelativeRedirectsAllowed": "relative_redirects",
        "setContentCompressionEnabled": "compression",
    }

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        field = self._SETTERS.get(name)
        if field is None:
            raise AttributeError(f"RequestConfig.Builder.{name} is not supported by xlr-runtime")

        def setter(value: Any) -> _RequestConfigBuilder:
            self._values[field] = value
            return self

        return setter

    def build(self) -> RequestConfig:
        return RequestConfig(**self._values)


RequestConfig.DEFAULT = RequestConfig()


class AuthScope:
    """``AuthScope(host, port)`` (``AuthScope.ANY``: every host and port) for a credentials provider."""

    ANY_HOST: str | None = None
    ANY_PORT = -1
    ANY_REALM: str | None = None
    ANY_SCHEME: str | None = None
    ANY: AuthScope

    def __init__(self, host: Any = None, port: Any = -1, realm: Any = None, scheme: Any = None) -> None:
        if isinstance(host, HttpHost):
            host, port = host.hostname, host.port
        self.host = None if host is None else str(host).lower()
        self.port = -1 if port is None else int(port)
        self.realm = realm
        self.scheme = scheme

    def getHost(self) -> str | None:
        return self.host

    def getPort(self) -> int:
        return self.port

    def match(self, host: str, port: int) -> int:
        """How well this scope covers ``host:port`` (-1: not at all), as HttpClient scores it."""
        score = 0
        if self.host is not None:
            if self.host != host.lower():
                return -1
            score += 4
        if self.port >= 0:
            if self.port != port:
                return -1
            score += 2
        return score


AuthScope.ANY = AuthScope()


class UsernamePasswordCredentials:
    """``UsernamePasswordCredentials(user, password)`` or ``("user:password")``; the password is masked."""

    def __init__(self, username: Any, password: Any = None) -> None:
        if password is None and username is not None and ":" in str(username):
            username, password = str(username).split(":", 1)
        self.username = None if username is None else str(username)
        self.password = None if password is None else str(password)
        if self.password:
            hide(self.password, self.username)

    def getUserName(self) -> str | None:
        return self.username

    def getPassword(self) -> str | None:
        return self.password


class NTCredentials(UsernamePasswordCredentials):
    """``NTCredentials(user, password, workstation, domain)``: NTLM, as ``DOMAIN\\user``."""

    def __init__(self, username: Any, password: Any = None, workstation: Any = None, domain: Any = None) -> None:
        super().__init__(username, password if password is not None else "")
        self.workstation = workstation
        self.domain = None if domain is None else str(domain)

    def getDomain(self) -> str | None:
        return self.domain

    def getWorkstation(self) -> str | None:
        return self.workstation


class BasicCredentialsProvider:
    """``setCredentials(AuthScope, credentials)``; the best-matching scope's credentials are used."""

    def __init__(self) -> None:
        self._entries: list[tuple[AuthScope, UsernamePasswordCredentials]] = []

    def setCredentials(self, scope: AuthScope, credentials: UsernamePasswordCredentials | None) -> None:
        self._entries = [(s, c) for s, c in self._entries if vars(s) != vars(scope)]
        if credentials is not None:
            self._entries.append((scope, credentials))

    def getCredentials(self, scope: AuthScope) -> UsernamePasswordCredentials | None:
        return self.lookup(scope.host or "", scope.port)

    def lookup(self, host: str, port: int) -> UsernamePasswordCredentials | None:
        """The credentials whose scope matches ``host:port`` best."""
        scored = [(scope.match(host, port), credentials) for scope, credentials in self._entries]
        matching = [item for item in scored if item[0] >= 0]
        return max(matching, key=lambda item: item[0])[1] if matching else None

    def clear(self) -> None:
        self._entries = []


class BasicHttpContext:
    """``BasicHttpContext``/``HttpContext``: attributes (``setAttribute``/``getAttribute``)."""

    def __init__(self, parent: Any = None) -> None:
        self._attributes: dict[str, Any] = {}
        self._parent = parent

    def setAttribute(self, name: str, value: Any) -> None:
        self._attributes[str(name)] = value

    def getAttribute(self, name: str) -> Any:
        if name in self._attributes:
            return self._attributes[name]
        return self._parent.getAttribute(name) if self._parent is not None else None

    def removeAttribute(self, name: str) -> Any:
        return self._attributes.pop(str(name), None)


HttpContext = BasicHttpContext


class HttpClientContext(BasicHttpContext):
    """``HttpClientContext.create()``; ``setCredentialsProvider``, ``setRequestConfig``."""

    CREDS_PROVIDER = "http.auth.credentials-provider"
    REQUEST_CONFIG = "http.request-config"

    @staticmethod
    def create() -> HttpClientContext:
        return HttpClientContext()

    @staticmethod
    def adapt(context: BasicHttpContext) -> HttpClientContext:
        adapted = HttpClientContext()
        adapted._attributes = context._attributes
        return adapted

    def setCredentialsProvider(self, provider: BasicCredentialsProvider) -> None:
        self.setAttribute(self.CREDS_PROVIDER, provider)

    def getCredentialsProvider(self) -> BasicCredentialsProvider | None:
        return self.getAttribute(self.CREDS_PROVIDER)

    def setRequestConfig(self, config: RequestConfig) -> None:
        self.setAttribute(self.REQUEST_CONFIG, config)

    def getRequestConfig(self) -> RequestConfig | None:
        return self.getAttribute(self.REQUEST_CONFIG)


class StatusLine:
    """``response.getStatusLine()``: ``getStatusCode()``, ``getReasonPhrase()``, ``getProtocolVersion()``."""

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason

    def getStatusCode(self) -> int:
        return self.code

    def getReasonPhrase(self) -> str:
        return self.reason

    def getProtocolVersion(self) -> str:
        return "HTTP/1.1"

    def __str__(self) -> str:
        return f"HTTP/1.1 {self.code} {self.reason}"

    toString = __str__


class CloseableHttpResponse:
    """What ``client.execute`` returns: ``getStatusLine()``, ``getEntity()`` (None for HEAD, 204, 304),
    headers (``getAllHeaders()``, ``getFirstHeader(name)`` …) and ``close()``."""

    def __init__(self, code: int, reason: str, headers: list[Header], entity: HttpEntity | None) -> None:
        self._status = StatusLine(code, reason)
        self._headers = headers
        self._entity = entity

    def getStatusLine(self) -> StatusLine:
        return self._status

    def getEntity(self) -> HttpEntity | None:
        return self._entity

    def setEntity(self, entity: HttpEntity | None) -> None:
        self._entity = entity

    def getAllHeaders(self) -> list[Header]:
        return list(self._headers)

    def getHeaders(self, name: str) -> list[Header]:
        return [h for h in self._headers if h.name.lower() == str(name).lower()]

    def getFirstHeader(self, name: str) -> Header | None:
        return next(iter(self.getHeaders(name)), None)

    def getLastHeader(self, name: str) -> Header | None:
        found = self.getHeaders(name)
        return found[-1] if found else None

    def containsHeader(self, name: str) -> bool:
        return bool(self.getHeaders(name))

    def close(self) -> None:
        """Nothing to release: the body was read whole."""


class HttpClientBuilder:
    """``HttpClients.custom()`` / ``HttpClientBuilder.create()``: ``setDefaultRequestConfig``,
    ``setDefaultCredentialsProvider``, ``setProxy``, ``setUserAgent``, ``setDefaultHeaders``,
    ``disableRedirectHandling``, ``useSystemProperties`` (the environment's proxy settings), ``build()``.
    Anything else (TLS contexts, connection managers) raises, naming the method."""

    def __init__(self) -> None:
        self._config = RequestConfig.DEFAULT
        self._credentials: BasicCredentialsProvider | None = None
        self._proxy: HttpHost | None = None
        self._user_agent = _USER_AGENT
        self._headers: list[Header] = []
        self._redirects = True
        self._system = False

    @staticmethod
    def create() -> HttpClientBuilder:
        return HttpClientBuilder()

    def setDefaultRequestConfig(self, config: RequestConfig) -> HttpClientBuilder:
        self._config = config
        return self

    def setDefaultCredentialsProvider(self, provider: BasicCredentialsProvider) -> HttpClientBuilder:
        self._credentials = provider
        return self

    def setProxy(self, proxy: HttpHost) -> HttpClientBuilder:
        self._proxy = proxy
        return self

    def setUserAgent(self, agent: str) -> HttpClientBuilder:
        self._user_agent = str(agent)
        return self

    def setDefaultHeaders(self, headers: Iterable[Header]) -> HttpClientBuilder:
        self._headers = list(headers)
        return self

    def disableRedirectHandling(self) -> HttpClientBuilder:
        self._redirects = False
        return self

    def useSystemProperties(self) -> HttpClientBuilder:
        self._system = True
        return self

    def _ignored(self) -> HttpClientBuilder:
        return self

    disableAutomaticRetries = disableCookieManagement = disableContentCompression = _ignored
    disableConnectionState = disableAuthCaching = _ignored

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("set", "disable", "use", "add", "evict")):
            raise AttributeError(f"HttpClientBuilder.{name} is not supported by xlr-runtime")
        raise AttributeError(name)

    def build(self) -> CloseableHttpClient:
        client = CloseableHttpClient()
        client.configure(self)
        return client


class CloseableHttpClient:
    """``execute(request)``, ``execute(request, context)``, ``execute(HttpHost, request[, context])`` and
    ``execute(request, responseHandler)`` (an object with ``handleResponse(response)``); ``close()``."""

    def __init__(self) -> None:
        self._builder = HttpClientBuilder()
        self._session: Any = None

    def configure(self, builder: HttpClientBuilder) -> None:
        self._builder = builder

    def execute(self, *args: Any) -> Any:
        target = args[0] if args and isinstance(args[0], HttpHost) else None
        rest = list(args[1:] if target is not None else args)
        if not rest or not isinstance(rest[0], HttpRequestBase):
            raise TypeError("execute() needs an HttpGet, HttpPost … request")
        request, extra = rest[0], rest[1] if len(rest) > 1 else None
        handler = extra if extra is not None and hasattr(extra, "handleResponse") else None
        context = extra if handler is None else (rest[2] if len(rest) > 2 else None)
        response = self._send(request, target, context)
        if handler is None:
            return response
        try:
            return handler.handleResponse(response)
        finally:
            response.close()

    def _send(self, request: HttpRequestBase, target: HttpHost | None, context: Any) -> CloseableHttpResponse:
        import requests

        builder = self._builder
        url = request.url()
        if target is not None and not urlsplit(url).scheme:
            url = target.toURI() + ("" if url.startswith("/") else "/") + url
        parts = urlsplit(url)
        host, port = (parts.hostname or ""), parts.port or (443 if parts.scheme == "https" else 80)
        config = request.getConfig() or _attribute(context, HttpClientContext.REQUEST_CONFIG) or builder._config
        provider = _attribute(context, HttpClientContext.CREDS_PROVIDER) or builder._credentials
        proxy = config.proxy or builder._proxy
        headers = {header.name: header.value or "" for header in builder._headers}
        for header in request.getAllHeaders():
            previous = headers.get(header.name)
            value = header.value or ""
            headers[header.name] = value if previous is None else f"{previous}, {value}"
        _hide_authorization(headers)
        entity = request.body()
        body = entity.getContent().read() if entity is not None else None
        if entity is not None:
            if entity.getContentType() is not None and not _has(headers, "Content-Type"):
                headers["Content-Type"] = entity.getContentType().value or ""
            if entity.getContentEncoding() is not None and not _has(headers, "Content-Encoding"):
                headers["Content-Encoding"] = entity.getContentEncoding().value or ""
        session = self._session
        if session is None:
            session = self._session = requests.Session()
            session.trust_env = builder._system
            session.headers.clear()
            session.headers.update({"User-Agent": builder._user_agent, "Accept-Encoding": "gzip,deflate"})
        method = request.getMethod()
        auth = None
        if provider is not None and config.authentication_enabled and not _has(headers, "Authorization"):
            auth = _challenged_auth(provider.lookup(host, port))
        try:
            reply = session.request(
                method,
                url,
                headers=headers,
                data=body,
                auth=auth,
                proxies=_proxies(proxy, provider),
                allow_redirects=builder._redirects and config.redirects_enabled and method in ("GET", "HEAD"),
                timeout=(_seconds(config.connect_timeout), _seconds(config.socket_timeout)),
                verify=os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or True,
            )
        except requests.RequestException as exc:
            raise HttpConnectionError(f"{method} {url} failed: {connection_reason(exc)}") from None
        raw = [Header(name, value) for name, value in reply.raw.headers.items()] if reply.raw is not None else []
        has_body = method != "HEAD" and reply.status_code >= 200 and reply.status_code not in _NO_BODY_STATUSES
        kind = reply.headers.get("Content-Type")
        entity_out = HttpEntity(reply.content, ContentType.parse(kind) if kind else None, None) if has_body else None
        return CloseableHttpResponse(reply.status_code, reply.reason or "", raw, entity_out)

    def close(self) -> None:
        """Close the connections."""
        if self._session is not None:
            self._session.close()
            self._session = None


class DefaultHttpClient(CloseableHttpClient):
    """The HttpClient 4.0 API: ``DefaultHttpClient()``, ``getCredentialsProvider().setCredentials(...)``."""

    def __init__(self) -> None:
        super().__init__()
        self._builder._credentials = BasicCredentialsProvider()

    def getCredentialsProvider(self) -> BasicCredentialsProvider:
        return self._builder._credentials  # type: ignore[return-value]

    def setCredentialsProvider(self, provider: BasicCredentialsProvider) -> None:
        self._builder._credentials = provider

    def getConnectionManager(self) -> DefaultHttpClient:
        return self

    def shutdown(self) -> None:
        self.close()


class HttpClients:
    """``HttpClients.createDefault()``, ``createSystem()`` (the environment's proxy settings),
    ``createMinimal()``, ``custom()``."""

    @staticmethod
    def createDefault() -> CloseableHttpClient:
        return HttpClientBuilder().build()

    @staticmethod
    def createSystem() -> CloseableHttpClient:
        return HttpClientBuilder().useSystemProperties().build()

    createMinimal = createDefault

    @staticmethod
    def custom() -> HttpClientBuilder:
        return HttpClientBuilder()


def _attribute(context: Any, name: str) -> Any:
    getter = getattr(context, "getAttribute", None)
    return getter(name) if callable(getter) else None


def _has(headers: dict[str, str], name: str) -> bool:
    return any(key.lower() == name.lower() for key in headers)


def _seconds(milliseconds: Any) -> float | None:
    """HttpClient's timeout (ms; 0 or -1: none) as requests' (seconds; None: none)."""
    value = int(milliseconds or 0)
    return value / 1000.0 if value > 0 else None


def _proxies(proxy: HttpHost | None, provider: BasicCredentialsProvider | None) -> dict[str, str] | None:
    if proxy is None:
        return None
    from urllib.parse import quote

    credentials = provider.lookup(proxy.hostname, proxy.port) if provider is not None else None
    login = ""
    if credentials is not None and credentials.username:
        login = f"{quote(credentials.username, safe='')}:{quote(credentials.password or '', safe='')}@"
    port = f":{proxy.port}" if proxy.port >= 0 else ""
    address = f"{proxy.scheme}://{login}{proxy.hostname}{port}"
    return {"http": address, "https": address}


def _challenged_auth(credentials: UsernamePasswordCredentials | None) -> Any:
    """requests authentication answering the server's challenge as HttpClient does: NTLM for
    :class:`NTCredentials`, else Basic once a ``401`` asks for it."""
    if credentials is None or credentials.username is None:
        return None
    if isinstance(credentials, NTCredentials):
        from requests_ntlm import HttpNtlmAuth

        user = f"{credentials.domain}\\{credentials.username}" if credentials.domain else credentials.username
        return HttpNtlmAuth(user, credentials.password or "")
    return _BasicOnChallenge(credentials.username, credentials.password or "")


class _BasicOnChallenge:
    """Basic authentication sent only after a ``401`` with a ``Basic`` challenge (HttpClient is not
    preemptive)."""

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password

    def __call__(self, prepared: Any) -> Any:
        prepared.register_hook("response", self._answer)
        return prepared

    def _answer(self, response: Any, **kwargs: Any) -> Any:
        challenge = response.headers.get("WWW-Authenticate", "")
        if (
            response.status_code != 401
            or "basic" not in challenge.lower()
            or "Authorization" in response.request.headers
        ):
            return response
        from requests.auth import _basic_auth_str

        response.content  # noqa: B018 - read the body so the connection can be reused
        response.close()
        retry = response.request.copy()
        retry.headers["Authorization"] = _basic_auth_str(self.username, self.password)
        answered = response.connection.send(retry, **kwargs)
        answered.history.append(response)
        answered.request = retry
        return answered


def _hide_authorization(headers: dict[str, str]) -> None:
    """Mask the credentials of a script's own ``Authorization`` header (``Basic`` user:password, or a token)."""
    for name, value in headers.items():
        if name.lower() != "authorization" or not value:
            continue
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(credentials.strip()).decode("latin-1").partition(":")
            except (binascii.Error, ValueError):
                continue
            if password:
                hide(password, user)
        elif credentials.strip():
            hide(credentials.strip())
