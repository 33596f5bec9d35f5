"""Start-up benchmark: ``python -m benchmarks.bench_startup [--quick] [--json] [--rounds N]``.

Measures, each command in a fresh interpreter, interleaved over the rounds so that every case sees the same load:

* ``python -c pass``: the floor every other row is divided by (a ratio survives a shared machine's noise);
* ``xlr --version``, ``xlr --help``, ``xlr tasks`` on a small home (20 tasks);
* ``xlr tasks`` on a large home (1,000,000 tasks; 10,000 with ``--quick``; ``--large-tasks N``);
* ``worker start``: a :class:`~xlr_runtime.scripting.pool.WorkerPool` of one worker from creation to its first
  result (interpreter start, script API import, plugin globals).

Homes are built by :mod:`benchmarks.homes` and kept under the temporary folder. Prints a table, or with ``--json``
one JSON object (what ``python -m benchmarks`` collects). Every row but the worker's has the process's peak RSS.

To measure other code with the same cases (an older commit), put a copy of this ``benchmarks`` folder and that
checkout on ``PYTHONPATH`` and run it from a folder holding neither (see ``docs/running-tasks.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks.homes import task_home

#: Code run first in every measured interpreter: at exit it prints its peak RSS in kB to stderr, read from its own
#: ``VmHWM`` (``ru_maxrss`` would count the benchmark's memory too: a child's includes what its parent had at fork;
#: it is the fallback where there is no ``/proc``, as on macOS, which counts it in bytes).
PEAK = """import atexit, sys
def _peak():
    try:
        kb = next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:'))
    except OSError:
        import resource
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if sys.platform == 'darwin' else 1)
    sys.stderr.write(f'peak-rss-kb {kb}\\n')
atexit.register(_peak)
"""
#: ``python -c pass``, and the ``xlr`` command line as its console script runs it, each with :data:`PEAK`.
PYTHON_PASS = (sys.executable, "-c", PEAK + "pass")
XLR = (sys.executable, "-c", PEAK + "from xlr_runtime.cli import main; sys.exit(main())")
SMALL_HOME = 20
LARGE_HOME = 1_000_000
QUICK_LARGE_HOME = 10_000
WORKER_SOURCE = "count = 1\n"


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float | None]:
    """Run ``command``; return its wall time in seconds and its peak RSS in MB (``None`` where ``/proc`` is not)."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[3:]) or command[0]} failed ({done.returncode}):\n{done.stderr}")
    peaks = [line.split()[1] for line in done.stderr.splitlines() if line.startswith("peak-rss-kb ")]
    return seconds, int(peaks[-1]) / 1024 if peaks else None


def worker_start() -> float:
    """Seconds from creating a one-worker pool to the first result of a trivial script."""
    from xlr_runtime.scripting.build import prop, script_request
    from xlr_runtime.scripting.pool import WorkerPool

    request = script_request(WORKER_SOURCE, properties=[prop("count", "integer", "output")])
    started = time.perf_counter()
    with WorkerPool(1) as pool:
        pool.run_sync(request)
        return time.perf_counter() - started


def cases(*, quick: bool, large_tasks: int | None = None) -> list[tuple[str, Callable[[], tuple[float, float | None]]]]:
    """The named measurements, each returning (seconds, peak RSS in MB or None)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XLR_")}
    small = {**env, "XLR_HOME": str(task_home(SMALL_HOME))}
    large_count = large_tasks or (QUICK_LARGE_HOME if quick else LARGE_HOME)
    large = {**env, "XLR_HOME": str(task_home(large_count))}
    return [
        ("python -c pass", lambda: timed([*PYTHON_PASS], env)),
        ("xlr --version", lambda: timed([*XLR, "--version"], small)),
        ("xlr --help", lambda: timed([*XLR, "--help"], small)),
        (f"xlr tasks ({SMALL_HOME} tasks)", lambda: timed([*XLR, "tasks"], small)),
        (f"xlr tasks ({large_count:,} tasks)", lambda: timed([*XLR, "tasks"], large)),
        ("worker start (first run of a pool)", lambda: (worker_start(), None)),
    ]


def measure(*, quick: bool = False, rounds: int | None = None, large_tasks: int | None = None) -> dict[str, Any]:
    """Every measurement, as the JSON object ``--json`` prints."""
    plan = cases(quick=quick, large_tasks=large_tasks)
    samples: dict[str, list[tuple[float, float | None]]] = {name: [] for name, _ in plan}
    for _ in range(rounds or (3 if quick else 10)):
        for name, case in plan:
            samples[name].append(case())
    floor = statistics.median(seconds for seconds, _ in samples["python -c pass"])
    rows = []
    for name, found in samples.items():
        median = statistics.median(seconds for seconds, _ in found)
        peaks = [peak for _, peak in found if peak is not None]
        rows.append(
            {
                "name": name,
                "runs": len(found),
                "median_ms": round(median * 1000, 1),
                "min_ms": round(min(seconds for seconds, _ in found) * 1000, 1),
                "ratio_to_python": round(median / floor, 1),
                "peak_rss_mb": round(max(peaks), 1) if peaks else None,
            }
        )
    return {"rows": rows, "load_average": os.getloadavg()[0]}


def print_table(report: dict[str, Any]) -> None:
    """The report as a table."""
    header = f"{'start-up':<40} {'runs':>5} {'median':>10} {'min':>10} {'x python':>9} {'peak RSS':>10}"
    print(header)
    print("-" * len(header))
    for row in report["rows"]:
        rss = f"{row['peak_rss_mb']:>8.1f}MB" if row["peak_rss_mb"] is not None else f"{'-':>10}"
        print(
            f"{row['name']:<40} {row['runs']:>5} {row['median_ms']:>8.1f}ms {row['min_ms']:>8.1f}ms "
            f"{row['ratio_to_python']:>8.1f}x {rss}"
        )
    print(f"load average at the end: {report['load_average']:.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_startup", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 rounds and a home of 10,000 tasks")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of every case (default 10; 3 with --quick)")
    parser.add_argument(
        "--large-tasks", type=int, default=None, help="tasks of the large home (default 1,000,000; 10,000 with --quick)"
    )
    parser.add_argument("--workers", type=int, default=None, help="ignored (every suite is given it)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    report = measure(quick=args.quick, rounds=args.rounds, large_tasks=args.large_tasks)
    if args.json:
        print(json.dumps(report))
    else:
        print_table(report)


if __name__ == "__main__":
    main()
