"""One benchmark case per process: ``python -m benchmarks.cases CASE --tasks N --steps S --workers W``.

Prints one JSON object: steps, seconds, steps_per_s, lateness (ms, p50/p99, measured from each script run's
due time to the moment its script started) and peak resident memory of the process (MB). Cases:

* ``xlr-chain`` / ``xlr-poll`` / ``xlr-burst``: xlr-runtime's scheduler, store (SQLite file, WAL,
  synchronous=NORMAL) and worker pool, on the task types of ``benchmarks/plugins/bench``;
* ``huey-chain`` / ``huey-poll`` / ``huey-burst``: huey's ``SqliteHuey`` with an in-process thread consumer doing
  the same;
* ``raw-chain``: a bare sqlite3 claim/complete loop (no scripts) batching 64 rows a transaction, the ceiling of
  the storage pattern;
* ``raw-step``: the same loop claiming one row a transaction, so each step costs one claim transaction and one
  complete transaction: the baseline ``xlr-chain`` is judged against (it commits a batch of results at once).
* ``xlr-chain-http``: ``xlr-chain`` with the HTTP API served beside the scheduler (as ``xlr serve`` does) and
  :data:`HTTP_CLIENTS` dashboard clients, each following a task's live log (server-sent events) and listing the
  tasks in progress, over and over, while the chain runs (issue 15: serving HTTP must not slow the scheduler).

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
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

BENCH_PLUGIN = Path(__file__).parent / "plugins" / "bench"
CASES = (
    "xlr-chain",
    "xlr-chain-http",
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


def summary(steps: int, seconds: float, lateness: list[float], cpu: float = 0.0, **extra: Any) -> dict[str, Any]:
    """The JSON a case prints; ``cpu`` is this process's CPU seconds spent in the timed part."""
    return {
        "cpu_us_per_step": round(cpu / steps * 1e6, 1) if steps else 0.0,
        "steps": steps,
        "seconds": round(seconds, 3),
        "steps_per_s": round(steps / seconds, 1) if seconds else 0.0,
        "lateness_p50_ms": round(percentile(lateness, 0.50) * 1000, 2),
        "lateness_p99_ms": round(percentile(lateness, 0.99) * 1000, 2),
        "lateness_mean_ms": round(statistics.fmean(lateness) * 1000, 2) if lateness else 0.0,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        **extra,
    }


# -- xlr-runtime ---------------------------------------------------------------------------------------------


class _TimedExecutor:
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


def _xlr(case: str, tasks: int, steps: int, workers: int, home: Path, store_url: str = "") -> dict[str, Any]:
    from xlr_runtime.plugins import build_plugin_manager
    from xlr_runtime.runtime import Runtime
    from xlr_runtime.scripting.pool import WorkerPool

    overrides: dict[str, Any] = {
        "schedule.min_interval": 0.0,
        "schedule.default_interval": 0.0,
        "workers.size": workers,
        "store.url": store_url,
    }
    overrides["http.listen"] = "127.0.0.1:0" if case == "xlr-chain-http" else "off"
    pool = WorkerPool(workers)
    timed = _TimedExecutor(pool)
    with Runtime(
        home,
        plugin_paths=[BENCH_PLUGIN],
        overrides=overrides,
        executor=timed,
        pm=build_plugin_manager(load_installed=False),
    ) as runtime:
        _xlr_warm_up(runtime, workers)
        type_name = "bench.Chain" if case.startswith("xlr-chain") else "bench.Poll"
        ids = [runtime.engine.create_task(type_name, _xlr_inputs(case, i, tasks, steps)).id for i in range(tasks)]
        scheduler = runtime.scheduler()
        scheduler.recover()
        dashboard = _Dashboard(runtime, scheduler, ids) if case == "xlr-chain-http" else None

        def all_done() -> bool:
            return scheduler.ended >= tasks

        started, cpu = time.perf_counter(), cpu_seconds()
        worker_cpu = process_cpu_seconds(pool.worker_pids)
        scheduler.run(until=all_done)
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        worker_cpu = process_cpu_seconds(pool.worker_pids) - worker_cpu
        http = dashboard.stop() if dashboard is not None else {}
        lateness, total, failed = [], 0, 0
        for task_id in ids:
            for run in runtime.store.tasks.runs(task_id):
                total += 1
                failed += run.outcome != "succeeded"
                if run.seq >= _FIRST_TIMED_RUN[case]:
                    lateness.append(max(0.0, timed.started[run.id] - run.due_at))
        pool.shutdown(wait=True)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return summary(
        total,
        seconds,
        lateness,
        cpu,
        failed=failed,
        worker_cpu_us_per_step=round(worker_cpu / total * 1e6, 1),
        worker_peak_rss_mb=round(children, 1),
        **http,
    )


