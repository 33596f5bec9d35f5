"""Issue 12, defect 4: owners and leases of claimed script runs (``xlr_runtime.store.owners``), on a real SQLite
file with real processes: a run is taken over only when its owner is gone; leases are renewed in bulk."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from serve_helpers import wait_for
from task_helpers import DEMO_PLUGIN, ThreadScriptExecutor

from tests.store_backends import another_store
from xlr_runtime.clock import SystemClock, VirtualClock
from xlr_runtime.engine import TAKEN_OVER_NOTE
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.scheduler import Scheduler
from xlr_runtime.settings import defaults
from xlr_runtime.store import RunState, Store
from xlr_runtime.store.owners import ProcessIdentity, Verdict
from xlr_runtime.typesystem.registry import load_registry

T0 = 1_700_000_000.0
HERE = ProcessIdentity.current()


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    """A live process of this host, ended by the test (or at teardown)."""
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def running_run(store: Store, owner: str, now: float = T0) -> int:
    """A task whose first run is running for ``owner`` (lease until now + 60)."""
    store.tasks.create(
        type_name="demo.Counter", title="t", properties={}, inputs={}, variables={}, first_script="a.py", now=now
    )
    [run] = store.tasks.claim_due(now, 1, owner=owner, lease=60)
    return run.id


def gone(store: Store, now: float = T0) -> list[str | None]:
    return store.owners.gone(HERE, now, me=store.owner)


def test_an_owner_whose_process_ended_is_gone_at_once_whatever_its_lease(
    store: Store, child: subprocess.Popen[bytes]
) -> None:
    identity = ProcessIdentity.of(child.pid)
    assert identity is not None and identity.start and identity.boot_id
    store.owners.register("other", identity, purpose="xlr serve", now=T0, lease=3600)
    running_run(store, "other")
    assert gone(store) == []  # alive: its runs stay its own
    child.kill()
    child.wait()
    assert gone(store) == ["other"]  # its lease runs for another hour, but nothing can finish its run


def test_a_process_that_got_the_pid_of_an_owner_is_not_that_owner(store: Store) -> None:
    store.owners.register("before", replace(HERE, start="1"), purpose="xlr serve", now=T0)
    running_run(store, "before")
    assert gone(store) == ["before"]


def test_an_owner_this_host_cannot_see_is_gone_only_when_its_lease_ran_out(store: Store) -> None:
    elsewhere = ProcessIdentity("another-host", HERE.pid, "another-boot", HERE.pid_ns, HERE.start)
    store.owners.register("remote", elsewhere, purpose="xlr serve", now=T0, lease=60)
    running_run(store, "remote")
    assert gone(store, T0 + 59) == []
    store.owners.renew("remote", now=T0 + 50, lease=60)  # it renews while it lives
    assert gone(store, T0 + 100) == []
    assert gone(store, T0 + 110) == ["remote"]


def test_owners_without_a_row_are_judged_by_their_pid_on_this_host(
    store: Store, child: subprocess.Popen[bytes]
) -> None:
    host = socket.gethostname()
    now = time.time()
    running_run(store, f"{host}:{child.pid}:old", now)  # an older version's claim, its process alive
    running_run(store, f"{host}:{HERE.pid}:old", now)  # a claim by another store with this process's pid
    running_run(store, f"other-host:{child.pid}:old", now)  # another host: only the lease tells
    assert gone(store, now) == [f"{host}:{HERE.pid}:old"]
    child.kill()
    child.wait()
    assert sorted(gone(store, now)) == sorted([f"{host}:{child.pid}:old", f"{host}:{HERE.pid}:old"])
    assert f"other-host:{child.pid}:old" in gone(store, now + 61)


def test_renewal_extends_the_owner_and_all_its_running_runs_in_two_statements(tmp_path: Path) -> None:
    with Store.open(tmp_path / "xlr.db") as store:  # statements are counted with SQLite's trace callback
        store.owners.register(store.owner, HERE, purpose="xlr serve", now=T0)
        mine = [running_run(store, store.owner) for _ in range(3)]
        theirs = running_run(store, "someone-else")
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        store.owners.renew(store.owner, now=T0 + 30, lease=60)
        store.conn.set_trace_callback(None)
        assert [s.split()[0] for s in statements] == ["BEGIN", "UPDATE", "UPDATE", "COMMIT"]
        assert [store.tasks.get_run(r).lease_until for r in (*mine, theirs)] == [T0 + 90] * 3 + [T0 + 60]


def test_renewal_extends_the_owner_and_all_its_running_runs(store: Store) -> None:
    store.owners.register(store.owner, HERE, purpose="xlr serve", now=T0)
    mine = [running_run(store, store.owner) for _ in range(3)]
    theirs = running_run(store, "someone-else")
    store.owners.renew(store.owner, now=T0 + 30, lease=60)
    assert {store.tasks.get_run(r).lease_until for r in mine} == {T0 + 90}
    assert store.tasks.get_run(theirs).lease_until == T0 + 60
    assert store.owners.get(store.owner).lease_until == T0 + 90  # type: ignore[union-attr]
    store.owners.release(store.owner)
    assert store.owners.get(store.owner) is None


def test_an_exclusive_registration_finds_the_live_holder(store: Store, child: subprocess.Popen[bytes]) -> None:
    holder = ProcessIdentity.of(child.pid)
    assert holder is not None
    assert store.owners.register("holder", holder, purpose="xlr serve", now=T0) == []
    [live] = store.owners.register(store.owner, HERE, purpose="xlr serve", now=T0, exclusive=True)
    assert (live.owner, live.describe()) == ("holder", f"pid {child.pid} (xlr serve) on {socket.gethostname()}")
    assert store.owners.get(store.owner) is None
    child.kill()
    child.wait()
    assert store.owners.register(store.owner, HERE, purpose="xlr serve", now=T0, exclusive=True) == []
    assert store.owners.get(store.owner) is not None


def test_a_scheduler_renews_its_lease_while_it_runs_and_releases_it_when_it_stops(store: Store) -> None:
    registry = load_registry(plugin_paths=[DEMO_PLUGIN], pm=build_plugin_manager(load_installed=False))
    executor = ThreadScriptExecutor(1, delay=3)
    scheduler = Scheduler(store, registry, executor, defaults(), SystemClock())
    scheduler.renew_every = 0.05
    task = scheduler.engine.create_task("demo.Counter", {"polls": "1"})
    scheduler.recover()
    assert scheduler.tick() == 1
    [claimed] = store.tasks.runs(task.id)
    assert claimed.owner == store.owner and claimed.lease_until is not None
    wait_for(lambda: store.tasks.get_run(claimed.id).lease_until > claimed.lease_until, 10)  # type: ignore[operator]
    assert store.owners.get(store.owner).lease_until >= store.tasks.get_run(claimed.id).lease_until  # type: ignore[union-attr]
    [requeued] = scheduler.shutdown(grace_period=0)
    assert requeued.state is RunState.DUE
    assert store.owners.get(store.owner) is None
    executor.shutdown(wait=False)


def test_a_live_owner_whose_lease_ran_out_is_stalled_and_loses_its_runs(
    store: Store, child: subprocess.Popen[bytes]
) -> None:
    identity = ProcessIdentity.of(child.pid)
    assert identity is not None
    store.owners.register("stalled", identity, purpose="xlr serve", now=T0, lease=60)
    running_run(store, "stalled")
    assert store.owners.verdicts(HERE, T0 + 59, me=store.owner) == {}
    assert store.owners.verdicts(HERE, T0 + 60, me=store.owner) == {"stalled": Verdict.LEASE_EXPIRED}
    child.kill()
    child.wait()
    assert store.owners.verdicts(HERE, T0, me=store.owner) == {"stalled": Verdict.ENDED}


def test_a_take_over_after_a_lease_ran_out_spares_runs_renewed_meanwhile(store: Store) -> None:
    elsewhere = ProcessIdentity("another-host", HERE.pid, "another-boot", HERE.pid_ns, HERE.start)
    store.owners.register("remote", elsewhere, purpose="xlr serve", now=T0, lease=60)
    lost = running_run(store, "remote")
    store.owners.register("renewing", elsewhere, purpose="xlr serve", now=T0, lease=60)
    kept = running_run(store, "renewing", T0 + 30)
    requeued = store.tasks.requeue_owned(["remote", "renewing"], now=T0 + 61, note="{path}", lease_expired=True)
    assert [run.id for run in requeued] == [lost]
    assert store.tasks.get_run(kept).state is RunState.RUNNING


def test_a_stalled_owner_whose_run_outlives_its_own_lease_is_kept_until_that_run_is_taken_over(
    store: Store, child: subprocess.Popen[bytes]
) -> None:
    # the owner's lease is from its last renewal; a run it claimed after that renewal has a later lease. A take-over
    # between the two expiries finds no run to take, and must not forget the owner: a run of an owner without a row
    # whose pid lives on this host would never be found gone again (the test of a SIGSTOPped host flaked on it)
    registry = load_registry(plugin_paths=[DEMO_PLUGIN], pm=build_plugin_manager(load_installed=False))
    clock = VirtualClock(T0)
    scheduler = Scheduler(store, registry, ThreadScriptExecutor(1), defaults(), clock)
    identity = ProcessIdentity.of(child.pid)
    assert identity is not None
    store.owners.register("stalled", identity, purpose="xlr serve", now=T0, lease=60)
    run_id = running_run(store, "stalled", T0 + 30)  # its lease runs until T0 + 90
    clock.set(T0 + 61)
    assert scheduler.recover().runs == []
    assert store.owners.get("stalled") is not None
    clock.set(T0 + 91)
    [requeued] = scheduler.recover().runs
    assert (requeued.id, requeued.state) == (run_id, RunState.DUE)
    assert store.owners.get("stalled") is None
    scheduler.shutdown(grace_period=0)
    scheduler.executor.shutdown(wait=False)


def test_a_scheduler_takes_over_the_runs_of_a_lost_host_and_their_log_says_so(store: Store) -> None:
    registry = load_registry(plugin_paths=[DEMO_PLUGIN], pm=build_plugin_manager(load_installed=False))
    scheduler = Scheduler(store, registry, ThreadScriptExecutor(1), defaults(), SystemClock())
    elsewhere = ProcessIdentity("another-host", HERE.pid, "another-boot", HERE.pid_ns, HERE.start)
    now = time.time()
    store.owners.register("host-b:1:x", elsewhere, purpose="xlr serve", now=now - 120, lease=60)
    run_id = running_run(store, "host-b:1:x", now - 120)
    [requeued] = scheduler.recover().runs
    assert (requeued.id, requeued.state, requeued.restarts) == (run_id, RunState.DUE, 1)
    [line] = [line.text for line in store.tasks.log(requeued.task_id) if line.run_id == run_id]
    assert line == TAKEN_OVER_NOTE.format(path="a.py", owner="host-b:1:x")
    assert store.owners.get("host-b:1:x") is None
    scheduler.shutdown(grace_period=0)
    scheduler.executor.shutdown(wait=False)


def test_a_scheduler_whose_run_was_taken_over_drops_its_late_result_in_one_line(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    registry = load_registry(plugin_paths=[DEMO_PLUGIN], pm=build_plugin_manager(load_installed=False))
    executor = ThreadScriptExecutor(1, delay=0.5)
    scheduler = Scheduler(store, registry, executor, defaults(), SystemClock())
    task = scheduler.engine.create_task("demo.Counter", {"polls": "1"})
    scheduler.recover()
    assert scheduler.tick() == 1
    [stale] = store.tasks.runs(task.id)
    now = time.time()
    with another_store(store, owner="taker") as taker:  # its lease ran out while it ran; another host took it
        taker.tasks.requeue_owned([store.owner], now=now, note="{path} taken over")
        [taken] = taker.tasks.claim_due(now, 1, owner="taker", lease=60)
    before = (store.tasks.get(task.id), store.tasks.log(task.id))
    wait_for(lambda: scheduler.collect() and "result dropped" in caplog.text, 10, lambda: caplog.text)
    assert (taken.id, taken.claim_token) == (stale.id, stale.claim_token + 1)
    assert (store.tasks.get(task.id), store.tasks.log(task.id)) == before
    assert (store.tasks.get_run(stale.id).state, store.tasks.get_run(stale.id).owner) == (RunState.RUNNING, "taker")
    [dropped] = [r for r in caplog.records if "result dropped" in r.getMessage()]
    assert dropped.getMessage().startswith(f"script run {stale.id}: result dropped: the run is no longer this")
    scheduler.shutdown(grace_period=0)
    executor.shutdown(wait=False)
