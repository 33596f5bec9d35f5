"""A worker's memory between runs: garbage is collected after a run that made the worker grow, and a worker still
above ``workers.max_memory_mb`` afterwards is replaced.

A script's namespace is a reference cycle (``task`` holds it and it holds ``task``; so do the functions a script
defines), freed only by the cycle collector, whose oldest generation runs rarely: a run that built 500 MB kept
them held across later runs. After a run that took :data:`QUICK_RUN` or more (touching 64 MB takes longer), and
after every :data:`CHECK_EVERY` runs, the worker reads its peak resident size (``VmHWM``); when it grew
:data:`GC_STEP_MB` above the last mark, or above the limit, the worker collects garbage, reads its current size
(``/proc/self/statm``) and resets the peak (``/proc/self/clear_refs``) so the next runs compare against what is
left. A worker whose size after collection is above the limit asks its pool to replace it.
"""

from __future__ import annotations

import gc
import os
import resource

#: Growth of the peak resident size (MB) since the last look that makes the worker collect garbage after a run.
GC_STEP_MB = 64
#: Runs shorter than this (seconds) are not looked at one by one: they cannot have touched GC_STEP_MB.
QUICK_RUN = 0.002
#: Every this many runs the worker looks anyway (quick runs that each keep a little).
CHECK_EVERY = 64
_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


class MemoryWatch:
    """Looks at a worker's memory after each run; ``limit_mb`` 0 means no limit."""

    def __init__(self, limit_mb: int) -> None:
        self.limit_mb = limit_mb
        self._limit_kib = limit_mb * 1024 if limit_mb > 0 else None
        self._mark = _peak_kib() + GC_STEP_MB * 1024
        self._runs = 0

    def after_run(self, seconds: float) -> str | None:
        """Collect garbage if the run (that took ``seconds``) made the worker grow; why the worker must be replaced,
        or ``None``."""
        self._runs += 1
        if seconds < QUICK_RUN and self._runs % CHECK_EVERY:
            return None
        peak = _peak_kib()
        if peak < self._mark and (self._limit_kib is None or peak <= self._limit_kib):
            return None  # the usual case: one getrusage
        try:
            size = current_kib()
            if peak >= self._mark or (self._limit_kib is not None and size > self._limit_kib):
                gc.collect()
                size = current_kib()
        except OSError:  # no /proc: look again after the next growth
            self._mark = peak + GC_STEP_MB * 1024
            return None
        if self._limit_kib is not None and size > self._limit_kib:
            return f"its memory ({size // 1024} MB) is above workers.max_memory_mb ({self.limit_mb} MB) after a run"
        self._mark = (size if _reset_peak() else peak) + GC_STEP_MB * 1024
        return None


def current_kib() -> int:
    """This process's resident size now, in KiB."""
    with open("/proc/self/statm", "rb") as file:
        return int(file.read().split()[1]) * _PAGE_KIB


def _peak_kib() -> int:
    """The peak resident size of this process's memory, in KiB: ``VmHWM``, which :func:`_reset_peak` resets.

    Not ``getrusage``'s ``ru_maxrss``: for an exec'd process it starts at the peak of the process that forked it
    (the kernel keeps the pre-exec copy's peak), so a worker started by a large ``xlr serve`` or test process
    would never see its own growth."""
    try:
        with open("/proc/self/status", "rb") as file:
            for line in file:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak() -> bool:
    """Make the peak resident size the current one (Linux 4.0+); False when the system does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")
    except OSError:
        return False
    return True
