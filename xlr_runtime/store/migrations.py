"""Named migration sets: each area of the store (tasks, jobs, executions) owns its ordered schema steps.

A step is a function taking the :class:`sqlite_utils.Database`; it runs in one transaction together with the
``_migrations`` row that records it, so a crash between steps leaves a database that the next start finishes.
Steps are never edited once released: a schema change is a new step appended to its set.

Example::

    MIGRATIONS = MigrationSet("jobs")

    @MIGRATIONS.step("create jobs")
    def _create_jobs(db: Database) -> None:
        db.execute("CREATE TABLE jobs (id TEXT PRIMARY KEY, ...)")
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xlr_runtime.errors import StoreError

if TYPE_CHECKING:
    from sqlite_utils import Database

    from xlr_runtime.store.base import StoreBase

#: Signature of one migration step.
StepFunction = Callable[["Database"], None]

_RECORD_TABLE = "_migrations"


@dataclass(frozen=True)
class Migration:
    """One step of a set: its name (unique within the set) and the function applying it."""

    name: str
    apply: StepFunction


@dataclass
class MigrationSet:
    """The ordered steps of one store area, identified by ``name`` in the ``_migrations`` table."""

    name: str
    steps: list[Migration] = field(default_factory=list)

    def step(self, name: str) -> Callable[[StepFunction], StepFunction]:
        """Decorator appending a step called ``name``; step names must be unique in the set."""

        def register(function: StepFunction) -> StepFunction:
            if any(existing.name == name for existing in self.steps):
                raise ValueError(f"migration set {self.name!r} already has a step {name!r}")
            self.steps.append(Migration(name, function))
            return function

        return register


def apply_migrations(store: StoreBase, sets: Iterable[MigrationSet]) -> list[str]:
    """Apply every pending step of ``sets`` in order; return ``set/step`` names applied now.

    Raises :class:`StoreError` when the database records steps this version does not know (written by a newer
    xlr-runtime): running on it could corrupt data.
    """
    sets = list(sets)
    applied_now: list[str] = []
    for migration_set, step in pending_migrations(store, sets):
        with store.atomic():
            # Another process may have applied it while we waited for the write lock.
            if store.query_one(
                f"SELECT 1 AS x FROM {_RECORD_TABLE} WHERE migration_set = ? AND name = ?",
                [migration_set.name, step.name],
            ):
                continue
            step.apply(store.db)
            store.execute(
                f"INSERT INTO {_RECORD_TABLE} (migration_set, name, applied_at) VALUES (?, ?, ?)",
                [migration_set.name, step.name, time.time()],
            )
        applied_now.append(f"{migration_set.name}/{step.name}")
    return applied_now


def pending_migrations(store: StoreBase, sets: Iterable[MigrationSet]) -> list[tuple[MigrationSet, Migration]]:
    """The steps of ``sets`` the database has not recorded yet, in the order they apply (``xlr store migrate
    --check`` lists them; nothing is applied). Creates the empty ``_migrations`` table of a new database.

    Raises :class:`StoreError` naming every step of ``sets`` the database records that this version does not know
    (written by a newer xlr-runtime): running on it could corrupt data.
    """
    with store.atomic():
        store.execute(
            f"CREATE TABLE IF NOT EXISTS {_RECORD_TABLE} (migration_set TEXT NOT NULL, name TEXT NOT NULL, "
            "applied_at REAL NOT NULL, PRIMARY KEY (migration_set, name))"
        )
    recorded: dict[str, set[str]] = {}  # set name -> its applied steps, read in one query at every open
    for row in store.query(f"SELECT migration_set, name FROM {_RECORD_TABLE}"):
        recorded.setdefault(row["migration_set"], set()).add(row["name"])
    sets = list(sets)
    unknown = sorted(
        f"{migration_set.name}/{name}"
        for migration_set in sets
        for name in recorded.get(migration_set.name, set()) - {step.name for step in migration_set.steps}
    )
    if unknown:
        raise StoreError(
            f"{store.location}: migration{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
            f"{'are' if len(unknown) > 1 else 'is'} not known to this xlr-runtime (the database was written by a "
            "newer version)",
            hint="Upgrade xlr-runtime (or restore the backup taken before the upgrade, or use another --home).",
        )
    return [
        (migration_set, step)
        for migration_set in sets
        for step in migration_set.steps
        if step.name not in recorded.get(migration_set.name, set())
    ]


def applied_migrations(store: StoreBase) -> list[tuple[str, str, float]]:
    """Every recorded step as ``(set, name, applied_at)``, in the order applied."""
    order = store.dialect.insertion_order
    rows = store.query(f"SELECT migration_set, name, applied_at FROM {_RECORD_TABLE} ORDER BY {order}")
    return [(row["migration_set"], row["name"], row["applied_at"]) for row in rows]
