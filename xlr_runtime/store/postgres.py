r"""The store on a PostgreSQL database (``store.url = "postgresql://user@host:port/db"``; docs/store.md).

:class:`PostgresStore` is a :class:`~xlr_runtime.store.store.Store` with the same repositories, statements and
migration steps: each statement is SQLite's text translated once by
:func:`~xlr_runtime.store.dialect.postgres_sql`, and the migration set ``postgresql`` (applied before every other)
adds ``json_set`` and ``json_each`` with SQLite's names and semantics. psycopg is imported only here, and this
module only when a ``postgresql://`` URL is opened.

Connections come from a pool (psycopg_pool), in autocommit mode: a statement outside :meth:`~PostgresStore.atomic`
takes one for itself, so the threads of a process (the scheduler, the HTTP API, the Rundeck loops) read side by
side. :meth:`~PostgresStore.atomic` binds one connection to the calling thread for the block: ``BEGIN``, then the
store's write lock (a transaction-level advisory lock, :data:`WRITE_LOCK`), then the block, then ``COMMIT``;
nested blocks are savepoints. An ordinary block holds the write lock alone: it gives every multi-statement write
the guarantee SQLite's ``BEGIN IMMEDIATE`` gives (one writer at a time: a check and the write it decides are never
interleaved with another's), so the repositories behave the same on both backends. A ``concurrent`` block (claims,
completions, lease renewals of script runs) holds it shared: it locks the rows it decides on itself (``FOR UPDATE
SKIP LOCKED``, ``FOR UPDATE``, :class:`~xlr_runtime.store.dialect.Dialect`), so the schedulers of several hosts
claim and complete side by side, and wait only while an ordinary block writes.

New work is announced to the other runtimes on the database with ``NOTIFY`` (channel :data:`WORK_CHANNEL`, in the
transaction that adds it; :meth:`~PostgresStore.announce_work`) and heard by a connection of its own that
``LISTEN``\ s in a thread (:meth:`~PostgresStore.listen_for_work`).

A server that cannot be reached, or fails under a statement, raises :class:`~xlr_runtime.errors.StoreUnavailableError`
naming the URL without its password.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Self

from xlr_runtime.errors import StoreError, StoreUnavailableError
from xlr_runtime.store.base import StoreSpace, new_owner_id
from xlr_runtime.store.dialect import POSTGRESQL, postgres_sql
from xlr_runtime.store.migrations import MigrationSet
from xlr_runtime.store.store import Store

if TYPE_CHECKING:
    import psycopg

    from xlr_runtime.storeurl import StoreURL

#: The key of the advisory lock every :meth:`PostgresStore.atomic` transaction holds ("xlr" in ASCII).
WRITE_LOCK = 0x786C72

#: What :meth:`PostgresStore.atomic` starts with: the transaction and its write lock (held alone).
_BEGIN_WRITE = f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
#: What a ``concurrent`` :meth:`PostgresStore.atomic` block starts with: the write lock held shared.
_BEGIN_CONCURRENT = f"BEGIN; SELECT pg_advisory_xact_lock_shared({WRITE_LOCK})"

#: Seconds a transaction of the store may wait for its process between two statements before the server ends
#: its session: a process stopped mid-transaction (SIGSTOP, a host cut off) thus releases its locks, and the
#: runtimes that take its runs over are not held up by them (its next statement fails and is retried).
IDLE_IN_TRANSACTION_TIMEOUT = 5.0

#: Connections a store keeps at most (the threads of one ``xlr serve`` that use the store at once).
POOL_SIZE = 8

#: Seconds to wait for the server (a connection, or a free connection of the pool) before giving up.
CONNECT_TIMEOUT = 10.0

#: The ``NOTIFY`` channel of :meth:`PostgresStore.announce_work`; a notification's payload is the owner name of the
#: store that sent it (a listener ignores its own).
WORK_CHANNEL = "xlr_wake"

#: Seconds a listener waits for notifications before it looks whether it should stop.
_LISTEN_POLL = 0.5

#: Longest pause between two attempts of a listener to reconnect.
_LISTEN_RETRY_MAX = 10.0

log = logging.getLogger(__name__)

MIGRATIONS = MigrationSet("postgresql")


@MIGRATIONS.step("create SQLite's json_set and json_each")
def _create_json_functions(db: Any) -> None:
    # json_set(doc, path, value, ...): the forms the store uses, paths $."key" or $.key and values as JSON text;
    # the document keeps its key order, a new key goes last (as SQLite's json_set). The store only names keys of
    # printable ASCII without " or \ (store/tasks.py, _json_path); it merges the others itself on both backends.
    db.execute(
        r"""CREATE FUNCTION json_set(doc text, VARIADIC pairs text[]) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  result json := doc::json;
  name text;
  i int := 1;
