"""The keys area: Rundeck key storage entries (private keys, public keys, passwords) by their ``keys/...`` path.

The store keeps only what :class:`~xlr_runtime.secrets.SecretBox` sealed (``sealed``), never a clear value; the
kind, the clear value's size in bytes and the times are kept beside it so a listing needs no decryption.
Paths arrive already checked and normalised by :mod:`xlr_runtime.rundeck.keystore`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from xlr_runtime.store.base import like_escaped
from xlr_runtime.store.migrations import MigrationSet

if TYPE_CHECKING:
    from sqlite_utils import Database

    from xlr_runtime.store.base import StoreBase

MIGRATIONS = MigrationSet("keys")


@MIGRATIONS.step("create keys")
def _create_keys(db: Database) -> None:
    db.execute(
        "CREATE TABLE keys (path TEXT PRIMARY KEY, kind TEXT NOT NULL "
        "CHECK (kind IN ('private', 'public', 'password')), size INTEGER NOT NULL, sealed TEXT NOT NULL, "
        "created_at REAL NOT NULL, modified_at REAL NOT NULL)"
    )


@dataclass(frozen=True)
class KeyRow:
    """One stored key: its path, kind, clear size in bytes, times, and the sealed value (never shown)."""

    path: str
    kind: str
    size: int
    created_at: float
    modified_at: float
    sealed: str = field(repr=False)


_COLUMNS = "path, kind, size, created_at, modified_at, sealed"


def _row(data: dict[str, Any]) -> KeyRow:
    return KeyRow(**data)


class KeyRepository:
    """Key storage rows of one store; every method is one statement or one transaction."""

    def __init__(self, store: StoreBase) -> None:
        self.store = store

    def put(self, path: str, *, kind: str, size: int, sealed: str, now: float) -> KeyRow:
        """Store the key at ``path``, replacing the one there (which keeps its ``created_at``)."""
        rows = self.store.query(
            f"INSERT INTO keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET "
            "kind = excluded.kind, size = excluded.size, sealed = excluded.sealed, "
            f"modified_at = excluded.modified_at RETURNING {_COLUMNS}",
            [path, kind, size, now, now, sealed],
        )
        return _row(rows[0])

    def get(self, path: str) -> KeyRow | None:
        """The key at ``path``, or ``None``."""
        data = self.store.query_one(f"SELECT {_COLUMNS} FROM keys WHERE path = ?", [path])
        return None if data is None else _row(data)

    def under(self, prefix: str) -> list[KeyRow]:
        """The key at ``prefix`` and every key below it (``prefix/…``), by path."""
        pattern = like_escaped(prefix.rstrip("/")) + "/%"
        rows = self.store.query(
            f"SELECT {_COLUMNS} FROM keys WHERE path = ? OR path LIKE ? ESCAPE '\\' ORDER BY path",
            [prefix, pattern],
        )
        return [_row(data) for data in rows]

    def delete(self, path: str) -> bool:
        """Remove the key at ``path``; ``False`` when there was none."""
        with self.store.atomic():
            return self.store.execute("DELETE FROM keys WHERE path = ?", [path]).rowcount > 0
