"""What the repositories of the store stand on: :class:`StoreBase`, one open SQLite database with its statements,
transactions and maintenance, and the helpers that make values storable.

The repositories and the migrations take a :class:`StoreBase` and import nothing above this module;
:class:`~xlr_runtime.store.store.Store` attaches them to it. Every SQL statement of xlr-runtime lives in this
package (DESIGN decision 2), so a server database implements the same repositories and passes the same contract
tests. Conventions:

* timestamps are UTC epoch seconds (``float``), always passed in by the caller (the engine's clock), never read
  from the database's own clock;
* structured values (property values, variables) are JSON text;
* a write that must be all-or-nothing runs inside :meth:`StoreBase.atomic`; a claim is one short transaction;
* text is kept as UTF-8: a code point without a UTF-8 form (a lone surrogate, as ``bytes.decode(errors=
  "surrogateescape")`` makes) is stored as its backslash escape (:func:`storable_text`);
* a database that cannot be written for now (disk full, read-only, I/O error, locked past ``busy_timeout``)
  raises :class:`~xlr_runtime.errors.StoreUnavailableError` naming the file; nothing of the failed transaction
  is kept.

The connection runs in autocommit mode; :meth:`StoreBase.atomic` opens ``BEGIN IMMEDIATE`` (nested blocks become
savepoints), so two processes on one file queue on the write lock (``busy_timeout``) instead of failing.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Self

from xlr_runtime.errors import StoreError, StoreUnavailableError
from xlr_runtime.store.dialect import SQLITE, Dialect

if TYPE_CHECKING:
    from sqlite_utils import Database

#: SQLite ``synchronous`` modes a store opens with. The ``store.synchronous`` setting offers NORMAL and FULL; OFF
#: (nothing survives an OS crash or power loss, and no fsync is paid) is for throw-away databases, such as the
#: test harness's temporary homes.
SYNCHRONOUS_MODES = ("NORMAL", "FULL", "OFF")

#: SQLite primary result codes of a database that cannot be written for now (a later attempt may succeed):
#: SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_PROTOCOL.
UNAVAILABLE_CODES = frozenset({5, 6, 8, 10, 13, 14, 15})
_UNAVAILABLE_HINTS = {
    5: "Another process holds the database's write lock.",
    6: "Another process holds the database's write lock.",
    8: "Make the home and its files writable.",
    13: "Free space on the disk that holds the home.",
    14: "Make the home and its files writable.",
}


#: The largest id SQLite can hold (a signed 64-bit integer); a larger number names no row.
MAX_ROW_ID = 2**63 - 1


def fits_row_id(number: int) -> bool:
    """Whether ``number`` can be an SQLite row id (a larger one raises OverflowError when bound)."""
    return -MAX_ROW_ID <= number <= MAX_ROW_ID


def like_escaped(text: str) -> str:
    """``text`` for a ``LIKE … ESCAPE '\\'`` pattern, its wildcards taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def storable_text(text: str) -> str:
    """``text`` as the store keeps it: unchanged when it has a UTF-8 form (nearly always; ASCII costs one flag
    test), else with each code point that has none (a lone surrogate: ``"\\udcff"`` from bytes decoded with
    ``surrogateescape``, or written by a script) replaced by its backslash escape, ``\\udcff``."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def storable_value(value: Any) -> Any:
    """``value`` (text, or lists and dicts of it) with every string made :func:`storable_text`."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, list | tuple):
        return [storable_value(item) for item in value]
    if isinstance(value, dict):
        return {storable_value(key): storable_value(item) for key, item in value.items()}
    return value


