"""Contract tests of what holds when several hosts share one database (docs/cluster.md): each on its own
connection (``another_store``), started together on a barrier so their transactions race, on every backend.

* a schedule fire time queues one execution (the unique key on job and fire time);
* a job with multipleExecutions=false has at most one queued or running execution (a unique partial index);
* a notification event is claimed by one dispatcher and each of its targets is attempted once;
* the running executions and notification events of an owner that is gone are taken over by another host.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from tests.store_backends import another_store
from xlr_runtime.errors import AlreadyFiredError, StateError
from xlr_runtime.store import Store
from xlr_runtime.store.executions import ExecutionStatus

T = TypeVar("T")
T0 = 1_700_000_000.0
HOSTS = 3


@pytest.fixture
def hosts(store: Store) -> Iterator[list[Store]]:
    """``HOSTS`` connections to the fixture's database, each as another owner (another host's process)."""
    opened = [another_store(store, owner=f"host{n}:1:x") for n in range(HOSTS)]
    yield opened
    for each in opened:
        each.close()


def race(hosts: list[Store], action: Callable[[Store], T]) -> list[T | Exception]:
    """Run ``action`` on every host at once (threads released together); its result or error per host."""
    barrier = threading.Barrier(len(hosts))
    results: list[T | Exception] = [RuntimeError("did not run")] * len(hosts)

    def one(index: int) -> None:
        barrier.wait()
        try:
            results[index] = action(hosts[index])
        except Exception as exc:  # what the host got is the result
            results[index] = exc

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(hosts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def queue(store: Store, *, job_id: str = "uuid-1", **fields: object) -> int:
    """Queue an execution of job ``job_id`` of project P."""
    values: dict[str, object] = {
        "project": "P", "job_id": job_id, "job_name": "deploy", "job_group": "ops", "job_xml": "<joblist/>",
        "options": {}, "arg_string": "", "user": "admin", "now": T0,
    }  # fmt: skip
    return store.executions.create(**(values | fields)).id  # type: ignore[arg-type]


def test_a_fire_time_raced_by_every_host_queues_one_execution(hosts: list[Store]) -> None:
    results = race(hosts, lambda host: queue(host, fire_at=T0 + 5, execution_type="scheduled"))
    queued = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if not isinstance(r, int)]
    assert len(queued) == 1, results
    assert all(isinstance(r, AlreadyFiredError) for r in refused), results
    assert {(r.fire_at, r.execution_id) for r in refused if isinstance(r, AlreadyFiredError)} == {(T0 + 5, queued[0])}
    assert str(refused[0]) == f"job 'ops/deploy' already fired at {T0 + 5} (execution {queued[0]})"
    assert [e.id for e in hosts[0].executions.list()] == queued
    # the key is the job and the fire time: the next fire time, another job, a start by hand all queue
    assert queue(hosts[1], fire_at=T0 + 6) > queued[0]
    assert queue(hosts[2], job_id="uuid-2", fire_at=T0 + 5) > queued[0]
    by_hand = [queue(hosts[0]), queue(hosts[0])]  # no fire time: no key
    assert by_hand[1] > by_hand[0] > queued[0]
    assert hosts[0].executions.get(queued[0]).fire_at == T0 + 5


def test_an_exclusive_job_raced_by_every_host_queues_one_execution(hosts: list[Store]) -> None:
    results = race(hosts, lambda host: queue(host, exclusive=True))
    queued = [r for r in results if isinstance(r, int)]
    assert len(queued) == 1, results
    message = f"job 'ops/deploy' is already running (execution {queued[0]}) and does not allow multiple executions"
    assert [str(r) for r in results if isinstance(r, StateError)] == [message] * (HOSTS - 1)
    (claimed,) = hosts[1].executions.claim_due(T0, owner="host1:1:x", limit=5)
    assert claimed.exclusive and claimed.id == queued[0]
    with pytest.raises(StateError, match=r"already running"):  # running holds the job as queued did
        queue(hosts[2], exclusive=True)
    assert queue(hosts[2], job_id="uuid-2", exclusive=True) > queued[0]  # another job is not held
    hosts[1].executions.finish(queued[0], status=ExecutionStatus.SUCCEEDED, now=T0 + 1)
    assert len([r for r in race(hosts, lambda host: queue(host, exclusive=True)) if isinstance(r, int)]) == 1


def test_notification_events_raced_by_every_host_are_each_claimed_and_attempted_once(hosts: list[Store]) -> None:
    executions = [queue(hosts[0], job_id=f"uuid-{n}") for n in range(10)]
    recorded = race(
        hosts, lambda host: [host.notifications.add_event(e, "onstart", due_at=T0, now=T0) for e in executions]
    )
    assert [sum(added) for added in zip(*recorded, strict=True)] == [1] * len(executions), recorded  # type: ignore[arg-type]
    for execution_id in executions:
        hosts[0].notifications.add_event(execution_id, "onsuccess", due_at=T0, now=T0)
    claims = race(hosts, lambda host: [e.id for e in host.notifications.claim_due(T0, owner=host.owner, limit=100)])
    claimed = [event for events in claims for event in events]  # type: ignore[union-attr]
    everything = {e.id for execution_id in executions for e in hosts[0].notifications.events(execution_id)}
    assert sorted(claimed) == sorted(everything), claims  # each event once, by one host
    event = min(everything)
    attempts = race(hosts, lambda host: host.notifications.begin_delivery(event, 0, kind="webhook", target="u", now=T0))
    assert sorted(attempts) == [False] * (HOSTS - 1) + [True], attempts  # one host sends to the target
