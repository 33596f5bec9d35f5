"""W1 and W2a on several hosts: ``python -m benchmarks.bench_cluster [--quick] [--workers N] [--only CASE] [--json]``.

Each case runs on one host with the home's SQLite file, then on hosts on this machine sharing one throw-away
PostgreSQL server on 127.0.0.1 (tests/postgres_helpers.py: fsync off), a new schema per run, all in one run. A host
is a process serving a home of its own as ``xlr serve`` does (``Runtime.serve``: scheduler, lease renewals,
``LISTEN``; ``--workers`` workers each, a copied ``secret.key``), with the minimum interval lowered to 0 as in every
benchmark case; it records when each script run started in its worker (as the single-process cases do) and hands
those times over when it stops. The tasks are created, and their end watched, by a runtime on a home no host serves
(on SQLite: the served home, whose server its ``xlr.wake`` socket wakes).

* ``chain`` (W1): 1,000 ``bench.Chain`` tasks of 10 script runs, each due at once after the last (a tenth of the
  tasks and 5 runs with ``--quick``), on 1, 2 and 3 hosts, timed from the commit creating the tasks (its
  ``NOTIFY`` wakes every host) to the last task's end. Reports steps per second, their ratio to SQLite's, and
  what a step costs the database, counted by the server's ``pg_stat_statements`` (loaded for the run) over the
  hosts' role only (the watcher connects as another role): statements per step, each a round trip (except the
  rows of one ``executemany``, which psycopg sends in one pipeline).
* ``poll`` (W2a, ``xlr-poll`` of :mod:`benchmarks.cases`): 1,000 ``bench.Poll`` tasks polling every second, 10 polls
  each, staggered over the second (100 tasks and 5 polls with ``--quick``), on 1, 2 and 3 hosts. Reports the
  lateness of the polls (a run's start in its worker minus its due time, without the start-up runs) at p50, p95
  and p99, and each as a ratio to SQLite's.
* ``wake``: 100 ``bench.Chain`` tasks of one run (20 with ``--quick``) created one at a time, 50 to 150 ms apart, by
  the watcher while one host serves: on PostgreSQL only the ``NOTIFY`` of the creating commit tells the host,
  on SQLite the home's wake socket. Reports the creation-to-start latency (the run's start in its worker minus
  its task's creation) at p50, p95 and p99, and each as a ratio to SQLite's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.cases import BENCH_PLUGIN, FIRST_TIMED_RUN, TimedExecutor, lateness_summary, run_lateness, xlr_inputs
from benchmarks.suite import print_report, suite_parser
from tests.postgres_helpers import ROLE, PostgresServer, missing_reason, start_postgres

#: The role that creates the tasks and watches them end, so its statements are not counted.
WATCHER = "xlr_bench_watcher"
HOSTS = (1, 2, 3)
CASES = ("chain", "poll", "wake")
ROOT = Path(__file__).parent.parent
#: Where a host writes the start of each script run it ran (run id: time), when it stops.
STARTS_FILE = "starts.json"
#: The lateness percentiles each lateness case compares with SQLite's.
PERCENTILES = ("p50", "p95", "p99")


def measure(*, quick: bool, workers: int, only: tuple[str, ...] = CASES) -> dict[str, Any]:
    """Every case of ``only`` on SQLite and on PostgreSQL, as the JSON object ``--json`` prints: the chain's rows and
    ratios under ``rows`` and ``ratios``, the other cases' under their names."""
    reason = missing_reason()
    if reason is not None:
        return {"skipped": reason, "rows": [], "ratios": {}}
    report: dict[str, Any] = {"skipped": None, "rows": [], "ratios": {}}
    with start_postgres() as server:
        _count_statements(server)
        if "chain" in only:
            report |= _chain(server, quick, workers)
        if "poll" in only:
            report["poll"] = _poll(server, quick, workers)
        if "wake" in only:
            report["wake"] = _wake(server, quick, workers)
    return report


def _chain(server: PostgresServer, quick: bool, workers: int) -> dict[str, Any]:
    """W1 on SQLite and on 1, 2 and 3 hosts: steps per second, their ratio to SQLite's, statements per step."""
    tasks, steps = (100, 5) if quick else (1000, 10)
    sqlite = _run_chain(None, 1, tasks, steps, workers)
    rows = [{"name": f"SQLite, 1 host: {tasks} tasks x {steps} runs", **sqlite}]
    for hosts in HOSTS:
        rows.append({"name": f"PostgreSQL, {hosts} host(s)", **_run_chain(server, hosts, tasks, steps, workers)})
    base = sqlite["steps_per_s"]
    ratios = {f"{row['name']} / SQLite": round(row["steps_per_s"] / base, 2) if base else 0.0 for row in rows[1:]}
    return {"rows": rows, "ratios": ratios}


