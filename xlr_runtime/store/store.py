"""The store: an open database (:class:`~xlr_runtime.store.base.StoreBase`) with its migrations applied and one
repository per area (``store.tasks``, ``store.jobs``, ``store.executions``, …).

The repositories import nothing of this module: each takes the :class:`~xlr_runtime.store.base.StoreBase` below it,
and this module builds them, so the package's imports run one way (docs/architecture.md).
"""

from __future__ import annotations

import importlib
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Self

from xlr_runtime.errors import StoreError
from xlr_runtime.store.base import StoreBase
from xlr_runtime.store.migrations import MigrationSet, apply_migrations

if TYPE_CHECKING:
    from xlr_runtime.store.executions import ExecutionRepository
    from xlr_runtime.store.history import HistoryRepository
    from xlr_runtime.store.jobs import JobRepository
    from xlr_runtime.store.keys import KeyRepository
    from xlr_runtime.store.notifications import NotificationRepository
    from xlr_runtime.store.owners import OwnerRepository
    from xlr_runtime.store.schedules import ScheduleRepository
    from xlr_runtime.store.tasks import TaskRepository
    from xlr_runtime.store.tokens import TokenRepository

#: Modules of store areas, each exposing ``MIGRATIONS: MigrationSet``; applied in this order on open.
AREA_MODULES: tuple[str, ...] = (
    "xlr_runtime.store.tasks",
    "xlr_runtime.store.executions",
    "xlr_runtime.store.jobs",
    "xlr_runtime.store.schedules",
    "xlr_runtime.store.notifications",
    "xlr_runtime.store.keys",
    "xlr_runtime.store.tokens",
    "xlr_runtime.store.keycheck",
)


class Store(StoreBase):
    """An open database: ``store.tasks`` (and, as areas are added, ``store.jobs``, ``store.executions``).

    The SQLite store, and through :class:`~xlr_runtime.store.postgres.PostgresStore` (which overrides what
    :class:`~xlr_runtime.store.base.StoreBase` holds) the PostgreSQL one: both have the same migrations and
    repositories. Use as a context manager, or call :meth:`close`.
    """

    @classmethod
    def open(cls, path: str | Path, *, synchronous: str = "NORMAL", owner: str | None = None) -> Store:
        """Open (creating if needed) and migrate the database at ``path``."""
        return cls(path, synchronous=synchronous, owner=owner).migrated()

    def migrated(self) -> Self:
        """This store with its pending migrations applied (closed, and the error raised, when one fails)."""
        try:
            self.migrate()
        except BaseException:
            self.close()
            raise
        return self

    def migration_sets(self) -> list[MigrationSet]:
        """The migration sets of this backend, in the order they apply: every area of :data:`AREA_MODULES`."""
        return [importlib.import_module(name).MIGRATIONS for name in AREA_MODULES]

    def migrate(self) -> list[str]:
        """Apply pending steps of every set of :meth:`migration_sets`; return the ``set/step`` names applied."""
        try:
            return apply_migrations(self, self.migration_sets())
        except self.driver_error as exc:
            raise StoreError(f"{self.location}: {str(exc).splitlines()[0]}") from None

    # -- repositories (one per area; add yours here) ------------------------------------------------------------

    @cached_property
    def tasks(self) -> TaskRepository:
        """Tasks, their script runs and their log lines."""
        from xlr_runtime.store.tasks import TaskRepository

        return TaskRepository(self)

    @cached_property
    def owners(self) -> OwnerRepository:
        """The processes that claim script runs, and their leases."""
        from xlr_runtime.store.owners import OwnerRepository

        return OwnerRepository(self)

    @cached_property
    def executions(self) -> ExecutionRepository:
        """Rundeck job executions and their log lines."""
        from xlr_runtime.store.executions import ExecutionRepository

        return ExecutionRepository(self)

    @cached_property
    def jobs(self) -> JobRepository:
        """Projects and their Rundeck job definitions."""
        from xlr_runtime.store.jobs import JobRepository

        return JobRepository(self)

    @cached_property
    def schedules(self) -> ScheduleRepository:
        """The next fire time of every stored job."""
        from xlr_runtime.store.schedules import ScheduleRepository

        return ScheduleRepository(self)

    @cached_property
    def history(self) -> HistoryRepository:
        """Ended tasks and executions beyond a retention, and their removal."""
        from xlr_runtime.store.history import HistoryRepository

        return HistoryRepository(self)

    @cached_property
    def notifications(self) -> NotificationRepository:
        """Notification events of executions and their deliveries."""
        from xlr_runtime.store.notifications import NotificationRepository

        return NotificationRepository(self)

    @cached_property
    def keys(self) -> KeyRepository:
        """Rundeck key storage: sealed private keys, public keys and passwords by path."""
        from xlr_runtime.store.keys import KeyRepository

        return KeyRepository(self)

    @cached_property
    def tokens(self) -> TokenRepository:
        """API tokens of the HTTP API, kept as hashes."""
        from xlr_runtime.store.tokens import TokenRepository

        return TokenRepository(self)
