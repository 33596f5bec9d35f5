"""``python -m benchmarks [--quick] [--workers N] [--results DIR]``: every benchmark case, each in its own
process, as a table.

Writes the table's data to ``benchmarks/results/<UTC time>.json`` (and ``latest.json``; ``--results`` names
another folder). ``--rounds N`` runs the
whole plan N times, one case after the other, and shows each entry's median round (every round is in the JSON,
with the load average when it ran): on a shared machine, compare ratios within a round, not runs across time.
Cases and what they measure are described in :mod:`benchmarks.cases` and ``docs/running-tasks.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.targets import print_verdicts, verdicts

RESULTS = Path(__file__).parent / "results"

#: (label, case, tasks, steps per task) at full size; --quick runs a tenth of the tasks and at most 5 steps.
PLAN = (
    ("chain: {tasks} tasks x {steps} runs", "xlr-chain", 1000, 10),
    ("chain: with 10 HTTP dashboard clients", "xlr-chain-http", 1000, 10),
    ("chain: huey SqliteHuey", "huey-chain", 1000, 10),
    ("chain: raw sqlite3 claim/complete", "raw-chain", 1000, 10),
    ("chain: bare loop, 2 transactions a step", "raw-step", 1000, 10),
    ("poll: {tasks} tasks every 1 s", "xlr-poll", 1000, 10),
    ("poll: with 10 HTTP dashboard clients", "xlr-poll-http", 1000, 10),
    ("poll: huey SqliteHuey", "huey-poll", 1000, 10),
    ("poll: {tasks} tasks every 1 s", "xlr-poll", 500, 10),
    ("burst: {tasks} tasks at once, {steps} polls", "xlr-burst", 1000, 6),
    ("burst: huey SqliteHuey", "huey-burst", 1000, 6),
)

#: Other benchmark modules, one line each. Each is run as ``python -m MODULE --json [--quick] --workers N`` in its
#: own process, prints one JSON object, and provides ``print_table(report)``; its report goes under "suites".
SUITES = ("benchmarks.bench_pool", "benchmarks.bench_startup", "benchmarks.bench_store", "benchmarks.bench_postgres")


def run(case: str, tasks: int, steps: int, workers: int) -> dict[str, Any]:
    """Run one case in a fresh interpreter (so peak memory is its own) and return its JSON."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.cases",
        case,
        "--tasks",
        str(tasks),
        "--steps",
        str(steps),
        "--workers",
        str(workers),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=Path(__file__).parent.parent)
    if done.returncode != 0:
        raise SystemExit(f"{case} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of the tasks (a smoke run, ~30 s)")
    parser.add_argument("--workers", type=int, default=4, help="worker processes / huey worker threads")
    parser.add_argument(
        "--rounds", type=int, default=1, help="run the whole plan N times, interleaved (for a noisy machine)"
    )
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help=f"folder the JSON report is written to (default {RESULTS})"
    )
    args = parser.parse_args(argv)
    rounds: list[list[dict[str, Any]]] = []
    for number in range(args.rounds):
        rows = []
        for label, case, tasks, steps in PLAN:
            size = max(10, tasks // 10) if args.quick else tasks
            steps = min(steps, 5) if args.quick else steps
            result = run(case, size, steps, args.workers)
            name = label.format(tasks=size, steps=steps)
            rows.append({"name": name, "round": number + 1, "load_average": os.getloadavg()[0], **result})
            print(f"  round {number + 1} {name}: {result['steps_per_s']} steps/s", file=sys.stderr)
        rounds.append(rows)
    rows = _median_rows(rounds)
    ratios = _ratios(rows)
    round_ratios = [_ratios(r) for r in rounds]
    _print_table(rows, ratios)
    if args.rounds > 1:
        print("ratios per round:", "; ".join(", ".join(f"{v}x" for v in r.values()) for r in round_ratios))
    suites = _run_suites(args.quick, args.workers)
    found = verdicts(rows, suites)
    print()
    print_verdicts(found)
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    report = {
        "when": stamp,
        "quick": args.quick,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "rows": rows,
        "ratios": ratios,
        "rounds": rounds,
        "ratios_per_round": round_ratios,
        "suites": suites,
        "targets": found,
    }
    for path in (args.results / f"{stamp}.json", args.results / "latest.json"):
        path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.results / (stamp + '.json')}")