def _run_chain(server: PostgresServer | None, hosts: int, tasks: int, steps: int, workers: int) -> dict[str, Any]:
    """Time ``hosts`` hosts draining the chain tasks and count their statements."""
    with _Cluster(server, hosts, workers) as cluster:
        runtime = cluster.watcher
        if server:
            _reset_statements(server)
        with runtime.store.atomic():
            ids = [runtime.create_task("bench.Chain", {"steps": steps}).id for _ in range(tasks)]
        started = time.perf_counter()
        _wait_until_ended(runtime, ids)
        seconds = time.perf_counter() - started
        done = sum(len(runtime.store.tasks.runs(i)) for i in ids)
        counted = _statements(server) if server else {}
    row = {"hosts": hosts, "steps": done, "seconds": round(seconds, 2), "steps_per_s": round(done / seconds, 1)}
    return row | {name: round(value / done, 2) for name, value in counted.items()}


def _poll(server: PostgresServer, quick: bool, workers: int) -> dict[str, Any]:
    """W2a on SQLite and on 1, 2 and 3 hosts: the polls' lateness and its ratios to SQLite's."""
    tasks, polls = (100, 5) if quick else (1000, 10)
    rows = [{"name": f"SQLite, 1 host: {tasks} tasks x {polls} polls", **_run_polls(None, 1, tasks, polls, workers)}]
    for hosts in HOSTS:
        rows.append({"name": f"PostgreSQL, {hosts} host(s)", **_run_polls(server, hosts, tasks, polls, workers)})
    return {"rows": rows, "ratios": _lateness_ratios(rows)}


def _run_polls(server: PostgresServer | None, hosts: int, tasks: int, polls: int, workers: int) -> dict[str, Any]:
    """The lateness of the polls of ``tasks`` ``bench.Poll`` tasks run by ``hosts`` hosts (as ``xlr-poll``)."""
    with _Cluster(server, hosts, workers) as cluster:
        runtime = cluster.watcher
        with runtime.store.atomic():
            ids = [runtime.create_task("bench.Poll", xlr_inputs("xlr-poll", i, tasks, polls)).id for i in range(tasks)]
        _wait_until_ended(runtime, ids, pause=0.5)
        starts = cluster.stop()
        lateness, runs, failed, early = run_lateness(runtime.store, ids, starts, FIRST_TIMED_RUN["xlr-poll"])
    return {
        "hosts": hosts, "runs": runs, "failed": failed, "early_starts": early, "timed": len(lateness),
        **lateness_summary(lateness),
    }  # fmt: skip


def _wake(server: PostgresServer, quick: bool, workers: int) -> dict[str, Any]:
    """Tasks created on a home no host serves, one at a time: the creation-to-start latency on PostgreSQL (one
    host, woken by ``NOTIFY``) against SQLite's (the served home's wake socket), and their ratios."""
    tasks = 20 if quick else 100
    rows = [
        {"name": f"SQLite, same home: {tasks} tasks one at a time", **_run_wake(None, tasks, workers)},
        {"name": "PostgreSQL, created on another home", **_run_wake(server, tasks, workers)},
    ]
    return {"rows": rows, "ratios": _lateness_ratios(rows)}


def _run_wake(server: PostgresServer | None, tasks: int, workers: int) -> dict[str, Any]:
    """The creation-to-start latency of ``tasks`` one-run tasks created by the watcher 50 to 150 ms apart."""
    pauses = random.Random(16)
    with _Cluster(server, 1, workers) as cluster:
        runtime = cluster.watcher
        with runtime.store.atomic():  # starts the host's workers (they start on first use), untimed
            warm_up = [runtime.create_task("bench.Chain", {"steps": 1}).id for _ in range(workers * 2)]
        _wait_until_ended(runtime, warm_up)
        ids = []
        for _ in range(tasks):
            ids.append(runtime.create_task("bench.Chain", {"steps": 1}).id)
            time.sleep(pauses.uniform(0.05, 0.15))
        _wait_until_ended(runtime, ids, pause=0.5)
        starts = cluster.stop()
        lateness, runs, failed, early = run_lateness(runtime.store, ids, starts, 1)
    return {
        "hosts": 1, "runs": runs, "failed": failed, "early_starts": early, "timed": len(lateness),
        **lateness_summary(lateness),
    }  # fmt: skip