#: Dashboard clients of ``xlr-chain-http``.
HTTP_CLIENTS = 10


class _Dashboard:
    """The HTTP API served beside the scheduler (through its ``xlr_serve_services`` hook, as ``xlr serve`` starts
    it) and :data:`HTTP_CLIENTS` threads, each following task logs live and listing the tasks in progress."""

    def __init__(self, runtime: Any, scheduler: Any, task_ids: list[str]) -> None:
        from xlr_runtime.http.plugin import xlr_serve_services

        self.service = xlr_serve_services(runtime=runtime, scheduler=scheduler)
        self.url = f"http://127.0.0.1:{self.service.port}/api/v1"
        self.task_ids = task_ids
        self.stopping = threading.Event()
        self.requests = 0
        self.events = 0
        self.threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(HTTP_CLIENTS)]
        for thread in self.threads:
            thread.start()

    def _client(self, number: int) -> None:
        import requests

        with requests.Session() as session:
            index = number
            while not self.stopping.is_set():
                task_id = self.task_ids[index % len(self.task_ids)]
                index += HTTP_CLIENTS
                with session.get(f"{self.url}/tasks/{task_id}/log?follow=true", stream=True, timeout=60) as stream:
                    for line in stream.iter_lines():  # until the task ends (its "end" event)
                        self.events += line.startswith(b"event:")
                session.get(f"{self.url}/tasks?status=in_progress&limit=50", timeout=60).raise_for_status()
                self.requests += 2

    def stop(self) -> dict[str, Any]:
        """Stop the clients (every task has ended, so their streams end), then the server; what they did."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(60)
        self.service.request_stop()
        return {"http_clients": HTTP_CLIENTS, "http_requests": self.requests, "http_events": self.events}


#: The first run (``seq``) whose lateness counts: a poll skips its start-up run and the run that staggers it over
#: the second; a burst only its start-up run (every task's polls then fall due within the same moments).
_FIRST_TIMED_RUN = {"xlr-chain": 1, "xlr-chain-http": 1, "xlr-poll": 3, "xlr-burst": 2}


def _xlr_inputs(case: str, number: int, tasks: int, steps: int) -> dict[str, Any]:
    """The inputs of task ``number`` (of ``tasks``) of ``case``."""
    if case.startswith("xlr-chain"):
        return {"steps": steps}
    offset = 1.0 if case == "xlr-burst" else number / tasks
    return {"polls": steps, "offset": f"{offset:.6f}"}


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
    # as _FIRST_TIMED_RUN (huey has no start-up run): a burst times every poll, a poll skips the first two
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


def run_case(case: str, tasks: int, steps: int, workers: int, store_url: str = "") -> dict[str, Any]:
    """Run one case in a fresh temporary folder (an ``xlr-*`` case on ``store_url``, if given) and return its
    summary."""
    with tempfile.TemporaryDirectory(prefix="xlr-bench-") as tmp:
        home = Path(tmp)
        if case.startswith("xlr-"):
            return _xlr(case, tasks, steps, workers, home, store_url)
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
    parser.add_argument("--store", default="", help="store.url of an xlr-* case (default: the home's SQLite file)")
    args = parser.parse_args(argv)
    print(
        json.dumps(
            {
                "case": args.case,
                "tasks": args.tasks,
                "steps_per_task": args.steps,
                "workers": args.workers,
                **run_case(args.case, args.tasks, args.steps, args.workers, args.store),
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
