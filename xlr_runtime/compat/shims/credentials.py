"""``xlrelease.CredentialsFallback``: credentials from the task's override fields, else from its server CI.

``CredentialsFallback(server, username, password).getCredentials()`` returns ``{'username', 'password'}``:
the override pair when ``username`` is given, otherwise the server's own (read as ``server['username']``,
which works for CI objects and plain dicts).
"""

from __future__ import annotations

from typing import Any


class CredentialsFallback:
    """Pick the credentials a task uses: its own ``username``/``password`` inputs, or its server's."""

    def __init__(self, server: Any, username: str | None = None, password: str | None = None) -> None:
        self.server = server
        self.username = username
        self.password = password

    def getCredentials(self) -> dict[str, Any]:
        """``{'username': ..., 'password': ...}``."""
        if self.username:
            return {"username": self.username, "password": self.password}
        if self.server is None:
            return {"username": None, "password": None}
        return {"username": _read(self.server, "username"), "password": _read(self.server, "password")}


def _read(server: Any, name: str) -> Any:
    try:
        return server[name]
    except (KeyError, TypeError):
        return getattr(server, name, None)
