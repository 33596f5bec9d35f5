"""Contract tests of what holds when several hosts share one database (docs/cluster.md): each on its own
connection (``another_store``), started together on a barrier so their transactions race, on every backend.

* a schedule fire time queues one execution (the unique key on job and fire time);
* a job with multipleExecutions=false has at most one queued or running execution (a unique partial index);
* a notification event is claimed by one dispatcher and each of its targets is attempted once;
* the running executions and notification events of an owner that is gone are taken over by another host.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import pytest

from tests.store_backends import another_store
from tests.waiting import DEADLINE
from xlr_runtime.clock import VirtualClock
from xlr_runtime.errors import AlreadyFiredError, ClaimLostError, StateError
from xlr_runtime.rundeck.notify.notifications import Notifier
from xlr_runtime.rundeck.run.execution import ExecutionService
from xlr_runtime.settings import defaults
from xlr_runtime.store import Store
from xlr_runtime.store.executions import ExecutionStatus
from xlr_runtime.store.notifications import DeliveryState
from xlr_runtime.store.owners import LEASE_SECONDS, ProcessIdentity, Verdict

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


def test_a_fire_time_of_an_exclusive_job_raced_by_every_host_is_taken_not_running(hosts: list[Store]) -> None:
    results = race(hosts, lambda host: queue(host, fire_at=T0 + 5, exclusive=True))
    queued = [r for r in results if isinstance(r, int)]
    assert len(queued) == 1, results
    # the losers lost the fire, not a run of the job: quiet, not the "already running" of a skipped fire
    assert [type(r) for r in results if not isinstance(r, int)] == [AlreadyFiredError] * (HOSTS - 1), results


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


ELSEWHERE = ProcessIdentity("elsewhere", 4242, "boot-elsewhere", "pid:[1]", "77")


def register(host: Store, process: ProcessIdentity = ELSEWHERE, *, lease_until: float = T0 + 60) -> None:
    """Record ``host``'s owner as a process of another machine, its lease running until ``lease_until``."""
    host.owners.register(host.owner, process, purpose="xlr serve", now=T0, lease=lease_until - T0)


def test_who_is_gone_for_a_takeover_of_executions_and_events(hosts: list[Store]) -> None:
    here = ProcessIdentity.current()
    register(hosts[0])
    register(hosts[1], here, lease_until=T0 + 30)  # alive here: kept while it renews, lost when it stalls
    owners = [hosts[0].owner, hosts[1].owner, "another-host:7:x", hosts[2].owner]
    verdicts = lambda host, now: host.owners.verdicts_of(owners, here, now, me=host.owner)  # noqa: E731
    nameless = {"another-host:7:x": Verdict.LEASE_EXPIRED}  # no row (forgotten or released) and no lease of its own
    assert verdicts(hosts[2], T0 + 29) == nameless
    hosts[1].owners.renew(hosts[1].owner, now=T0 + 29, lease=30)
    assert verdicts(hosts[2], T0 + 58) == nameless
    expired = {hosts[0].owner: Verdict.LEASE_EXPIRED, hosts[1].owner: Verdict.LEASE_EXPIRED}
    assert verdicts(hosts[2], T0 + 60) == expired | nameless
    assert verdicts(hosts[0], T0 + 60) == {hosts[1].owner: Verdict.LEASE_EXPIRED, **nameless,
                                           hosts[2].owner: Verdict.LEASE_EXPIRED}  # fmt: skip  # never the asker
    assert hosts[2].owners.verdicts(here, T0 + 60, me=hosts[2].owner) == expired  # the rule of script runs


def test_an_execution_of_a_live_owner_is_resumed_only_once_it_stops_renewing(
    hosts: list[Store], tmp_path: Path
) -> None:
    owner = ProcessIdentity.current()  # alive on this host: only its lease tells whether it still works
    register(hosts[0], owner)
    execution_id = queue(hosts[0])
    hosts[0].executions.claim_due(T0, owner=hosts[0].owner, limit=1)
    clock = VirtualClock(T0 + 59)
    service = ExecutionService(hosts[1], home_root=tmp_path, clock=clock, lease=LEASE_SECONDS)
    assert service.recover() == []
    hosts[0].owners.renew(hosts[0].owner, now=T0 + 59, lease=60)  # it renews while it works
    clock.advance(59)
    assert service.recover() == []
    assert hosts[1].executions.get(execution_id).owner == hosts[0].owner
    clock.advance(1)  # it stalled: no renewal for a whole lease
    [resumed] = service.recover()
    assert (resumed.id, resumed.status, resumed.owner, resumed.restarts) == (
        execution_id, ExecutionStatus.QUEUED, None, 1,
    )  # fmt: skip


