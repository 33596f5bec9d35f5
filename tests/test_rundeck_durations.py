"""Rundeck's duration and log-limit grammars, with the examples from Rundeck's own tests and NOTES."""

from __future__ import annotations

import pytest

from xlr_runtime.rundeck.jobs.durations import LogLimit, parse_duration, parse_log_limit


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1d 6h", 108000),
        ("120m", 7200),
        ("123", 123),
        ("3d 12h #note", 302400),
        ("asdf", 0),
        ("123z", 0),
        ("10 s", 0),
        ("1h1m1s", 3661),
        ("2w", 1209600),
        ("1y", 31536000),
        ("1H", 0),
        ("30s 30", 60),
        ("", 0),
        (None, 0),
    ],
)
def test_parse_duration(text: str | None, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("123", LogLimit(max_lines=123)),
        ("123/node", LogLimit(max_lines=123, per_node=True)),
        ("123b", LogLimit(max_bytes=123)),
        ("123B", LogLimit(max_bytes=123)),
        ("123B/node", LogLimit(max_bytes=123)),
        ("123kb", LogLimit(max_bytes=123 * 1024)),
        ("123k", LogLimit(max_bytes=123 * 1024)),
        ("123Kb", LogLimit(max_bytes=123 * 1024)),
        ("1m", LogLimit(max_bytes=1024**2)),
        ("2GB", LogLimit(max_bytes=2 * 1024**3)),
        ("100 lines", None),
        ("abc", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_log_limit(text: str | None, limit: LogLimit | None) -> None:
    assert parse_log_limit(text) == limit


def test_log_limit_exceeded_counts_the_right_thing() -> None:
    assert LogLimit(max_lines=2).exceeded(lines=3, node_lines=1, size=0)
    assert not LogLimit(max_lines=2, per_node=True).exceeded(lines=3, node_lines=2, size=0)
    assert LogLimit(max_bytes=10).exceeded(lines=0, node_lines=0, size=11)
    assert not LogLimit(max_bytes=10).exceeded(lines=100, node_lines=100, size=10)
