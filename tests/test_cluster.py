"""Several hosts on one PostgreSQL store (issue 16), with real ``xlr serve`` processes, each with a home of its own
(the secret key copied between them), on a throwaway PostgreSQL server: they drain chained tasks together with no
run executed twice, a host stopped past its lease has its run taken over and none of its late commits land, and
a task created through one host is started by another at once (``LISTEN/NOTIFY``). The homes, servers and trace
are tests/cluster_helpers.py's."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from serve_helpers import wait_for

from tests.cluster_helpers import CLUSTER_PLUGIN, Cluster, trace_of
from tests.postgres_helpers import PostgresServer
from xlr_runtime.cli import main
from xlr_runtime.engine import DISAGREEMENT_NOTE, TAKEN_OVER_NOTE
from xlr_runtime.rundeck.jobs.jobstore import JobStore
from xlr_runtime.rundeck.jobs.xml_codec import load_jobs_xml
from xlr_runtime.rundeck.run.execution import ExecutionService
from xlr_runtime.store import RunState, TaskStatus
from xlr_runtime.store.executions import ExecutionStatus
from xlr_runtime.store.owners import LEASE_SECONDS


@pytest.fixture
def cluster(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[Cluster]:
    with Cluster(postgres_server.new_store_url(), tmp_path) as made:
        yield made


def test_two_hosts_drain_chained_tasks_together_and_run_each_step_once(cluster: Cluster) -> None:
    cluster.share_key()
    cluster.serve("a")
    cluster.serve("b")
    with cluster.runtime() as runtime, runtime.store.atomic():  # one commit, one announcement: both hosts wake
        tasks = [
            runtime.create_task("cl.Step", {"trace": str(cluster.trace), "steps": 2}).id for _ in range(40)
        ]  # more than the 32 runs one host (workers.size = 1) claims at a time
    explain = lambda: cluster.servers["a"].output() + cluster.servers["b"].output()  # noqa: E731
    wait_for(lambda: all(cluster.store.tasks.get(t).status.is_final for t in tasks), 120, explain)

    assert {cluster.store.tasks.get(t).status for t in tasks} == {TaskStatus.COMPLETED}, explain()
    trace = trace_of(cluster.trace)
    starts = Counter((s.task_id, s.step) for s in trace if s.what == "start")
    ends = Counter((s.task_id, s.step) for s in trace if s.what == "end")
    every_step = {(t, n): 1 for t in tasks for n in (1, 2)}
    assert (dict(starts), dict(ends)) == (every_step, every_step)  # no run executed twice, none lost
    assert {s.host for s in trace} == {"a", "b"}, "both hosts ran steps"
    runs = [run for t in tasks for run in cluster.store.tasks.runs(t)]
    assert {(run.state, run.claim_token) for run in runs} == {(RunState.DONE, 1)}  # each claimed once
    assert {run.owner for run in runs} == {cluster.owner_of("a"), cluster.owner_of("b")}


def test_a_host_stopped_past_its_lease_loses_its_run_and_none_of_its_late_commits_land(cluster: Cluster) -> None:
    cluster.share_key()
    stalled = cluster.serve("a")
    with cluster.runtime() as runtime:
        task = runtime.create_task("cl.Step", {"trace": str(cluster.trace), "steps": 2, "first_seconds": 4})
    wait_for(lambda: [s.host for s in trace_of(cluster.trace)] == ["a"], 60, stalled.output)
    stalled_owner = cluster.owner_of("a")
    os.killpg(stalled.process.pid, signal.SIGSTOP)  # the whole host: its server and its worker
    try:
        taker = cluster.serve("b")
        explain = lambda: f"host b:\n{taker.output()}\nhost a (stopped):\n{stalled.output()}"  # noqa: E731
        wait_for(lambda: cluster.store.tasks.get(task.id).status.is_final, 60, explain)
    finally:
        os.killpg(stalled.process.pid, signal.SIGCONT)
    wait_for(lambda: "result dropped" in stalled.output(), 60, stalled.output)

    done = cluster.store.tasks.get(task.id)
    first, second = cluster.store.tasks.runs(task.id)
    taker_owner = cluster.owner_of("b")
    assert (done.status, done.properties["step"]) == (TaskStatus.COMPLETED, 2)
    assert [(r.state, r.owner, r.claim_token) for r in (first, second)] == [
        (RunState.DONE, taker_owner, 2),  # claimed by a, taken over and claimed again by b
        (RunState.DONE, taker_owner, 1),
    ]
    trace = trace_of(cluster.trace)
    assert [(s.what, s.step) for s in trace if s.host == "b"] == [("start", 1), ("end", 1), ("start", 2), ("end", 2)]
    # the stalled host's run ran on (its worker is a process of its own), but its result was dropped
    assert [(s.what, s.step) for s in trace if s.host == "a"] == [("start", 1), ("end", 1)]
    notes = [line.text for line in cluster.store.tasks.log(task.id) if line.run_id == first.id]
    assert notes.count(TAKEN_OVER_NOTE.format(path="cl/Step.py", owner=stalled_owner)) == 1
    assert cluster.store.tasks.get(task.id) == done  # nothing of a's changed the task after its SIGCONT
    wait_for(lambda: "lease ran out" in stalled.output(), 30, stalled.output)  # it registered again
    assert stalled.stop() == 0 and cluster.servers["b"].stop() == 0


def test_a_task_created_through_one_host_is_started_by_a_server_on_another_at_once(cluster: Cluster) -> None:
    cluster.share_key()
    server = cluster.serve("b")  # idle: without an announcement it would sleep until a task it knows of is due
    args = ["--home", str(cluster.homes["a"].root), "--plugins", str(CLUSTER_PLUGIN), "--detach"]
    result = CliRunner().invoke(main, ["run", "cl.Step", *args, "-i", f"trace={cluster.trace}", "-i", "steps=1"])
    assert result.exit_code == 0, result.output
    [task] = cluster.store.tasks.list()
    wait_for(lambda: cluster.store.tasks.get(task.id).status.is_final, 30, server.output)
    assert cluster.store.tasks.get(task.id).status is TaskStatus.COMPLETED
    assert [(s.what, s.host) for s in trace_of(cluster.trace)] == [("start", "b"), ("end", "b")]


def test_a_type_two_live_hosts_define_differently_fails_clearly_and_neither_script_runs(cluster: Cluster) -> None:
    cluster.share_key()
    edited = cluster.folder / "cluster-edited"
    shutil.copytree(CLUSTER_PLUGIN, edited)
    script = edited / "cl" / "Step.py"
    script.write_text(script.read_text().replace('note("start")', 'note("other")'))
    a = cluster.serve("a")
    b = cluster.serve("b", plugin=edited)
    wait_for(lambda: "cl.Step on pid" in b.output(), 30, b.output)  # b compared at its registration
    wait_for(lambda: "cl.Step on pid" in a.output(), 30, a.output)  # a at its next lease renewal
    with cluster.runtime() as runtime:
        task = runtime.create_task("cl.Step", {"trace": str(cluster.trace), "steps": 1})
    wait_for(lambda: cluster.store.tasks.get(task.id).status.is_final, 30, lambda: a.output() + b.output())

    failed = cluster.store.tasks.get(task.id)
    [run] = cluster.store.tasks.runs(task.id)
    claimer, other = (a, b) if run.owner == cluster.owner_of("a") else (b, a)
    host = run.owner.split(":")[0]
    reason = DISAGREEMENT_NOTE.format(
        type="cl.Step",
        other=f"pid {other.process.pid} (xlr serve) on {host}",
        here=f"pid {claimer.process.pid} on {host}",
    )
    assert (failed.status, failed.failure) == (TaskStatus.FAILED, reason)
    assert [line.text for line in cluster.store.tasks.log(task.id)] == [f"Task failed: {reason}"]
    assert trace_of(cluster.trace) == []  # neither host's script ran

    assert b.stop() == 0  # the hosts agree again: runs proceed
    wait_for(lambda: "same definitions" in a.output(), 30, a.output)
    with cluster.runtime() as runtime:
        runtime.engine.retry(task.id)
    wait_for(lambda: cluster.store.tasks.get(task.id).status.is_final, 30, a.output)
    assert cluster.store.tasks.get(task.id).status is TaskStatus.COMPLETED
    assert [(s.what, s.host) for s in trace_of(cluster.trace)] == [("start", "a"), ("end", "a")]


#: Three steps; the second prints, sleeps, records its end in the trace file TRACE and prints again; the third
#: records its start. Each names the host that runs it (XLR_TEST_HOST).
SECOND = 'echo "two $XLR_TEST_HOST"; sleep 3; echo "end2 $XLR_TEST_HOST" >> TRACE; echo "two done $XLR_TEST_HOST"'
THREE_STEPS = f"""<joblist><job><name>fenced</name><description/><uuid>uuid-fenced</uuid>
<sequence keepgoing='false' strategy='node-first'><command><exec>echo one</exec></command>
<command><exec>{SECOND}</exec></command>
<command><exec>echo "step3 $XLR_TEST_HOST" >> TRACE; echo "three $XLR_TEST_HOST"</exec></command></sequence>
</job></joblist>"""


def test_a_host_stopped_past_its_lease_loses_its_execution_and_none_of_its_late_writes_land(cluster: Cluster) -> None:
    cluster.share_key()
    trace = cluster.folder / "steps.txt"
    jobs = JobStore(cluster.store)
    jobs.load("P", load_jobs_xml(THREE_STEPS.replace("TRACE", str(trace)), path="f.xml"), now=time.time())
    stalled = cluster.serve("a")
    service = ExecutionService(cluster.store, home_root=cluster.homes["a"].root, lease=LEASE_SECONDS)
    execution = service.start("P", jobs.get("uuid-fenced"))
    texts = lambda: [line.text for line in cluster.store.executions.log(execution.id)]  # noqa: E731
    wait_for(lambda: "two a" in texts(), 60, stalled.output)
    os.killpg(stalled.process.pid, signal.SIGSTOP)  # the whole host: its server and the step's shell
    try:
        taker = cluster.serve("b")
        explain = lambda: f"host b:\n{taker.output()}\nhost a (stopped):\n{stalled.output()}"  # noqa: E731
        wait_for(lambda: cluster.store.executions.get(execution.id).status.is_final, 60, explain)
        ended, lines = cluster.store.executions.get(execution.id), cluster.store.executions.log(execution.id)
    finally:
        os.killpg(stalled.process.pid, signal.SIGCONT)
    lost = f"execution {execution.id}: no longer this runtime's (claim 1; taken over by another runtime"
    wait_for(lambda: lost in stalled.output(), 60, stalled.output)

    assert (ended.status, ended.restarts, ended.claim_token) == (ExecutionStatus.SUCCEEDED, 1, 2), explain()
    steps = [text for text in texts() if text.split()[0] in ("one", "two", "three")]
    assert steps == ["one", "two a", "two b", "two done b", "three b"]  # resumed by b from step 2
    assert (cluster.store.executions.get(execution.id), cluster.store.executions.log(execution.id)) == (ended, lines)
    assert stalled.output().count(lost) == 1  # one line, and it stopped working on the execution: the shell of
    # its step (a session of its own, not stopped with the server) ended the step, but a started no further step
    assert sorted(trace.read_text().splitlines()) == ["end2 a", "end2 b", "step3 b"]
    assert stalled.stop() == 0 and taker.stop() == 0
