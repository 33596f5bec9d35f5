"""W1 on several hosts: ``python -m benchmarks.bench_cluster [--quick] [--workers N] [--json]``.

Runs the chain workload (1,000 ``bench.Chain`` tasks of 10 script runs, each due at once after the last; a tenth of
the tasks and 5 runs with ``--quick``) on one host with the home's SQLite file, then with 1, 2 and 3 hosts on this
machine on one throw-away PostgreSQL server on 127.0.0.1 (tests/postgres_helpers.py: fsync off), a new schema per
run. A host is a process serving a home of its own as ``xlr serve`` does (``Runtime.serve``: scheduler, lease
renewals, ``LISTEN``; ``--workers`` workers each, a copied ``secret.key``), with the minimum interval lowered to 0 as
in every chain case. Each run is timed from the commit creating its tasks (its ``NOTIFY`` wakes every host) to the
last task's end.

Reports steps per second, their ratio to SQLite's, and what a step costs the database, counted by the server's
``pg_stat_statements`` (loaded for the run) over the hosts' role only (the tasks are created, and their end
watched, as another role): statements per step, each a round trip (except the rows of one ``executemany``, which
psycopg sends in one pipeline).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.cases import BENCH_PLUGIN
from benchmarks.suite import print_report, suite_parser
from tests.postgres_helpers import ROLE, PostgresServer, missing_reason, start_postgres

#: The role that creates the tasks and watches them end, so its statements are not counted.
WATCHER = "xlr_bench_watcher"
HOSTS = (1, 2, 3)
ROOT = Path(__file__).parent.parent


def measure(*, quick: bool, workers: int) -> dict[str, Any]:
    """SQLite's run, one per number of hosts, and the ratios, as the JSON object ``--json`` prints."""
    tasks, steps = (100, 5) if quick else (1000, 10)
    reason = missing_reason()
    if reason is not None:
        return {"skipped": reason, "rows": [], "ratios": {}}
    sqlite = _cluster(None, 1, tasks, steps, workers)
    rows = [{"name": f"SQLite, 1 host: {tasks} tasks x {steps} runs", **sqlite}]
    with start_postgres() as server:
        _count_statements(server)
        for hosts in HOSTS:
            rows.append({"name": f"PostgreSQL, {hosts} host(s)", **_cluster(server, hosts, tasks, steps, workers)})
    base = sqlite["steps_per_s"]
    ratios = {f"{row['name']} / SQLite": round(row["steps_per_s"] / base, 2) if base else 0.0 for row in rows[1:]}
    return {"skipped": None, "rows": rows, "ratios": ratios}


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


def _cluster(server: PostgresServer | None, hosts: int, tasks: int, steps: int, workers: int) -> dict[str, Any]:
    """Time ``hosts`` servers draining the chain tasks on a new schema of ``server`` (on one home's SQLite file
    without one) and count their statements."""
    from xlr_runtime.runtime import Runtime
    from xlr_runtime.secrets import KEY_FILE
    from xlr_runtime.settings import load

    url = server.new_store_url() if server else ""
    folder = Path(tempfile.mkdtemp(prefix="xlr-bench-cluster-"))
    homes = [_home(folder / f"h{n}", url, workers) for n in range(hosts)]
    with Runtime(homes[0], plugin_paths=[BENCH_PLUGIN], settings=load(homes[0].root)) as runtime:
        runtime.engine.secrets.seal_bytes(b"")  # makes the key the other homes share
    watcher = homes[0]
    if server:
        watcher = _home(folder / "watcher", url.replace(f"{ROLE}@", f"{WATCHER}@", 1), workers)
    for home in {*homes[1:], watcher} - {homes[0]}:
        shutil.copy2(homes[0].root / KEY_FILE, home.root / KEY_FILE)
    servers: list[subprocess.Popen[bytes]] = []
    try:
        for home in homes:  # those started are stopped below even when the next one fails to start
            servers.append(_serve(home))
        with Runtime(watcher, plugin_paths=[BENCH_PLUGIN], settings=load(watcher.root)) as runtime:
            if server:
                _reset_statements(server)
            with runtime.store.atomic():
                ids = [runtime.create_task("bench.Chain", {"steps": steps}).id for _ in range(tasks)]
            started = time.perf_counter()
            while not all(runtime.store.tasks.get(i).status.is_final for i in ids):
                time.sleep(0.05)
            seconds = time.perf_counter() - started
            done = sum(len(runtime.store.tasks.runs(i)) for i in ids)
            counted = _statements(server) if server else {}
    finally:
        for process in servers:
            os.killpg(process.pid, signal.SIGKILL)  # the host and its workers: nothing of it is measured after
            process.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
    row = {"hosts": hosts, "steps": done, "seconds": round(seconds, 2), "steps_per_s": round(done / seconds, 1)}
    return row | {name: round(value / done, 2) for name, value in counted.items()}


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


def _home(root: Path, url: str, workers: int) -> Any:
    from xlr_runtime.home import Home

    home = Home(root).ensure()
    home.config_file.write_text(f'[settings]\n"store.url" = "{url}"\n"workers.size" = {workers}\n')
    return home


def serve_host(root: Path) -> None:
    """One host: the runtime of the home at ``root`` serving as ``xlr serve`` does (``Runtime.serve``: scheduler,
    lease renewals, ``LISTEN``), with the schedule's minimum interval lowered to 0 as every chain case has it
    (``xlr serve`` keeps it at 1 s or more, which would make W1 wait a second between steps), no HTTP API."""
    from xlr_runtime.home import Home
    from xlr_runtime.runtime import Runtime

    overrides = {"schedule.min_interval": 0.0, "schedule.default_interval": 0.0, "http.listen": "off"}
    with Runtime(Home(root), plugin_paths=[BENCH_PLUGIN], overrides=overrides) as runtime:
        runtime.serve(on_ready=lambda: print("Serving ", flush=True))


def _serve(home: Any, timeout: float = 60) -> subprocess.Popen[bytes]:
    """A host (:func:`serve_host`) of ``home`` in a process of its own, once it says it serves."""
    log = home.root / "serve.log"
    command = [sys.executable, "-m", "benchmarks.bench_cluster", "--host", str(home.root)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out, cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + timeout
    while "Serving " not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"xlr serve of {home.root} did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.05)
    return process


def print_table(report: dict[str, Any]) -> None:
    """The report as a table (or the reason it was skipped)."""
    if report["skipped"]:
        print(f"Cluster: skipped ({report['skipped']})")
        return
    header = f"{'Chain on several hosts':<44} {'steps':>7} {'steps/s':>9} {'statements/step':>15}"
    print(header)
    print("-" * len(header))
    for row in report["rows"]:
        statements = row.get("statements_per_step", "-")
        print(f"{row['name']:<44} {row['steps']:>7} {row['steps_per_s']:>9.0f} {statements:>15}")
    for name, value in report["ratios"].items():
        print(f"{name}: {value}x")


def main(argv: list[str] | None = None) -> None:
    parser = suite_parser(
        "benchmarks.bench_cluster",
        __doc__,
        quick_help="a tenth of the tasks, 5 runs each",
        workers=2,
        workers_help="worker processes of each host (and of SQLite's run)",
    )
    parser.add_argument("--host", type=Path, help=argparse.SUPPRESS)  # one host of a run (serve_host)
    args = parser.parse_args(argv)
    if args.host:
        serve_host(args.host)
        return
    report = measure(quick=args.quick, workers=args.workers)
    print_report(report, print_table, as_json=args.json)


if __name__ == "__main__":
    main()
