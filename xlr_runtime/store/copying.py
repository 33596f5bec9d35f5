"""Copy a whole store into another, empty one, between backends (``xlr store copy``; docs/cluster.md).

Every table of every area is copied in dependency order (a table after those its foreign keys name), in batches
read in primary-key order, ids kept as they are; then each table's ids go on past the source's (PostgreSQL's
identity sequences, SQLite's ``sqlite_sequence``), so an id is never reused. The whole copy is one transaction on
the target, verified before it commits: the rows and a checksum of each table (:func:`table_digest`, computed the
same way on both sides) must match the source's, else nothing of the copy is kept. The source is read in one
snapshot. The target's ``secret.key`` must be the source's (sealed values are copied sealed).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from xlr_runtime.errors import StoreError
from xlr_runtime.home import SECRET_KEY_FILE
from xlr_runtime.store.keycheck import KEY_CHECK_TABLE, key_check_value
from xlr_runtime.store.migrations import applied_migrations
from xlr_runtime.store.store import Store

#: Rows read and written at a time.
BATCH_SIZE = 1000

#: Tables a store keeps for itself: each side has its own (the target is migrated before the copy, and records
#: the check value of the home's key when opened: the same key as the source's, or it is refused).
_OWN_TABLES = frozenset({"_migrations", "sqlite_sequence", KEY_CHECK_TABLE})

#: The migration set only PostgreSQL has (its SQLite functions), left out when the versions are compared.
_BACKEND_SETS = frozenset({"postgresql"})


@dataclass(frozen=True)
class Table:
    """One table of a store: its columns (in the source's order), primary key and the tables it refers to."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    references: frozenset[str]


@dataclass(frozen=True)
class TableCopy:
    """What was copied of one table, and its checksum on each side."""

    name: str
    source_rows: int
    target_rows: int
    source_digest: str
    target_digest: str

    @property
    def matches(self) -> bool:
        """Whether the target holds what the source held."""
        return self.source_rows == self.target_rows and self.source_digest == self.target_digest


class CopyMismatchError(StoreError):
    """The copy does not hold what the source holds (it was rolled back); ``copies`` says where it differs."""

    def __init__(self, message: str, copies: list[TableCopy]) -> None:
        super().__init__(message)
        self.copies = copies


def copy_store(source: Store, target: Store, *, batch_size: int = BATCH_SIZE) -> list[TableCopy]:
    """Copy every row of ``source`` into the empty, migrated ``target``; the tables in the order copied.

    Raises :class:`StoreError` (and keeps nothing in ``target``) when the target holds rows or is at another
    schema version, :class:`CopyMismatchError` when it does not match the source once copied."""
    _require_same_version(source, target)
    _require_same_key(source, target)
    _require_empty(target)
    with source.snapshot():
        tables = ordered_tables(source)
        with target.atomic():
            for table in tables:
                _copy_rows(source, target, table, batch_size)
            _continue_sequences(source, target, tables)
            copies = [_verified(source, target, table, batch_size) for table in tables]
            wrong = [copy.name for copy in copies if not copy.matches]
            if wrong:
                raise CopyMismatchError(
                    f"{target.location}: the copy does not match the source in {', '.join(wrong)}; nothing was kept",
                    copies,
                )
    return copies


def _require_same_version(source: Store, target: Store) -> None:
    def steps(store: Store) -> set[tuple[str, str]]:
        return {(name, step) for name, step, _ in applied_migrations(store) if name not in _BACKEND_SETS}

    missing = sorted(f"{name}/{step}" for name, step in steps(source) ^ steps(target))
    if missing:
        raise StoreError(
            f"{target.location}: not at the source's schema version (differs in {', '.join(missing[:3])})",
            hint="Run 'xlr store migrate' on both with the same xlr-runtime.",
        )


def _require_same_key(source: Store, target: Store) -> None:
    """The target must open the copied sealed values: its ``secret.key`` (the home's, or beside an SQLite file)
    must be the source's key."""
    source_key, target_key = source.home_dir / SECRET_KEY_FILE, target.home_dir / SECRET_KEY_FILE
    wanted = key_check_value(source_key)
    if wanted is not None and key_check_value(target_key) != wanted:
        raise StoreError(
            f"{target_key}: not the secret key of the source ({source_key}), which the copied sealed values need",
            hint=f"Copy {source_key} to {target_key} (mode 0600) first.",
        )


def _require_empty(target: Store) -> None:
    held = {name: rows for name, rows in target.row_counts().items() if rows and name not in _OWN_TABLES}
    if held:
        listed = ", ".join(f"{rows} {name}" for name, rows in sorted(held.items()))
        raise StoreError(
            f"{target.location}: the target store is not empty (it holds {listed}); nothing was copied",
            hint="Copy into a new, empty database (or SQLite file).",
        )


def ordered_tables(store: Store) -> list[Table]:
    """The tables of ``store`` to copy (not its own bookkeeping), each after the tables it refers to."""
    found = _postgres_tables(store) if store.dialect.name == "postgresql" else _sqlite_tables(store)
    tables = {table.name: table for table in found if table.name not in _OWN_TABLES}
    ordered: list[Table] = []
    placed: set[str] = set()

    def place(name: str) -> None:
        if name in placed:
            return
        placed.add(name)
        for referenced in sorted(tables[name].references - {name}):
            place(referenced)
        ordered.append(tables[name])

    for name in sorted(tables):
        place(name)
    return ordered


def _sqlite_tables(store: Store) -> list[Table]:
    names = [row["name"] for row in store.query("SELECT name FROM sqlite_master WHERE type = 'table'")]
    tables = []
    for name in names:
        if name.startswith("sqlite_") or name in _OWN_TABLES:
            continue
        columns = store.query(f'PRAGMA table_info("{name}")')
        key = tuple(column["name"] for column in sorted(columns, key=lambda c: c["pk"]) if column["pk"])
        references = frozenset(row["table"] for row in store.query(f'PRAGMA foreign_key_list("{name}")'))
        tables.append(Table(name, tuple(column["name"] for column in columns), key, references))
    return tables


def _postgres_tables(store: Store) -> list[Table]:
    columns = store.query(
        "SELECT table_name AS t, column_name AS c FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    )
    keys = store.query(
        "SELECT c.relname AS t, a.attname AS c FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indisprimary AND c.relnamespace = current_schema()::regnamespace "
        "ORDER BY c.relname, array_position(i.indkey::int2[], a.attnum)"
    )
    references = store.query(
        "SELECT c.relname AS t, r.relname AS r FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
        "JOIN pg_class r ON r.oid = k.confrelid "
        "WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace"
    )
    names = [row["table_name"] for row in store.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_type = 'BASE TABLE'"
    )]  # fmt: skip
    return [
        Table(
            name,
            tuple(row["c"] for row in columns if row["t"] == name),
            tuple(row["c"] for row in keys if row["t"] == name),
            frozenset(row["r"] for row in references if row["t"] == name),
        )
        for name in names
    ]


def _batches(store: Store, table: Table, batch_size: int) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of ``table`` in primary-key order, ``batch_size`` at a time (each batch after the last one's key:
    no batch reads the rows before it again)."""
    columns = ", ".join(f'"{column}"' for column in table.columns)
    key = ", ".join(f'"{column}"' for column in table.key)
    positions = [table.columns.index(column) for column in table.key]
    last: list[Any] | None = None
    while True:
        after = "" if last is None else f"WHERE ({key}) > ({', '.join('?' * len(last))}) "
        result = store.execute(
            f'SELECT {columns} FROM "{table.name}" {after}ORDER BY {key} LIMIT ?', [*(last or []), batch_size]
        )
        rows = [tuple(row) for row in result.fetchall()]
        if rows:
            yield rows
        if len(rows) < batch_size:
            return
        last = [rows[-1][position] for position in positions]


def _copy_rows(source: Store, target: Store, table: Table, batch_size: int) -> None:
    columns = ", ".join(f'"{column}"' for column in table.columns)
    insert = f'INSERT INTO "{table.name}" ({columns}) VALUES ({", ".join("?" * len(table.columns))})'
    for rows in _batches(source, table, batch_size):
        target.executemany(insert, rows)


def table_digest(store: Store, table: Table, batch_size: int = BATCH_SIZE) -> tuple[int, str]:
    """The rows of ``table`` and a SHA-256 of them: the column names in name order, then the rows in primary-key
    order as JSON, each row's values in that column order and :func:`_normalised`, so a table has the same digest
    on SQLite and on PostgreSQL (read in batches of ``batch_size``, which both sides must share)."""
    order = sorted(range(len(table.columns)), key=lambda i: table.columns[i])
    digest = hashlib.sha256(json.dumps([table.columns[i] for i in order]).encode())
    rows = 0
    for batch in _batches(store, table, batch_size):
        values = [[_normalised(row[i]) for i in order] for row in batch]
        digest.update(json.dumps(values, ensure_ascii=False).encode() + b"\n")
        rows += len(batch)
    return rows, digest.hexdigest()


def _normalised(value: Any) -> Any:
    """``value`` as both backends give it back: a whole float (SQLite hands ``REAL`` affinity values so) as an
    integer, bytes as hexadecimal text, a boolean as 0 or 1; text, integers and NULL as they are."""
    kind = type(value)
    if kind is str or kind is int or value is None:
        return value
    if kind is bool:
        return int(value)
    if kind is float and value.is_integer():
        return int(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes": bytes(value).hex()}
    return value


def _verified(source: Store, target: Store, table: Table, batch_size: int) -> TableCopy:
    source_rows, source_digest = table_digest(source, table, batch_size)
    target_rows, target_digest = table_digest(target, table, batch_size)
    return TableCopy(table.name, source_rows, target_rows, source_digest, target_digest)


def _continue_sequences(source: Store, target: Store, tables: list[Table]) -> None:
    """Make the target's next id of each table with a generated id follow the source's last one (or its largest
    id), so no id is handed out twice."""
    marks = _sequence_marks(source)
    for table in tables:
        if len(table.key) != 1:
            continue
        column = table.key[0]
        if target.dialect.name == "postgresql":
            found = target.execute("SELECT pg_get_serial_sequence(?, ?)", [f'"{table.name}"', column]).fetchone()
            sequence = found[0] if found else None
        else:
            sequence = "sqlite_sequence" if _autoincrement(target, table.name) else None
        if sequence is None:
            continue  # its key is not generated (a uuid, a name)
        largest = target.execute(f'SELECT MAX("{column}") FROM "{table.name}"').fetchone()[0]  # type: ignore[index]
        mark = max(int(largest or 0), marks.get(table.name, 0))
        if not mark:
            continue
        if target.dialect.name == "postgresql":
            target.execute("SELECT setval(?, ?)", [sequence, mark])
        else:
            target.execute("DELETE FROM sqlite_sequence WHERE name = ?", [table.name])
            target.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", [table.name, mark])


def _autoincrement(store: Store, name: str) -> bool:
    row = store.query_one("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [name])
    return bool(row and "AUTOINCREMENT" in str(row["sql"]).upper())


def _sequence_marks(store: Store) -> dict[str, int]:
    """The last id each table with a generated id handed out (it may be past the largest id left)."""
    if store.dialect.name == "postgresql":
        rows = store.query(
            "SELECT c.relname AS name, s.last_value AS seq FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
            "JOIN pg_sequences s ON s.schemaname = current_schema() "
            "AND s.sequencename = split_part(pg_get_serial_sequence(quote_ident(c.relname), a.attname), '.', 2) "
            "WHERE c.relnamespace = current_schema()::regnamespace AND a.attidentity <> '' AND c.relkind = 'r'"
        )
    else:
        if not store.query_one("SELECT 1 AS x FROM sqlite_master WHERE name = 'sqlite_sequence'"):
            return {}
        rows = store.query("SELECT name, seq FROM sqlite_sequence")
    return {row["name"]: int(row["seq"] or 0) for row in rows}
