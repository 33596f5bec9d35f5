"""The notifications area: an outbox of execution events and a record of every delivery attempt.

An event row (execution, trigger, due time) is written in the same transaction as the state change it reports
(the claim that starts an execution, the update that ends it), so a crash cannot lose it; an ``onavgduration``
event is due when the run passes its threshold. A dispatcher claims due events, then records each delivery
*before* sending it (state ``sending``) and its result after (``sent`` / ``failed``). After a crash, a delivery
left ``sending`` becomes ``unknown`` and is not sent again: notifications are at-most-once per target, and
the ones not yet attempted are still sent (see ``docs/rundeck-notifications.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from xlr_runtime.store.migrations import MigrationSet

if TYPE_CHECKING:
    from sqlite_utils import Database

    from xlr_runtime.store.base import StoreBase

MIGRATIONS = MigrationSet("notifications")


@MIGRATIONS.step("create notification_events, notification_deliveries")
def _create_tables(db: Database) -> None:
    db.execute(
        "CREATE TABLE notification_events (id INTEGER PRIMARY KEY AUTOINCREMENT, execution_id INTEGER NOT NULL, "
        "trigger TEXT NOT NULL, due_at REAL NOT NULL, state TEXT NOT NULL, owner TEXT, created_at REAL NOT NULL, "
        "UNIQUE (execution_id, trigger))"
    )
    db.execute("CREATE INDEX notification_events_due ON notification_events (state, due_at)")
    db.execute(
        "CREATE TABLE notification_deliveries (event_id INTEGER NOT NULL REFERENCES notification_events (id), "
        "position INTEGER NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL, state TEXT NOT NULL, detail TEXT, "
        "at REAL NOT NULL, PRIMARY KEY (event_id, position))"
    )


class EventState(StrEnum):
    """Where an event is: waiting, claimed by a dispatcher, done, or dropped (avgduration after the end)."""

    PENDING = "pending"
    SENDING = "sending"
    DONE = "done"
    SKIPPED = "skipped"


class DeliveryState(StrEnum):
    """One notification of an event: being sent, sent, failed, or unknown (the sender died while sending)."""

    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class NotificationEvent:
    """A trigger of one execution to notify (``trigger`` is ``onstart``, ``onsuccess``, …)."""

    id: int
    execution_id: int
    trigger: str
    due_at: float
    state: EventState
    owner: str | None
    created_at: float


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver notification ``position`` of an event (``target``: recipients, URL or type)."""

    event_id: int
    execution_id: int
    trigger: str
    position: int
    kind: str
    target: str
    state: DeliveryState
    detail: str | None
    at: float


