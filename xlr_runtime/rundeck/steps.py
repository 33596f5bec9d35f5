"""Running node steps on the local node executor: exec commands and scripts, as ``/bin/sh -c <command>``.

Output is streamed line by line (stdout as ``NORMAL``, stderr as ``ERROR``) to a callback that may ask to stop
(log-limit halt); a deadline (job timeout) or an abort request kills the whole process group.
"""

from __future__ import annotations

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
    lines: queue.Queue[tuple[str, str] | None] = queue.Queue()
    readers = [
        threading.Thread(target=_pump, args=(process.stdout, "NORMAL", lines), daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, "ERROR", lines), daemon=True),
    ]
    for reader in readers:
        reader.start()
    open_streams = len(readers)
    stopped: StopReason | None = None
    while open_streams:
        stopped = stopped or should_stop()
        if stopped is not None:
            _kill(process)
        try:
            item = lines.get(timeout=POLL_INTERVAL)
        except queue.Empty:
            continue
        if item is None:
            open_streams -= 1
        elif stopped is None and not on_line(*item):
            stopped = StopReason.HALTED
            _kill(process)
    exit_code = process.wait()
    return CommandResult(exit_code=exit_code, stopped=stopped)


def _pump(stream: object, level: str, lines: queue.Queue[tuple[str, str] | None]) -> None:
    assert hasattr(stream, "readline")
    for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
        lines.put((level, raw.decode("utf-8", "replace").rstrip("\r\n")))
    lines.put(None)


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def write_script(text: str, *, suffix: str | None = None) -> Path:
    """Write a script to a private temporary file (mode 0700) and return its path; the caller removes it."""
    extension = suffix if not suffix or suffix.startswith(".") else f".{suffix}"
    handle, name = tempfile.mkstemp(prefix="xlr-script-", suffix=extension or "")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
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
