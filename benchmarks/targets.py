"""The performance targets of issue 18, each against what a run of ``python -m benchmarks`` measured.

Every target is read from the same run: a ratio of two cases run one after the other (the chain against huey and
against the bare 2-transaction loop), a lateness p99 (polls and bursts: milliseconds on the machine that ran it),
the store's fastest claim + complete time at its largest number of pending runs over the fastest at its smallest
(flat is 1.0), and the resident memory of each ``xlr serve`` worker. A ``--quick`` run has a tenth of the tasks:
its verdicts say little.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Report = dict[str, Any]


@dataclass(frozen=True)
class Target:
    """One target: ``measure`` reads its figure from a report, which must be at least (``above``) or at most
    ``bound``."""

    name: str
    bound: float
    above: bool
    unit: str
    measure: Callable[[dict[str, Report], Report], float | None]

    def verdict(self, by_case: dict[str, Report], suites: Report) -> dict[str, Any]:
        """The figure measured, the bound and whether it is met (``None`` when the run has no such figure)."""
        value = self.measure(by_case, suites)
        met = None if value is None else (value >= self.bound if self.above else value <= self.bound)
        return {
            "name": self.name,
            "measured": value,
            "target": self.bound,
            "above": self.above,
            "unit": self.unit,
            "met": met,
        }


def _ratio(a: str, b: str) -> Callable[[dict[str, Report], Report], float | None]:
    def measure(by_case: dict[str, Report], _: Report) -> float | None:
        if a not in by_case or b not in by_case or not by_case[b]["steps_per_s"]:
            return None
        return round(by_case[a]["steps_per_s"] / by_case[b]["steps_per_s"], 2)

    return measure


def _p99(case: str) -> Callable[[dict[str, Report], Report], float | None]:
    return lambda by_case, _: by_case[case]["lateness_p99_ms"] if case in by_case else None


def _store_flatness(_: dict[str, Report], suites: Report) -> float | None:
    """The fastest round at the most pending runs over the fastest at the fewest: how the work grows with the
    pending runs, with less of the machine's noise than the medians (which moved 1.0-1.7x between two runs of
    the same code)."""
    rows = suites.get("benchmarks.bench_store", {}).get("rows", [])
    if len(rows) < 2 or not rows[0]["min_ms"]:
        return None
    return round(rows[-1]["min_ms"] / rows[0]["min_ms"], 2)


def _largest_worker(_: dict[str, Report], suites: Report) -> float | None:
    workers = suites.get("benchmarks.bench_store", {}).get("serve", {}).get("worker_rss_mb", [])
    return max(workers) if workers else None


TARGETS = (
    Target("W1 chain steps/s, xlr / huey", 8.0, True, "x", _ratio("xlr-chain", "huey-chain")),
    Target("W1 chain steps/s, xlr / bare 2-transaction loop", 1.2, True, "x", _ratio("xlr-chain", "raw-step")),
    Target("W2a poll 1,000 tasks staggered: lateness p99", 10.0, False, "ms", _p99("xlr-poll")),
    Target("W2b burst 1,000 tasks at once: lateness p99", 20.0, False, "ms", _p99("xlr-burst")),
    Target("store: claim + complete, most / fewest pending (fastest)", 1.25, False, "x", _store_flatness),
    Target("xlr serve worker RSS at most", 30.0, False, "MB", _largest_worker),
)


def verdicts(rows: list[Report], suites: Report) -> list[dict[str, Any]]:
    """Each target's verdict over the rows of a run (the first row of a case: the 1,000-task one) and its suites."""
    by_case: dict[str, Report] = {}
    for row in rows:
        by_case.setdefault(row["case"], row)
    return [target.verdict(by_case, suites) for target in TARGETS]


def print_verdicts(found: list[dict[str, Any]]) -> None:
    """The targets as a table: measured, target, met."""
    header = f"{'target (issue 18)':<56} {'measured':>10} {'target':>10}  met"
    print(header)
    print("-" * len(header))
    for verdict in found:
        measured = "-" if verdict["measured"] is None else f"{verdict['measured']:g}{verdict['unit']}"
        bound = f"{'>=' if verdict['above'] else '<='}{verdict['target']:g}{verdict['unit']}"
        met = {True: "yes", False: "no", None: "-"}[verdict["met"]]
        print(f"{verdict['name']:<56} {measured:>10} {bound:>10}  {met}")
