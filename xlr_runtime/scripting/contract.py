"""What the scheduler hands the worker pool for one script run, and what comes back.

Both sides are plain, picklable dataclasses: the pool sends a :class:`ScriptRunRequest` to a worker process and
returns a :class:`ScriptRunResult`. Nothing in a request lets a script reach the runtime's database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the store imports this module for Failure and LogLine: keep it light
    from concurrent.futures import Future

    from xlr_runtime.typesystem.model import TaskType


class RunOutcome(StrEnum):
    """How one script run ended."""

    SUCCEEDED = "succeeded"  # normal end, sys.exit(0) or sys.exit(None)
    FAILED = "failed"  # sys.exit(n != 0), sys.exit("message"), or an uncaught exception
    TIMED_OUT = "timed_out"  # ran past its timeout; its worker was killed and replaced
    CRASHED = "crashed"  # its worker process died (os._exit, a signal, out of memory)


@dataclass(frozen=True)
class CiValue:
    """A configuration item resolved for a script: its name, type, property values and secret fields."""

    name: str
    type: str
    values: dict[str, Any]
    password_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class HttpCassette:
    """Record or replay the HTTP exchanges of a script run, for the test harness (see
    :mod:`xlr_runtime.scripting.recording`).

    ``path`` is the test's cassette file, whose answers the run plays when ``replay`` is set. ``workspace`` is a
    folder private to the test: a run that records (``record``) writes its exchanges there as a part of its own,
    and the runs that replay note there which answers were played, so that a poll is answered with the next
    recorded answer whichever worker process runs it.
    """

    path: str
    workspace: str
    replay: bool
    record: bool


@dataclass(frozen=True)
class ScriptRunRequest:
    """One script of one task to run now.

    ``properties`` holds every property of the task with its current value (inputs coerced; outputs and
    script properties as left by earlier runs, or ``None``). ``cis`` maps a ``kind="ci"`` property name to
    its resolved CI (a list of them for ``list_of_ci``/``set_of_ci``). ``script_file`` is the path the script
    is compiled under, so tracebacks name it (``/p/plugin.jar!/jenkins/Build.py`` inside an archive).
    ``module_path`` holds the roots the script imports plugin modules from (``ext/`` first, then every plugin in
    discovery order), each a plugin folder or ``.jar``/``.zip`` with its translation mode; see
    :mod:`xlr_runtime.compat.modules`. ``http_cassette`` is set by the test harness only, to record or replay
    the run's HTTP exchanges.
    """

    run_id: int
    task_id: str
    task_type: TaskType
    title: str
    script_path: str
    script_file: str
    source: str
    properties: dict[str, Any]
    cis: dict[str, CiValue | list[CiValue]] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    timeout: float = 3600.0
    translate: str = "auto"  # Python 2 translation: "auto" (detect), "on", "off"
    module_path: tuple[tuple[str, str], ...] = ()  # (plugin root, translate mode), in import order
    http_cassette: HttpCassette | None = None
    #: Epoch seconds before which the script must not start (0: at once): a run claimed a few milliseconds before
    #: its due time (see :data:`xlr_runtime.scheduler.CLAIM_AHEAD`) waits in its worker until then.
    not_before: float = 0.0


@dataclass(frozen=True)
class ScheduleRequest:
    """A script's ``task.schedule(path, interval)``: ``interval`` is ``None`` when the script gave none."""

    script_path: str
    interval: float | None = None


@dataclass(frozen=True)
class LogLine:
    """One line of a task log: epoch seconds, stream (``stdout``, ``stderr`` or ``system``) and text."""

    time: float
    stream: str
    text: str


@dataclass(frozen=True)
class Failure:
    """Why a run failed, stored as data: the exception type (or ``SystemExit``/``Timeout``/``WorkerCrash``),
    a one-line message and the traceback text (secrets masked)."""

    kind: str
    message: str
    traceback: str = ""


@dataclass(frozen=True)
class ScriptRunResult:
    """What a script run produced. ``properties`` holds the output and script properties read back from the
    namespace, coerced to their kinds (and any property a script set through ``pythonScript.setProperty``);
    ``log`` is already masked. ``schedule`` is set when the script asked for a next script. ``variables`` holds
    the ``releaseVariables``/``globalVariables``/``folderVariables`` maps (keyed like
    :attr:`ScriptRunRequest.variables`, secrets masked) when a successful script changed any of them, for the
    store to keep with the task; ``None`` when it changed none."""

    run_id: int
    outcome: RunOutcome
    properties: dict[str, Any] = field(default_factory=dict)
    status_line: str | None = None
    schedule: ScheduleRequest | None = None
    log: list[LogLine] = field(default_factory=list)
    failure: Failure | None = None
    started_at: float = 0.0
    ended_at: float = 0.0
    worker_pid: int | None = None
    variables: dict[str, dict[str, Any]] | None = None

    @property
    def succeeded(self) -> bool:
        """True when the script ended normally."""
        return self.outcome is RunOutcome.SUCCEEDED


class ScriptExecutor(Protocol):
    """Runs script runs somewhere else (the worker pool); the scheduler only sees this."""

    def submit(self, request: ScriptRunRequest) -> Future[ScriptRunResult]:
        """Start ``request``, not before its ``not_before`` time; the future always ends with a result (timeouts
        and crashes are outcomes)."""
        ...

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop the workers; with ``wait``, let running scripts finish first."""
        ...
