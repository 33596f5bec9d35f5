"""Which owners of running executions and notification events another process may take over.

Executions and notification events carry their owner's name (``host:pid:random``) but no lease of their own: the
owner's lease is its ``runtime_owners`` row (:mod:`xlr_runtime.store.owners`), renewed by its scheduler while the
process lives. So on a database several hosts share, an owner is gone when:

* it is registered, and its process is seen gone from here (same host, boot and pid namespace), or cannot be seen
  from here (another host) and its lease ran out;
* it is not registered, and it names a process of this host that no longer runs, or a process of another host
  (its row was forgotten when a host found it gone, or released when it stopped).

The owner of the store asking is never gone. This module only reads the owners; recording and renewing them is
the scheduler's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from xlr_runtime.store.owners import Liveness, ProcessIdentity, owner_is_dead

if TYPE_CHECKING:
    from xlr_runtime.store.base import Store


def gone_owners(store: Store, owners: Iterable[str], *, now: float, here: ProcessIdentity | None = None) -> list[str]:
    """The owners among ``owners`` whose work may be taken over at ``now`` (see the module docstring), as seen
    by the process ``here`` (default: this one)."""
    here = here or ProcessIdentity.current()
    records = {record.owner: record for record in store.owners.all()}
    gone = []
    for owner in owners:
        if owner == store.owner:
            continue
        record = records.get(owner)
        if record is None:
            if owner_is_dead(owner) or owner.partition(":")[0] != here.host:
                gone.append(owner)
            continue
        liveness = here.liveness_of(record.process)
        if liveness is Liveness.GONE or (liveness is Liveness.UNKNOWN and record.lease_until <= now):
            gone.append(owner)
    return gone
