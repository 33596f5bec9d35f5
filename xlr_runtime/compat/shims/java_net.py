"""``java.net``: ``URLEncoder``/``URLDecoder`` (form encoding, as Java does it) and a small ``URL``/``URI``."""

from __future__ import annotations

import urllib.parse

MalformedURLException = ValueError
URISyntaxException = ValueError


class URLEncoder:
    """``URLEncoder.encode(text, "UTF-8")``: spaces become ``+``, as in an HTML form."""

    @staticmethod
    def encode(text: str, charset: str = "UTF-8") -> str:
        """Form-encode ``text``."""
        return urllib.parse.quote_plus(str(text), safe="*", encoding=charset)


class URLDecoder:
    """``URLDecoder.decode(text, "UTF-8")``."""

    @staticmethod
    def decode(text: str, charset: str = "UTF-8") -> str:
        """Decode form-encoded ``text``."""
        return urllib.parse.unquote_plus(str(text), encoding=charset)


class URL:
    """``java.net.URL``: the parts of an absolute URL (``getHost``, ``getPort`` -1 when absent, ...)."""

    def __init__(self, spec: str) -> None:
        self._parts = urllib.parse.urlsplit(str(spec))
        if not self._parts.scheme or not self._parts.netloc:
            raise MalformedURLException(f"no protocol or host: {spec}")
        self._spec = str(spec)

    def getProtocol(self) -> str:
        """``http`` or ``https`` …"""
        return self._parts.scheme

    getScheme = getProtocol

    def getHost(self) -> str:
        """The host name."""
        return self._parts.hostname or ""

    def getPort(self) -> int:
        """The port, or -1 when the URL has none."""
        return self._parts.port if self._parts.port is not None else -1

    def getPath(self) -> str:
        """The path."""
        return self._parts.path

    def getQuery(self) -> str | None:
        """The query, or None."""
        return self._parts.query or None

    def toString(self) -> str:
        """The URL text."""
        return self._spec

    __str__ = toString


URI = URL
