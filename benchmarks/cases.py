"""One benchmark case per process: ``python -m benchmarks.cases CASE --tasks N --steps S --workers W``.

Prints one JSON object: steps, seconds, steps_per_s, lateness (ms, p50/p95/p99, measured from each script run's
due time to the moment its script started) and peak resident memory of the process (MB). Cases:

* ``xlr-chain`` / ``xlr-poll`` / ``xlr-burst``: xlr-runtime's scheduler, store (SQLite file, WAL,
  synchronous=NORMAL) and worker pool, on the task types of ``benchmarks/plugins/bench``;
* ``huey-chain`` / ``huey-poll`` / ``huey-burst``: huey's ``SqliteHuey`` with an in-process thread consumer doing
  the same;
* ``raw-chain``: a bare sqlite3 claim/complete loop (no scripts) batching 64 rows a transaction, the ceiling of
  the storage pattern;
* ``raw-step``: the same loop claiming one row a transaction, so each step costs one claim transaction and one
  complete transaction: the baseline ``xlr-chain`` is judged against (it commits a batch of results at once).
* ``xlr-chain-http``: ``xlr-chain`` with the HTTP API served beside the scheduler (as ``xlr serve`` does: its own
  process), ``--rounds`` times without and with the dashboard clients of :mod:`benchmarks.followers` (each
  following a task's live log over server-sent events, then listing the tasks in progress, over and over, in a
  process of their own), so the ratio of each round compares runs of the same process under the same load
  (issue 15: serving HTTP must not slow the scheduler by more than 5%);
* ``xlr-poll-http``: the same for ``xlr-poll``, whose measure is the lateness with and without the clients (polls
  fall due once a second, so their rate does not move).

``--store URL`` runs an ``xlr-*`` case on that store (``store.url``) instead of the temporary home's SQLite file:
``benchmarks.bench_postgres`` runs ``xlr-chain`` on a throw-away PostgreSQL so.

Polls (``*-poll``) are staggered over the second; a burst (``*-burst``) creates every task at once, each polling
every second: its runs fall due together.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_PLUGIN = Path(__file__).parent / "plugins" / "bench"
CASES = (
    "xlr-chain",
    "xlr-chain-http",
    "xlr-poll-http",
    "xlr-poll",
    "xlr-burst",
    "huey-chain",
    "huey-poll",
    "huey-burst",
    "raw-chain",
    "raw-step",
)


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    """User + system CPU seconds of this process (or of its waited-for children)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of running processes (``/proc/PID/stat``; 0 where unavailable)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def lateness_summary(lateness: list[float]) -> dict[str, float]:
    """The p50, p95 and p99 and the mean of ``lateness`` (seconds), in milliseconds."""
    return {
        "lateness_p50_ms": round(percentile(lateness, 0.50) * 1000, 2),
        "lateness_p95_ms": round(percentile(lateness, 0.95) * 1000, 2),
        "lateness_p99_ms": round(percentile(lateness, 0.99) * 1000, 2),
        "lateness_mean_ms": round(statistics.fmean(lateness) * 1000, 2) if lateness else 0.0,
    }


def summary(steps: int, seconds: float, lateness: list[float], cpu: float = 0.0, **extra: Any) -> dict[str, Any]:
    """The JSON a case prints; ``cpu`` is this process's CPU seconds spent in the timed part."""
    return {
        "cpu_us_per_step": round(cpu / steps * 1e6, 1) if steps else 0.0,
        "steps": steps,
        "seconds": round(seconds, 3),
        "steps_per_s": round(steps / seconds, 1) if seconds else 0.0,
        **lateness_summary(lateness),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        **extra,
    }


# -- xlr-runtime ---------------------------------------------------------------------------------------------