def test_the_executions_of_an_owner_whose_lease_ran_out_are_resumed_by_another_host(
    hosts: list[Store], tmp_path: Path
) -> None:
    register(hosts[0])
    execution_id = queue(hosts[0])
    hosts[0].executions.claim_due(T0, owner=hosts[0].owner, limit=1)
    cursor = {"nodes": ["srv"], "group": 0, "positions": {"srv": 1}}
    hosts[0].executions.save_progress(execution_id, cursor=cursor, context=[])
    clock = VirtualClock(T0 + 59)
    services = [ExecutionService(host, home_root=tmp_path, clock=clock, lease=LEASE_SECONDS) for host in hosts[1:]]
    assert services[0].recover() == []  # its lease still runs: it may be working on it
    clock.advance(1)
    requeued = race(hosts[1:], lambda host: services[hosts.index(host) - 1].recover())
    assert sorted(len(r) for r in requeued) == [0, 1], requeued  # type: ignore[arg-type]
    (resumed,) = hosts[2].executions.claim_due(T0 + 60, owner=hosts[2].owner, limit=5)
    assert (resumed.id, resumed.owner, resumed.restarts, resumed.cursor) == (execution_id, hosts[2].owner, 1, cursor)


def test_the_notifications_an_owner_was_sending_when_its_lease_ran_out_are_not_sent_twice(
    hosts: list[Store], tmp_path: Path
) -> None:
    register(hosts[0])
    execution_id = queue(hosts[0])
    hosts[0].notifications.add_event(execution_id, "onstart", due_at=T0, now=T0)
    (event,) = hosts[0].notifications.claim_due(T0, owner=hosts[0].owner)
    assert hosts[0].notifications.begin_delivery(event.id, 0, kind="webhook", target="u0", now=T0)
    clock = VirtualClock(T0 + 59)
    notifier = Notifier(hosts[1], clock=clock, home_root=tmp_path)
    assert notifier.recover() == 0
    clock.advance(1)
    assert notifier.recover() == 1
    (delivery,) = hosts[1].notifications.deliveries(execution_id)
    assert (delivery.target, delivery.state) == ("u0", DeliveryState.UNKNOWN)  # at most once: not sent again
    assert [e.id for e in hosts[1].notifications.claim_due(T0 + 60, owner=hosts[1].owner)] == [event.id]
    assert not hosts[1].notifications.begin_delivery(event.id, 0, kind="webhook", target="u0", now=T0 + 60)


