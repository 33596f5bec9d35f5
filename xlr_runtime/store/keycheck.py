"""The key check area: a check value of the secret key that seals the store's values, so every host (every home)
that opens the store uses the same ``secret.key`` (docs/cluster.md, "The shared key").

The check value is an HMAC-SHA256 of a fixed label under the key (:func:`key_check_value`): it tells keys apart
and reveals nothing of the key. The first start of a home whose key exists
records it; a later start with another key (a second host with its own ``secret.key``, a replaced key file) or
with no key at all is refused, before anything is sealed with the wrong key. A home that never sealed anything has
no key and records nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path
from typing import TYPE_CHECKING

from xlr_runtime.errors import StoreError
from xlr_runtime.store.migrations import MigrationSet

if TYPE_CHECKING:
    from sqlite_utils import Database

    from xlr_runtime.store.base import StoreBase

MIGRATIONS = MigrationSet("keycheck")

#: What the key's check value is an HMAC of.
CHECK_LABEL = b"xlr-runtime key check value 1"

#: The table of the check value (one row); ``xlr store copy`` leaves it to each side (each records its own).
KEY_CHECK_TABLE = "store_key_check"


@MIGRATIONS.step("create store_key_check")
def _create_key_check(db: Database) -> None:
    db.execute(
        f"CREATE TABLE {KEY_CHECK_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), check_value TEXT NOT NULL, "
        "recorded_at REAL NOT NULL)"
    )


_HINT = (
    "Every home that opens this store needs the same secret.key: copy it (mode 0600) from the home of the first "
    "host that used the store."
)


def key_check_value(key_file: Path) -> str | None:
    """An HMAC-SHA256 (hex) of :data:`CHECK_LABEL` under the key in ``key_file`` (a home's ``secret.key``), or
    ``None`` while there is no key (none is created)."""
    try:
        key = key_file.read_bytes().strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"{key_file}: cannot read the secret key: {exc.strerror or exc}") from None
    return hmac.new(key, CHECK_LABEL, hashlib.sha256).hexdigest()


def check_key(store: StoreBase, key_file: Path) -> None:
    """Record the check value of the key in ``key_file`` in ``store`` the first time, or raise
    :class:`StoreError` naming the key file when the store recorded another key's (or a key the home does not
    have)."""
    mine = key_check_value(key_file)
    if mine is not None:
        store.execute(
            f"INSERT INTO {KEY_CHECK_TABLE} (id, check_value, recorded_at) VALUES (1, ?, ?) ON CONFLICT DO NOTHING",
            [mine, time.time()],
        )
    row = store.query_one(f"SELECT check_value FROM {KEY_CHECK_TABLE} WHERE id = 1")
    if row is None or row["check_value"] == mine:
        return
    if mine is None:
        raise StoreError(
            f"{key_file}: no secret key, but the store {store.location} holds values sealed with one",
            hint=_HINT,
        )
    raise StoreError(f"{key_file}: not the secret key the store {store.location} seals its values with", hint=_HINT)
