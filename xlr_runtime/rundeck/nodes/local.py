"""Running node steps on the local node executor: exec commands and scripts, as ``/bin/sh -c <command>``.

Output is streamed line by line (stdout as ``NORMAL``, stderr as ``ERROR``) to a callback that may ask to stop
(log-limit halt); a deadline (job timeout) or an abort request kills the whole process group. Output is read in
bounded pieces: a line longer than :data:`LINE_PIECE` bytes is handed on in several pieces (cut after a space when
there is one near the cut), and at most :data:`QUEUED_PIECES` pieces wait for the callback (the command waits when
the log is slower than it), so a step printing a 300 MB line holds a few MB, never the line.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import requests

#: How often a running command checks for an abort request or its deadline (seconds).
POLL_INTERVAL = 0.05
#: Seconds to wait for a scripturl.
SCRIPT_URL_TIMEOUT = 30.0
#: Longest piece of an output line handed on at once (bytes of output).
LINE_PIECE = 64 * 1024
#: Bytes before a cut searched for a space to cut after (a secret is rarely cut in two that way).
CUT_SEARCH = 1024
#: Pieces of output read ahead of the callback at most.
QUEUED_PIECES = 64


class StopReason(StrEnum):
    """Why a command was stopped before it ended by itself."""

    ABORTED = "aborted"
    TIMEDOUT = "timedout"
    HALTED = "halted"


@dataclass(frozen=True)
class CommandResult:
    """How a command ended: its exit code, or the reason it was stopped."""

    exit_code: int | None
    stopped: StopReason | None = None

    @property
    def succeeded(self) -> bool:
        """True for exit code 0 without being stopped."""
        return self.stopped is None and self.exit_code == 0


#: Called with (level, text) for each output line; returning ``False`` stops the command (log-limit halt).
LineSink = Callable[[str, str], bool]
#: Returns why the command must stop now (abort, timeout), or ``None`` to let it run.
StopCheck = Callable[[], StopReason | None]


def run_shell(
    command: str,
    *,
    env: Mapping[str, str],
    on_line: LineSink,
    should_stop: StopCheck,
    cwd: str | Path | None = None,
) -> CommandResult:
    """Run ``/bin/sh -c command`` with ``env`` added to this process's environment, streaming its output."""
    process = subprocess.Popen(
        ["/bin/sh", "-c", command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **env},
        cwd=cwd,
        start_new_session=True,
    )
    try:
        stopped = follow_output(
            process.stdout, process.stderr, on_line=on_line, should_stop=should_stop, kill=lambda: _kill(process)
        )
    finally:
        exit_code = process.wait()
    return CommandResult(exit_code=exit_code, stopped=stopped)


def follow_output(
    stdout: object, stderr: object, *, on_line: LineSink, should_stop: StopCheck, kill: Callable[[], None]
) -> StopReason | None:
    """Hand each line of two binary streams (stdout as ``NORMAL``, stderr as ``ERROR``) to ``on_line`` until both
    end; call ``kill`` (maybe more than once) as soon as ``should_stop`` answers or ``on_line`` asks to halt, or
    when either raises (the error then propagates). Returns why the command was stopped, or ``None``."""
    lines: queue.Queue[tuple[str, str] | None] = queue.Queue(QUEUED_PIECES)
    readers = [
        threading.Thread(target=_pump, args=(stdout, "NORMAL", lines), daemon=True),
        threading.Thread(target=_pump, args=(stderr, "ERROR", lines), daemon=True),
    ]
    for reader in readers:
        reader.start()
    open_streams = len(readers)
    stopped: StopReason | None = None
    try:
        while open_streams:
            stopped = stopped or should_stop()
            if stopped is not None:
                kill()
            try:
                item = lines.get(timeout=POLL_INTERVAL)
            except queue.Empty:
                continue
            if item is None:
                open_streams -= 1
            elif stopped is None and not on_line(*item):
                stopped = StopReason.HALTED
                kill()
    except BaseException:  # a line or check that failed (a write refused: the execution is no longer ours)
        kill()
        raise
    return stopped


def _pump(stream: object, level: str, lines: queue.Queue[tuple[str, str] | None]) -> None:
    """Hand on each line of ``stream``, a long one in pieces of at most :data:`LINE_PIECE` bytes, then ``None``."""
    assert hasattr(stream, "readline")
    decoder = codecs.getincrementaldecoder("utf-8")("replace")  # a character cut between two pieces stays whole
    carry, continued = b"", False  # the start of the next piece; whether a line was cut
    for raw in iter(lambda: stream.readline(LINE_PIECE), b""):  # type: ignore[attr-defined]
        data, carry = carry + raw, b""
        if len(raw) < LINE_PIECE or raw.endswith(b"\n"):  # the end of a line, or of the output
            text = decoder.decode(data, final=True).rstrip("\r\n")
            if text or not continued:  # a line cut just before its new line has been handed on already
                lines.put((level, text))
            continued = False
            continue
        space = data.rfind(b" ", max(0, len(data) - CUT_SEARCH))
        if space > 0:
            data, carry = data[: space + 1], data[space + 1 :]
        lines.put((level, decoder.decode(data)))
        continued = True
    rest = decoder.decode(carry, final=True)
    if rest:
        lines.put((level, rest))
    lines.put(None)


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def write_script(data: bytes, *, suffix: str | None = None) -> Path:
    """Write a script to a private temporary file (mode 0700) and return its path; the caller removes it."""
    extension = suffix if not suffix or suffix.startswith(".") else f".{suffix}"
    handle, name = tempfile.mkstemp(prefix="xlr-script-", suffix=extension or "")
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    os.chmod(name, 0o700)
    return Path(name)


def fetch_script(url: str) -> str:
    """The text a scripturl serves (raises ``requests.RequestException`` when it cannot be read)."""
    response = requests.get(url, timeout=SCRIPT_URL_TIMEOUT)
    response.raise_for_status()
    return response.text


def deadline_check(deadline: float | None, abort: Callable[[], bool]) -> StopCheck:
    """A :data:`StopCheck` for an absolute wall-clock ``deadline`` (or none) and an abort flag.

    The abort flag is read at most every ``0.2`` seconds (it may be a database read)."""
    last = [0.0, False]

    def check() -> StopReason | None:
        now = time.time()
        if now - last[0] >= 0.2:
            last[0], last[1] = now, abort()
        if last[1]:
            return StopReason.ABORTED
        if deadline is not None and now >= deadline:
            return StopReason.TIMEDOUT
        return None

    return check
