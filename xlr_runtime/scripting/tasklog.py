"""The task log of one script run: ``print`` and stderr captured as time-stamped, masked, bounded lines.

:class:`TaskLog` keeps at most ``max_bytes`` per run (each line counts its UTF-8 length plus
:data:`LINE_OVERHEAD` bytes of bookkeeping, so a flood of empty lines is bounded too). Past the limit, output is
dropped with one ``system`` line saying so; a script printing 50 MB costs no more memory than the limit.
Secrets are masked line by line, before a line is cut to the limit, so a cut never exposes part of a secret: the
cut keeps a margin as long as the longest masked form the run's masker knows at the time of the cut, secrets it
learned during the run (an OAuth2 token) included.
"""

from __future__ import annotations

import io
import sys
import threading
import time
from typing import Any

from xlr_runtime.scripting.contract import LogLine
from xlr_runtime.scripting.masking import Masker

#: Bytes each line counts besides its text, for the memory a line costs.
LINE_OVERHEAD = 32


class TaskLog:
    """Collects the lines of one run from any number of streams, in order, thread-safe; ``masker`` masks them."""

    def __init__(self, max_bytes: int, masker: Masker | None = None) -> None:
        self.max_bytes = max_bytes
        self._masker = masker if masker is not None else Masker(())
        self._lines: list[LogLine] = []
        self._sent = 0
        self._used = 0
        self.full = False
        self.closed = False
        self._pending: dict[str, tuple[float, list[str], int]] = {}
        self._lock = threading.Lock()

    def stream(self, name: str) -> LogStream:
        """A text stream (for ``sys.stdout``/``sys.stderr``) whose writes become lines of ``name``."""
        return LogStream(self, name)

    def write(self, stream: str, text: str) -> None:
        """Add ``text`` written to ``stream``; complete lines are masked and kept, the rest waits for its end."""
        if self.full or self.closed or not text:
            return
        with self._lock:
            if self.closed:  # the run ended while this thread was on its way here
                return
            started, parts, size = self._pending.pop(stream, (time.time(), [], 0))
            start = 0
            newline = text.find("\n")
            while newline >= 0 and not self.full:
                parts.append(text[start:newline])
                self._emit(stream, started, "".join(parts))
                parts, size, started = [], 0, time.time()
                start = newline + 1
                newline = text.find("\n", start)
            if self.full:
                return
            rest = text[start:]
            if rest:
                parts.append(rest)
                size += len(rest)
                if size > self.max_bytes - self._used + self._masker.longest:
                    self._emit(stream, started, "".join(parts))
                    return
                self._pending[stream] = (started, parts, size)

    def close(self) -> list[LogLine]:
        """End the run: keep unfinished lines and return every line; later writes are dropped."""
        with self._lock:
            for stream, (started, parts, _) in sorted(self._pending.items(), key=lambda item: item[1][0]):
                if not self.full:
                    self._emit(stream, started, "".join(parts))
            self._pending.clear()
            self.closed = True
            lines, self._lines = self._lines, []  # a thread of the run may outlive it: it keeps no lines alive
            self._sent = 0
            return lines

    def take_unsent(self) -> list[LogLine]:
        """The lines added since the last call (streamed to the parent while the script runs)."""
        with self._lock:
            lines = self._lines[self._sent :]
            self._sent = len(self._lines)
            return lines

    def _emit(self, stream: str, started: float, text: str) -> None:
        room = self.max_bytes - self._used
        if len(text) + LINE_OVERHEAD <= room:
            masked = self._masker.mask(text)
            cost = len(masked.encode("utf-8", "replace")) + LINE_OVERHEAD
            if cost <= room:
                self._lines.append(LogLine(started, stream, masked))
                self._used += cost
                return
        self._truncate(stream, started, text, room)

    def _truncate(self, stream: str, started: float, text: str, room: int) -> None:
        """Keep the part of ``text`` that fits, end the log, and never show part of a secret."""
        margin = self._masker.longest  # read now: the masker may have learned a longer secret since the run began
        head = text[: room + margin]
        masked = self._masker.mask(head)
        if len(head) < len(text) and margin:
            masked = masked[:-margin]  # the cut may have split a secret: its start is in this tail
        kept = masked.encode("utf-8", "replace")[: max(room - LINE_OVERHEAD, 0)].decode("utf-8", "ignore")
        if kept:
            self._lines.append(LogLine(started, stream, kept))
        self._lines.append(
            LogLine(
                time.time(),
                "system",
                f"[output truncated: the task log keeps {self.max_bytes} bytes per script run; "
                "further output was dropped]",
            )
        )
        self.full = True
        self._pending.clear()


