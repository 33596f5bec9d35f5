"""What a script sees when an HTTP request cannot reach its server, whichever client it used: XL Release's
``HttpRequest`` (:mod:`xlr_runtime.scripting.http`) or the Apache HttpClient shim
(:mod:`xlr_runtime.compat.shims.apache_http`) both raise :class:`HttpConnectionError` with
:func:`connection_reason`."""

from __future__ import annotations


class HttpConnectionError(OSError):
    """Raised to the script when a request cannot reach the server (XL Release raises a Java IOException)."""


def connection_reason(exc: BaseException) -> str:
    """The innermost operating-system reason of a requests failure (``Connection refused``), else its text."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        current = current.__cause__ or current.__context__
    return f"{type(exc).__name__}: {exc}"
