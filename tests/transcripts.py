"""Reading what a command printed line by line (``xlr run``, ``xlr demo``, ``xlr jobs run --follow``): where a line
matching a pattern is, so a test can check the order of lines without fixing the lines between them."""

from __future__ import annotations

import re

#: A progress line's time (``12:00:03``).
STAMP = r"\d\d:\d\d:\d\d"


def index_of(lines: list[str], pattern: str) -> int:
    """The index of the first line matching ``pattern`` (fails the test when none does)."""
    for index, line in enumerate(lines):
        if re.fullmatch(pattern, line):
            return index
    raise AssertionError(f"no line matches {pattern!r} in:\n" + "\n".join(lines))
