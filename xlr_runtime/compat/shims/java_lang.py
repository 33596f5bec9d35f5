"""``java.lang``: the classes plugin scripts import from it — ``String``, ``System``, ``Thread``, the boxed
number types, ``StringBuilder`` and the common exceptions (mapped onto Python's, so ``except`` clauses catch
what Python raises)."""

from __future__ import annotations

import builtins
import getpass
import os
import re
import sys
import tempfile
import time
from typing import Any


class String(str):
    """A Python ``str`` with the ``java.lang.String`` methods scripts call. ``String(bytes)`` decodes UTF-8."""

    def __new__(cls, value: Any = "", charset: str | None = None) -> String:
        if isinstance(value, (bytes, bytearray)):
            return super().__new__(cls, bytes(value).decode(charset or "utf-8"))
        if isinstance(value, list):  # a char[]
            return super().__new__(cls, "".join(map(str, value)))
        return super().__new__(cls, value)

    @staticmethod
    def valueOf(value: Any) -> String:
        """``String.valueOf(x)``: Java's text of a value (``true``/``false`` for booleans, ``null`` for None)."""
        if value is None:
            return String("null")
        if isinstance(value, bool):
            return String("true" if value else "false")
        return String(value)

    @staticmethod
    def format(pattern: str, *args: Any) -> String:  # type: ignore[override]
        """``String.format("%s-%d", a, b)``: the common specifiers are the same as Python's ``%``."""
        return String(pattern.replace("%n", "\n") % args)

    @staticmethod
    def join(separator: str, *items: Any) -> String:  # type: ignore[override]
        """``String.join(sep, a, b)`` or ``String.join(sep, list)``."""
        values = items[0] if len(items) == 1 and not isinstance(items[0], str) else items
        return String(str(separator).join(map(str, values)))

    def length(self) -> int:
        """Number of characters."""
        return len(self)

    def isEmpty(self) -> bool:
        """True for the empty string."""
        return not self

    def charAt(self, index: int) -> str:
        """The character at ``index``."""
        return self[index]

    def equals(self, other: Any) -> bool:
        """Value equality."""
        return str(self) == other

    def equalsIgnoreCase(self, other: Any) -> bool:
        """Equality ignoring case."""
        return other is not None and self.lower() == str(other).lower()

    def contains(self, part: str) -> bool:
        """True when ``part`` occurs."""
        return part in self

    def startsWith(self, prefix: str) -> bool:
        """``str.startswith``."""
        return self.startswith(prefix)

    def endsWith(self, suffix: str) -> bool:
        """``str.endswith``."""
        return self.endswith(suffix)

    def indexOf(self, part: str, start: int = 0) -> int:
        """Position of ``part`` or -1."""
        return self.find(part, start)

    def lastIndexOf(self, part: str) -> int:
        """Last position of ``part`` or -1."""
        return self.rfind(part)

    def substring(self, begin: int, end: int | None = None) -> String:
        """Characters from ``begin`` up to ``end``."""
        return String(self[begin:end])

    def toUpperCase(self) -> String:
        """Upper-cased copy."""
        return String(self.upper())

    def toLowerCase(self) -> String:
        """Lower-cased copy."""
        return String(self.lower())

    def trim(self) -> String:
        """Copy without surrounding whitespace."""
        return String(self.strip())

    def replaceAll(self, regex: str, replacement: str) -> String:
        """Replace every match of the Java regex (``$1`` group references work)."""
        return String(re.sub(regex, _java_replacement(replacement), self))

    def replaceFirst(self, regex: str, replacement: str) -> String:
        """Replace the first match of the Java regex."""
        return String(re.sub(regex, _java_replacement(replacement), self, count=1))

    def matches(self, regex: str) -> bool:
        """True when the whole string matches the regex."""
        return re.fullmatch(regex, self) is not None

    def getBytes(self, charset: str = "utf-8") -> bytes:
        """The encoded bytes."""
        return self.encode(charset)

    def toCharArray(self) -> list[str]:
        """The characters as a list."""
        return list(self)

    def toString(self) -> String:
        """Itself."""
        return self


def _java_replacement(replacement: str) -> str:
    """Java's ``$1`` group references as Python's ``\\g<1>``."""
    return re.sub(r"\$(\d+)", r"\\g<\1>", replacement.replace("\\", "\\\\"))


class StringBuilder:
    """``java.lang.StringBuilder``: ``append`` chains, ``toString`` returns the text."""

    def __init__(self, initial: Any = "") -> None:
        self._parts = [] if isinstance(initial, int) else [str(initial)]

    def append(self, value: Any) -> StringBuilder:
        """Add the text of ``value``."""
        self._parts.append(String.valueOf(value))
        return self

    def length(self) -> int:
        """Number of characters so far."""
        return len(str(self))

    def toString(self) -> String:
        """The text built."""
        return String("".join(self._parts))

    def __str__(self) -> str:
        return "".join(self._parts)


