"""Runtime owners: which process claimed a script run, a Rundeck execution or a notification event, whether that
process still lives, and its lease.

A scheduler registers its process in ``runtime_owners`` under the store's owner name (``host:pid:random``, stamped
on every run, execution and event it claims) with what identifies the process beyond its pid — the kernel's boot
id, the pid namespace and the process's start time (``/proc``) — and a lease: ``lease_until`` on its row and on its
running runs, renewed together, in one short transaction every :func:`renew_interval` (never one per run).

Another runtime takes over the work of an owner only when that owner is gone, by one rule for every kind of work
(:func:`verdict_of`; :meth:`OwnerRepository.verdicts` for script runs, :meth:`OwnerRepository.verdicts_of` for
executions and events):

* it is gone when its process **ended**: this host can see it (same boot id and pid namespace) and no process has
  its pid, or the process with its pid started at another time (the pid was reused), or it is a zombie;
* otherwise it is gone when its **lease ran out**, whether its process runs (stalled: stopped, hung — it renews
  no more) or cannot be seen from here (another host or container, or no ``/proc``). The lease is its row's; an
  owner without a row (its row was forgotten when another runtime found it gone, or released when it stopped, or
  a claim of a version before owners were recorded) has only the lease of its work: a script run's
  ``lease_until``, and none for executions and events, which have no lease of their own (so it is gone).

So an owner that is alive and renewing keeps all its work; one that stalled past its lease loses it, and the
fencing tokens of script runs (``script_runs.claim_token``) keep its late results out. Requiring an
expired lease also for an owner this host sees ended would only delay every restart after a crash by the lease,
with no process left that could still finish the work.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlr_runtime.store.base import storable_text

if TYPE_CHECKING:
    from xlr_runtime.store.base import StoreBase
    from xlr_runtime.typesystem.digest import TypeDigests

#: Seconds a claim stays valid without renewal (for owners whose process cannot be checked from here).
LEASE_SECONDS = 60.0
#: Seconds between two renewals of a live owner's lease, at most (see :func:`renew_interval`).
RENEW_EVERY = 15.0

_PROC = Path("/proc")


def renew_interval(lease: float) -> float:
    """Seconds between two renewals of a ``lease``-second lease (``cluster.lease_seconds``): a quarter of it,
    :data:`RENEW_EVERY` at most. The loops that look for owners gone meanwhile look at the same pace."""
    return min(RENEW_EVERY, lease / 4)


class Verdict(StrEnum):
    """Why an owner is gone: its process ended (seen from here), or its lease ran out (a host lost, or a process
    that stalled)."""

    ENDED = "ended"
    LEASE_EXPIRED = "lease expired"


class Liveness(StrEnum):
    """What this process can tell about another: alive, gone, or nothing (another host or pid namespace)."""

    ALIVE = "alive"
    GONE = "gone"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ProcessIdentity:
    """What identifies a process across pid reuse: host name, pid, the kernel's boot id, the pid namespace and
    the start time (clock ticks after boot, ``/proc/PID/stat`` field 22). Empty strings where ``/proc`` says
    nothing (another system)."""

    host: str
    pid: int
    boot_id: str = ""
    pid_ns: str = ""
    start: str = ""

    @classmethod
    def current(cls) -> ProcessIdentity:
        """This process."""
        identity = cls.of(os.getpid())
        assert identity is not None  # this process runs
        return identity

    @classmethod
    def of(cls, pid: int) -> ProcessIdentity | None:
        """The process ``pid`` of this host (``None`` when there is none)."""
        if not (_PROC / "self" / "stat").exists():  # no /proc (not Linux): only the host and the pid
            return cls(socket.gethostname(), pid) if _pid_exists(pid) else None
        stat = _stat(pid)
        if stat is None:
            return None
        return cls(socket.gethostname(), pid, _boot_id(), _pid_ns(pid), stat[1])

    def sees(self, other: ProcessIdentity) -> bool:
        """True when this process can check ``other``'s pid: same host, same boot of the kernel, same pid
        namespace."""
        return bool(
            self.host == other.host and self.boot_id and self.boot_id == other.boot_id and self.pid_ns == other.pid_ns
        )

    def liveness_of(self, other: ProcessIdentity) -> Liveness:
        """Whether ``other`` still runs, as far as this process can tell."""
        if other.pid == self.pid and other.start == self.start and self.sees(other):
            return Liveness.ALIVE
        if not self.sees(other):
            if not self.boot_id and not other.boot_id and self.host == other.host:  # no /proc on either side
                return Liveness.GONE if not _pid_exists(other.pid) else Liveness.UNKNOWN
            return Liveness.UNKNOWN
        stat = _stat(other.pid)
        if stat is None or stat[0] in ("Z", "X"):  # no such process, or one that ended and awaits its parent
            return Liveness.GONE
        if other.start and stat[1] != other.start:  # the pid now belongs to another process
            return Liveness.GONE
        return Liveness.ALIVE


@dataclass(frozen=True)
class OwnerRecord:
    """A registered owner: its name, process, what it does (``xlr serve``), when it registered, its lease."""

    owner: str
    process: ProcessIdentity
    purpose: str
    started_at: float
    lease_until: float

    def describe(self) -> str:
        """``pid 123 (xlr serve) on host``, for messages."""
        return f"pid {self.process.pid} ({self.purpose}) on {self.process.host}"


def _boot_id() -> str:
    try:
        return (_PROC / "sys" / "kernel" / "random" / "boot_id").read_text().strip()
    except OSError:
        return ""


def _pid_ns(pid: int) -> str:
    try:
        return os.readlink(_PROC / str(pid) / "ns" / "pid")
    except OSError:
        return ""


def _stat(pid: int) -> tuple[str, str] | None:
    """``(state, start time)`` of process ``pid`` from ``/proc``, or ``None`` when there is no such process."""
    try:
        text = (_PROC / str(pid) / "stat").read_text(errors="replace")
    except FileNotFoundError:
        return None
    except OSError:
        return ("?", "")
    fields = text[text.rfind(")") + 2 :].split()  # after "pid (comm) ": field 3 (state) is fields[0]
    return (fields[0], fields[19]) if len(fields) > 19 else ("?", "")


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, as another user's
        return True
    return True


def _started_epoch(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds, to the second), from ``/proc``; ``None`` when unknown."""
    stat = _stat(pid)
    if stat is None or not stat[1].isdigit():
        return None
    try:
        boot = next(
            float(line.split()[1]) for line in (_PROC / "stat").read_text().splitlines() if line.startswith("btime ")
        )
        return boot + int(stat[1]) / os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration, ValueError, IndexError):
        return None


