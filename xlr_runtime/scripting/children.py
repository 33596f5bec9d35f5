"""The processes a script run starts end with the run: a worker kills its child processes when a run ends.

A worker runs scripts in its own process, so "the run's processes" are the worker's children alive when the run
ends: a worker starts none of its own, and those of earlier runs were ended with them. A worker is made a child
subreaper (Linux ``PR_SET_CHILD_SUBREAPER``), so a process that detaches from its parent (``cmd &`` in a shell
that exits, a double fork, ``setsid``) is re-parented to the worker rather than to init and ends with the run too.
Without it (another system, a refused ``prctl``), detached processes are only killed with the worker's process
group when the worker is replaced.

Looking for children costs a ``waitpid`` (a few µs, most of a trivial run's overhead), so a worker looks after a
run only when the run started a process through Python (:func:`watch_spawns`: ``subprocess``, ``os.fork``,
``os.posix_spawn``, ``os.system``, ``multiprocessing``...), and once more when a batch of runs is over, which also
catches processes started some other way (a C library calling ``fork``).
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

#: Seconds a worker keeps killing and reaping its children at the end of a run before it gives up (and asks to be
#: replaced).
KILL_SECONDS = 2.0
_PR_SET_CHILD_SUBREAPER = 36
#: Whether a process may have been started since :func:`end_spawned` last looked.
_spawned = False


def become_subreaper() -> bool:
    """Make this process the reaper of its descendants that lose their parent; False when the system refuses."""
    try:
        import ctypes  # only workers pay for it, once

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def watch_spawns() -> None:
    """Make every Python way of starting a process note that one was started (see :func:`end_spawned`)."""
    os.register_at_fork(before=_note)  # os.fork, os.forkpty, os.spawn*, multiprocessing's fork
    targets: list[tuple[Any, str]] = [(os, "posix_spawn"), (os, "posix_spawnp"), (os, "system")]
    targets.append((subprocess, "_fork_exec"))  # subprocess.Popen (its posix_spawn path is os.posix_spawn)
    try:
        import _posixsubprocess

        targets.append((_posixsubprocess, "fork_exec"))  # multiprocessing's spawn and forkserver
    except ImportError:
        pass
    for module, name in targets:
        original = getattr(module, name, None)
        if callable(original):
            setattr(module, name, _noting(original))


def _note() -> None:
    global _spawned
    _spawned = True


def _noting(start: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(start)
    def noted(*args: Any, **kwargs: Any) -> Any:
        _note()
        return start(*args, **kwargs)

    return noted


def end_spawned() -> bool:
    """:func:`end_children` if a process was started through Python since the last call; True when none is left
    (or none was started)."""
    global _spawned
    if not _spawned:
        return True
    _spawned = False  # first: a thread may start another meanwhile
    return end_children()


def end_children(seconds: float = KILL_SECONDS) -> bool:
    """Kill (SIGKILL) and reap every child process of this process, and the children they leave behind; True when
    none is left (False after ``seconds`` of trying)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:  # reap the children that have ended
                pass
        except ChildProcessError:
            return True  # no child at all
        if time.monotonic() > deadline:
            return False
        for pid in children():
            _kill(pid)
        time.sleep(0.002)


def children() -> list[int]:
    """Process ids of this process's children."""
    pids: list[int] = []
    try:
        threads = os.listdir("/proc/self/task")
    except OSError:
        threads = []
    for thread in threads:
        try:
            with open(f"/proc/self/task/{thread}/children", "rb") as file:
                pids.extend(int(pid) for pid in file.read().split())
        except FileNotFoundError:
            return _children_by_scan()  # a kernel without /proc/PID/task/TID/children
        except OSError:
            continue  # the thread ended meanwhile
    return pids


def _children_by_scan() -> list[int]:
    me, pids = os.getpid(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as file:
                fields = file.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == me:
            pids.append(int(entry))
    return pids


def _kill(pid: int) -> None:
    """Kill ``pid``, and its whole process group when it leads one (a child started with a session of its own:
    everything in it descends from the run)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        os.kill(pid, signal.SIGKILL)
