"""``org.slf4j``: ``LoggerFactory.getLogger(name)`` returns a :class:`Logger` writing to the task log.

In XL Release these lines go to the server log, which a plugin author rarely sees; here they go where the
author looks: ``info``/``debug``/``trace`` to the task log's stdout, ``warn``/``error`` to its stderr, as
``LEVEL message``. SLF4J's ``{}`` placeholders are filled from the arguments; a trailing exception argument
is printed after the message.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO


class Logger:
    """An SLF4J-style logger; the global ``logger`` scripts use undefined in XL Release is one of these."""

    ROOT_LOGGER_NAME = "ROOT"

    def __init__(self, name: str) -> None:
        self.name = name

    def getName(self) -> str:
        """The logger's name."""
        return self.name

    def trace(self, message: Any, *args: Any) -> None:
        """Write a TRACE line."""
        self._write("TRACE", sys.stdout, message, args)

    def debug(self, message: Any, *args: Any) -> None:
        """Write a DEBUG line."""
        self._write("DEBUG", sys.stdout, message, args)

    def info(self, message: Any, *args: Any) -> None:
        """Write an INFO line."""
        self._write("INFO", sys.stdout, message, args)

    def warn(self, message: Any, *args: Any) -> None:
        """Write a WARN line."""
        self._write("WARN", sys.stderr, message, args)

    warning = warn

    def error(self, message: Any, *args: Any) -> None:
        """Write an ERROR line."""
        self._write("ERROR", sys.stderr, message, args)

    def isDebugEnabled(self) -> bool:
        """Always true: every level is written."""
        return True

    isInfoEnabled = isTraceEnabled = isWarnEnabled = isErrorEnabled = isDebugEnabled

    def _write(self, level: str, stream: TextIO, message: Any, args: tuple[Any, ...]) -> None:
        stream.write(f"{level} {format_message(message, args)}\n")

    def __repr__(self) -> str:
        return f"<Logger {self.name}>"


def format_message(message: Any, args: tuple[Any, ...]) -> str:
    """Fill SLF4J ``{}`` placeholders; extra arguments (an exception, most often) follow the text."""
    text, remaining = str(message), list(args)
    while "{}" in text and remaining:
        text = text.replace("{}", str(remaining.pop(0)), 1)
    return " ".join([text, *map(str, remaining)])


def getLogger(name: Any) -> Logger:
    """A logger named ``name`` (a string or a class)."""
    return Logger(getattr(name, "__name__", str(name)))


class LoggerFactory:
    """``org.slf4j.LoggerFactory``: ``LoggerFactory.getLogger(name)``."""

    getLogger = staticmethod(getLogger)
