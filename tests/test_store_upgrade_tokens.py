"""A database of the version before API tokens (issue 15) opens and migrates: the api_tokens table appears, what
was stored before is kept, and tokens can be issued, matched and revoked at once."""

from __future__ import annotations

from pathlib import Path

from tests.upgrade_helpers import NOW, database_without_area
from xlr_runtime.http.tokens import issue, match
from xlr_runtime.store import Store, applied_migrations


def test_a_database_of_the_version_before_api_tokens_migrates(tmp_path: Path) -> None:
    database = tmp_path / "xlr.db"
    database_without_area(database, "tokens")
    with Store(database) as old:
        assert old.query("SELECT name FROM sqlite_master WHERE name = 'api_tokens'") == []

    with Store.open(database) as store:
        assert ("tokens", "create api_tokens") in {(s, n) for s, n, _ in applied_migrations(store)}
        assert store.query("SELECT name FROM projects") == [{"name": "p"}]
        token, row = issue(store, "after-upgrade", now=NOW)
        assert match(store.tokens.listed(), token) == row
        assert store.integrity_check() == "ok"

    with Store.open(database) as again:  # a second open applies nothing more
        assert [row.name for row in again.tokens.listed()] == ["after-upgrade"]
        assert again.tokens.revoke("after-upgrade", now=NOW + 1)
        assert again.tokens.listed() == []
