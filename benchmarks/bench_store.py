"""Scale of the store and memory of ``xlr serve``: ``python -m benchmarks.bench_store [--quick] [--json]``.

Two measurements, each on homes built by :mod:`benchmarks.homes` (the store's own schema, then direct inserts):

* ``claim + complete 1,000 due runs at N pending``: a home holding N ``bench.Chain`` tasks in progress, each with
  a run due in a far future (pending), gets 1,000 more tasks with a run due now; the store then claims them 256 at
  a time (the scheduler's capacity with 8 workers) and completes each claimed batch, every completion adding the
  task's next run as a pending one (``TaskRepository.claim_due`` and ``complete``, as every version has them).
  Timed: the claims and completions. N is 1,000, 100,000 and 1,000,000 (1,000 and 10,000 with ``--quick``);
  each N is measured over several rounds (each with 1,000 new due runs; one more first, not counted, warms the
  page cache up) and the median is shown, with its ratio to the smallest N (flat is 1.0).
* ``RSS of xlr serve at N pending``: ``xlr serve`` (``--workers``, default 4; HTTP off) started on a home of
  100,000 pending runs (10,000 with ``--quick``) and two chain tasks per worker due at once (so every worker starts
  and runs scripts); once they ended, the resident memory (``VmRSS``, and the peak ``VmHWM``) of the server and
  of each worker, from ``/proc``.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.homes import pending_home, plant_due_tasks
from benchmarks.suite import print_report, suite_parser
from xlr_runtime.store import RunCompletion, Store

#: Due runs claimed and completed per measurement.
DUE = 1000
#: Runs claimed in one transaction (the scheduler's capacity with 8 workers: 32 each).
CLAIM_BATCH = 256
#: Rounds per pending size (the median is shown).
ROUNDS = 5
BENCH_PLUGIN = Path(__file__).parent / "plugins" / "bench"


def claim_complete(pending: int, rounds: int) -> dict[str, Any]:
    """Milliseconds to claim and complete :data:`DUE` due runs in a home of ``pending`` pending runs."""
    home = pending_home(pending)
    work = Path(tempfile.mkdtemp(prefix="xlr-bench-store-"))
    try:
        shutil.copy(home / "xlr.db", work / "xlr.db")
        samples = []
        with Store.open(work / "xlr.db") as store:
            for number in range(rounds + 1):  # the first round warms the page cache up, and is not counted
                plant_due_tasks(store, DUE)
                seconds = _claim_and_complete(store)
                if number:
                    samples.append(seconds)
        return {
            "name": f"claim + complete {DUE:,} due runs, {pending:,} pending",
            "pending": pending,
            "rounds": rounds,
            "median_ms": round(statistics.median(samples) * 1000, 1),
            "min_ms": round(min(samples) * 1000, 1),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _claim_and_complete(store: Store) -> float:
    started = time.perf_counter()
    done = 0
    while done < DUE:
        now = time.time()
        runs = store.tasks.claim_due(now, CLAIM_BATCH, owner=store.owner, lease=60)
        if not runs:
            raise SystemExit(f"only {done} of {DUE} due runs were found")
        completions = [
            RunCompletion(
                run_id=run.id,
                outcome="succeeded",
                started_at=now,
                ended_at=now,
                properties={"n": run.seq + 1},
                next_script="bench/Chain.next.py",
                next_due_at=now + 86_400 * 365,  # pending: next year
            )
            for run in runs
        ]
        store.tasks.complete(completions, owner=store.owner)
        done += len(runs)
    return time.perf_counter() - started


def serve_rss(pending: int, workers: int) -> dict[str, Any]:
    """Resident memory of ``xlr serve`` and its workers on a home of ``pending`` pending runs."""
    work = Path(tempfile.mkdtemp(prefix="xlr-bench-serve-"))
    try:
        shutil.copy(pending_home(pending) / "xlr.db", work / "xlr.db")
        shutil.copytree(BENCH_PLUGIN, work / "plugins" / "bench")
        (work / "xlr.toml").write_text(f'[settings]\n"workers.size" = {workers}\n', encoding="utf-8")
        with Store.open(work / "xlr.db") as store:
            ids = plant_due_tasks(store, 2 * workers)
        serve = "from xlr_runtime.cli import main; main()"  # as the xlr script, from this interpreter
        command = [sys.executable, "-c", serve, "serve", "--home", str(work), "--http", "off", "-q"]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_until_ended(work / "xlr.db", ids, server)
            time.sleep(0.5)  # the last results are committed; the server is idle
            children = _children(server.pid)
            report = {
                "name": f"xlr serve, {pending:,} pending, {workers} workers",
                "pending": pending,
                "serve_rss_mb": _memory_mb(server.pid, "VmRSS"),
                "serve_peak_mb": _memory_mb(server.pid, "VmHWM"),
                "worker_rss_mb": [_memory_mb(pid, "VmRSS") for pid in children],
                "worker_peak_mb": [_memory_mb(pid, "VmHWM") for pid in children],
            }
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _wait_until_ended(db: Path, ids: list[int], server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    marks = ",".join("?" * len(ids))
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"xlr serve stopped: {server.stderr.read().decode() if server.stderr else ''}")
        with Store(db) as store:
            left = store.execute(
                f"SELECT COUNT(*) FROM tasks WHERE id IN ({marks}) AND status IN ('planned', 'in_progress')", ids
            ).fetchone()[0]
        if left == 0:
            return
        time.sleep(0.2)
    raise SystemExit("the tasks of xlr serve did not end within 120 s")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for thread in os.listdir(f"/proc/{pid}/task"):
        text = Path(f"/proc/{pid}/task/{thread}/children").read_text(encoding="ascii")
        found += [int(child) for child in text.split()]
    return sorted(found)


def _memory_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def measure(*, quick: bool = False, workers: int = 4) -> dict[str, Any]:
    """Every measurement, as the JSON object ``--json`` prints."""
    sizes = (1_000, 10_000) if quick else (1_000, 100_000, 1_000_000)
    rounds = 3 if quick else ROUNDS
    rows = [claim_complete(size, rounds) for size in sizes]
    for row in rows:
        row["ratio_to_smallest"] = round(row["median_ms"] / max(rows[0]["median_ms"], 0.01), 2)
    serve = serve_rss(10_000 if quick else 100_000, workers)
    return {"rows": rows, "serve": serve}


def print_table(report: dict[str, Any]) -> None:
    """The report as a table."""
    header = f"{'store at scale':<52} {'median':>10} {'min':>10} {'x smallest':>10}"
    print(header)
    print("-" * len(header))
    for row in report["rows"]:
        print(f"{row['name']:<52} {row['median_ms']:>8.1f}ms {row['min_ms']:>8.1f}ms {row['ratio_to_smallest']:>9.2f}x")
    serve = report["serve"]
    workers = ", ".join(f"{rss:.1f}" for rss in serve["worker_rss_mb"])
    print(
        f"{serve['name']}: RSS {serve['serve_rss_mb']:.1f} MB (peak {serve['serve_peak_mb']:.1f}); "
        f"workers {workers} MB (peak {max(serve['worker_peak_mb'], default=0):.1f})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = suite_parser(
        "benchmarks.bench_store",
        __doc__,
        quick_help="10,000 pending runs at most",
        workers=4,
        workers_help="workers of xlr serve",
    )
    args = parser.parse_args(argv)
    report = measure(quick=args.quick, workers=args.workers)
    print_report(report, print_table, as_json=args.json)


if __name__ == "__main__":
    main()