def unavailable(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot be written for now (see :data:`UNAVAILABLE_CODES`)."""
    return isinstance(exc, sqlite3.OperationalError) and (getattr(exc, "sqlite_errorcode", 1) & 0xFF) in (
        UNAVAILABLE_CODES
    )


def new_owner_id() -> str:
    """A lease owner name for this process: ``host:pid:random`` (unique even after pid reuse)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class StoreSpace:
    """The size of a database in bytes: the file with its WAL, the pages holding data, the free pages (which
    ``VACUUM`` gives back to the file system)."""

    file_bytes: int
    used_bytes: int
    free_bytes: int


class StoreBase:
    """An open database: its connection, statements, transactions and maintenance; what a repository is given.

    This class is the SQLite database and the interface of every backend: the PostgreSQL store
    (:class:`xlr_runtime.store.postgres.PostgresStore`) overrides the connection, the statements, the
    transactions and the maintenance methods. :class:`~xlr_runtime.store.store.Store` adds the migrations and the
    repositories. ``location`` names the database in messages (the file, or the URL without its password);
    ``dialect`` gives the few SQL fragments that differ (:mod:`xlr_runtime.store.dialect`).

    Thread-safe: one connection guarded by a re-entrant lock; hold :meth:`atomic` for multi-statement writes.
    Use as a context manager, or call :meth:`close`.
    """

    dialect: Dialect = SQLITE

    def __init__(
        self, path: str | Path, *, synchronous: str = "NORMAL", busy_timeout: float = 30.0, owner: str | None = None
    ) -> None:
        if synchronous not in SYNCHRONOUS_MODES:
            raise StoreError(f"store.synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}, got {synchronous!r}")
        self.path = Path(path)
        self.location = str(self.path)
        self.owner = owner or new_owner_id()
        self.lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.path.parent}: cannot create the folder of the database: {exc.strerror}") from None
        try:
            conn = sqlite3.connect(str(self.path), timeout=busy_timeout, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            conn.execute(f"PRAGMA synchronous = {synchronous}")  # first: with OFF, switching to WAL pays no fsync
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            hint = None
            if not os.access(self.path.parent, os.W_OK):
                hint = f"{self.path.parent} is read-only; SQLite writes {self.path.name}-wal and -shm beside it."
            raise StoreError(f"{self.path}: cannot open the database: {exc}", hint=hint) from None
        if str(mode).lower() != "wal":
            conn.close()
            raise StoreError(f"{self.path}: the database cannot use WAL journaling (got {mode!r})")
        self.conn = conn
        self.synchronous = synchronous

    @property
    def home_dir(self) -> Path:
        """The folder of the runtime's home (its ``secret.key``): the database file's."""
        return self.path.parent

    @cached_property
    def db(self) -> Database:
        """The connection as a :class:`sqlite_utils.Database`, for migration steps (imported on first use: most
        opens apply no step, and ``xlr tasks`` should not pay for the import)."""
        from sqlite_utils import Database

        return Database(self.conn)

    #: The base class of the database driver's errors.
    driver_error: type[Exception] = sqlite3.DatabaseError

    # -- transactions and statements ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def atomic(self, *, concurrent: bool = False) -> Iterator[Self]:
        """All statements in the block commit together or not at all (nested blocks are savepoints).

        ``concurrent`` says the block locks every row it decides on itself (a claim's ``FOR UPDATE SKIP LOCKED``,
        a completion's ``FOR UPDATE``, a conditional ``UPDATE``): on PostgreSQL such blocks of several runtimes
        run side by side, waiting only for ordinary blocks, which are one at a time (docs/store.md). SQLite has
        one writer at a time whatever it is told.

        A database that cannot be written for now raises :class:`StoreUnavailableError` (the transaction is
        rolled back, a failed ``COMMIT`` included, so the connection is ready for the next one)."""
        with self.lock:
            if self.conn.in_transaction:
                name = f"sp_{uuid.uuid4().hex}"
                self.conn.execute(f"SAVEPOINT {name}")
                try:
                    yield self
                except BaseException:
                    if self.conn.in_transaction:
                        self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                        self.conn.execute(f"RELEASE SAVEPOINT {name}")
                    raise
                self.conn.execute(f"RELEASE SAVEPOINT {name}")
                return
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self
                    self.conn.execute("COMMIT")
                except BaseException:
                    self._rollback()
                    raise
            except sqlite3.OperationalError as exc:
                self._raise_translated(exc)

    def _rollback(self) -> None:
        """End the open transaction, if any, without raising (a failed COMMIT may leave it open)."""
        if self.conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")

    def _raise_translated(self, exc: sqlite3.OperationalError) -> NoReturn:
        """Raise our error for a database that cannot be written for now; re-raise other errors as they are."""
        if unavailable(exc):
            hint = _UNAVAILABLE_HINTS.get(exc.sqlite_errorcode & 0xFF, "Check the disk and the database file.")
            raise StoreUnavailableError(f"{self.path}: {exc}", hint=hint) from exc
        raise exc

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Self]:
        """A consistent read of several statements (a deferred read transaction)."""
        with self.lock:
            if self.conn.in_transaction:
                yield self
                return
            self.conn.execute("BEGIN")
            try:
                yield self
            finally:
                if self.conn.in_transaction:
                    self.conn.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        """Run one statement (inside the current transaction, if any)."""
        with self.lock:
            try:
                return self.conn.execute(sql, params)
            except sqlite3.OperationalError as exc:
                self._raise_translated(exc)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""
        with self.lock:
            try:
                self.conn.executemany(sql, rows)
            except sqlite3.OperationalError as exc:
                self._raise_translated(exc)

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        """Rows of one statement as dicts (fetched at once, so the lock is not held by the caller)."""
        with self.lock:
            try:
                cursor = self.conn.execute(sql, params)
                names = [d[0] for d in cursor.description or ()]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            except sqlite3.OperationalError as exc:
                self._raise_translated(exc)

    def query_one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> dict[str, Any] | None:
        """The first row of one statement as a dict, or ``None``."""
        rows = self.query(sql, params)
        return rows[0] if rows else None

    # -- maintenance -------------------------------------------------------------------------------------------

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``: ``"ok"`` for a sound database, else the first problem found."""
        return str(self.execute("PRAGMA integrity_check").fetchone()[0])

    def space(self) -> StoreSpace:
        """How big the database is: its file (with the WAL) and the pages in use."""
        page_size, pages, free = (
            int(self.execute(f"PRAGMA {name}").fetchone()[0]) for name in ("page_size", "page_count", "freelist_count")
        )
        wal = self.path.with_name(self.path.name + "-wal")
        file_bytes = self.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
        return StoreSpace(file_bytes=file_bytes, used_bytes=(pages - free) * page_size, free_bytes=free * page_size)

    # -- work announced across runtimes -----------------------------------------------------------------------

    #: True when runtimes of several homes (hosts) may use this store at once (a database server): a home's
    #: ``xlr.lock`` says nothing about the others, and new work is announced through the store.
    shared = False

    def announce_work(self) -> None:
        """Tell the runtimes listening on this store (:meth:`listen_for_work`) that a run may be due sooner than
        they know (a new task, a retry, a next run). Call it inside the transaction that adds the run: it is
        delivered at the commit, and not at all after a rollback. Nothing on SQLite, where ``xlr serve`` is
        woken through its home's socket."""

    def listen_for_work(self, on_work: Callable[[], None]) -> contextlib.AbstractContextManager[None] | None:
        """Call ``on_work`` (from a thread of the store) each time another runtime announces work on this store
        (:meth:`announce_work`), until the returned context is exited; ``None`` when this backend cannot (SQLite)."""
        return None

    def vacuum(self) -> None:
        """Rebuild the file without its free pages (``VACUUM``: it needs as much free disk again as the file, and
        holds the write lock while it runs)."""
        with self.lock:
            self.execute("VACUUM")
            self.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def backup(self, target: Path) -> None:
        """Copy the database to the new file ``target`` with SQLite's online backup API: one consistent
        snapshot, read while other connections (a running ``xlr serve``) keep writing (in WAL mode a reader
        never blocks a writer). The copy is written beside ``target`` and renamed into place once complete, so
        ``target`` is never a partial copy."""
        partial = target.with_name(f".{target.name}.partial")
        partial.unlink(missing_ok=True)
        source = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        copy = sqlite3.connect(str(partial))
        try:
            source.backup(copy)  # all pages in one step: one read transaction, so one snapshot
        except BaseException:
            copy.close()
            partial.unlink(missing_ok=True)
            raise
        finally:
            copy.close()
            source.close()
        os.replace(partial, target)

    def row_counts(self) -> dict[str, int]:
        """Rows of every table of the store, by table name."""
        tables = [row[0] for row in self.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()]  # fmt: skip
        return {name: int(self.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]) for name in tables}

    def close(self) -> None:
        """Close the connection (checkpointing the WAL when this is the last connection)."""
        with self.lock:
            if getattr(self, "conn", None) is not None:
                self.conn.close()
                self.conn = None  # type: ignore[assignment]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