def _run_suites(quick: bool, workers: int) -> dict[str, Any]:
    """Run every module of :data:`SUITES` in its own process, print its table, and return its reports."""
    import importlib

    reports: dict[str, Any] = {}
    for module in SUITES:
        command = [sys.executable, "-m", module, "--json", "--workers", str(workers), *(["--quick"] if quick else [])]
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=Path(__file__).parent.parent)
        if done.returncode != 0:
            raise SystemExit(f"{module} failed:\n{done.stderr}")
        reports[module] = json.loads(done.stdout.strip().splitlines()[-1])
        print()
        importlib.import_module(module).print_table(reports[module])
    return reports


def _median_rows(rounds: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """For each entry of the plan, the round with the median steps/s (all rounds when there is one)."""
    medians = []
    for entries in zip(*rounds, strict=True):
        ordered = sorted(entries, key=lambda row: row["steps_per_s"])
        medians.append(ordered[(len(ordered) - 1) // 2])
    return medians


def _ratios(rows: list[dict[str, Any]]) -> dict[str, float]:
    by_case: dict[str, dict[str, Any]] = {}
    for row in rows:
        by_case.setdefault(row["case"], row)  # the first row of a case is the comparable one

    def ratio(a: str, b: str) -> float:
        return round(by_case[a]["steps_per_s"] / by_case[b]["steps_per_s"], 2) if by_case[b]["steps_per_s"] else 0.0

    def lateness(a: str, b: str) -> float:
        return round(by_case[a]["lateness_p99_ms"] / max(by_case[b]["lateness_p99_ms"], 0.01), 2)

    return {
        "chain steps/s, xlr / huey": ratio("xlr-chain", "huey-chain"),
        "chain steps/s, xlr / raw sqlite3 (64 a transaction)": ratio("xlr-chain", "raw-chain"),
        "chain steps/s, xlr / bare 2-transaction loop": ratio("xlr-chain", "raw-step"),
        **_http_ratios(by_case["xlr-chain-http"]),
        "poll p99 lateness, with 10 HTTP followers / without": round(
            by_case["xlr-poll-http"]["lateness_p99_ms"]
            / max(by_case["xlr-poll-http"]["lateness_p99_ms_without"], 0.01),
            2,
        ),
        "chain CPU per step (all processes), huey / xlr": round(
            by_case["huey-chain"]["cpu_us_per_step"] / max(_total_cpu(by_case["xlr-chain"]), 0.01), 2
        ),
        "poll p99 lateness, huey / xlr": lateness("huey-poll", "xlr-poll"),
        "burst p99 lateness, huey / xlr": lateness("huey-burst", "xlr-burst"),
    }


def _http_ratios(row: dict[str, Any]) -> dict[str, float]:
    """What 10 live-log followers cost the chain, measured in the same process (median, min and max of its rounds)
    and the lateness p99 with them over without them."""
    return {
        "chain steps/s, with 10 HTTP followers / without (median of rounds)": row["http_ratio_median"],
        "chain steps/s, with 10 HTTP followers / without (min of rounds)": row["http_ratio_min"],
        "chain steps/s, with 10 HTTP followers / without (max of rounds)": row["http_ratio_max"],
        "chain p99 lateness, with 10 HTTP followers / without": round(
            row["lateness_p99_ms"] / max(row["lateness_p99_ms_without"], 0.01), 2
        ),
    }


def _total_cpu(row: dict[str, Any]) -> float:
    """CPU microseconds per step of the case's process and its worker processes."""
    return float(row["cpu_us_per_step"]) + float(row.get("worker_cpu_us_per_step", 0.0))


def _print_table(rows: list[dict[str, Any]], ratios: dict[str, float]) -> None:
    header = (
        f"{'benchmark':<38} {'steps':>7} {'steps/s':>9} {'late p50':>9} {'late p99':>9} {'RSS MB':>7} "
        f"{'CPU us/step':>11} {'+workers':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['name']:<38} {row['steps']:>7} {row['steps_per_s']:>9.0f} {row['lateness_p50_ms']:>7.1f}ms "
            f"{row['lateness_p99_ms']:>7.1f}ms {row['peak_rss_mb']:>7.1f} {row['cpu_us_per_step']:>11.0f} "
            f"{row.get('worker_cpu_us_per_step', 0):>9.0f}"
        )
    print()
    for name, value in ratios.items():
        print(f"{name}: {value}x")


if __name__ == "__main__":
    main()
