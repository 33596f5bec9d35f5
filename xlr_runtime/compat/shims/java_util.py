"""``java.util``: ``Date``, ``UUID``, ``TimeZone``, the collections (Python ``list``/``dict``/``set`` with the Java
methods scripts call), ``Arrays``, ``Collections`` and ``Base64``."""

from __future__ import annotations

import base64
import datetime as dt
import re
import time
import uuid
import zoneinfo
from collections.abc import Iterable
from typing import Any


class Date:
    """``java.util.Date``: now, or milliseconds since the epoch."""

    def __init__(self, millis: int | None = None) -> None:
        self._millis = int(time.time() * 1000) if millis is None else int(millis)

    def getTime(self) -> int:
        """Milliseconds since the epoch."""
        return self._millis

    def before(self, other: Date) -> bool:
        """True when earlier than ``other``."""
        return self._millis < other._millis

    def after(self, other: Date) -> bool:
        """True when later than ``other``."""
        return self._millis > other._millis

    def toString(self) -> str:
        """Java's format: ``Sun Nov 22 02:15:31 UTC 2026``."""
        return time.strftime("%a %b %d %H:%M:%S %Z %Y", time.localtime(self._millis / 1000))

    __str__ = toString

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Date) and other._millis == self._millis

    def __hash__(self) -> int:
        return hash(self._millis)


class UUID:
    """``java.util.UUID``: ``UUID.randomUUID().toString()``."""

    def __init__(self, value: uuid.UUID) -> None:
        self._value = value

    @staticmethod
    def randomUUID() -> UUID:
        """A random (version 4) UUID."""
        return UUID(uuid.uuid4())

    @staticmethod
    def fromString(text: str) -> UUID:
        """Parse ``text``."""
        return UUID(uuid.UUID(text))

    def toString(self) -> str:
        """The canonical text."""
        return str(self._value)

    __str__ = toString


class ArrayList(list[Any]):
    """``java.util.ArrayList`` (also ``List``, ``LinkedList``): a Python list with Java's methods."""

    def __init__(self, items: Iterable[Any] | int = ()) -> None:
        super().__init__(() if isinstance(items, int) else items)

    def add(self, *args: Any) -> bool:
        """``add(item)`` or ``add(index, item)``."""
        if len(args) == 2:
            self.insert(args[0], args[1])
        else:
            self.append(args[0])
        return True

    def addAll(self, items: Iterable[Any]) -> bool:
        """Append every item."""
        self.extend(items)
        return True

    def get(self, index: int) -> Any:
        """The item at ``index``."""
        return self[index]

    def set(self, index: int, item: Any) -> Any:
        """Replace the item at ``index``; return the old one."""
        old, self[index] = self[index], item
        return old

    def size(self) -> int:
        """Number of items."""
        return len(self)

    def isEmpty(self) -> bool:
        """True when empty."""
        return not self

    def contains(self, item: Any) -> bool:
        """True when ``item`` is in the list."""
        return item in self

    def indexOf(self, item: Any) -> int:
        """Position of ``item`` or -1."""
        return self.index(item) if item in self else -1

    def toArray(self) -> list[Any]:
        """A plain list copy."""
        return list(self)


LinkedList = List = Vector = ArrayList


class HashMap(dict[Any, Any]):
    """``java.util.HashMap`` (also ``Map``, ``LinkedHashMap``, ``TreeMap``): a dict with Java's methods."""

    def put(self, key: Any, value: Any) -> Any:
        """Set ``key``; return the previous value or None."""
        old = super().get(key)
        self[key] = value
        return old

    def putAll(self, other: dict[Any, Any]) -> None:
        """Copy every entry of ``other``."""
        self.update(other)

    def containsKey(self, key: Any) -> bool:
        """True when ``key`` is present."""
        return key in self

    def containsValue(self, value: Any) -> bool:
        """True when some entry has ``value``."""
        return value in self.values()

    def remove(self, key: Any) -> Any:
        """Delete ``key``; return its value or None."""
        return self.pop(key, None)

    def keySet(self) -> set[Any]:
        """The keys."""
        return set(self.keys())

    def entrySet(self) -> list[tuple[Any, Any]]:
        """The (key, value) pairs."""
        return list(self.items())

    def size(self) -> int:
        """Number of entries."""
        return len(self)

    def isEmpty(self) -> bool:
        """True when empty."""
        return not self


LinkedHashMap = TreeMap = Map = Hashtable = HashMap


class Properties(HashMap):
    """``java.util.Properties``: ``getProperty``/``setProperty`` on a dict."""

    def getProperty(self, key: str, default: str | None = None) -> str | None:
        """The value of ``key`` or ``default``."""
        return self.get(key, default)

    def setProperty(self, key: str, value: str) -> Any:
        """Set ``key``."""
        return self.put(key, value)


