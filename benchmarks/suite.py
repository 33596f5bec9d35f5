"""The command line every benchmark suite of ``python -m benchmarks`` shares: ``--quick``, ``--workers N`` and
``--json`` (one JSON object instead of a table), so each suite's ``main`` only says what differs."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any


def suite_parser(
    module: str, doc: str | None, *, quick_help: str, workers: int, workers_help: str
) -> argparse.ArgumentParser:
    """The parser of ``python -m MODULE``, with the three options every suite takes (add more to it)."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=doc)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--workers", type=int, default=workers, help=workers_help)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    return parser


def print_report(report: dict[str, Any], print_table: Callable[[dict[str, Any]], None], *, as_json: bool) -> None:
    """``report`` as one JSON object, or as the suite's table."""
    if as_json:
        print(json.dumps(report))
    else:
        print_table(report)
