"""Worker pools shared by the task harnesses of a test session, so a test does not pay for starting workers.

Starting a worker (a fresh interpreter importing the script API) costs a few hundred milliseconds; a script run
on a started one costs about a millisecond. :class:`SharedPools` keeps started pools for the whole session and
hands each harness the one whose workers were started with the environment the harness's scripts must see: the
test's ``os.environ`` without the variables the harness itself set for CI passwords (those are read by the
runtime, never by scripts). Most tests see the same environment and share one pool; a test that sets a variable
(``monkeypatch.setenv``) gets a pool of its own environment, so no test's variables reach another test's scripts.
At most :attr:`SharedPools.keep` pools stay started; the least recently used one beyond that is shut down.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

from xlr_runtime.scripting.pool import WorkerPool

#: Workers in each shared pool.
POOL_SIZE = 2
#: Pools (distinct environments) kept started at once.
POOLS_KEPT = 2

_EnvironmentKey = frozenset[tuple[str, str]]


class SharedPools:
    """Started worker pools, one per worker environment (see the module docstring); :meth:`close` stops them."""

    def __init__(self, size: int = POOL_SIZE, *, keep: int = POOLS_KEPT) -> None:
        self.size = size
        self.keep = max(1, keep)
        self._pools: OrderedDict[_EnvironmentKey, WorkerPool] = OrderedDict()

    def pool_for(self, environ: Mapping[str, str]) -> WorkerPool:
        """The pool whose workers start with exactly ``environ`` (started now if there is none)."""
        key = frozenset(environ.items())
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = WorkerPool(self.size, environ=environ)
        self._pools.move_to_end(key)
        while len(self._pools) > self.keep:
            _, oldest = self._pools.popitem(last=False)
            oldest.shutdown(wait=False)
        return pool

    @property
    def worker_pids(self) -> list[int]:
        """The process ids of the started workers of every pool."""
        return [pid for pool in self._pools.values() for pid in pool.worker_pids]

    def close(self) -> None:
        """Stop every pool's workers."""
        while self._pools:
            _, pool = self._pools.popitem()
            pool.shutdown(wait=False)
