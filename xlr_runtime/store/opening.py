"""Open the store a home's settings name (``store.url``): the home's SQLite file, another SQLite file, or a
PostgreSQL database. Every command, ``xlr serve`` and the HTTP API open their store here."""

from __future__ import annotations

from pathlib import Path

from xlr_runtime.errors import StoreError
from xlr_runtime.home import SECRET_KEY_FILE, Home
from xlr_runtime.settings import Settings
from xlr_runtime.store.keycheck import check_key
from xlr_runtime.store.store import Store
from xlr_runtime.storeurl import StoreURL


def open_store(home: Home, settings: Settings, *, owner: str | None = None) -> Store:
    """Open (creating if needed) and migrate the store of ``home`` as ``settings`` say (``store.url``,
    ``store.synchronous``). PostgreSQL's driver is imported only for a ``postgresql://`` URL."""
    return open_store_url(home, settings.store_url, synchronous=settings["store.synchronous"], owner=owner)


def open_store_url(home: Home, url: StoreURL, *, synchronous: str = "NORMAL", owner: str | None = None) -> Store:
    """Open (creating if needed) and migrate the store ``url`` names (a relative SQLite path is in ``home``), and
    check that the secret key its values are sealed with (``secret.key`` of the home, beside an SQLite file) is
    the one the store recorded (:func:`check_key`)."""
    store = connect_store(home, url, synchronous=synchronous, owner=owner)
    try:
        store.migrate()
        check_key(store, store.home_dir / SECRET_KEY_FILE)
    except BaseException:
        store.close()
        raise
    return store


def connect_store(home: Home, url: StoreURL, *, synchronous: str = "NORMAL", owner: str | None = None) -> Store:
    """The store ``url`` names, connected but not migrated (``xlr store migrate --check`` looks before it
    applies anything); :meth:`Store.migrate` applies the pending steps."""
    if url.backend == "postgresql":
        from xlr_runtime.store.postgres import PostgresStore

        return PostgresStore(url, home=home.root, owner=owner)
    return Store(sqlite_path(home, url), synchronous=synchronous, owner=owner)


def sqlite_path(home: Home, url: StoreURL) -> Path:
    """The SQLite file of ``url`` (the home's ``xlr.db`` by default); a :class:`StoreError` for a PostgreSQL URL,
    for the commands that work on the file itself (``xlr backup``)."""
    if url.backend != "sqlite":
        raise StoreError(
            f"{url.redacted}: xlr backup copies an SQLite store; back up a PostgreSQL database with pg_dump",
            hint="pg_dump --format=custom --file=xlr.dump DATABASE (and pg_restore to restore it).",
        )
    return home.database if url.path is None else home.root / url.path
