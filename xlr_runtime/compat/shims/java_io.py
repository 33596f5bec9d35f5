"""``java.io``: ``File``, readers and writers over Python files, and the I/O exceptions (Python's)."""

from __future__ import annotations

import io
import os
import shutil
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
