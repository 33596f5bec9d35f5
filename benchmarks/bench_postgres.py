"""W1 on PostgreSQL beside SQLite: ``python -m benchmarks.bench_postgres [--quick] [--workers N] [--json]``.

Runs the chain case (``xlr-chain`` of :mod:`benchmarks.cases`: 1,000 tasks of 10 script runs, each due at once
after the last; a tenth of the tasks and 5 runs with ``--quick``) on the temporary home's SQLite file, then on a
throw-away PostgreSQL server on 127.0.0.1 started as the tests start one (tests/postgres_helpers.py: fsync off,
one schema), each in its own process, and reports both and their ratio. Without PostgreSQL's server binaries the
case is skipped with one reason (the report's ``skipped``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.suite import print_report, suite_parser
from tests.postgres_helpers import missing_reason, start_postgres

ROOT = Path(__file__).parent.parent


def _chain(tasks: int, steps: int, workers: int, store_url: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.cases", "xlr-chain", "--tasks", str(tasks), "--steps", str(steps)]
    command += ["--workers", str(workers), "--store", store_url]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"xlr-chain on {store_url or 'SQLite'} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(*, quick: bool, workers: int) -> dict[str, Any]:
    """Both runs and the ratio, as the JSON object ``--json`` prints (``skipped`` says why there are none)."""
    tasks, steps = (100, 5) if quick else (1000, 10)
    reason = missing_reason()
    if reason is not None:
        return {"skipped": reason, "rows": [], "ratios": {}}
    sqlite = _chain(tasks, steps, workers, "")
    with start_postgres() as server:
        postgresql = _chain(tasks, steps, workers, server.new_store_url())
    rows = [
        {"name": f"chain on SQLite: {tasks} tasks x {steps} runs", **sqlite},
        {"name": f"chain on PostgreSQL: {tasks} tasks x {steps} runs", **postgresql},
    ]
    ratio = round(postgresql["steps_per_s"] / sqlite["steps_per_s"], 2) if sqlite["steps_per_s"] else 0.0
    return {"skipped": None, "rows": rows, "ratios": {"chain steps/s, PostgreSQL / SQLite": ratio}}


def print_table(report: dict[str, Any]) -> None:
    """The report as a table (or the reason it was skipped)."""
    if report["skipped"]:
        print(f"PostgreSQL store: skipped ({report['skipped']})")
        return
    header = f"{'PostgreSQL store':<44} {'steps':>7} {'steps/s':>9} {'late p99':>9} {'CPU us/step':>11}"
    print(header)
    print("-" * len(header))
    for row in report["rows"]:
        print(
            f"{row['name']:<44} {row['steps']:>7} {row['steps_per_s']:>9.0f} {row['lateness_p99_ms']:>7.1f}ms "
            f"{row['cpu_us_per_step']:>11.0f}"
        )
    for name, value in report["ratios"].items():
        print(f"{name}: {value}x")


def main(argv: list[str] | None = None) -> None:
    parser = suite_parser(
        "benchmarks.bench_postgres",
        __doc__,
        quick_help="a tenth of the tasks, 5 runs each",
        workers=4,
        workers_help="worker processes",
    )
    args = parser.parse_args(argv)
    report = measure(quick=args.quick, workers=args.workers)
    print_report(report, print_table, as_json=args.json)


if __name__ == "__main__":
    main()