class NotificationRepository:
    """Notification events and deliveries. Every method is one transaction."""

    def __init__(self, store: StoreBase) -> None:
        self._store = store

    def add_event(self, execution_id: int, trigger: str, *, due_at: float, now: float) -> bool:
        """Queue an event unless the execution already has one for ``trigger``; True when added."""
        cursor = self._store.execute(
            "INSERT INTO notification_events (execution_id, trigger, due_at, state, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (execution_id, trigger, due_at, str(EventState.PENDING), now),
        )
        return cursor.rowcount == 1

    def claim_due(self, now: float, *, owner: str, limit: int = 50) -> list[NotificationEvent]:
        """Mark up to ``limit`` pending events due at ``now`` as being sent by ``owner`` and return them."""
        with self._store.atomic():
            rows = self._store.query(
                "UPDATE notification_events SET state = ?, owner = ? WHERE id IN (SELECT id FROM notification_events "
                "WHERE state = ? AND due_at <= ? ORDER BY due_at, id "
                f"LIMIT ?{self._store.dialect.skip_locked}) RETURNING *",
                (str(EventState.SENDING), owner, str(EventState.PENDING), now, limit),
            )
        return sorted((_event(row) for row in rows), key=lambda e: (e.due_at, e.id))

    def next_due_at(self) -> float | None:
        """The earliest due time of a pending event, or ``None``."""
        row = self._store.query_one(
            "SELECT MIN(due_at) AS due FROM notification_events WHERE state = ?", (str(EventState.PENDING),)
        )
        return None if row is None or row["due"] is None else float(row["due"])

    def begin_delivery(self, event_id: int, position: int, *, kind: str, target: str, now: float) -> bool:
        """Record that notification ``position`` is being sent; False when it was attempted before."""
        cursor = self._store.execute(
            "INSERT INTO notification_deliveries (event_id, position, kind, target, state, at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (event_id, position, kind, target, str(DeliveryState.SENDING), now),
        )
        return cursor.rowcount == 1

    def end_delivery(
        self, event_id: int, position: int, *, state: DeliveryState, detail: str | None, now: float
    ) -> None:
        """Record the result of a delivery (``sent`` or ``failed`` with the reason)."""
        self._store.execute(
            "UPDATE notification_deliveries SET state = ?, detail = ?, at = ? WHERE event_id = ? AND position = ?",
            (str(state), detail, now, event_id, position),
        )

    def finish_event(self, event_id: int, state: EventState) -> None:
        """End an event (``done`` or ``skipped``)."""
        self._store.execute(
            "UPDATE notification_events SET state = ?, owner = NULL WHERE id = ?", (str(state), event_id)
        )

    def sending_owners(self) -> list[str]:
        """Owners of events being sent (to find those left by a process that died)."""
        rows = self._store.query(
            "SELECT DISTINCT owner FROM notification_events WHERE state = ? AND owner IS NOT NULL",
            (str(EventState.SENDING),),
        )
        return [row["owner"] for row in rows]

    def requeue(self, owners: Sequence[str], *, now: float) -> int:
        """After a crash of ``owners``: their in-flight deliveries become ``unknown`` (never re-sent) and their
        events pending again (the notifications not yet attempted are sent). Returns the events re-queued."""
        if not owners:
            return 0
        marks = ", ".join("?" for _ in owners)
        with self._store.atomic():
            self._store.execute(
                "UPDATE notification_deliveries SET state = ?, detail = ?, at = ? WHERE state = ? AND event_id IN "
                f"(SELECT id FROM notification_events WHERE state = ? AND owner IN ({marks}))",
                (str(DeliveryState.UNKNOWN), "the runtime stopped while sending; not sent again", now,
                 str(DeliveryState.SENDING), str(EventState.SENDING), *owners),
            )  # fmt: skip
            cursor = self._store.execute(
                f"UPDATE notification_events SET state = ?, owner = NULL WHERE state = ? AND owner IN ({marks})",
                (str(EventState.PENDING), str(EventState.SENDING), *owners),
            )
        return cursor.rowcount

    def events(self, execution_id: int) -> list[NotificationEvent]:
        """The events of one execution, in the order they were queued."""
        rows = self._store.query(
            "SELECT * FROM notification_events WHERE execution_id = ? ORDER BY id", (execution_id,)
        )
        return [_event(row) for row in rows]

    def deliveries(self, execution_id: int) -> list[Delivery]:
        """Every delivery attempt for one execution, by event, then position."""
        rows = self._store.query(
            "SELECT d.*, e.execution_id, e.trigger FROM notification_deliveries d "
            "JOIN notification_events e ON e.id = d.event_id WHERE e.execution_id = ? ORDER BY e.id, d.position",
            (execution_id,),
        )
        return [Delivery(**{**row, "state": DeliveryState(row["state"])}) for row in rows]

    def successful_durations(self, project: str, job_id: str, *, before: int) -> list[float]:
        """Durations (seconds) of a job's succeeded executions older than ``before``, oldest end first: its own
        runs and the runs of it by job reference steps (children), as Rundeck's job statistics count both."""
        rows = self._store.query(
            "SELECT ended_at - started_at AS duration FROM executions WHERE project = ? AND job_id = ? "
            "AND status = 'succeeded' AND started_at IS NOT NULL AND ended_at IS NOT NULL "
            "AND id < ? ORDER BY ended_at, id",
            (project, job_id, before),
        )
        return [float(row["duration"]) for row in rows]

    def run_counts(self, project: str, job_id: str) -> tuple[int, int]:
        """How many executions of a job have ended, and how many of them succeeded, its referenced runs
        included: the "Executions" and "Success Rate" of a notification e-mail, as Rundeck counts them."""
        row = self._store.query_one(
            "SELECT COUNT(*) AS ended, COALESCE(SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END), 0) "
            "AS succeeded FROM executions "
            "WHERE project = ? AND job_id = ? AND ended_at IS NOT NULL",
            (project, job_id),
        )
        return (0, 0) if row is None else (int(row["ended"]), int(row["succeeded"]))


def _event(row: dict[str, Any]) -> NotificationEvent:
    return NotificationEvent(**{**row, "state": EventState(row["state"])})
