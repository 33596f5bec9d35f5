"""Cluster soak (issue 16): three ``xlr serve`` processes, each with a home of its own, on one PostgreSQL store
drain chained tasks while a random host is killed with ``kill -9`` (server and worker) and started again, again and
again. Every task completes with its steps in order; a step runs more than once only when a host that ran it was
killed while it was in flight; and no step ever runs on two hosts at overlapping times.

Sizes: ``XLR_SOAK_TASKS`` tasks (1,000) of ``XLR_SOAK_STEPS`` chained steps (10), ``XLR_SOAK_KILLS`` kills (10).
Each start of a host traces a label of its own (``a1``, ``a2``…), so a step's lines tell which incarnation ran it;
the run of a step is the step-th run of its task (a chain adds one run per step), whose fencing token the store
keeps."""

from __future__ import annotations

import itertools
import os
import random
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from serve_helpers import wait_for

from tests.cluster_helpers import Cluster, Step, trace_of
from tests.postgres_helpers import PostgresServer
from xlr_runtime.store import RunState, TaskStatus

TASKS = int(os.environ.get("XLR_SOAK_TASKS", "1000"))
STEPS = int(os.environ.get("XLR_SOAK_STEPS", "10"))
KILLS = int(os.environ.get("XLR_SOAK_KILLS", "10"))
HOSTS = ("a", "b", "c")
#: Short, so a killed host's runs are taken over within seconds.
LEASE = 3


@dataclass(frozen=True)
class Execution:
    """One execution of a step (a run) by one incarnation of a host: from its start line to its end line, or to
    the moment its host was killed when it has none."""

    task_id: str
    step: int
    host: str
    start: float
    end: float
    finished: bool


def executions(trace: list[Step], killed_at: dict[str, float]) -> list[Execution]:
    """Pair each start line with the end line of the same step on the same incarnation."""
    ends = {(s.task_id, s.step, s.host): s.time for s in trace if s.what == "end"}
    made = []
    for s in (s for s in trace if s.what == "start"):
        end = ends.get((s.task_id, s.step, s.host))
        assert end is not None or s.host in killed_at, f"{s} never ended, and its host was not killed"
        made.append(Execution(s.task_id, s.step, s.host, s.time, end or killed_at[s.host], end is not None))
    return made


@pytest.fixture
def cluster(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[Cluster]:
    with Cluster(postgres_server.new_store_url(), tmp_path, hosts=HOSTS, lease=LEASE, workers=2) as made:
        yield made


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_three_hosts_killed_at_random_drain_every_chain_in_order_and_never_run_a_step_twice_at_once(
    cluster: Cluster,
) -> None:
    cluster.share_key()
    starts = dict.fromkeys(HOSTS, 1)
    for name in HOSTS:
        cluster.serve(name, f"{name}1")
    inputs = {"trace": str(cluster.trace), "steps": STEPS, "seconds": 0.01, "first_seconds": 0.01}
    with cluster.runtime() as runtime, runtime.store.atomic():
        tasks = [runtime.create_task("cl.Step", inputs).id for _ in range(TASKS)]

    def finished() -> int:
        return sum(cluster.store.tasks.get(t).status.is_final for t in tasks)

    killed_at: dict[str, float] = {}  # incarnation label -> when its kill had ended
    chance = random.Random()
    for kill in range(KILLS):
        # spread the kills over the drain: the next one once enough more steps have run
        lines = (kill + 1) * 2 * TASKS * STEPS // (KILLS + 2)
        wait_for(lambda lines=lines: len(trace_of(cluster.trace)) >= lines, 600, cluster.output)
        name = chance.choice(HOSTS)
        cluster.servers[name].kill()
        killed_at[f"{name}{starts[name]}"] = time.time()
        starts[name] += 1
        cluster.serve(name, f"{name}{starts[name]}")
    wait_for(lambda: finished() == TASKS, 600, cluster.output)

    assert {cluster.store.tasks.get(t).status for t in tasks} == {TaskStatus.COMPLETED}, cluster.output()
    assert {cluster.store.tasks.get(t).properties["step"] for t in tasks} == {STEPS}
    done = executions(trace_of(cluster.trace), killed_at)
    by_run: dict[tuple[str, int], list[Execution]] = defaultdict(list)
    for execution in sorted(done, key=lambda e: e.start):
        by_run[(execution.task_id, execution.step)].append(execution)
    assert set(by_run) == {(t, n) for t in tasks for n in range(1, STEPS + 1)}  # every step ran
    for run, runs in by_run.items():
        for before, after in itertools.pairwise(runs):
            assert before.end <= after.start, f"step {run} ran at overlapping times: {before}, {after}"
            # a step runs again only when the incarnation that ran it was killed while it was in flight
            assert before.host in killed_at and before.start <= killed_at[before.host], (before, after)
        assert runs[-1].finished, runs
    for task in tasks:  # the steps of each task in order, each starting after the last one ended
        last = [by_run[(task, n)][-1] for n in range(1, STEPS + 1)]
        assert all(a.end <= b.start for a, b in itertools.pairwise(last)), last
        stored = cluster.store.tasks.runs(task)
        assert [r.state for r in stored] == [RunState.DONE] * STEPS
        # each claim of a run is one more fencing token: at least one claim per execution of its step
        assert all(r.claim_token >= len(by_run[(task, n)]) for n, r in enumerate(stored, 1)), stored
    reruns = sum(len(runs) - 1 for runs in by_run.values())
    print(f"{TASKS} tasks x {STEPS} steps, {KILLS} kills: {reruns} steps re-run")
