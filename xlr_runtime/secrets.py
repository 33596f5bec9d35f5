"""Secrets at rest: values sealed with a key kept in the home (``secret.key``, mode 0600), never in the
database, so the store holds only ciphertext and a task or an execution can still resume after a restart.

Used for task password properties (:meth:`SecretBox.seal_value` / :meth:`SecretBox.open_value`) and for
Rundeck secure option values and data contexts (:meth:`SecretBox.seal` / :meth:`SecretBox.seal_rows`), and for
key storage entries (:meth:`SecretBox.seal_bytes`), and the dashboard's session cookies
(:meth:`SecretBox.seal_json`).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from xlr_runtime.errors import StoreError
from xlr_runtime.home import SECRET_KEY_FILE as KEY_FILE

#: The key of the one row a sealed data context is stored as.
SEALED = "sealed"
#: The prefix of one sealed value stored in a JSON column (the rest is a Fernet token).
SEALED_PREFIX = "xlr-sealed:"


class SecretBox:
    """Seals and opens values with the home's key (created on first use; the Fernet object is built once)."""

    def __init__(self, home_root: Path) -> None:
        self.path = Path(home_root) / KEY_FILE
        self._fernet: Fernet | None = None

    def _key(self) -> Fernet:
        if self._fernet is None:
            if not self.path.exists():
                self._create_key()
            self._fernet = Fernet(self.path.read_bytes().strip())
        return self._fernet

    def _create_key(self) -> None:
        """Write a new key whole under a temporary name, then link it in place: when two threads or processes
        create it at once (the dashboard's first log-ins), one key wins and neither reads a half-written file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        draft = self.path.with_name(f".{KEY_FILE}.{os.getpid()}.{threading.get_ident()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(Fernet.generate_key())
        try:
            os.link(draft, self.path)
        except FileExistsError:
            pass  # another thread or process linked its key first: that one is the key
        finally:
            draft.unlink()

    def seal_value(self, value: Any) -> Any:
        """``value`` sealed as ``xlr-sealed:<token>`` when it is a non-empty string (sealed already: unchanged);
        any other value (``None``, ``""``) holds no secret and is returned as it is."""
        if not isinstance(value, str) or not value or value.startswith(SEALED_PREFIX):
            return value
        return SEALED_PREFIX + self._key().encrypt(value.encode()).decode()

    def open_value(self, value: Any) -> Any:
        """The clear text of a value :meth:`seal_value` sealed; any other value (stored before values were
        sealed) is returned as it is. :class:`StoreError` when the key does not fit (``secret.key`` lost)."""
        if not is_sealed(value):
            return value
        return self._decrypt(value[len(SEALED_PREFIX) :], "a sealed value").decode()

    def seal_bytes(self, value: bytes) -> str:
        """``value`` (a key storage entry: any bytes) sealed as ``xlr-sealed:<token>``."""
        return SEALED_PREFIX + self._key().encrypt(value).decode()

    def open_bytes(self, sealed: str, what: str) -> bytes:
        """The clear bytes :meth:`seal_bytes` sealed; :class:`StoreError` naming ``what`` when the key does not
        fit (``secret.key`` lost or replaced)."""
        return self._decrypt(sealed.removeprefix(SEALED_PREFIX), what)

    def seal(self, values: dict[str, str]) -> str:
        """Ciphertext of ``values``."""
        return self._encrypt_json(values)

    def open(self, blob: str) -> dict[str, str]:
        """The values sealed in ``blob``; :class:`StoreError` when the key does not fit (home key replaced)."""
        return dict(json.loads(self._decrypt(blob, "secure option values")))

    def seal_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A stored data context as one sealed row (for an execution whose context holds secure values)."""
        return [{SEALED: self._encrypt_json(rows)}]

    def open_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows :meth:`seal_rows` sealed; rows that were not sealed are returned as they are."""
        if len(rows) != 1 or SEALED not in rows[0]:
            return rows
        return list(json.loads(self._decrypt(str(rows[0][SEALED]), "the execution's data context")))

    def seal_json(self, value: Any) -> str:
        """``value`` (JSON-ready) sealed and signed: a token only this home's key opens (the dashboard's session
        cookie)."""
        return self._encrypt_json(value)

    def open_fresh_json(self, token: str, *, max_age: int) -> Any | None:
        """What :meth:`seal_json` sealed in ``token``, or ``None`` when ``token`` was not sealed with this key, was
        altered, or is older than ``max_age`` seconds."""
        try:
            return json.loads(self._key().decrypt(token.encode("ascii", "replace"), ttl=max_age))
        except (InvalidToken, ValueError):
            return None

    def _encrypt_json(self, value: Any) -> str:
        return self._key().encrypt(json.dumps(value).encode()).decode()

    def _decrypt(self, token: str, what: str) -> bytes:
        """The clear bytes of ``token``; :class:`StoreError` naming ``what`` when the key does not fit."""
        try:
            return self._key().decrypt(token.encode())
        except InvalidToken:
            raise StoreError(f"{what} cannot be decrypted with {self.path}") from None


def is_sealed(value: Any) -> bool:
    """True for a value :meth:`SecretBox.seal_value` sealed."""
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)