class LogStream(io.TextIOBase):
    """A write-only text stream feeding one stream of a :class:`TaskLog`."""

    def __init__(self, log: TaskLog, name: str) -> None:
        super().__init__()
        self._log = log
        self._name = name

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "replace"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:  # type: ignore[override]
        text = _text(text)
        self._log.write(self._name, text)
        return len(text)

    def flush(self) -> None:
        """Nothing to flush: lines are kept as they complete."""


def _text(text: Any) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, bytes | bytearray):
        return bytes(text).decode("utf-8", "replace")
    return str(text)


#: The attribute of a :class:`threading.Thread` naming the :class:`TaskLog` its output goes to (in a worker).
_LOG = "_xlr_task_log"
#: The worker's two router streams (stdout, stderr), once :func:`route_output` installed them.
_routers: tuple[RouterStream, RouterStream] | None = None


class RouterStream(LogStream):
    """A worker's ``sys.stdout`` or ``sys.stderr``: each write goes to the log of the writing thread's run, or
    nowhere when that thread belongs to no run in progress."""

    def __init__(self, name: str) -> None:
        io.TextIOBase.__init__(self)
        self._name = name

    def write(self, text: str) -> int:  # type: ignore[override]
        text = _text(text)
        log: TaskLog | None = getattr(threading.current_thread(), _LOG, None)
        if log is not None:
            log.write(self._name, text)
        return len(text)


def route_output() -> None:
    """Make this process's ``sys.stdout``/``sys.stderr`` (and ``sys.__stdout__``/``sys.__stderr__``, which scripts
    restore to) route by thread, and tag every thread started from now on with its starter's log.

    For worker processes only: once called, :func:`capture` binds a log to the thread that runs a script instead of
    swapping the streams. A thread started by ``_thread.start_new_thread`` belongs to no run; text written to file
    descriptors 1 and 2 (``os.write``, subprocesses) does not go through these streams at all."""
    global _routers
    if _routers is not None:
        return
    _routers = (RouterStream("stdout"), RouterStream("stderr"))
    sys.stdout, sys.stderr = _routers
    sys.__stdout__, sys.__stderr__ = _routers  # type: ignore[misc]
    start = threading.Thread.start

    def start_tagged(thread: threading.Thread) -> None:
        setattr(thread, _LOG, getattr(threading.current_thread(), _LOG, None))  # before it can print anything
        start(thread)

    threading.Thread.start = start_tagged  # type: ignore[method-assign]


def capture(log: TaskLog) -> tuple[Any, Any]:
    """Send what this thread (and, in a worker, the threads it starts) prints to ``log`` until :func:`release`
    is called with what this returns."""
    if _routers is None:  # in-process runs (tests, benchmarks): swap the streams for the run
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = log.stream("stdout"), log.stream("stderr")
        return saved
    setattr(threading.current_thread(), _LOG, log)
    sys.stdout, sys.stderr = _routers
    return _routers


def release(saved: tuple[Any, Any]) -> None:
    """End :func:`capture`: this thread's output goes where it went before (in a worker, nowhere), and the
    streams are the ones from before, whatever the script assigned to them."""
    if _routers is not None:
        setattr(threading.current_thread(), _LOG, None)
        sys.__stdout__, sys.__stderr__ = _routers  # type: ignore[misc]
    sys.stdout, sys.stderr = saved
