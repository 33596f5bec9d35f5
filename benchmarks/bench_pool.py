"""Micro-benchmark of script execution: ``python -m benchmarks.bench_pool [--quick] [--workers N] [--json]``.

Measures, in one process and one run, for a trivial script (``count = 1``, one input, one output):

* ``exec``: ``exec`` of the compiled script in a fresh dict (the floor);
* ``run_script``: one full in-process script run (namespace, task API, masking, log capture, read-back);
* ``pool round trip``: ``WorkerPool.run_sync`` on a started worker (pickling, pipes, the worker's run_script);
* ``pool throughput``: runs/s with ``--workers`` workers kept busy by many submitted runs;
* ``worker start``: the first run of a fresh pool (interpreter start and API import included).

Prints a table, or with ``--json`` one JSON object (what ``python -m benchmarks`` collects).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from benchmarks.suite import print_report, suite_parser
from xlr_runtime.scripting.build import prop, script_request
from xlr_runtime.scripting.contract import ScriptRunRequest
from xlr_runtime.scripting.execution import compile_script, run_script
from xlr_runtime.scripting.pool import WorkerPool

SOURCE = "count = 1\n"


def _request(run_id: int = 1) -> ScriptRunRequest:
    return script_request(
        SOURCE, run_id=run_id, properties=[prop("name"), prop("count", "integer", "output")], values={"name": "bench"}
    )


def _timings(action: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def _row(name: str, samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    median = statistics.median(ordered)
    return {
        "name": name,
        "runs": len(samples),
        "median_us": round(median * 1e6, 2),
        "p99_us": round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1e6, 2),
        "runs_per_s": round(1 / median, 1) if median else 0.0,
    }


def measure(*, quick: bool = False, workers: int = 4) -> dict[str, Any]:
    """Every measurement, as the JSON object ``--json`` prints."""
    repeat = 300 if quick else 3000
    request = _request()
    code = compile_script(request)
    rows = [
        _row("exec (in-process floor)", _timings(lambda: exec(code, {"name": "bench", "count": None}), repeat)),
        _row("run_script (in-process, full API)", _timings(lambda: run_script(request), repeat)),
    ]
    with WorkerPool(1) as pool:
        start = _timings(lambda: pool.run_sync(request), 1)
        pool.run_sync(request)
        rows.append(_row("pool round trip (1 started worker)", _timings(lambda: pool.run_sync(request), repeat)))
    rows.append(_row("worker start (first run of a pool)", start))
    rows.append(_throughput(workers, repeat * 2))
    by_name = {row["name"].split(" (")[0]: row for row in rows}
    ratios = {
        "pool round trip / exec": round(by_name["pool round trip"]["median_us"] / by_name["exec"]["median_us"], 1),
        "pool round trip / run_script": round(
            by_name["pool round trip"]["median_us"] / by_name["run_script"]["median_us"], 1
        ),
    }
    return {"rows": rows, "ratios": ratios}


def _throughput(workers: int, runs: int) -> dict[str, Any]:
    with WorkerPool(workers) as pool:
        for future in [pool.submit(_request(i)) for i in range(workers * 4)]:  # start every worker
            future.result()
        started = time.perf_counter()
        futures = [pool.submit(_request(i)) for i in range(runs)]
        for future in futures:
            future.result()
        seconds = time.perf_counter() - started
    return {
        "name": f"pool throughput ({workers} workers)",
        "runs": runs,
        "median_us": round(seconds / runs * 1e6, 2),
        "p99_us": None,
        "runs_per_s": round(runs / seconds, 1),
    }


def print_table(report: dict[str, Any]) -> None:
    """The report as a table."""
    header = f"{'script execution':<40} {'runs':>6} {'median':>11} {'p99':>11} {'runs/s':>10}"
    print(header)
    print("-" * len(header))
    for row in report["rows"]:
        p99 = f"{row['p99_us']:>9.1f}us" if row["p99_us"] is not None else f"{'-':>11}"
        print(f"{row['name']:<40} {row['runs']:>6} {row['median_us']:>9.1f}us {p99} {row['runs_per_s']:>10.0f}")
    for name, value in report["ratios"].items():
        print(f"{name}: {value}x")


def main(argv: list[str] | None = None) -> None:
    parser = suite_parser(
        "benchmarks.bench_pool",
        __doc__,
        quick_help="a tenth of the runs",
        workers=4,
        workers_help="workers of the throughput pool",
    )
    args = parser.parse_args(argv)
    report = measure(quick=args.quick, workers=args.workers)
    print_report(report, print_table, as_json=args.json)


if __name__ == "__main__":
    main()
