"""The tokens area: API tokens of the HTTP API, by name, and the dashboard sessions ended by a log-out. Only a
token's SHA-256 (hex) is kept, never the token; an ended session only by the SHA-256 of its id.

A revoked token keeps its row (``revoked_at`` set), so the API can tell a revoked token (403) from one it never
issued (401); a name is unique among the tokens not revoked, so a revoked name can be given to a new token.
Tokens arrive already generated and hashed by :mod:`xlr_runtime.http.tokens`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from xlr_runtime.errors import StateError
from xlr_runtime.store.migrations import MigrationSet

if TYPE_CHECKING:
    from sqlite_utils import Database

    from xlr_runtime.store.base import StoreBase

MIGRATIONS = MigrationSet("tokens")


@MIGRATIONS.step("create api_tokens")
def _create_tokens(db: Database) -> None:
    db.execute(
        "CREATE TABLE api_tokens (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, "
        "hash TEXT NOT NULL UNIQUE, created_at REAL NOT NULL, last_used_at REAL, revoked_at REAL)"
    )
    db.execute("CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL")


@MIGRATIONS.step("create ended_sessions")
def _create_ended_sessions(db: Database) -> None:
    db.execute("CREATE TABLE ended_sessions (id_hash TEXT PRIMARY KEY, until REAL NOT NULL)")


@dataclass(frozen=True)
class TokenRow:
    """One issued token: its name, times (epoch seconds; ``revoked_at`` is ``None`` while it is valid) and the
    SHA-256 hex of the token (never shown)."""

    id: int
    name: str
    created_at: float
    last_used_at: float | None
    revoked_at: float | None
    hash: str = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict, without the hash."""
        return {
            "name": self.name,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
            "revoked_at": self.revoked_at,
        }


_COLUMNS = "id, name, created_at, last_used_at, revoked_at, hash"


class TokenRepository:
    """API token rows of one store; every method is one statement or one transaction."""

    def __init__(self, store: StoreBase) -> None:
        self.store = store

    def add(self, name: str, token_hash: str, *, now: float) -> TokenRow:
        """Keep a new token under ``name``; :class:`StateError` when a valid token has that name."""
        with self.store.atomic():
            if self.store.query_one("SELECT 1 FROM api_tokens WHERE name = ? AND revoked_at IS NULL", [name]):
                raise StateError(
                    f"a token named {name!r} exists",
                    hint=f"Revoke it first ('xlr token revoke {name}') or pick another name.",
                )
            rows = self.store.query(
                f"INSERT INTO api_tokens (name, hash, created_at) VALUES (?, ?, ?) RETURNING {_COLUMNS}",
                [name, token_hash, now],
            )
        return TokenRow(**rows[0])

    def listed(self, *, include_revoked: bool = False) -> list[TokenRow]:
        """The valid tokens (and the revoked ones, when asked), oldest first."""
        where = "" if include_revoked else " WHERE revoked_at IS NULL"
        return [TokenRow(**r) for r in self.store.query(f"SELECT {_COLUMNS} FROM api_tokens{where} ORDER BY id")]

    def revoke(self, name: str, *, now: float) -> bool:
        """Revoke the valid token named ``name``; ``False`` when there is none."""
        with self.store.atomic():
            cursor = self.store.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", [now, name]
            )
            return cursor.rowcount > 0

    def mark_used(self, token_id: int, *, now: float) -> None:
        """Record that the token was just used."""
        with self.store.atomic():
            self.store.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", [now, token_id])

    def end_session(self, id_hash: str, *, until: float, now: float) -> None:
        """Remember that the session whose id has the SHA-256 ``id_hash`` was ended (logged out), until ``until``,
        when its cookie expires anyway; sessions past their own ``until`` are forgotten meanwhile."""
        with self.store.atomic() as s:
            s.execute("DELETE FROM ended_sessions WHERE until <= ?", [now])
            s.execute(
                "INSERT INTO ended_sessions (id_hash, until) VALUES (?, ?) ON CONFLICT (id_hash) DO NOTHING",
                [id_hash, until],
            )

    def session_token(self, token_id: int, id_hash: str) -> TokenRow | None:
        """The valid token ``token_id`` of a dashboard session still open: ``None`` when that token was revoked (or
        never issued) or the session whose id has the SHA-256 ``id_hash`` was ended. One query, for every dashboard
        request that carries a cookie."""
        row = self.store.query_one(
            f"SELECT {_COLUMNS} FROM api_tokens WHERE id = ? AND revoked_at IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM ended_sessions WHERE id_hash = ?)",
            [token_id, id_hash],
        )
        return None if row is None else TokenRow(**row)