BEGIN
  WHILE i < coalesce(array_length(pairs, 1), 0) LOOP
    name := CASE WHEN pairs[i] LIKE '$."%"' THEN regexp_replace(substr(pairs[i], 4, length(pairs[i]) - 4),
                                                                '\\(.)', '\1', 'g')
                 ELSE substr(pairs[i], 3) END;
    SELECT coalesce(json_object_agg(k, v ORDER BY o), '{}'::json) INTO result FROM (
      SELECT e.key AS k, CASE WHEN e.key = name THEN pairs[i + 1]::json ELSE e.value END AS v, e.o
        FROM json_each(result) WITH ORDINALITY AS e(key, value, o)
      UNION ALL
      SELECT name, pairs[i + 1]::json, 9223372036854775807
        WHERE NOT EXISTS (SELECT 1 FROM json_each(result) AS x WHERE x.key = name)) AS merged;
    i := i + 2;
  END LOOP;
  RETURN result::text;
END $$"""
    )
    db.execute("CREATE FUNCTION json_set(doc text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT doc'")
    # json_each(doc, path): the elements of the array (or the members of the object) at $ or $.key[.key…], as
    # (key, value) text rows: an array's keys are 0, 1, …; a value is its SQL text (a string without quotes).
    db.execute(
        r"""CREATE FUNCTION json_each(doc text, path text) RETURNS TABLE (key text, value text)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  target jsonb := CASE WHEN path = '$' THEN doc::jsonb
                       ELSE doc::jsonb #> string_to_array(substr(path, 3), '.') END;
BEGIN
  IF jsonb_typeof(target) = 'array' THEN
    RETURN QUERY SELECT (a.o - 1)::text, a.e FROM jsonb_array_elements_text(target) WITH ORDINALITY AS a(e, o);
  ELSIF jsonb_typeof(target) = 'object' THEN
    RETURN QUERY SELECT m.k, m.v FROM jsonb_each_text(target) AS m(k, v);
  END IF;
END $$"""
    )


def _psycopg() -> Any:
    """The psycopg module, or a :class:`StoreError` saying what to install."""
    try:
        import psycopg
    except ImportError as exc:
        raise StoreError(
            f"a postgresql:// store needs psycopg: {exc}",
            hint="pip install 'xlr-runtime[postgresql]' (psycopg with its C implementation and libpq).",
        ) from None
    return psycopg


class _Result:
    """What a statement returned, read at once (the connection goes back to the pool before the caller reads):
    ``fetchone``, ``fetchall``, ``rowcount`` and ``description`` as a DB-API cursor has them."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self.description = cursor.description
        self.rowcount = cursor.rowcount
        self._rows: list[tuple[Any, ...]] = cursor.fetchall() if cursor.description else []
        self._next = 0

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._next = self._rows[self._next :], len(self._rows)
        return rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())