StringBuffer = StringBuilder


class _PrintStream:
    def __init__(self, name: str) -> None:
        self._name = name

    def println(self, value: Any = "") -> None:
        print(value, file=getattr(sys, self._name))

    def print(self, value: Any) -> None:
        print(value, end="", file=getattr(sys, self._name))

    print_ = print  # as the translator renames a ``System.out.print(...)`` call


_PROPERTIES = {
    "line.separator": lambda: os.linesep,
    "file.separator": lambda: os.sep,
    "path.separator": lambda: os.pathsep,
    "user.home": lambda: os.path.expanduser("~"),
    "user.dir": os.getcwd,
    "user.name": getpass.getuser,
    "java.io.tmpdir": tempfile.gettempdir,
    "os.name": lambda: {"linux": "Linux", "darwin": "Mac OS X", "win32": "Windows"}.get(sys.platform, sys.platform),
}


class System:
    """``java.lang.System``: properties, environment, clocks and ``System.out.println``."""

    out = _PrintStream("stdout")
    err = _PrintStream("stderr")

    @staticmethod
    def getProperty(name: str, default: str | None = None) -> str | None:
        """The few JVM properties scripts read (``line.separator``, ``user.home``, ``java.io.tmpdir``, ...)."""
        getter = _PROPERTIES.get(name)
        return getter() if getter else default

    @staticmethod
    def getenv(name: str | None = None) -> Any:
        """An environment variable, or the whole environment as a dict."""
        return dict(os.environ) if name is None else os.environ.get(name)

    @staticmethod
    def currentTimeMillis() -> int:
        """Milliseconds since the epoch."""
        return int(time.time() * 1000)

    @staticmethod
    def nanoTime() -> int:
        """A monotonic clock in nanoseconds."""
        return time.monotonic_ns()

    @staticmethod
    def lineSeparator() -> str:
        """``\\n`` (or the platform's)."""
        return os.linesep

    @staticmethod
    def exit(status: int) -> None:
        """``System.exit(n)`` ends the script as ``sys.exit(n)`` does."""
        sys.exit(status)


class Thread:
    """``java.lang.Thread``: ``Thread.sleep(milliseconds)``."""

    @staticmethod
    def sleep(milliseconds: float) -> None:
        """Pause the script."""
        time.sleep(milliseconds / 1000.0)


def _parser(kind: type, name: str) -> Any:
    def parse(text: Any, radix: int = 10) -> Any:
        if kind is int:
            return int(str(text).strip(), radix)
        return kind(str(text).strip())

    parse.__name__ = name
    parse.__doc__ = f"``{name}(text)``: raises ``NumberFormatException`` (a ``ValueError``) on bad text."
    return staticmethod(parse)


class Integer:
    """``java.lang.Integer``."""

    MAX_VALUE = 2**31 - 1
    MIN_VALUE = -(2**31)
    parseInt = valueOf = _parser(int, "parseInt")
    toString = staticmethod(str)


class Long:
    """``java.lang.Long``."""

    MAX_VALUE = 2**63 - 1
    MIN_VALUE = -(2**63)
    parseLong = valueOf = _parser(int, "parseLong")
    toString = staticmethod(str)


class Double:
    """``java.lang.Double``."""

    parseDouble = valueOf = _parser(float, "parseDouble")
    toString = staticmethod(str)


class Boolean:
    """``java.lang.Boolean``: ``parseBoolean`` is true only for ``"true"`` in any case."""

    TRUE = True
    FALSE = False

    @staticmethod
    def parseBoolean(text: Any) -> bool:
        """Java's lenient parse."""
        return str(text).lower() == "true"

    valueOf = parseBoolean


Math = type(
    "Math",
    (),
    {
        "__doc__": "``java.lang.Math``: ``max``, ``min``, ``abs``, ``round``, ``floor``, ``ceil``, ``pow``.",
        "max": staticmethod(max),
        "min": staticmethod(min),
        "abs": staticmethod(abs),
        "round": staticmethod(lambda x: int(x + 0.5) if x >= 0 else -int(-x + 0.5)),
        "floor": staticmethod(lambda x: float(int(x // 1))),
        "ceil": staticmethod(lambda x: float(-int(-x // 1))),
        "pow": staticmethod(pow),
        "sqrt": staticmethod(lambda x: x**0.5),
    },
)

# Exceptions: Java names over Python classes, so a script catching the Java name catches what Python raises.
Object = object
Throwable = BaseException
Exception = builtins.Exception
RuntimeException = builtins.Exception
IllegalArgumentException = ValueError
IllegalStateException = RuntimeError
NumberFormatException = ValueError
NullPointerException = AttributeError
IndexOutOfBoundsException = ArrayIndexOutOfBoundsException = IndexError
UnsupportedOperationException = NotImplementedError
InterruptedException = KeyboardInterrupt
ClassCastException = TypeError
