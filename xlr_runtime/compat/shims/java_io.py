"""``java.io``: ``File``, readers and writers over Python files, and the I/O exceptions (Python's)."""

from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

IOException = OSError
FileNotFoundException = FileNotFoundError
UnsupportedEncodingException = LookupError


class File:
    """``java.io.File`` over :class:`pathlib.Path`."""

    separator = os.sep
    pathSeparator = os.pathsep

    def __init__(self, parent: Any, child: str | None = None) -> None:
        self._path = Path(str(parent), child) if child is not None else Path(str(parent))

    @staticmethod
    def createTempFile(prefix: str, suffix: str | None = None, directory: File | None = None) -> File:
        """A new empty temporary file."""
        handle, name = tempfile.mkstemp(
            suffix=suffix or ".tmp", prefix=prefix, dir=str(directory) if directory else None
        )
        os.close(handle)
        return File(name)

    def getName(self) -> str:
        """The last path component."""
        return self._path.name

    def getPath(self) -> str:
        """The path as given."""
        return str(self._path)

    def getAbsolutePath(self) -> str:
        """The absolute path."""
        return str(self._path.absolute())

    getCanonicalPath = getAbsolutePath

    def getParent(self) -> str | None:
        """The parent path, or None at the top."""
        return str(self._path.parent) if self._path.parent != self._path else None

    def getParentFile(self) -> File | None:
        """The parent as a File."""
        parent = self.getParent()
        return File(parent) if parent else None

    def exists(self) -> bool:
        """True when the path exists."""
        return self._path.exists()

    def isFile(self) -> bool:
        """True for a regular file."""
        return self._path.is_file()

    def isDirectory(self) -> bool:
        """True for a directory."""
        return self._path.is_dir()

    def length(self) -> int:
        """Size in bytes, 0 when missing."""
        return self._path.stat().st_size if self._path.is_file() else 0

    def lastModified(self) -> int:
        """Modification time in milliseconds, 0 when missing."""
        return int(self._path.stat().st_mtime * 1000) if self._path.exists() else 0

    def mkdirs(self) -> bool:
        """Create the directory and its parents; False when it already existed."""
        existed = self._path.is_dir()
        self._path.mkdir(parents=True, exist_ok=True)
        return not existed

    mkdir = mkdirs

    def delete(self) -> bool:
        """Delete the file or (recursively) the directory; False when nothing was there."""
        if self._path.is_dir():
            shutil.rmtree(self._path)
            return True
        try:
            self._path.unlink()
        except FileNotFoundError:
            return False
        return True

    def list(self) -> list[str]:
        """Names in the directory."""
        return sorted(entry.name for entry in self._path.iterdir())

    def listFiles(self) -> list[File]:
        """Files in the directory."""
        return [File(str(self._path / name)) for name in self.list()]

    def toPath(self) -> Path:
        """As a :class:`pathlib.Path`."""
        return self._path

    def toString(self) -> str:
        """The path."""
        return str(self._path)

    def __str__(self) -> str:
        return str(self._path)

    def __fspath__(self) -> str:
        return str(self._path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, File) and other._path == self._path

    def __hash__(self) -> int:
        return hash(self._path)


class BufferedReader:
    """``BufferedReader(reader)``: ``readLine()`` returns a line without its end, or None at the end."""

    def __init__(self, reader: Any) -> None:
        self._stream = reader._stream if hasattr(reader, "_stream") else reader

    def readLine(self) -> str | None:
        """The next line, or None."""
        line = self._stream.readline()
        return line.rstrip("\r\n") if line else None

    def read(self) -> int:
        """The next character as an int, or -1."""
        char = self._stream.read(1)
        return ord(char) if char else -1

    def lines(self) -> list[str]:
        """All remaining lines."""
        return [line.rstrip("\r\n") for line in self._stream]

    def close(self) -> None:
        """Close the underlying stream."""
        self._stream.close()


class InputStreamReader(BufferedReader):
    """``InputStreamReader(stream[, charset])`` over a binary or text stream."""

    def __init__(self, stream: Any, charset: str = "utf-8") -> None:
        if isinstance(stream, (io.RawIOBase, io.BufferedIOBase)) or hasattr(stream, "read1"):
            stream = io.TextIOWrapper(stream, encoding=charset)
        super().__init__(stream)


class FileReader(BufferedReader):
    """``FileReader(path)``."""

    def __init__(self, path: Any) -> None:
        super().__init__(open(str(path), encoding="utf-8"))  # noqa: SIM115  (closed by close())


class StringReader(BufferedReader):
    """``StringReader(text)``."""

    def __init__(self, text: str) -> None:
        super().__init__(io.StringIO(text))


