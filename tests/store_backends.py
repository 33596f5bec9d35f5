"""The store backends the contract tests run on (the ``store`` fixture of tests/conftest.py is parametrised over
:data:`STORE_BACKENDS`), and :func:`another_store`, a second connection to the same database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.postgres_helpers import PostgresServer
from xlr_runtime.store import Store
from xlr_runtime.storeurl import parse_store_url


def _postgres_store(request: pytest.FixtureRequest, folder: Path) -> Store:
    """A store on a new database of the session's PostgreSQL server (the home, for its secret key: ``folder``)."""
    from xlr_runtime.store.postgres import PostgresStore

    server: PostgresServer = request.getfixturevalue("postgres_server")
    return PostgresStore.open_url(parse_store_url(server.new_store_url()), home=folder)


#: Each backend's way to open a fresh store, given the test's request and a folder of its own.
STORE_BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], Store]] = {
    "sqlite": lambda _request, folder: Store.open(folder / "xlr.db"),
    "postgresql": _postgres_store,
}


def another_store(store: Store, *, owner: str | None = None) -> Store:
    """A second open store on ``store``'s database (another process would open it so), as ``owner``."""
    if store.dialect.name == "postgresql":
        from xlr_runtime.store.postgres import PostgresStore

        assert isinstance(store, PostgresStore)
        return PostgresStore.open_url(store.url, home=store.home_dir, owner=owner)
    return Store.open(store.path, owner=owner)