def _lateness_ratios(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Each PostgreSQL row's lateness percentiles over the first (SQLite's) row's."""
    base = rows[0]
    return {
        f"{row['name']} / SQLite, {p}": round(row[f"lateness_{p}_ms"] / max(base[f"lateness_{p}_ms"], 0.01), 2)
        for row in rows[1:]
        for p in PERCENTILES
    }


def _wait_until_ended(runtime: Any, ids: list[str], pause: float = 0.05) -> None:
    """Until every task of ``ids`` has ended, looking every ``pause`` seconds (the watcher's reads load the
    database the hosts share: the lateness cases, which time nothing by it, look less often)."""
    while not all(runtime.store.tasks.get(i).status.is_final for i in ids):
        time.sleep(pause)


def _count_statements(server: PostgresServer) -> None:
    """Load ``pg_stat_statements`` (a restart) and add the watcher role."""
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        conn.execute(f"CREATE ROLE {WATCHER} SUPERUSER LOGIN")
    server.stop()
    server.start()
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements")


def _reset_statements(server: PostgresServer) -> None:
    """Forget every statement counted so far."""
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")


def _statements(server: PostgresServer) -> dict[str, int]:
    """The statements the hosts' role sent since the reset."""
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        [statements] = conn.execute(
            "SELECT coalesce(sum(calls), 0) "
            "FROM pg_stat_statements JOIN pg_roles ON pg_roles.oid = userid WHERE rolname = %s",
            (ROLE,),
        ).fetchone()
    return {"statements_per_step": int(statements)}


