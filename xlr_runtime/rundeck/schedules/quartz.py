"""A small evaluator of Quartz cron expressions (Rundeck's schedules), with time zones.

Why not croniter: croniter cannot express Quartz's ``LW``, ``L-n`` and ``nW`` (it reads ``15W`` as ``15``),
counts day-of-week 0-6 from Sunday where Quartz counts 1-7, and has its own daylight-saving rules. This module
evaluates Quartz's grammar directly (``docs/rundeck-execution.md`` "Schedules"):

* fields ``sec min hour day-of-month month day-of-week [year]``; exactly one of the day fields is ``?``;
* items ``*``, ``n``, ``a-b`` (a range may wrap: ``22-2``), ``x/step`` (``*/15``, ``5/15``, ``10-40/10``),
  lists with ``,``; month names ``JAN``-``DEC`` and day names ``SUN``-``SAT`` (1 = SUN ... 7 = SAT);
* day-of-month ``L`` (last day), ``L-3`` (three days before it), ``LW`` (last weekday), ``15W`` (the weekday
  nearest the 15th, never crossing into another month);
* day-of-week ``L`` (= 7, Saturday), ``6L`` (last Friday), ``6#3`` (third Friday);
* years 1970-2099 (Quartz's range): an expression has no fire time after 2099.

Times are wall-clock times of a zone: a time that does not exist (the hour skipped when clocks go forward) is
not fired; a time that happens twice (clocks go back) fires once, at its first occurrence. That is what Quartz
does under Rundeck (rundeck/rundeck#6879, "Jobs skipped during DST change").
"""

from __future__ import annotations

import bisect
import calendar
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_DAYS = {name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}
#: (label, low, high, names) of the seven fields.
_FIELDS = (
    ("seconds", 0, 59, {}),
    ("minutes", 0, 59, {}),
    ("hours", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2099, {}),
)
_DOM_SPECIAL = re.compile(r"^(?:L(?:-(\d+))?|LW|(\d+)W)$")
_DOW_SPECIAL = re.compile(r"^(\w+)(?:L|#([1-5]))$")

#: A test on one day of a month: ``(year, month, day) -> bool``.
DayTest = Callable[[int, int, int], bool]


class QuartzError(ValueError):
    """An expression that is not valid Quartz (raised by :func:`parse`); the message names the expression."""


@dataclass(frozen=True)
class QuartzCron:
    """A parsed Quartz expression: sorted values of the time and calendar fields and a day test."""

    expression: str
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: tuple[int, ...]
    years: tuple[int, ...]
    day_matches: DayTest

    def next_after(self, after: float, zone: ZoneInfo) -> float | None:
        """The first fire time strictly after ``after`` (epoch seconds) in ``zone``; ``None`` after 2099."""
        start = datetime.fromtimestamp(int(after), UTC).astimezone(zone).replace(tzinfo=None)
        for day in self._days_from(start.date()):
            first = (start.hour, start.minute, start.second) if day == start.date() else None
            for hour, minute, second in self._times_from(first):
                local = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone)
                epoch = local.timestamp()
                if epoch > after and _exists(local, zone):
                    return epoch
        return None

    def fire_times(self, after: float, zone: ZoneInfo, count: int) -> list[float]:
        """The next ``count`` fire times after ``after`` (fewer when the expression ends)."""
        times: list[float] = []
        while len(times) < count:
            after_next = self.next_after(times[-1] if times else after, zone)
            if after_next is None:
                break
            times.append(after_next)
        return times

    def _days_from(self, first: date) -> Iterator[date]:
        for year in self.years[bisect.bisect_left(self.years, first.year) :]:
            for month in self.months:
                if (year, month) < (first.year, first.month):
                    continue
                start = first.day if (year, month) == (first.year, first.month) else 1
                for day in range(start, calendar.monthrange(year, month)[1] + 1):
                    if self.day_matches(year, month, day):
                        yield date(year, month, day)

    def _times_from(self, first: tuple[int, int, int] | None) -> Iterator[tuple[int, int, int]]:
        low_h, low_m, low_s = first or (0, 0, 0)
        for hour in self.hours[bisect.bisect_left(self.hours, low_h) :]:
            on_first_hour = first is not None and hour == low_h
            minutes = self.minutes[bisect.bisect_left(self.minutes, low_m) :] if on_first_hour else self.minutes
            for minute in minutes:
                on_first_minute = on_first_hour and minute == low_m
                seconds = self.seconds[bisect.bisect_left(self.seconds, low_s) :] if on_first_minute else self.seconds
                for second in seconds:
                    yield hour, minute, second


def _exists(local: datetime, zone: ZoneInfo) -> bool:
    """False for a wall-clock time inside a gap (it does not survive a round trip through UTC)."""
    back = local.astimezone(UTC).astimezone(zone)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None)