class TimedExecutor:
    """Wraps the worker pool to record when each script really started (the worker's clock)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.started: dict[int, float] = {}

    def submit(self, request: Any) -> Future[Any]:
        future = self.inner.submit(request)
        future.add_done_callback(
            lambda f, run_id=request.run_id: self.started.__setitem__(run_id, f.result().started_at)
        )
        return future

    def submit_many(self, requests: list[Any]) -> list[Future[Any]]:
        futures = self.inner.submit_many(requests)
        for request, future in zip(requests, futures, strict=True):
            future.add_done_callback(
                lambda f, run_id=request.run_id: self.started.__setitem__(run_id, f.result().started_at)
            )
        return futures

    def submit_each(self, requests: list[Any], on_result: Any) -> None:
        def started(result: Any) -> None:
            self.started[result.run_id] = result.started_at
            on_result(result)

        self.inner.submit_each(requests, started)

    def shutdown(self, *, wait: bool = True) -> None:
        self.inner.shutdown(wait=wait)


@dataclass
class _Segment:
    """One timed run of the scheduler over a set of new tasks."""

    steps: int
    seconds: float
    lateness: list[float]
    cpu: float
    worker_cpu: float
    failed: int
    early: int = 0  # runs whose script started before their due time (claimed ahead: must stay 0)
    http: dict[str, Any] = field(default_factory=dict)

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds if self.seconds else 0.0


def _xlr(
    case: str, tasks: int, steps: int, workers: int, home: Path, rounds: int, store_url: str = ""
) -> dict[str, Any]:
    from xlr_runtime.plugins import build_plugin_manager
    from xlr_runtime.runtime import Runtime, freeze_start_up_heap
    from xlr_runtime.scripting.pool import WorkerPool

    overrides: dict[str, Any] = {
        "schedule.min_interval": 0.0,
        "schedule.default_interval": 0.0,
        "workers.size": workers,
        "store.url": store_url,
    }
    overrides["http.listen"] = "127.0.0.1:0" if case.endswith("-http") else "off"
    pool = WorkerPool(workers)
    timed = TimedExecutor(pool)
    with Runtime(
        home,
        plugin_paths=[BENCH_PLUGIN],
        overrides=overrides,
        executor=timed,
        pm=build_plugin_manager(load_installed=False),
    ) as runtime:
        _xlr_warm_up(runtime, workers)
        freeze_start_up_heap()  # as xlr serve does once it has started (before any task of the case exists)
        if case.endswith("-http"):
            result = _with_and_without_followers(runtime, timed, pool, case, tasks, steps, rounds)
        else:
            segment = _xlr_segment(runtime, timed, pool, case, tasks, steps)
            result = summary(segment.steps, segment.seconds, segment.lateness, segment.cpu, **_segment_extra([segment]))
        pool.shutdown(wait=True)
    result["worker_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    return result


def _segment_extra(segments: list[_Segment]) -> dict[str, Any]:
    steps = sum(s.steps for s in segments)
    return {
        "failed": sum(s.failed for s in segments),
        "early_starts": sum(s.early for s in segments),
        "worker_cpu_us_per_step": round(sum(s.worker_cpu for s in segments) / steps * 1e6, 1) if steps else 0.0,
    }


def _xlr_segment(
    runtime: Any, timed: TimedExecutor, pool: Any, case: str, tasks: int, steps: int, followers: str | None = None
) -> _Segment:
    """Create ``tasks`` new tasks of ``case`` and time the scheduler running them to their end (with the dashboard
    clients of :mod:`benchmarks.followers` on the API at ``followers``, when given)."""
    type_name = "bench.Chain" if case.startswith("xlr-chain") else "bench.Poll"
    ids = [runtime.engine.create_task(type_name, xlr_inputs(case, i, tasks, steps)).id for i in range(tasks)]
    scheduler = runtime.scheduler()
    scheduler.recover()
    clients = _Followers(followers, ids) if followers is not None else None

    def all_done() -> bool:
        return scheduler.ended >= tasks

    started, cpu = time.perf_counter(), cpu_seconds()
    worker_cpu = process_cpu_seconds(pool.worker_pids)
    scheduler.run(until=all_done)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    worker_cpu = process_cpu_seconds(pool.worker_pids) - worker_cpu
    http = clients.stop() if clients is not None else {}
    lateness, total, failed, early = run_lateness(runtime.store, ids, timed.started, FIRST_TIMED_RUN[case])
    return _Segment(total, seconds, lateness, cpu, worker_cpu, failed, early, http)


def run_lateness(
    store: Any, task_ids: list[str], started: dict[int, float], first_timed: int
) -> tuple[list[float], int, int, int]:
    """The lateness of the script runs of ``task_ids`` from run ``first_timed`` (``seq``) on: when each started
    in its worker (``started``, by run id, as :class:`TimedExecutor` records it) minus its due time; and how many
    runs there were, how many did not succeed, and how many started before their due time (must be 0)."""
    lateness, total, failed, early = [], 0, 0, 0
    for task_id in task_ids:
        for run in store.tasks.runs(task_id):
            total += 1
            failed += run.outcome != "succeeded"
            early += started[run.id] < run.due_at
            if run.seq >= first_timed:
                lateness.append(max(0.0, started[run.id] - run.due_at))
    return lateness, total, failed, early


#: Rounds of the ``*-http`` cases without ``--rounds``: each runs the tasks without and with followers.
HTTP_ROUNDS = 3


def _with_and_without_followers(
    runtime: Any, timed: TimedExecutor, pool: Any, case: str, tasks: int, steps: int, rounds: int
) -> dict[str, Any]:
    """``case``'s tasks with the HTTP API served (started through its ``xlr_serve_services`` hook, as ``xlr serve``
    does: its own process), ``rounds`` times without and with the dashboard clients, alternating which comes first.
    The summary is the runs with clients, plus the ratio to the runs without them in each round (issue 15: at
    least 0.95) and their lateness."""
    from xlr_runtime.http.plugin import xlr_serve_services

    service = xlr_serve_services(runtime=runtime, scheduler=runtime.scheduler())
    url = f"http://127.0.0.1:{service.port}/api/v1"
    try:
        _wait_until_served(url)
        without: list[_Segment] = []
        with_clients: list[_Segment] = []
        for number in range(rounds):
            for clients in (False, True) if number % 2 == 0 else (True, False):
                server_cpu = process_cpu_seconds([service.pid])
                segment = _xlr_segment(runtime, timed, pool, case, tasks, steps, followers=url if clients else None)
                segment.http["server_cpu"] = process_cpu_seconds([service.pid]) - server_cpu
                (with_clients if clients else without).append(segment)
    finally:
        service.request_stop()
    ratios = [round(a.steps_per_s / b.steps_per_s, 3) for a, b in zip(with_clients, without, strict=True)]
    late_ratios = [
        round(percentile(a.lateness, 0.99) / max(percentile(b.lateness, 0.99), 1e-5), 2)
        for a, b in zip(with_clients, without, strict=True)
    ]
    alone = [late for segment in without for late in segment.lateness]
    http = {key: sum(s.http[key] for s in with_clients) for key in ("http_requests", "http_events")}
    steps_with, steps_without = sum(s.steps for s in with_clients), sum(s.steps for s in without)
    return summary(
        steps_with,
        sum(s.seconds for s in with_clients),
        [late for segment in with_clients for late in segment.lateness],
        sum(s.cpu for s in with_clients),
        **_segment_extra(with_clients),
        http_clients=with_clients[0].http["http_clients"],
        **http,
        rounds=rounds,
        steps_per_s_without=round(steps_without / sum(s.seconds for s in without), 1),
        cpu_us_per_step_without=round(sum(s.cpu for s in without) / steps_without * 1e6, 1),
        lateness_p99_ms_without=round(percentile(alone, 0.99) * 1000, 2),
        http_ratio_rounds=ratios,
        http_ratio_min=min(ratios),
        http_ratio_max=max(ratios),
        http_ratio_median=statistics.median(ratios),
        lateness_p99_ratio_rounds=late_ratios,
        http_server_cpu_us_per_step=round(sum(s.http["server_cpu"] for s in with_clients) / steps_with * 1e6, 1),
        http_server_cpu_us_per_step_without=round(sum(s.http["server_cpu"] for s in without) / steps_without * 1e6, 1),
        http_clients_cpu_us_per_step=round(sum(s.http["clients_cpu"] for s in with_clients) / steps_with * 1e6, 1),
    )


def _wait_until_served(url: str, timeout: float = 60) -> None:
    """Until the HTTP server process answers (it starts beside the benchmark, which must not time that)."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/tasks?limit=1", timeout=timeout):
                return
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class _Followers:
    """The dashboard clients of :mod:`benchmarks.followers`, in their own process, following ``task_ids``."""

    def __init__(self, url: str, task_ids: list[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.followers", url, *task_ids],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parent.parent,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":  # every client has reached the server
            raise SystemExit("the dashboard clients did not start")
        self.started_cpu = process_cpu_seconds([self.process.pid])  # not the start-up (imports, connections)

    def stop(self) -> dict[str, Any]:
        """Stop the clients (every task has ended, so their streams end); what they did and the CPU seconds
        their process used since they started."""
        cpu = process_cpu_seconds([self.process.pid]) - self.started_cpu
        out, _ = self.process.communicate(timeout=120)
        return {**json.loads(out.strip().splitlines()[-1]), "clients_cpu": cpu}


#: The first run (``seq``) whose lateness counts: a poll skips its start-up run and the run that staggers it over
#: the second; a burst only its start-up run (every task's polls then fall due within the same moments).
FIRST_TIMED_RUN = {"xlr-chain": 1, "xlr-chain-http": 1, "xlr-poll": 3, "xlr-poll-http": 3, "xlr-burst": 2}


def xlr_inputs(case: str, number: int, tasks: int, steps: int) -> dict[str, Any]:
    """The inputs of task ``number`` (of ``tasks``) of ``case``."""
    if case.startswith("xlr-chain"):
        return {"steps": steps}
    if case == "xlr-burst":
        return {"polls": steps, "offset": "1.0"}
    return {"polls": steps, "phase": f"{number / tasks:.6f}"}


def _xlr_warm_up(runtime: Any, workers: int) -> None:
    """Start every worker before timing (workers start lazily, on first use)."""
    scheduler = runtime.scheduler()
    ids = [runtime.engine.create_task("bench.Chain", {"steps": 1}).id for _ in range(workers * 2)]
    scheduler.run(until=lambda: all(runtime.store.tasks.get(i).status.is_final for i in ids))


# -- huey -------------------------------------------------------------------------------------------------------


def _huey(case: str, tasks: int, steps: int, workers: int, home: Path) -> dict[str, Any]:
    import logging

    from huey import SqliteHuey

    logging.getLogger("huey").setLevel(logging.CRITICAL)
    huey = SqliteHuey("bench", filename=str(home / "huey.db"), results=False)
    lock = threading.Lock()
    done = threading.Event()
    state = {"remaining": tasks, "steps": 0}
    lateness: list[float] = []
    # as FIRST_TIMED_RUN (huey has no start-up run): a burst times every poll, a poll skips the first two
    first_timed = 0 if case == "huey-burst" else 2

    def finished_step(due: float, last: bool) -> None:
        with lock:
            state["steps"] += 1
            lateness.append(max(0.0, time.time() - due))
            if last:
                state["remaining"] -= 1
                if state["remaining"] == 0:
                    done.set()

    @huey.task()
    def chain(n: int, due: float) -> None:
        last = n + 1 >= steps
        if not last:
            chain(n + 1, time.time())
        finished_step(due, last)

    @huey.task()
    def poll(n: int, due: float) -> None:
        last = n + 1 >= steps
        if not last:
            import datetime as dt

            next_due = time.time() + 1.0
            poll.schedule(args=(n + 1, next_due), eta=dt.datetime.fromtimestamp(next_due, dt.UTC))
        if n >= first_timed or last:
            finished_step(due, last)
        else:
            with lock:
                state["steps"] += 1

    import datetime as dt

    now = time.time()
    for i in range(tasks):
        if case == "huey-chain":
            chain(0, now)
        else:
            due = now + 1.0 + (0.0 if case == "huey-burst" else i / tasks)
            poll.schedule(args=(0, due), eta=dt.datetime.fromtimestamp(due, dt.UTC))
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=False)
    started, cpu = time.perf_counter(), cpu_seconds()
    consumer.start()
    done.wait()
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    consumer.stop(graceful=True)
    return summary(int(state["steps"]), seconds, lateness, cpu, failed=0)


# -- raw sqlite3 ------------------------------------------------------------------------------------------------


def _raw(tasks: int, steps: int, home: Path, batch: int = 64) -> dict[str, Any]:
    conn = sqlite3.connect(str(home / "raw.db"), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, task INTEGER, seq INTEGER, due REAL, state TEXT)")
    conn.execute("CREATE INDEX runs_due ON runs (state, due)")
    now = time.time()
    conn.executemany(
        "INSERT INTO runs (task, seq, due, state) VALUES (?, 1, ?, 'due')", [(i, now) for i in range(tasks)]
    )
    lateness: list[float] = []
    total = 0
    started, cpu = time.perf_counter(), cpu_seconds()
    while True:
        now = time.time()
        conn.execute("BEGIN IMMEDIATE")
        claimed = conn.execute(
            "UPDATE runs SET state = 'running' WHERE id IN (SELECT id FROM runs WHERE state = 'due' AND due <= ? "
            "ORDER BY due LIMIT ?) RETURNING id, task, seq, due",
            (now, batch),
        ).fetchall()
        conn.execute("COMMIT")
        if not claimed:
            break
        lateness.extend(now - row[3] for row in claimed)
        conn.execute("BEGIN IMMEDIATE")
        for run_id, task, seq, _due in claimed:
            conn.execute("UPDATE runs SET state = 'done' WHERE id = ?", (run_id,))
            if seq < steps:
                conn.execute(
                    "INSERT INTO runs (task, seq, due, state) VALUES (?, ?, ?, 'due')", (task, seq + 1, time.time())
                )
        conn.execute("COMMIT")
        total += len(claimed)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    conn.close()
    return summary(total, seconds, lateness, cpu, failed=0)


def run_case(
    case: str, tasks: int, steps: int, workers: int, rounds: int = HTTP_ROUNDS, store_url: str = ""
) -> dict[str, Any]:
    """Run one case in a fresh temporary folder (an ``xlr-*`` case on ``store_url``, if given) and return its
    summary (``rounds``: of the ``*-http`` cases)."""
    with tempfile.TemporaryDirectory(prefix="xlr-bench-") as tmp:
        home = Path(tmp)
        if case.startswith("xlr-"):
            return _xlr(case, tasks, steps, workers, home, rounds, store_url)
        if case.startswith("huey-"):
            return _huey(case, tasks, steps, workers, home)
        if case == "raw-chain":
            return _raw(tasks, steps, home)
        if case == "raw-step":
            return _raw(tasks, steps, home, batch=1)
    raise SystemExit(f"unknown case {case!r}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cases")
    parser.add_argument("case", choices=CASES)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=HTTP_ROUNDS, help="*-http cases: runs without and with followers")
    parser.add_argument("--store", default="", help="store.url of an xlr-* case (default: the home's SQLite file)")
    args = parser.parse_args(argv)
    print(
        json.dumps(
            {
                "case": args.case,
                "tasks": args.tasks,
                "steps_per_task": args.steps,
                "workers": args.workers,
                **run_case(args.case, args.tasks, args.steps, args.workers, args.rounds, args.store),
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