class _Cluster:
    """``count`` hosts (:func:`serve_host`, each in a process of its own) serving homes of their own on a new schema
    of ``server`` (on one home's SQLite file without one), and the runtime of the watcher's home (:attr:`watcher`,
    the served home on SQLite) that creates their tasks; all removed when the block ends."""

    def __init__(self, server: PostgresServer | None, count: int, workers: int) -> None:
        self.server = server
        self.count = count
        self.workers = workers
        self.folder = Path(tempfile.mkdtemp(prefix="xlr-bench-cluster-"))
        self.hosts: list[subprocess.Popen[bytes]] = []
        self.watcher: Any = None

    def __enter__(self) -> _Cluster:
        from xlr_runtime.runtime import Runtime
        from xlr_runtime.secrets import KEY_FILE
        from xlr_runtime.settings import load

        try:
            url = self.server.new_store_url() if self.server else ""
            homes = [_home(self.folder / f"h{n}", url, self.workers) for n in range(self.count)]
            with Runtime(homes[0], plugin_paths=[BENCH_PLUGIN], settings=load(homes[0].root)) as runtime:
                runtime.engine.secrets.seal_bytes(b"")  # makes the key the other homes share
            watcher = homes[0]
            if self.server:
                watcher = _home(self.folder / "watcher", url.replace(f"{ROLE}@", f"{WATCHER}@", 1), self.workers)
            for home in {*homes[1:], watcher} - {homes[0]}:
                shutil.copy2(homes[0].root / KEY_FILE, home.root / KEY_FILE)
            for home in homes:  # those started are stopped below even when the next one fails to start
                self.hosts.append(_serve(home))
            self.watcher = Runtime(watcher, plugin_paths=[BENCH_PLUGIN], settings=load(watcher.root))
        except BaseException:
            self.__exit__()
            raise
        return self

    def stop(self, timeout: float = 60) -> dict[int, float]:
        """Stop every host gracefully (closing its standard input) and return the starts of the script runs they
        ran, by run id."""
        for process in self.hosts:
            assert process.stdin is not None
            process.stdin.close()
        starts: dict[int, float] = {}
        for process, number in zip(self.hosts, range(self.count), strict=True):
            process.wait(timeout=timeout)
            recorded = json.loads((self.folder / f"h{number}" / STARTS_FILE).read_text(encoding="utf-8"))
            starts |= {int(run_id): at for run_id, at in recorded.items()}
        return starts

    def __exit__(self, *exc_info: object) -> None:
        if self.watcher is not None:
            self.watcher.close()
        for process in self.hosts:
            _kill_group(process.pid)  # the host and its workers: nothing of it is measured after
            process.wait(timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


def _kill_group(pid: int) -> None:
    """Kill the process group of ``pid`` (a host and its workers), if any of it is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _home(root: Path, url: str, workers: int) -> Any:
    from xlr_runtime.home import Home

    home = Home(root).ensure()
    home.config_file.write_text(f'[settings]\n"store.url" = "{url}"\n"workers.size" = {workers}\n')
    return home


def serve_host(root: Path) -> None:
    """One host: the runtime of the home at ``root`` serving as ``xlr serve`` does (``Runtime.serve``: scheduler,
    lease renewals, ``LISTEN``), with the schedule's minimum interval lowered to 0 as every benchmark case has it
    (``xlr serve`` keeps it at 1 s or more, which would make W1 wait a second between steps), no HTTP API. Its
    worker pool records when each script run started (:class:`~benchmarks.cases.TimedExecutor`); when standard
    input closes it stops gracefully and writes those times to :data:`STARTS_FILE` in the home."""
    from xlr_runtime.home import Home
    from xlr_runtime.runtime import Runtime, freeze_start_up_heap
    from xlr_runtime.scripting.pool import WorkerPool
    from xlr_runtime.settings import load

    def ready() -> None:  # as xlr serve's
        print("Serving ", flush=True)
        freeze_start_up_heap()

    overrides = {"schedule.min_interval": 0.0, "schedule.default_interval": 0.0, "http.listen": "off"}
    settings = load(root, overrides)
    timed = TimedExecutor(WorkerPool.from_settings(settings))
    with Runtime(Home(root), plugin_paths=[BENCH_PLUGIN], settings=settings, executor=timed) as runtime:
        threading.Thread(target=lambda: (sys.stdin.read(), runtime.request_stop()), daemon=True).start()
        runtime.serve(on_ready=ready)
    timed.shutdown(wait=True)
    (root / STARTS_FILE).write_text(json.dumps(timed.started), encoding="utf-8")


def _serve(home: Any, timeout: float = 60) -> subprocess.Popen[bytes]:
    """A host (:func:`serve_host`) of ``home`` in a process of its own, once it says it serves."""
    log = home.root / "serve.log"
    command = [sys.executable, "-m", "benchmarks.bench_cluster", "--host", str(home.root)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=out, stderr=out, cwd=ROOT, start_new_session=True
        )
    deadline = time.monotonic() + timeout
    while "Serving " not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            _kill_group(process.pid)
            raise SystemExit(f"xlr serve of {home.root} did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.05)
    return process


def print_table(report: dict[str, Any]) -> None:
    """The report as tables (or the reason it was skipped)."""
    if report["skipped"]:
        print(f"Cluster: skipped ({report['skipped']})")
        return
    if report["rows"]:
        header = f"{'Chain on several hosts':<44} {'steps':>7} {'steps/s':>9} {'statements/step':>15}"
        print(header)
        print("-" * len(header))
        for row in report["rows"]:
            statements = row.get("statements_per_step", "-")
            print(f"{row['name']:<44} {row['steps']:>7} {row['steps_per_s']:>9.0f} {statements:>15}")
        for name, value in report["ratios"].items():
            print(f"{name}: {value}x")
    for case, title in (("poll", "Poll lateness on several hosts"), ("wake", "Creation to start, one host")):
        if case in report:
            _print_lateness(title, report[case])


def _print_lateness(title: str, case: dict[str, Any]) -> None:
    header = f"\n{title:<44} {'runs':>7} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9}"
    print(header)
    print("-" * (len(header) - 1))
    for row in case["rows"]:
        late = [row[f"lateness_{p}_ms"] for p in PERCENTILES]
        print(f"{row['name']:<44} {row['timed']:>7} " + " ".join(f"{value:>9.1f}" for value in late))
    for name, value in case["ratios"].items():
        print(f"{name}: {value}x")


def main(argv: list[str] | None = None) -> None:
    parser = suite_parser(
        "benchmarks.bench_cluster",
        __doc__,
        quick_help="a tenth of the tasks, 5 runs each",
        workers=2,
        workers_help="worker processes of each host (and of SQLite's run)",
    )
    parser.add_argument(
        "--only", choices=CASES, action="append", help="run only this case (repeat for several; default: all)"
    )
    parser.add_argument("--host", type=Path, help=argparse.SUPPRESS)  # one host of a run (serve_host)
    args = parser.parse_args(argv)
    if args.host:
        serve_host(args.host)
        return
    report = measure(quick=args.quick, workers=args.workers, only=tuple(args.only or CASES))
    print_report(report, print_table, as_json=args.json)


if __name__ == "__main__":
    main()
