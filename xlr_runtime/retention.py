"""History retention: how much ended history (tasks, Rundeck executions) a home keeps.

The ``history.keep`` setting and ``xlr prune`` share one syntax: an **age**, a **count**, or both separated by a
comma: ``30d`` (keep what ended in the last 30 days), ``1000`` (keep the 1000 that ended last), ``30d,1000``
(both limits: what is older than 30 days *or* beyond the newest 1000 goes). An age is a whole number and a unit:
``s``, ``m`` (minutes), ``h``, ``d`` or ``w`` (weeks). An empty text keeps everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Seconds per age unit.
AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

_AGE = re.compile(r"(\d+)\s*([smhdw])")


@dataclass(frozen=True)
class Retention:
    """What ended history to keep: ``max_age`` seconds since it ended and/or the ``max_count`` newest; ``None``
    is no limit of that kind."""

    max_age: float | None = None
    max_count: int | None = None

    @property
    def keeps_everything(self) -> bool:
        """True when neither limit is set."""
        return self.max_age is None and self.max_count is None

    def describe(self) -> str:
        """The limits in words, for messages (``older than 30d or beyond the newest 1000``)."""
        parts = []
        if self.max_age is not None:
            parts.append(f"ended more than {format_age(self.max_age)} ago")
        if self.max_count is not None:
            parts.append(f"beyond the {self.max_count} that ended last")
        return " or ".join(parts) or "nothing (everything is kept)"


def parse_age(text: str) -> float:
    """Seconds in an age such as ``30d`` or ``12h``; :class:`ValueError` with a one-line reason otherwise."""
    match = _AGE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an age (a whole number and s, m, h, d or w: 30d, 12h)")
    return float(int(match.group(1)) * AGE_UNITS[match.group(2)])


def format_age(seconds: float) -> str:
    """``seconds`` in the largest unit that divides it (``2592000`` is ``30d``)."""
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % AGE_UNITS[unit] == 0:
            return f"{int(seconds // AGE_UNITS[unit])}{unit}"
    return f"{seconds:g}s"


def parse_retention(text: str) -> Retention:
    """The :class:`Retention` of a ``history.keep`` text (see the module docstring); :class:`ValueError` with a
    one-line reason for anything else."""
    max_age: float | None = None
    max_count: int | None = None
    parts = [part.strip() for part in text.split(",")] if text.strip() else []
    for part in parts:
        if part.isdigit():
            if max_count is not None:
                raise ValueError(f"{text!r} gives two counts")
            max_count = int(part)
        elif _AGE.fullmatch(part):
            if max_age is not None:
                raise ValueError(f"{text!r} gives two ages")
            max_age = parse_age(part)
        else:
            raise ValueError(
                f"{part!r} is not an age (30d, 12h) or a count (1000); write an age, a count, or both: '30d,1000'"
            )
    return Retention(max_age, max_count)