class FileWriter:
    """``FileWriter(path[, append])`` with ``write``, ``flush`` and ``close``."""

    def __init__(self, path: Any, append: bool = False) -> None:
        self._stream = open(str(path), "a" if append else "w", encoding="utf-8")  # noqa: SIM115

    def write(self, text: Any) -> None:
        """Write text."""
        self._stream.write(str(text))

    def flush(self) -> None:
        """Flush."""
        self._stream.flush()

    def close(self) -> None:
        """Close the file."""
        self._stream.close()


class BufferedWriter(FileWriter):
    """``BufferedWriter(writer)`` over a :class:`FileWriter`."""

    def __init__(self, writer: FileWriter) -> None:
        self._stream = writer._stream

    def newLine(self) -> None:
        """Write a line end."""
        self._stream.write("\n")


class StringWriter:
    """``java.io.StringWriter``: text written to it (``write``, ``append``, or a :class:`PrintWriter` over it),
    read back with ``toString()``."""

    def __init__(self, initial_size: int = 0) -> None:
        self._buffer = io.StringIO()

    def write(self, value: Any, offset: int | None = None, length: int | None = None) -> None:
        """Write text (``write(text, offset, length)`` writes that slice; an int writes that character)."""
        text = chr(value) if isinstance(value, int) and not isinstance(value, bool) else _text(value)
        if offset is not None:
            text = text[offset : offset + (length if length is not None else len(text))]
        self._buffer.write(text)

    def append(self, value: Any) -> StringWriter:
        """Write ``value``'s text; returns the writer (calls chain)."""
        self._buffer.write(_text(value))
        return self

    def toString(self) -> str:
        """Everything written so far."""
        return self._buffer.getvalue()

    __str__ = toString

    def getBuffer(self) -> Any:
        """The text written so far (Java returns a ``StringBuffer``; its ``toString()`` works here too)."""
        from xlr_runtime.compat.shims.java_lang import StringBuilder

        return StringBuilder(self._buffer.getvalue())

    def flush(self) -> None:
        """Nothing to flush."""

    def close(self) -> None:
        """Closing a StringWriter has no effect, as in Java: it can still be read."""


class PrintWriter:
    """``java.io.PrintWriter`` over a :class:`StringWriter`, another writer, ``System.out``/``System.err``, a
    Python text stream, or a file name / :class:`File` (created or truncated). ``print``/``println``/``printf``
    write Java's text of a value (``null``, ``true``); ``println`` ends the line with ``\\n``. Nothing is
    buffered: ``flush`` and ``autoFlush`` change nothing. Reached from a translated script as ``print_``."""

    def __init__(self, out: Any, autoFlush: Any = False) -> None:
        self._owned = isinstance(out, str | File | Path)
        self._out = open(str(out), "w", encoding="utf-8") if self._owned else out  # noqa: SIM115 (closed by close())

    def _write(self, text: str) -> None:
        out = self._out
        if hasattr(out, "write"):
            out.write(text)
        else:  # java.lang.System.out / err
            out.print_(text)

    def print(self, value: Any) -> None:
        """Write ``value``'s text."""
        self._write(_text(value))

    print_ = print  # as the translator renames a ``writer.print(...)`` call

    def println(self, value: Any = "") -> None:
        """Write ``value``'s text and a line end."""
        self._write(_text(value) + "\n")

    def printf(self, pattern: str, *args: Any) -> PrintWriter:
        """Write ``pattern % args`` (the common Java specifiers are Python's; ``%n`` is a line end)."""
        self._write(str(pattern).replace("%n", "\n") % args)
        return self

    format = printf

    def write(self, value: Any, offset: int | None = None, length: int | None = None) -> None:
        """Write text (or an int's character), or the slice ``offset:offset+length`` of it."""
        text = chr(value) if isinstance(value, int) and not isinstance(value, bool) else _text(value)
        if offset is not None:
            text = text[offset : offset + (length if length is not None else len(text))]
        self._write(text)

    def append(self, value: Any) -> PrintWriter:
        """Write ``value``'s text; returns the writer."""
        self._write(_text(value))
        return self

    def flush(self) -> None:
        """Flush the underlying stream when it can."""
        flush = getattr(self._out, "flush", None)
        if callable(flush):
            flush()

    def checkError(self) -> bool:
        """Java reports write errors here; here they raise, so there never is one to report."""
        self.flush()
        return False

    def close(self) -> None:
        """Close the file this writer opened, or the writer it wraps (never ``System.out`` or the task log)."""
        out = self._out
        close = getattr(out, "close", None)
        if callable(close) and not hasattr(out, "print_") and out is not sys.stdout and out is not sys.stderr:
            close()


def _text(value: Any) -> str:
    """Java's ``String.valueOf``: ``null`` for None, ``true``/``false`` for booleans."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
