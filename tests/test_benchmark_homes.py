"""The benchmarks' generated homes are real homes of the current schema (``xlr tasks`` reads them), built once
per size; the start-up benchmark runs end to end on small ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

from benchmarks.homes import STATUSES, task_home
from xlr_runtime.cli import main
from xlr_runtime.store import Store

ROOT = Path(__file__).parent.parent


def test_a_generated_home_is_read_by_xlr_tasks_and_reused(tmp_path: Path) -> None:
    home = task_home(40, cache=tmp_path)
    listed = CliRunner().invoke(main, ["tasks", "--all", "--json", "--home", str(home)])
    assert listed.exit_code == 0, listed.output
    tasks = json.loads(listed.stdout)
    assert [t["id"] for t in tasks] == list(range(40, 0, -1))
    assert Counter(t["status"] for t in tasks) == Counter(STATUSES[n % len(STATUSES)] for n in range(1, 41))
    with Store.open(home / "xlr.db") as store:
        assert store.tasks.get(7).properties["jobName"] == "team/folder/application-build"
        assert store.migrate() == []  # the schema is the current one
    built = (home / "xlr.db").stat().st_mtime_ns
    assert task_home(40, cache=tmp_path) == home
    assert (home / "xlr.db").stat().st_mtime_ns == built


def test_the_start_up_benchmark_runs(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "benchmarks.bench_startup", "--json", "--rounds", "1", "--large-tasks", "100"]
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # its homes are built here, not in the machine's temp folder
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout.splitlines()[-1])["rows"]}
    assert list(rows) == [
        "python -c pass",
        "xlr --version",
        "xlr --help",
        "xlr tasks (20 tasks)",
        "xlr tasks (100 tasks)",
        "worker start (first run of a pool)",
    ]
    assert rows["python -c pass"]["ratio_to_python"] == 1.0
    assert all(row["median_ms"] > 0 for row in rows.values()), rows
    assert all(row["peak_rss_mb"] > 0 for name, row in rows.items() if not name.startswith("worker")), rows