class HashSet(set[Any]):
    """``java.util.HashSet`` (also ``Set``, ``TreeSet``): a set with Java's methods."""

    def __init__(self, items: Iterable[Any] | int = ()) -> None:
        super().__init__(() if isinstance(items, int) else items)

    def contains(self, item: Any) -> bool:
        """True when ``item`` is present."""
        return item in self

    def size(self) -> int:
        """Number of items."""
        return len(self)

    def isEmpty(self) -> bool:
        """True when empty."""
        return not self

    def addAll(self, items: Iterable[Any]) -> bool:
        """Add every item."""
        self.update(items)
        return True


LinkedHashSet = TreeSet = Set = HashSet


class Arrays:
    """``java.util.Arrays.asList(a, b, ...)``."""

    @staticmethod
    def asList(*items: Any) -> ArrayList:
        """The items as a list."""
        return ArrayList(items)


class Collections:
    """``java.util.Collections``: empty collections and ``sort``."""

    @staticmethod
    def emptyList() -> ArrayList:
        """An empty list."""
        return ArrayList()

    @staticmethod
    def emptyMap() -> HashMap:
        """An empty map."""
        return HashMap()

    @staticmethod
    def sort(items: list[Any]) -> None:
        """Sort in place."""
        items.sort()


class _Encoder:
    def __init__(self, encode: Any) -> None:
        self._encode = encode

    def encode(self, data: bytes) -> bytes:
        return self._encode(bytes(data))

    def encodeToString(self, data: bytes) -> str:
        return self._encode(bytes(data)).decode("ascii")


class _Decoder:
    def __init__(self, decode: Any) -> None:
        self._decode = decode

    def decode(self, data: str | bytes) -> bytes:
        return self._decode(data)


class Base64:
    """``java.util.Base64.getEncoder().encodeToString(bytes)`` and ``getDecoder().decode(text)``."""

    @staticmethod
    def getEncoder() -> _Encoder:
        """The standard encoder."""
        return _Encoder(base64.b64encode)

    @staticmethod
    def getUrlEncoder() -> _Encoder:
        """The URL-safe encoder."""
        return _Encoder(base64.urlsafe_b64encode)

    @staticmethod
    def getDecoder() -> _Decoder:
        """The standard decoder."""
        return _Decoder(base64.b64decode)

    @staticmethod
    def getUrlDecoder() -> _Decoder:
        """The URL-safe decoder."""
        return _Decoder(base64.urlsafe_b64decode)


class TimeZone:
    """``java.util.TimeZone``: ``getTimeZone(id)`` for ``UTC``/``GMT``, ``GMT+05:30``-style offsets and IANA names
    (``Europe/Paris``; an unknown id is GMT, as in Java), ``getDefault()`` (the machine's local time)."""

    def __init__(self, zone: dt.tzinfo | None, zone_id: str) -> None:
        self.zone = zone  # None: the machine's local time, offset looked up per instant
        self._id = zone_id

    @staticmethod
    def getTimeZone(zone_id: str) -> TimeZone:
        """The zone called ``zone_id``."""
        text = str(zone_id)
        if text.upper() in ("UTC", "GMT", "UT", "Z"):
            return TimeZone(dt.UTC, text.upper())
        match = re.fullmatch(r"(?:GMT|UTC)([+-])(\d{1,2})(?::?(\d{2}))?", text)
        if match:
            sign = 1 if match[1] == "+" else -1
            offset = dt.timedelta(hours=int(match[2]), minutes=int(match[3] or 0)) * sign
            hours, minutes = divmod(abs(int(offset.total_seconds())) // 60, 60)
            return TimeZone(dt.timezone(offset), f"GMT{match[1]}{hours:02d}:{minutes:02d}")
        try:
            return TimeZone(zoneinfo.ZoneInfo(text), text)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return TimeZone(dt.UTC, "GMT")

    @staticmethod
    def getDefault() -> TimeZone:
        """The machine's local time zone."""
        return TimeZone(None, time.tzname[0])

    def getID(self) -> str:
        """The zone's id (``UTC``, ``Europe/Paris``, ``GMT+05:30``)."""
        return self._id

    def getRawOffset(self) -> int:
        """The standard offset from UTC in milliseconds (now, for the local zone)."""
        return int(self.localize(time.time()).utcoffset().total_seconds() * 1000)  # type: ignore[union-attr]

    def localize(self, seconds: float) -> dt.datetime:
        """The aware date-time of the epoch ``seconds`` in this zone."""
        if self.zone is None:
            return dt.datetime.fromtimestamp(seconds).astimezone()
        return dt.datetime.fromtimestamp(seconds, self.zone)

    def attach(self, naive: dt.datetime) -> dt.datetime:
        """``naive`` read as a wall-clock time of this zone."""
        return naive.astimezone() if self.zone is None else naive.replace(tzinfo=self.zone)

    def toString(self) -> str:
        return self._id

    __str__ = toString