class _Schema:
    """What a migration step is given on PostgreSQL in place of a ``sqlite_utils.Database``: ``execute`` and
    ``conn.executemany``, through the store (so statements are translated and run in the step's transaction)."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self.conn = self

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> _Result:
        return self._store.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._store.executemany(sql, rows)


class PostgresStore(Store):
    """An open PostgreSQL database: the same repositories and contract as the SQLite :class:`Store`.

    Thread-safe: statements of different threads run on different pooled connections; an :meth:`atomic` block
    keeps one connection for its thread. ``home`` is the folder of the runtime's home (its ``secret.key``).
    """

    dialect = POSTGRESQL
    shared = True

    def __init__(
        self, url: StoreURL, *, home: Path, owner: str | None = None, pool_size: int = POOL_SIZE
    ) -> None:  # the SQLite store's __init__ opens a file: not called
        psycopg = _psycopg()
        from psycopg_pool import ConnectionPool

        self.url = url
        self.location = url.redacted
        self._home = Path(home)
        self.owner = owner or new_owner_id()
        self._errors = psycopg
        self.driver_error = psycopg.Error
        self._bound = threading.local()  # .conn: the connection of the thread's open atomic() block
        try:  # one connection first, so a server that cannot be reached is one clear line, not a pool timeout
            psycopg.connect(url.conninfo, connect_timeout=int(CONNECT_TIMEOUT)).close()
        except psycopg.Error as exc:
            self._unavailable(exc, "cannot connect")
        self._pool = ConnectionPool(
            url.conninfo,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "connect_timeout": int(CONNECT_TIMEOUT)},
            timeout=CONNECT_TIMEOUT,
            name="xlr-store",
            configure=_configure,
            open=False,
        )
        self._pool.open(wait=True, timeout=CONNECT_TIMEOUT)

    @classmethod
    def open_url(cls, url: StoreURL, *, home: Path, owner: str | None = None) -> PostgresStore:
        """Connect to the database of ``url`` and apply pending migrations."""
        return cls(url, home=home, owner=owner).migrated()

    @property
    def home_dir(self) -> Path:
        """The folder of the runtime's home (its ``secret.key``), given when opened."""
        return self._home

    @property
    def db(self) -> Any:  # type: ignore[override]
        """What migration steps are given: ``execute`` and ``conn.executemany`` (see :class:`_Schema`)."""
        return _Schema(self)

    def migration_sets(self) -> list[MigrationSet]:
        """SQLite's functions first, then every area's steps."""
        return [MIGRATIONS, *super().migration_sets()]

    # -- transactions and statements ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """The thread's transaction connection, or a pooled one for one statement."""
        bound = getattr(self._bound, "conn", None)
        if bound is not None:
            yield bound
            return
        with self._pooled() as conn:
            yield conn

    @contextlib.contextmanager
    def _pooled(self) -> Iterator[psycopg.Connection[Any]]:
        from psycopg_pool import PoolTimeout

        try:
            with self._pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            self._unavailable(exc, "no connection to the server")
        except self._errors.OperationalError as exc:
            self._unavailable(exc)

    @contextlib.contextmanager
    def atomic(self, *, concurrent: bool = False) -> Iterator[Self]:
        """All statements in the block commit together or not at all (nested blocks are savepoints); one writer
        at a time (:data:`WRITE_LOCK`), as SQLite's ``BEGIN IMMEDIATE``, but for ``concurrent`` blocks, which
        lock their rows themselves and run side by side (see the module)."""
        bound = getattr(self._bound, "conn", None)
        if bound is not None:
            name = f"sp_{uuid.uuid4().hex}"
            bound.execute(f"SAVEPOINT {name}")
            try:
                yield self
            except BaseException:
                with contextlib.suppress(self._errors.Error):
                    bound.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    bound.execute(f"RELEASE SAVEPOINT {name}")
                raise
            bound.execute(f"RELEASE SAVEPOINT {name}")
            return
        with self._pooled() as conn:
            self._bound.conn = conn
            try:
                begin = _BEGIN_CONCURRENT if concurrent else _BEGIN_WRITE
                conn.execute(begin)  # one round trip: no parameters, so psycopg sends both statements
                yield self
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(self._errors.Error):
                    conn.execute("ROLLBACK")
                raise
            finally:
                self._bound.conn = None

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Self]:
        """A consistent read of several statements (a repeatable-read, read-only transaction)."""
        if getattr(self._bound, "conn", None) is not None:
            yield self
            return
        with self._pooled() as conn:
            self._bound.conn = conn
            try:
                conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                yield self
            finally:
                with contextlib.suppress(self._errors.Error):
                    conn.execute("COMMIT")
                self._bound.conn = None

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> _Result:  # type: ignore[override]
        """Run one statement (inside the current transaction, if any); its rows are read at once."""
        with self._connection() as conn:
            try:
                with conn.cursor() as cursor:
                    cursor.execute(postgres_sql(sql), _params(params))
                    return _Result(cursor)
            except self._errors.OperationalError as exc:
                self._unavailable(exc)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""
        if not rows:
            return
        with self._connection() as conn:
            try:
                with conn.cursor() as cursor:
                    cursor.executemany(postgres_sql(sql), rows)
            except self._errors.OperationalError as exc:
                self._unavailable(exc)

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        """Rows of one statement as dicts."""
        result = self.execute(sql, params)
        names = [column.name for column in result.description or ()]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def _unavailable(self, exc: BaseException, what: str | None = None) -> NoReturn:
        text = _one_line(exc)
        if self.url.password:
            text = text.replace(self.url.password, "***")
        raise StoreUnavailableError(
            f"{self.location}: {what + ': ' if what else ''}{text}",
            hint="Check that the PostgreSQL server runs and accepts connections.",
        ) from None

    # -- work announced across runtimes -----------------------------------------------------------------------

    def announce_work(self) -> None:
        """``NOTIFY`` the listening runtimes (:data:`WORK_CHANNEL`), at the commit of the current transaction."""
        self.execute("SELECT pg_notify(?, ?)", [WORK_CHANNEL, self.owner])

    def listen_for_work(self, on_work: Callable[[], None]) -> _WorkListener:
        r"""A context that ``LISTEN``\ s for announced work while it is open (see :class:`_WorkListener`)."""
        return _WorkListener(self, on_work)

    # -- maintenance -------------------------------------------------------------------------------------------

    def integrity_check(self) -> str:
        """``"ok"`` when every table of the store can be read (PostgreSQL checks its pages itself; ``amcheck``
        is the deeper check, run by an administrator)."""
        self.row_counts()
        return "ok"

    def space(self) -> StoreSpace:
        """How big the database is (``pg_database_size``); PostgreSQL reuses free space itself, so none is
        reported free."""
        size = int(self.execute("SELECT pg_database_size(current_database())").fetchone()[0])  # type: ignore[index]
        return StoreSpace(file_bytes=size, used_bytes=size, free_bytes=0)

    def vacuum(self) -> None:
        """``VACUUM`` every table of the store (outside a transaction, as PostgreSQL requires)."""
        for name in self._tables():
            self.execute(f'VACUUM "{name}"')

    def backup(self, target: Path) -> None:
        """Not on PostgreSQL: its own tools copy a database consistently."""
        raise StoreError(
            f"{self.location}: xlr backup copies an SQLite file; back up a PostgreSQL store with pg_dump",
            hint=f"pg_dump --format=custom --file={target} DATABASE",
        )

    def row_counts(self) -> dict[str, int]:
        """Rows of every table of the store, by table name."""
        return {name: int(self.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]) for name in self._tables()}  # type: ignore[index]

    def _tables(self) -> list[str]:
        rows = self.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' ORDER BY table_name"
        ).fetchall()
        return [str(row[0]) for row in rows]

    def close(self) -> None:
        """Close every connection of the pool."""
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.close()
            self._pool = None  # type: ignore[assignment]