def test_the_dispatcher_looks_for_gone_owners_as_often_as_its_server_renews_a_short_lease(
    hosts: list[Store], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    register(hosts[0], lease_until=T0 + 2)
    execution_id = queue(hosts[0])
    hosts[0].notifications.add_event(execution_id, "onstart", due_at=T0, now=T0)
    (event,) = hosts[0].notifications.claim_due(T0, owner=hosts[0].owner)
    assert hosts[0].notifications.begin_delivery(event.id, 0, kind="webhook", target="u0", now=T0)
    clock = VirtualClock(T0)
    settings = defaults().with_overrides(cluster_lease_seconds=4.0)  # renewed, and looked at, every second
    notifier = Notifier(hosts[1], settings=settings, clock=clock, home_root=tmp_path)
    looks = 0
    give_up = time.monotonic() + DEADLINE

    def taken_over() -> bool:  # called once per loop, after run() looked at T0, when that lease still ran
        nonlocal looks
        looks += 1
        if looks == 1:
            clock.advance(3)  # the lease ran out; less than RENEW_EVERY since the first look
        states = [delivery.state for delivery in hosts[1].notifications.deliveries(execution_id)]
        return states == [DeliveryState.UNKNOWN] or time.monotonic() > give_up

    notifier.run(until=taken_over, max_wait=0.01)
    assert [d.state for d in hosts[1].notifications.deliveries(execution_id)] == [DeliveryState.UNKNOWN], looks
    assert "notification dispatch failed" not in caplog.text


def test_the_writes_of_a_runtime_whose_execution_was_taken_over_change_nothing(hosts: list[Store]) -> None:
    stalled, taker = hosts[0], hosts[1]
    register(stalled)
    execution_id = queue(stalled)
    [mine] = stalled.executions.claim_due(T0, owner=stalled.owner, limit=1)
    stalled.executions.save_progress(execution_id, cursor={"group": 1}, context=[], claim_token=mine.claim_token)
    stalled.executions.add_log(execution_id, [(T0, "NORMAL", None, "1", "one")], claim_token=mine.claim_token)
    writes = {
        "progress": lambda: stalled.executions.save_progress(
            execution_id, cursor={"group": 2}, context=[], claim_token=mine.claim_token
        ),
        "log": lambda: stalled.executions.add_log(
            execution_id, [(T0, "NORMAL", None, "2", "late"), (T0, "NORMAL", None, "2", "later")],
            claim_token=mine.claim_token,
        ),
        "end": lambda: stalled.executions.finish(
            execution_id, status=ExecutionStatus.SUCCEEDED, now=T0, claim_token=mine.claim_token
        ),
        "hold": lambda: stalled.executions.hold(execution_id, mine.claim_token),
    }  # fmt: skip
    taker.executions.requeue_running(now=T0 + 60, owners=[stalled.owner])  # its lease ran out
    requeued = taker.executions.get(execution_id)
    for what, write in writes.items():  # re-queued, not claimed yet
        with pytest.raises(ClaimLostError) as lost:
            write()
        assert (what, lost.value.execution_id, lost.value.claim_token) == (what, execution_id, 1)
    [resumed] = taker.executions.claim_due(T0 + 60, owner=taker.owner, limit=1)
    assert (resumed.claim_token, resumed.cursor) == (2, {"group": 1})
    for write in writes.values():  # claimed by another host
        with pytest.raises(ClaimLostError, match=f"^execution {execution_id}: no longer this runtime's"):
            write()
    assert taker.executions.get(execution_id) == resumed == replace(requeued, status=ExecutionStatus.RUNNING,
                                                                    owner=taker.owner, claim_token=2)  # fmt: skip
    assert [line.text for line in taker.executions.log(execution_id)] == ["one"]
    taker.executions.add_log(execution_id, [(T0, "NORMAL", None, "2", "two")], claim_token=resumed.claim_token)
    taker.executions.add_log(  # several lines at once: the claim checked once for them
        execution_id, [(T0, "NORMAL", None, "3", "three"), (T0, "NORMAL", None, "3", "four")], claim_token=2
    )
    ended = taker.executions.finish(execution_id, status=ExecutionStatus.SUCCEEDED, now=T0 + 61, claim_token=2)
    assert (ended.status, [line.text for line in taker.executions.log(execution_id)]) == (
        ExecutionStatus.SUCCEEDED, ["one", "two", "three", "four"],
    )  # fmt: skip
    with pytest.raises(ClaimLostError):  # ended: not even its own driver writes any more
        taker.executions.save_progress(execution_id, cursor={}, context=[], claim_token=2)


def test_a_runtime_that_claims_its_execution_again_fences_its_own_older_claim(hosts: list[Store]) -> None:
    execution_id = queue(hosts[0])
    [first] = hosts[0].executions.claim_due(T0, owner=hosts[0].owner, limit=1)
    hosts[1].executions.requeue_running(now=T0 + 60, owners=[hosts[0].owner])
    [second] = hosts[0].executions.claim_due(T0 + 60, owner=hosts[0].owner, limit=1)  # the same owner, again
    assert (first.claim_token, second.claim_token) == (1, 2)
    with pytest.raises(ClaimLostError):
        hosts[0].executions.save_progress(execution_id, cursor={"stale": 1}, context=[], claim_token=1)
    hosts[0].executions.save_progress(execution_id, cursor={"fresh": 1}, context=[], claim_token=2)
    assert hosts[0].executions.get(execution_id).cursor == {"fresh": 1}
