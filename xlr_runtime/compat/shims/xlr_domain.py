"""``com.xebialabs.xlrelease.domain.configuration``: ``HttpConnection``, the connection bean of XL Release's own
``HttpRequest.py``, which plugins copy (``httputil/HttpRequest.py``) and build as ``HttpConnection(params)``
from a server CI or a dict."""

from __future__ import annotations

from typing import Any

from xlr_runtime.compat.beans import bean_property


class HttpConnection:
    """``HttpConnection(params)``: the connection's properties read as ``c.getUrl()``, ``c.url`` or
    ``c['url']`` (``None`` when unset), from a CI object or a ``dict``; ``isX()`` for booleans."""

    def __init__(self, params: Any = None) -> None:
        values: dict[str, Any] = {}
        if params is not None:
            names = params.keys() if hasattr(params, "keys") else []
            values = {str(name): params[name] for name in names}
        object.__setattr__(self, "_values", values)

    def __getitem__(self, name: str) -> Any:
        return self._values.get(name)

    def get(self, name: str, default: Any = None) -> Any:
        """The value of ``name``, or ``default`` when unset."""
        value = self._values.get(name)
        return default if value is None else value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        prop = bean_property(name)
        if prop is not None:
            value = self._values.get(prop)
            return lambda: value
        return self._values.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._values[name] = value

    def __repr__(self) -> str:
        return f"HttpConnection(url={self._values.get('url')!r})"
