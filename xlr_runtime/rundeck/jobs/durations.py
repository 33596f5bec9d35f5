"""Rundeck's two small value grammars: durations (job timeout, retry delay) and log-output limits.

Both follow Rundeck's own parsers (``Sizes.parseTimeDuration`` and ``ScheduledExecution.parseLogOutputThreshold``),
quirks included: an unknown duration unit is silently ignored, so ``10 s`` is 0 seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DURATION_TERM = re.compile(r"(\d+)(.)?")

#: Seconds per duration unit; units are case-sensitive (``M`` is not minutes).
DURATION_UNITS: dict[str, int] = {
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 7 * 86400,
    "y": 365 * 86400,
}


def parse_duration(text: str | None) -> int:
    """Seconds in a Rundeck duration such as ``1d 6h`` (108000) or ``120m`` (7200).

    Every ``<digits><one char>?`` term is summed; a bare number counts as seconds, a number followed by a
    character that is not a unit counts as nothing (``123z``, ``10 s`` and ``asdf`` are 0). ``None`` is 0.
    """
    if not text:
        return 0
    total = 0
    for number, unit in _DURATION_TERM.findall(text):
        if not unit:
            total += int(number)
        elif unit in DURATION_UNITS:
            total += int(number) * DURATION_UNITS[unit]
    return total


_LOG_LIMIT = re.compile(r"(\d+)((?i:[gmk]?b?))?(/node)?")
_SIZE_UNITS = {"g": 1024**3, "m": 1024**2, "k": 1024, "b": 1}


@dataclass(frozen=True)
class LogLimit:
    """A parsed ``<logging limit=…>``: either a byte size (always for the whole log) or a line count, total
    or per node."""

    max_lines: int | None = None
    max_bytes: int | None = None
    per_node: bool = False

    def exceeded(self, *, lines: int, node_lines: int, size: int) -> bool:
        """True once the log written so far (``lines`` in total, ``node_lines`` for the current node,
        ``size`` bytes) has gone past this limit."""
        if self.max_bytes is not None:
            return size > self.max_bytes
        assert self.max_lines is not None
        return (node_lines if self.per_node else lines) > self.max_lines


def parse_log_limit(text: str | None) -> LogLimit | None:
    """Parse ``100`` (lines), ``100/node`` (lines per node), ``1k``/``1KB``/``100b`` (bytes, powers of 1024).

    Any unit means bytes and then ``/node`` is ignored, as in Rundeck. A value that does not fully match the
    grammar (or is empty) gives ``None``: no limit.
    """
    if not text:
        return None
    match = _LOG_LIMIT.fullmatch(text)
    if match is None:
        return None
    count, unit, node = match.groups()
    if unit:
        return LogLimit(max_bytes=int(count) * _SIZE_UNITS[unit[0].lower()])
    return LogLimit(max_lines=int(count), per_node=node == "/node")
