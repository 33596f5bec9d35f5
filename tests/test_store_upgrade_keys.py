"""A database of the version before key storage (issue 17) opens and migrates: the keys table appears, what was
stored before is kept, and keys can be stored at once."""

from __future__ import annotations

from pathlib import Path

from tests.upgrade_helpers import database_without_area
from xlr_runtime.rundeck.keystore import KeyStore
from xlr_runtime.store import Store, applied_migrations


def test_a_database_of_the_version_before_key_storage_migrates(tmp_path: Path) -> None:
    database = tmp_path / "xlr.db"
    database_without_area(database, "keys")
    with Store(database) as old:
        assert old.query("SELECT name FROM sqlite_master WHERE name = 'keys'") == []

    with Store.open(database) as store:
        assert ("keys", "create keys") in {(s, n) for s, n, _ in applied_migrations(store)}
        assert store.query("SELECT name FROM projects") == [{"name": "p"}]
        keys = KeyStore(store)
        keys.put("keys/project/p/db", "after-upgrade", "password")
        assert keys.read_password("keys/project/p/db") == "after-upgrade"
        assert store.integrity_check() == "ok"

    with Store.open(database) as again:  # a second open applies nothing more
        assert [i.path for i in KeyStore(again).list()] == ["keys/project/p/db"]
