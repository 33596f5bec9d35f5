"""``java.text``: ``SimpleDateFormat`` with Java's pattern letters, and ``ParseException``.

``SimpleDateFormat(pattern)`` formats a ``java.util.Date`` (or epoch milliseconds, or a Python ``datetime``) and
parses text back into a ``Date``, in the machine's time zone unless ``setTimeZone(TimeZone.getTimeZone(id))``
says otherwise, with the English (``en_US``) names Java's default US locale gives: ``Jan``/``January``,
``Mon``/``Monday``, ``AM``/``PM``. Every pattern letter of Java's ``SimpleDateFormat`` is served (``G y Y M L w W
D d F E u a H k K h m s S z Z X``, quoted text, ``''``); week numbers follow the US rules (weeks start on Sunday,
week 1 holds 1 January). Parsing is lenient like Java's default (``2024-01-32`` is 1 February; ``setLenient(False)``
refuses it), ignores text after the match, and fails with ``ParseException: Unparseable date: "..."``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from xlr_runtime.compat.shims.java_util import Date, TimeZone

#: Java's default pattern for the US locale (``new SimpleDateFormat()``).
DEFAULT_PATTERN = "M/d/yy h:mm a"
_LETTERS = frozenset("GyYMLwWDdFEuaHkKhmsSzZX")
_NUMERIC = frozenset("yYwWDdFuHkKhmsS")
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONTHS_SHORT = [name[:3] for name in _MONTHS]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]  # as datetime.weekday()
_DAYS_SHORT = [name[:3] for name in _DAYS]
#: Zone abbreviations the parser understands (Java knows more; these are the ones scripts write).
_ZONE_ABBREVIATIONS = {
    "UTC": 0,
    "GMT": 0,
    "UT": 0,
    "Z": 0,
    "EST": -5 * 60,
    "EDT": -4 * 60,
    "CST": -6 * 60,
    "CDT": -5 * 60,
    "MST": -7 * 60,
    "MDT": -6 * 60,
    "PST": -8 * 60,
    "PDT": -7 * 60,
    "CET": 60,
    "CEST": 2 * 60,
}


class ParseException(ValueError):
    """``java.text.ParseException`` (a ``ValueError``), with ``getErrorOffset()``."""

    def __init__(self, message: str, errorOffset: int = 0) -> None:
        super().__init__(message)
        self.errorOffset = errorOffset

    def getErrorOffset(self) -> int:
        """Where in the text parsing failed."""
        return self.errorOffset

    def getMessage(self) -> str:
        """The message."""
        return str(self)


class SimpleDateFormat:
    """``java.text.SimpleDateFormat(pattern)``: ``format(date)``, ``parse(text)``, ``setTimeZone``,
    ``setLenient``, ``toPattern``/``applyPattern``. A letter Java does not know raises ``ValueError`` (Java's
    ``IllegalArgumentException``): ``Illegal pattern character 'x'``."""

    def __init__(self, pattern: str = DEFAULT_PATTERN, locale: Any = None) -> None:
        self._tokens = _tokens(str(pattern))
        self._pattern = str(pattern)
        self._zone = TimeZone.getDefault()
        self._lenient = True
        self._created = dt.datetime.now()

    def toPattern(self) -> str:
        """The pattern."""
        return self._pattern

    def applyPattern(self, pattern: str) -> None:
        """Use ``pattern`` from now on."""
        self._tokens = _tokens(str(pattern))
        self._pattern = str(pattern)

    def setTimeZone(self, zone: TimeZone) -> None:
        """Format and parse in ``zone``."""
        self._zone = zone

    def getTimeZone(self) -> TimeZone:
        """The zone used."""
        return self._zone

    def setLenient(self, lenient: bool) -> None:
        """``False``: refuse out-of-range fields when parsing (``2024-02-30``)."""
        self._lenient = bool(lenient)

    def isLenient(self) -> bool:
        """Whether parsing rolls out-of-range fields over."""
        return self._lenient

    def format(self, value: Any) -> str:
        """The text of ``value``: a ``Date``, epoch milliseconds, or a ``datetime`` (a naive one is read in this
        format's zone)."""
        when = self._datetime(value)
        return "".join(
            token if isinstance(token, str) else _format_field(token[0], token[1], when) for token in self._tokens
        )

    def parse(self, text: Any) -> Date:
        """The ``Date`` that ``text`` (its start) describes; raises :class:`ParseException`."""
        source = str(text)
        regex, fields = _parser(self._tokens)
        match = regex.match(source)
        if match is None:
            raise ParseException(f'Unparseable date: "{source}"', 0)
        try:
            return Date(self._millis([(letter, count, match[f"f{i}"]) for i, (letter, count) in enumerate(fields)]))
        except (ValueError, OverflowError):
            raise ParseException(f'Unparseable date: "{source}"', 0) from None

    def _datetime(self, value: Any) -> dt.datetime:
        if isinstance(value, dt.datetime):
            aware = value if value.tzinfo is not None else self._zone.attach(value)
            return aware.astimezone(self._zone.zone) if self._zone.zone is not None else aware.astimezone()
        if isinstance(value, dt.date):
            return self._zone.attach(dt.datetime(value.year, value.month, value.day))
        millis = value.getTime() if hasattr(value, "getTime") else value
        if isinstance(millis, bool) or not isinstance(millis, int | float):
            raise ValueError(f"Cannot format given Object as a Date: {value!r}")
        return self._zone.localize(millis / 1000.0)

    def _millis(self, values: list[tuple[str, int, str]]) -> int:
        year, month, day, hour, minute, second, milli = 1970, 1, 1, 0, 0, 0, 0
        pm: bool | None = None
        clock12 = False
        offset: int | None = None  # minutes east of UTC, from the text
        for letter, count, raw in values:
            if letter in "yY":
                year = _year(raw, count, self._created) if len(raw) == 2 and count <= 2 else int(raw)
            elif letter in "ML":
                month = int(raw) if count <= 2 else _name_index(raw, _MONTHS, _MONTHS_SHORT) + 1
            elif letter == "d":
                day = int(raw)
            elif letter == "D":
                month, day = 1, int(raw)
            elif letter in "Hk":
                hour = int(raw) % 24 if letter == "k" else int(raw)
            elif letter in "Kh":
                hour, clock12 = int(raw) % 12, True
            elif letter == "m":
                minute = int(raw)
            elif letter == "s":
                second = int(raw)
            elif letter == "S":
                milli = int(raw)
            elif letter == "a":
                pm = raw.upper() == "PM"
            elif letter in "zZX":
                offset = _offset(raw)
        if pm is not None and (clock12 or hour < 12):
            hour = hour % 12 + (12 if pm else 0)
        if not self._lenient:
            dt.datetime(year, month, day, hour, minute, second)  # raises ValueError for 2024-02-30 or hour 25
            if not 0 <= milli < 1000:
                raise ValueError("milliseconds out of range")
        year += (month - 1) // 12
        month = (month - 1) % 12 + 1
        wall = dt.datetime(year, month, 1) + dt.timedelta(
            days=day - 1, hours=hour, minutes=minute, seconds=second, milliseconds=milli
        )
        if offset is not None:
            aware = wall.replace(tzinfo=dt.timezone(dt.timedelta(minutes=offset)))
        else:
            aware = self._zone.attach(wall)
        return round(aware.timestamp() * 1000)

    def __repr__(self) -> str:
        return f"SimpleDateFormat({self._pattern!r})"


DateFormat = SimpleDateFormat


def _tokens(pattern: str) -> list[str | tuple[str, int]]:
    """The pattern as literal texts and ``(letter, count)`` fields; raises ``ValueError`` for an unknown letter
    or an unterminated quote, as Java's constructor does."""
    tokens: list[str | tuple[str, int]] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "'":
            if pattern.startswith("''", index):
                tokens.append("'")
                index += 2
                continue
            end = index + 1
            literal = []
            while True:
                if end >= len(pattern):
                    raise ValueError("Unterminated quote")
                if pattern[end] == "'":
                    if pattern.startswith("''", end):
                        literal.append("'")
                        end += 2
                        continue
                    break
                literal.append(pattern[end])
                end += 1
            tokens.append("".join(literal))
            index = end + 1
        elif char.isascii() and char.isalpha():
            if char not in _LETTERS:
                raise ValueError(f"Illegal pattern character '{char}'")
            end = index
            while end < len(pattern) and pattern[end] == char:
                end += 1
            tokens.append((char, end - index))
            index = end
        else:
            tokens.append(char)
            index += 1
    return tokens


def _format_field(letter: str, count: int, when: dt.datetime) -> str:
    number = when.month if _number_of_month(letter, count) else _number(letter, when)
    if number is not None:
        if letter in "yY" and count == 2:
            return f"{number % 100:02d}"
        return str(number).zfill(count)
    if letter in "ML":
        return (_MONTHS if count >= 4 else _MONTHS_SHORT)[when.month - 1]
    if letter == "E":
        return (_DAYS if count >= 4 else _DAYS_SHORT)[when.weekday()]
    if letter == "a":
        return "AM" if when.hour < 12 else "PM"
    if letter == "G":
        return "AD"
    offset = when.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    if letter == "Z":
        return f"{sign}{hours:02d}{rest:02d}"
    if letter == "X":
        if minutes == 0:
            return "Z"
        return {1: f"{sign}{hours:02d}", 2: f"{sign}{hours:02d}{rest:02d}"}.get(count, f"{sign}{hours:02d}:{rest:02d}")
    name = when.tzname() or ""  # z
    if name in ("UTC", "GMT") or re.fullmatch(r"[A-Z]{2,5}", name):
        return "Coordinated Universal Time" if count >= 4 and name == "UTC" else name
    return f"GMT{sign}{hours:02d}:{rest:02d}"


def _number(letter: str, when: dt.datetime) -> int | None:
    """The value of a numeric field, or ``None`` for a text field (or ``M``/``L``, numeric below 3 letters)."""
    if letter == "y":
        return when.year
    if letter == "Y":
        return _week_year(when.date())[0]
    if letter == "w":
        return _week_year(when.date())[1]
    if letter == "W":
        first = when.replace(day=1)
        return (when.day + (first.weekday() + 1) % 7 - 1) // 7 + 1
    if letter == "D":
        return when.timetuple().tm_yday
    if letter == "d":
        return when.day
    if letter == "F":
        return (when.day - 1) // 7 + 1
    if letter == "u":
        return when.isoweekday()
    if letter == "H":
        return when.hour
    if letter == "k":
        return when.hour or 24
    if letter == "K":
        return when.hour % 12
    if letter == "h":
        return when.hour % 12 or 12
    if letter == "m":
        return when.minute
    if letter == "s":
        return when.second
    if letter == "S":
        return when.microsecond // 1000
    return None


def _number_of_month(letter: str, count: int) -> bool:
    return letter in "ML" and count <= 2


def _week_year(day: dt.date) -> tuple[int, int]:
    """US weeks (Java's default locale): Sunday first, week 1 holds 1 January. ``(week year, week)``."""
    sunday = day - dt.timedelta(days=(day.weekday() + 1) % 7)
    year = day.year + 1 if (sunday + dt.timedelta(days=6)).year > day.year else day.year
    first = dt.date(year, 1, 1)
    first_sunday = first - dt.timedelta(days=(first.weekday() + 1) % 7)
    return year, (sunday - first_sunday).days // 7 + 1


def _parser(tokens: list[str | tuple[str, int]]) -> tuple[re.Pattern[str], list[tuple[str, int]]]:
    """A regex for text in ``tokens``' format, with a group ``f<i>`` per field, and the fields."""
    parts: list[str] = []
    fields: list[tuple[str, int]] = []
    for index, token in enumerate(tokens):
        if isinstance(token, str):
            parts.append(re.escape(token))
            continue
        letter, count = token
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        numeric = letter in _NUMERIC or _number_of_month(letter, count)
        adjacent = isinstance(following, tuple) and (following[0] in _NUMERIC or _number_of_month(*following))
        if numeric:
            body = rf"\d{{{count}}}" if adjacent else r"[-+]?\d+"
        elif letter in "ML":
            body = "|".join(sorted(_MONTHS + _MONTHS_SHORT, key=len, reverse=True))
        elif letter == "E":
            body = "|".join(sorted(_DAYS + _DAYS_SHORT, key=len, reverse=True))
        elif letter == "a":
            body = "AM|PM"
        elif letter == "G":
            body = "AD|BC"
        else:  # z Z X
            abbreviations = "|".join(sorted(_ZONE_ABBREVIATIONS, key=len, reverse=True))
            body = rf"(?:GMT|UTC)[+-]\d{{1,2}}(?::?\d{{2}})?|[+-]\d{{2}}(?::?\d{{2}})?|{abbreviations}"
        parts.append(f"(?P<f{len(fields)}>{body})")
        fields.append((letter, count))
    return re.compile("".join(parts), re.IGNORECASE), fields


def _name_index(text: str, *names: list[str]) -> int:
    lowered = text.lower()
    for table in names:
        for index, name in enumerate(table):
            if name.lower() == lowered:
                return index
    raise ValueError(text)


def _year(text: str, count: int, created: dt.datetime) -> int:
    """A two-digit year as Java reads it: within 80 years before and 20 after the format was created."""
    value = int(text)
    start = created.year - 80
    year = start - start % 100 + value
    return year + 100 if year < start else year


def _offset(text: str) -> int:
    """Minutes east of UTC for a zone in the text (``+0100``, ``-08:00``, ``Z``, ``GMT+2``, ``PST``)."""
    upper = text.upper()
    if upper in _ZONE_ABBREVIATIONS:
        return _ZONE_ABBREVIATIONS[upper]
    match = re.fullmatch(r"(?:GMT|UTC)?([+-])(\d{1,2})(?::?(\d{2}))?", upper)
    if match is None:
        raise ValueError(text)
    minutes = int(match[2]) * 60 + int(match[3] or 0)
    return minutes if match[1] == "+" else -minutes
