"""What a harness test costs: ``python -m benchmarks.bench_harness [--tests N] [--polls P] [--json]``.

Runs one pytest session of ``N`` tests, each running a ``bench.Poll`` task of ``P`` polls through ``xlr_harness``
on the virtual clock, twice: with the session's shared worker pool (what the fixture does), and with a fresh pool
per test (what it did before pools were shared, and what a test pays without the fixture's pools). Each test's time
is its setup, call and teardown as pytest measures them. Prints ms per test for both and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH_PLUGIN = Path(__file__).parent / "plugins" / "bench"

_TEST_FILE = """\
import pytest


@pytest.mark.parametrize("n", range({tests}))
def test_poll(xlr_harness, n):
    outcome = xlr_harness.run("bench.Poll", {{"polls": {polls}}})
    assert outcome.status == "completed", outcome.log_text
    assert len(outcome.runs) == {polls} + 1
"""

_CONFTEST = """\
import json
import os

import pytest

from xlr_runtime.testing.pools import SharedPools

SECONDS = {{}}


def pytest_runtest_logreport(report):
    SECONDS[report.nodeid] = SECONDS.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session):
    with open(os.environ["XLR_BENCH_OUT"], "w") as handle:
        json.dump(list(SECONDS.values()), handle)


if {private}:

    @pytest.fixture
    def xlr_worker_pools():
        pools = SharedPools()
        yield pools
        pools.close()
"""


def _session(folder: Path, *, tests: int, polls: int, private: bool) -> list[float]:
    """Seconds of each test of one pytest session over a generated test folder."""
    (folder / "pyproject.toml").write_text(f'[tool.xlr]\nplugin_paths = ["{BENCH_PLUGIN}"]\n', encoding="utf-8")
    (folder / "test_polls.py").write_text(_TEST_FILE.format(tests=tests, polls=polls), encoding="utf-8")
    (folder / "conftest.py").write_text(_CONFTEST.format(private=private), encoding="utf-8")
    out = folder / "seconds.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
        cwd=folder,
        env={**os.environ, "XLR_BENCH_OUT": str(out)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the benchmark's pytest session failed:\n{done.stdout}\n{done.stderr}")
    return list(json.loads(out.read_text(encoding="utf-8")))


def _summary(name: str, seconds: list[float]) -> dict[str, Any]:
    return {
        "name": name,
        "tests": len(seconds),
        "mean_ms": round(statistics.fmean(seconds) * 1000, 1),
        "median_ms": round(statistics.median(seconds) * 1000, 1),
        "first_ms": round(seconds[0] * 1000, 1),
    }


def measure(*, tests: int = 20, polls: int = 10) -> dict[str, Any]:
    """Both sessions' figures and the ratio of their mean ms per test, as ``--json`` prints them."""
    rows = []
    for name, private in (("fresh pool per test", True), ("shared pool", False)):
        with tempfile.TemporaryDirectory(prefix="xlr-bench-harness-") as folder:
            rows.append(_summary(name, _session(Path(folder), tests=tests, polls=polls, private=private)))
    return {"polls": polls, "rows": rows, "ratio": round(rows[0]["mean_ms"] / rows[1]["mean_ms"], 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_harness", description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=20, help="tests per session (default 20)")
    parser.add_argument("--polls", type=int, default=10, help="polls of each test's task (default 10)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = measure(tests=args.tests, polls=args.polls)
    if args.json:
        print(json.dumps(result))
        return
    for row in result["rows"]:
        print(
            f"{row['name']:<22} {row['tests']} tests of {result['polls']} polls: {row['mean_ms']:7.1f} ms per test "
            f"(median {row['median_ms']:.1f}, first {row['first_ms']:.1f})"
        )
    print(f"ratio: {result['ratio']}x")


if __name__ == "__main__":
    main()