def parse(expression: str) -> QuartzCron:
    """Parse a Quartz expression of 6 or 7 space-separated fields; :class:`QuartzError` when it is invalid."""
    fields = expression.strip().split()
    if len(fields) not in (6, 7):
        raise QuartzError(f'invalid schedule "{expression}": expected 6 or 7 fields (sec min hour dom mon dow [year])')
    if len(fields) == 6:
        fields.append("*")
    fields = [f.upper() for f in fields]
    dom, dow = fields[3], fields[5]
    if (dom == "?") == (dow == "?"):
        raise QuartzError(f'invalid schedule "{expression}": exactly one of day-of-month and day-of-week must be "?"')
    values = [_values(expression, fields[i], i) for i in (0, 1, 2, 4, 6)]
    day_matches = _dow_test(expression, dow) if dom == "?" else _dom_test(expression, dom)
    return QuartzCron(expression, *values, day_matches=day_matches)  # type: ignore[arg-type]


def _values(expression: str, text: str, index: int) -> tuple[int, ...]:
    """The sorted values of a plain field (``*``, numbers, names, ranges, steps, lists)."""
    label, low, high, names = _FIELDS[index]
    if "?" in text:
        raise QuartzError(f'invalid schedule "{expression}": "?" is only allowed in day-of-month or day-of-week')
    found: set[int] = set()
    for item in text.split(","):
        found.update(_item(expression, item, label, low, high, names))
    return tuple(sorted(found))


def _item(expression: str, item: str, label: str, low: int, high: int, names: dict[str, int]) -> list[int]:
    base, _, step_text = item.partition("/")
    step = _number(expression, step_text, label, 1, high - low + 1, {}) if step_text else 1
    if base == "*":
        first, last = low, high
    elif "-" in base:
        start_text, _, end_text = base.partition("-")
        first = _number(expression, start_text, label, low, high, names)
        last = _number(expression, end_text, label, low, high, names)
    else:
        first = _number(expression, base, label, low, high, names)
        last = high if step_text else first
    span = last - first if last >= first else last + (high - low + 1) - first  # a range may wrap: 22-2
    return [low + (first - low + offset) % (high - low + 1) for offset in range(0, span + 1, step)]


def _number(expression: str, text: str, label: str, low: int, high: int, names: dict[str, int]) -> int:
    if text in names:
        return names[text]
    if not text.isdigit():
        raise QuartzError(f'invalid schedule "{expression}": {label} value "{text}" is not a number')
    number = int(text)
    if not low <= number <= high:
        raise QuartzError(f'invalid schedule "{expression}": {label} value {number} is not in {low}-{high}')
    return number


def _dom_test(expression: str, text: str) -> DayTest:
    special = _DOM_SPECIAL.match(text)
    if special is None:
        days = set(_values(expression, text, 3))
        return lambda year, month, day: day in days
    last_days = special.group(1)
    if text == "LW":
        return lambda year, month, day: day == _nearest_weekday(year, month, _last(year, month))
    if special.group(2) is not None:
        target = _number(expression, special.group(2), "day-of-month", 1, 31, {})
        return lambda year, month, day: target <= _last(year, month) and day == _nearest_weekday(year, month, target)
    offset = int(last_days) if last_days else 0
    if offset > 30:
        raise QuartzError(f'invalid schedule "{expression}": offset from the last day must be at most 30')
    return lambda year, month, day: day == _last(year, month) - offset


def _dow_test(expression: str, text: str) -> DayTest:
    if text == "L":
        return lambda year, month, day: _quartz_weekday(year, month, day) == 7
    special = _DOW_SPECIAL.match(text)
    if special is None:
        weekdays = set(_values(expression, text, 5))
        return lambda year, month, day: _quartz_weekday(year, month, day) in weekdays
    weekday = _number(expression, special.group(1), "day-of-week", 1, 7, _DAYS)
    nth = special.group(2)
    if nth is None:  # nL: the last such weekday of the month
        return lambda year, month, day: _quartz_weekday(year, month, day) == weekday and day + 7 > _last(year, month)
    index = int(nth)
    return lambda year, month, day: _quartz_weekday(year, month, day) == weekday and (day - 1) // 7 + 1 == index


def _last(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _quartz_weekday(year: int, month: int, day: int) -> int:
    """1 = Sunday ... 7 = Saturday."""
    return (date(year, month, day).weekday() + 1) % 7 + 1


def _nearest_weekday(year: int, month: int, target: int) -> int:
    """Quartz's ``W``: the weekday nearest ``target`` in the same month."""
    weekday = date(year, month, target).weekday()  # Monday = 0
    if weekday == 5:  # Saturday: Friday before, or Monday after when the 1st
        return target + 2 if target == 1 else target - 1
    if weekday == 6:  # Sunday: Monday after, or Friday before when the last day
        return target - 2 if target == _last(year, month) else target + 1
    return target


def local_time_text(epoch: float, zone: ZoneInfo) -> str:
    """``2026-01-02 06:00:00 CET`` for listings."""
    return datetime.fromtimestamp(epoch, zone).strftime("%Y-%m-%d %H:%M:%S %Z")