def _configure(conn: psycopg.Connection[Any]) -> None:
    """Set up a new connection of the pool: see :data:`IDLE_IN_TRANSACTION_TIMEOUT`."""
    conn.execute(f"SET idle_in_transaction_session_timeout = {int(IDLE_IN_TRANSACTION_TIMEOUT * 1000)}")


class _WorkListener:
    r"""While open: a connection of its own, in a daemon thread, ``LISTEN``\ ing on :data:`WORK_CHANNEL`; each
    notification from another store calls ``on_work``. A lost connection is one log line; the thread reconnects
    (pauses growing to :data:`_LISTEN_RETRY_MAX`) and then calls ``on_work`` once, for what it may have missed."""

    def __init__(self, store: PostgresStore, on_work: Callable[[], None]) -> None:
        self._store = store
        self._on_work = on_work
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="xlr-listen", daemon=True)

    def __enter__(self) -> None:
        self._thread.start()

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=_LISTEN_POLL * 4)

    def _listen(self) -> None:
        psycopg, store = self._store._errors, self._store
        pause, lost = _LISTEN_POLL, False
        while not self._stop.is_set():
            try:
                with psycopg.connect(store.url.conninfo, autocommit=True, connect_timeout=int(CONNECT_TIMEOUT)) as conn:
                    conn.execute(f"LISTEN {WORK_CHANNEL}")
                    if lost:
                        log.info("listening for work announced on %s again", store.location)
                        self._on_work()
                    pause, lost = _LISTEN_POLL, False
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=_LISTEN_POLL):
                            if notice.payload != store.owner:
                                self._on_work()
            except psycopg.Error as exc:
                if not lost:
                    log.warning(
                        "%s: not listening for announced work (%s); trying again", store.location, _one_line(exc)
                    )
                lost = True
                self._stop.wait(pause)
                pause = min(pause * 2, _LISTEN_RETRY_MAX)


def _params(params: Sequence[Any] | dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
    return params if isinstance(params, dict | list | tuple) else list(params)


def _one_line(exc: BaseException) -> str:
    """The first line of a driver's message (libpq's messages never hold the password)."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].strip()
