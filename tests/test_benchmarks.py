"""``python -m benchmarks --quick`` still runs end to end (every case in its own process) and writes its report.

The quick run takes about 30 s on 2 cores (the poll cases wait for real 1-second intervals), so it is marked slow.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.targets import TARGETS, verdicts
from tests.postgres_helpers import require_postgres

ROOT = Path(__file__).parent.parent


def benchmarks(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "benchmarks", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)


def test_the_report_folder_can_be_chosen() -> None:
    done = benchmarks("--help", timeout=30)
    assert done.returncode == 0, done.stderr
    assert "--results RESULTS" in done.stdout and "folder the JSON report is written to" in done.stdout


def test_each_target_is_judged_from_the_same_run_and_says_so_when_the_run_lacks_its_figure() -> None:
    rows = [
        {"case": "xlr-chain", "steps_per_s": 9000.0, "lateness_p99_ms": 200.0},
        {"case": "huey-chain", "steps_per_s": 1000.0, "lateness_p99_ms": 900.0},
        {"case": "raw-step", "steps_per_s": 10000.0, "lateness_p99_ms": 100.0},
        {"case": "xlr-poll", "steps_per_s": 1000.0, "lateness_p99_ms": 10.0},
        {"case": "xlr-poll", "steps_per_s": 500.0, "lateness_p99_ms": 99.0},  # the 500-task row: not the target's
    ]
    store_rows = [{"median_ms": 30.0, "min_ms": 20.0}, {"median_ms": 60.0, "min_ms": 26.0}]  # medians 2x, fastest 1.3x
    suites = {"benchmarks.bench_store": {"rows": store_rows}}
    found = {v["name"]: (v["measured"], v["met"]) for v in verdicts(rows, suites)}
    assert found == {
        "W1 chain steps/s, xlr / huey": (9.0, True),
        "W1 chain steps/s, xlr / bare 2-transaction loop": (0.9, False),
        "W2a poll 1,000 tasks staggered: lateness p99": (10.0, True),  # a bound is met when reached
        "W2b burst 1,000 tasks at once: lateness p99": (None, None),
        "store: claim + complete, most / fewest pending (fastest)": (1.3, False),
        "xlr serve worker RSS at most": (None, None),
    }


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_quick_benchmark_runs_and_writes_its_report(tmp_path: Path) -> None:
    done = benchmarks("--quick", "--workers", "2", "--results", str(tmp_path), timeout=280)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    assert report["quick"] is True
    assert [row["name"] for row in report["rows"]] == [
        "chain: 100 tasks x 5 runs",
        "chain: with 10 HTTP dashboard clients",
        "chain: huey SqliteHuey",
        "chain: raw sqlite3 claim/complete",
        "chain: bare loop, 2 transactions a step",
        "poll: 100 tasks every 1 s",
        "poll: with 10 HTTP dashboard clients",
        "poll: huey SqliteHuey",
        "poll: 50 tasks every 1 s",
        "burst: 100 tasks at once, 5 polls",
        "burst: huey SqliteHuey",
    ]
    assert all(row["steps"] > 0 and row["steps_per_s"] > 0 for row in report["rows"]), report["rows"]
    assert list(report["suites"]) == [
        "benchmarks.bench_pool",
        "benchmarks.bench_startup",
        "benchmarks.bench_store",
        "benchmarks.bench_postgres",
    ]
    store = report["suites"]["benchmarks.bench_store"]
    assert [row["pending"] for row in store["rows"]] == [1_000, 10_000]
    assert all(row["median_ms"] > 0 for row in store["rows"]), store["rows"]
    assert store["serve"]["pending"] == 10_000 and len(store["serve"]["worker_rss_mb"]) == 2, store["serve"]
    postgres = report["suites"]["benchmarks.bench_postgres"]
    assert postgres["skipped"] or [row["steps"] for row in postgres["rows"]] == [500, 500], postgres
    startup = {row["name"]: row for row in report["suites"]["benchmarks.bench_startup"]["rows"]}
    assert list(startup) == [
        "python -c pass",
        "xlr --version",
        "xlr --help",
        "xlr tasks (20 tasks)",
        "xlr tasks (10,000 tasks)",
        "worker start (first run of a pool)",
    ]
    assert all(row["runs"] == 3 and row["median_ms"] > 0 for row in startup.values()), startup
    assert [target["name"] for target in report["targets"]] == [target.name for target in TARGETS]
    assert all(isinstance(t["measured"], float | int) and isinstance(t["met"], bool) for t in report["targets"])
    assert "target (issue 18)" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"{report['when']}.json", "latest.json"])
    assert f"written to {tmp_path / (report['when'] + '.json')}" in done.stdout


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_cluster_benchmark_runs_sqlite_and_one_to_three_hosts_in_one_run() -> None:
    require_postgres()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_cluster", "--quick", "--only", "chain", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=280, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["skipped"] is None, report
    assert "poll" not in report and "wake" not in report, report
    assert [(row["hosts"], row["steps"]) for row in report["rows"]] == [(1, 500), (1, 500), (2, 500), (3, 500)]
    assert all(row["steps_per_s"] > 0 for row in report["rows"]), report["rows"]
    assert all(row["statements_per_step"] > 0 for row in report["rows"][1:]), report["rows"]
    assert list(report["ratios"]) == [f"PostgreSQL, {n} host(s) / SQLite" for n in (1, 2, 3)]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_cluster_benchmark_measures_lateness_on_sqlite_and_one_to_three_hosts_in_one_run() -> None:
    require_postgres()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_cluster", "--quick", "--only", "poll", "--only", "wake", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=280, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["skipped"] is None and report["rows"] == [], report
    poll, wake = report["poll"], report["wake"]
    # 100 tasks x (a start-up run and 5 polls); the first two runs of each (start-up, stagger) are not timed
    counts = ("hosts", "runs", "timed", "failed", "early_starts")
    assert [tuple(row[key] for key in counts) for row in poll["rows"]] == [
        (1, 600, 400, 0, 0), (1, 600, 400, 0, 0), (2, 600, 400, 0, 0), (3, 600, 400, 0, 0)
    ], poll["rows"]  # fmt: skip
    assert [tuple(row[key] for key in counts) for row in wake["rows"]] == [
        (1, 20, 20, 0, 0), (1, 20, 20, 0, 0)
    ], wake["rows"]  # fmt: skip
    for row in poll["rows"] + wake["rows"]:
        assert 0 <= row["lateness_p50_ms"] <= row["lateness_p95_ms"] <= row["lateness_p99_ms"], row
    assert list(poll["ratios"]) == [
        f"PostgreSQL, {n} host(s) / SQLite, {p}" for n in (1, 2, 3) for p in ("p50", "p95", "p99")
    ]
    assert list(wake["ratios"]) == [f"PostgreSQL, created on another home / SQLite, {p}" for p in ("p50", "p95", "p99")]
    assert all(value > 0 for value in [*poll["ratios"].values(), *wake["ratios"].values()]), report
