"""The history pruner ``xlr serve`` runs when ``history.keep`` is set: once at start, then every
:data:`PRUNE_INTERVAL` seconds, in a thread of its own with its own connection to the store, so the scheduler
never waits for more than one batch (see :mod:`xlr_runtime.store.history`). A built-in plugin: it starts through
the ``xlr_serve_services`` hook, as the Rundeck services do.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from xlr_runtime import hookimpl
from xlr_runtime.retention import Retention

if TYPE_CHECKING:
    from xlr_runtime.clock import Clock
    from xlr_runtime.home import Home
    from xlr_runtime.runtime import Runtime
    from xlr_runtime.scheduler import Scheduler
    from xlr_runtime.settings import Settings

log = logging.getLogger(__name__)

#: Seconds between two prunes of a running server.
PRUNE_INTERVAL = 3600.0


class HistoryPruner:
    """Prunes the ended history of one home beyond ``retention`` until :meth:`request_stop`."""

    def __init__(
        self, home: Home, retention: Retention, clock: Clock, *, settings: Settings, interval: float = PRUNE_INTERVAL
    ) -> None:
        self.home = home
        self.retention = retention
        self.clock = clock
        self.settings = settings
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="xlr-history-pruner", daemon=True)

    def start(self) -> HistoryPruner:
        """Start the thread (it prunes at once); return self."""
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Stop after the batch being deleted, if any."""
        self._stop.set()
        self._thread.join(timeout=30)

    def prune_once(self) -> None:
        """One prune; a store that cannot be written for now (or any error) is logged and tried again at the next
        interval, never stopping the server."""
        from xlr_runtime.store.opening import open_store  # imported only where a server runs

        try:
            with open_store(self.home, self.settings) as store:
                counts = store.history.prune(self.retention, self.clock.now(), stop=self._stop.is_set)
        except Exception as error:  # a thread of its own: it logs and tries again, never ends the server
            log.warning("history prune failed: %s", error, extra={"event": "history.prune_failed"})
            return
        if counts.tasks or counts.executions:
            log.info(
                "history pruned: %d task(s), %d execution(s) %s", counts.tasks, counts.executions,
                self.retention.describe(), extra={"event": "history.pruned"},
            )  # fmt: skip

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.prune_once()
            self._stop.wait(self.interval)


@hookimpl
def xlr_serve_services(runtime: Runtime, scheduler: Scheduler) -> HistoryPruner | None:
    """The pruner, when the home's ``history.keep`` keeps less than everything."""
    retention = runtime.settings.retention
    if retention.keeps_everything:
        return None
    return HistoryPruner(runtime.home, retention, runtime.clock, settings=runtime.settings).start()