def legacy_liveness(owner: str, here: ProcessIdentity, claimed_at: float | None) -> Liveness:
    """Whether the process named by an owner without a row (``host:pid:random``, a claim of an older version)
    still runs: its pid is checked on its own host, and a process that started after the claim (``claimed_at``)
    is another one that got the pid (this process too: the owner is not this store's)."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != here.host or not pid_text.isdigit():
        return Liveness.UNKNOWN
    pid = int(pid_text)
    if pid == here.pid:
        return Liveness.GONE
    if not here.boot_id:  # no /proc: only whether the pid exists
        return Liveness.ALIVE if _pid_exists(pid) else Liveness.GONE
    stat = _stat(pid)
    if stat is None or stat[0] in ("Z", "X"):
        return Liveness.GONE
    started = _started_epoch(pid)
    if started is not None and claimed_at is not None and started > claimed_at + 2.0:
        return Liveness.GONE
    return Liveness.ALIVE


def _record(row: dict[str, Any]) -> OwnerRecord:
    process = ProcessIdentity(row["host"], row["pid"], row["boot_id"], row["pid_ns"], row["start"])
    return OwnerRecord(row["owner"], process, row["purpose"], row["started_at"], row["lease_until"])


class OwnerRepository:
    """Reads and writes ``runtime_owners`` (created by the tasks area's migrations)."""

    def __init__(self, store: StoreBase) -> None:
        self._store = store

    def get(self, owner: str) -> OwnerRecord | None:
        """The row of ``owner``, if registered."""
        row = self._store.query_one("SELECT * FROM runtime_owners WHERE owner = ?", [owner])
        return None if row is None else _record(row)

    def all(self) -> list[OwnerRecord]:
        """Every registered owner, oldest first."""
        return [_record(r) for r in self._store.query("SELECT * FROM runtime_owners ORDER BY started_at, owner")]

    def register(
        self,
        owner: str,
        process: ProcessIdentity,
        *,
        purpose: str,
        now: float,
        lease: float = LEASE_SECONDS,
        exclusive: bool = False,
        digests: TypeDigests | None = None,
    ) -> list[OwnerRecord]:
        """Record ``owner`` (this process) with a lease until ``now + lease`` and the ``digests`` of its types (see
        :meth:`differing`). With ``exclusive``, first look for other owners that still hold the home (alive, or
        unknown with a lease not run out): when there are, register nothing and return them. One transaction, so
        two processes cannot both pass."""
        with self._store.atomic() as s:
            if exclusive:
                live = [o for o in self.all() if o.owner != owner and _holds(o, process, now)]
                if live:
                    return live
            s.execute(
                "INSERT INTO runtime_owners (owner, host, pid, boot_id, pid_ns, start, purpose, started_at, "
                "lease_until, registry_digest, type_digests) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (owner) DO UPDATE SET purpose = excluded.purpose, lease_until = excluded.lease_until, "
                "registry_digest = excluded.registry_digest, type_digests = excluded.type_digests",
                [
                    owner,
                    storable_text(process.host),
                    process.pid,
                    process.boot_id,
                    process.pid_ns,
                    process.start,
                    storable_text(purpose),
                    now,
                    now + lease,
                    "" if digests is None else digests.registry,
                    json.dumps({} if digests is None else dict(digests.by_type), separators=(",", ":")),
                ],
            )
        return []

    def differing(
        self, digests: TypeDigests, here: ProcessIdentity, now: float, *, me: str
    ) -> dict[str, list[OwnerRecord]]:
        """The types that live owners other than ``me`` define differently from ``digests`` (a digest of their
        own for the type; a type they do not load is no disagreement), each with those owners. Owners that
        record no digests (older versions) and owners that are gone are left out. One query, which finds no row
        while every live owner loads the same types."""
        rows = self._store.query(
            "SELECT * FROM runtime_owners WHERE owner <> ? AND registry_digest <> '' AND registry_digest <> ? "
            "ORDER BY started_at, owner",
            [me, digests.registry],
        )
        found: dict[str, list[OwnerRecord]] = {}
        for row in rows:
            record = _record(row)
            if not _holds(record, here, now):
                continue
            theirs: dict[str, str] = json.loads(row["type_digests"])
            for name, digest in digests.by_type.items():
                if theirs.get(name, digest) != digest:
                    found.setdefault(name, []).append(record)
        return found

    def renew(self, owner: str, *, now: float, lease: float = LEASE_SECONDS) -> bool:
        """Extend the lease of ``owner`` and of every run it has running to ``now + lease`` (one transaction,
        whatever the number of runs). False when ``owner`` has no row any more: another runtime found it gone
        (its lease ran out while it stalled) and took its runs over; it should register again."""
        until = now + lease
        with self._store.atomic(concurrent=True) as s:  # only this owner's rows
            kept = s.execute("UPDATE runtime_owners SET lease_until = ? WHERE owner = ?", [until, owner]).rowcount
            # a run whose row another transaction holds (its completion, on PostgreSQL) is skipped, not waited for:
            # it is ending, and waiting for rows in another order than that transaction could deadlock
            s.execute(
                "UPDATE script_runs SET lease_until = ? WHERE id IN (SELECT id FROM script_runs WHERE "
                f"state = 'running' AND owner = ?{s.dialect.skip_locked})",
                [until, owner],
            )
        return kept > 0

    def release(self, owner: str) -> None:
        """Forget ``owner`` (it stops; runs it still has running are then judged by its pid and their lease)."""
        self._store.execute("DELETE FROM runtime_owners WHERE owner = ?", [owner])

    def forget(self, owners: Iterable[str]) -> None:
        """Forget owners found gone, once their runs were taken over. An owner that still has a running run is
        kept: the run's lease outlives the owner's when it was claimed after the owner's last renewal, and without
        its row a stalled owner of this host (a live pid) would never be found gone again."""
        names = sorted(set(owners))
        if names:
            self._store.execute(
                f"DELETE FROM runtime_owners WHERE owner IN ({','.join('?' * len(names))}) AND NOT EXISTS "
                "(SELECT 1 FROM script_runs WHERE state = 'running' AND script_runs.owner = runtime_owners.owner)",
                names,
            )

    def gone(self, here: ProcessIdentity, now: float, *, me: str) -> list[str | None]:
        """Owners (other than ``me``) of running script runs that are gone by the rules of this module, and
        registered owners that are gone without runs (their rows can be forgotten)."""
        return list(self.verdicts(here, now, me=me))

    def verdicts(self, here: ProcessIdentity, now: float, *, me: str) -> dict[str | None, Verdict]:
        """The owners :meth:`gone` finds, each with why (in the same order)."""
        rows = self._store.query(
            "SELECT owner, MAX(lease_until) AS lease, MIN(started_at) AS claimed FROM script_runs "
            "WHERE state = 'running' GROUP BY owner"
        )
        records = {o.owner: o for o in self.all()}
        gone: dict[str | None, Verdict] = {}
        for row in rows:
            owner = row["owner"]
            if owner == me:
                continue
            record = records.get(owner) if owner is not None else None
            if verdict := verdict_of(owner, record, here, now, lease_until=row["lease"], claimed_at=row["claimed"]):
                gone[owner] = verdict
        busy = {row["owner"] for row in rows}
        for owner, record in records.items():
            if owner != me and owner not in busy and (verdict := _verdict(record, here, now)) is not None:
                gone[owner] = verdict
        return gone

    def verdicts_of(self, owners: Iterable[str], here: ProcessIdentity, now: float, *, me: str) -> dict[str, Verdict]:
        """The owners among ``owners`` (of running executions, of notification events being sent: work without a
        lease of its own) that are gone by the rules of this module, each with why, in their order; never ``me``."""
        others = [owner for owner in owners if owner != me]
        if not others:  # nothing of another owner runs: no need to read the owners
            return {}
        records = {o.owner: o for o in self.all()}
        gone: dict[str, Verdict] = {}
        for owner in others:
            if verdict := verdict_of(owner, records.get(owner), here, now, lease_until=None, claimed_at=None):
                gone[owner] = verdict
        return gone


def _expired(lease_until: float | None, now: float) -> bool:
    return lease_until is None or lease_until <= now


def _holds(record: OwnerRecord, here: ProcessIdentity, now: float) -> bool:
    """True while ``record``'s process may still work on its runs."""
    return _verdict(record, here, now) is None


def _verdict(record: OwnerRecord, here: ProcessIdentity, now: float) -> Verdict | None:
    """Why ``record``'s owner is gone, or ``None`` while its process may still work on its runs."""
    return verdict_of(record.owner, record, here, now, lease_until=None, claimed_at=None)


def verdict_of(
    owner: str | None,
    record: OwnerRecord | None,
    here: ProcessIdentity,
    now: float,
    *,
    lease_until: float | None,
    claimed_at: float | None,
) -> Verdict | None:
    """The rule of this module: why ``owner`` (registered as ``record``, or without a row) is gone at ``now`` as
    seen from ``here``, or ``None`` while it may still work. ``lease_until`` and ``claimed_at`` are those of its
    work, read only for an owner without a row (``None``: work without a lease of its own, a claim time not known)."""
    if record is not None:
        liveness, lease = here.liveness_of(record.process), record.lease_until
    else:
        liveness = Liveness.UNKNOWN if owner is None else legacy_liveness(owner, here, claimed_at)
        lease = lease_until
    if liveness is Liveness.GONE:
        return Verdict.ENDED
    return Verdict.LEASE_EXPIRED if _expired(lease, now) else None


def describe(records: Sequence[OwnerRecord]) -> str:
    """``pid 1 (xlr serve) on host`` of the first record (and how many more)."""
    more = f" and {len(records) - 1} more" if len(records) > 1 else ""
    return records[0].describe() + more
