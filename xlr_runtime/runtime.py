"""One runtime over one home: settings, type registry, CIs, store, worker pool and scheduler, opened together.

The CLI (``xlr run``, ``xlr serve``, ``xlr tasks``), ``xlr demo``, Rundeck executions and the plugin-author
harness all use :class:`Runtime`::

    with Runtime(Home(path), plugin_paths=[plugin]) as runtime:
        task = runtime.create_task("jenkins.Build", {"jenkinsServer": "ci", "jobName": "app"})
        task = runtime.drive(task.id)          # run it to its end in this process

**One scheduler per home.** Serving a home takes an exclusive lock on ``xlr.lock`` in it (an ``fcntl`` lock,
released by the OS when the process dies, so ``kill -9`` never leaves it stale). A second ``xlr serve`` gets a
:class:`HomeLockedError`. The holder is also recorded in the store (:mod:`xlr_runtime.store.owners`), so a second
server whose lock succeeded only because ``xlr.lock`` was deleted still finds the live holder there and refuses
(and recovery never takes over a live owner's runs). A PostgreSQL store is shared by several homes, one per host
(docs/cluster.md): there the other owners are other hosts' servers, and ``xlr.lock`` alone guards the home.
Everything else may share the home with a server: ``xlr run`` and ``xlr task abort|retry|skip`` write to the store
(SQLite serialises writers) and nudge the server through a datagram socket ``xlr.wake`` in the home, so it picks
new work up at once; ``xlr run`` then follows its task from the store and takes over driving it if the server
stops.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import pluggy

from xlr_runtime import settings as settings_module
from xlr_runtime.cis import CiCatalog, load_cis
from xlr_runtime.clock import Clock, SystemClock
from xlr_runtime.compat.config import plugin_translate_modes
from xlr_runtime.engine import INTERRUPT_NOTE, Engine
from xlr_runtime.errors import HomeError, HomeLockedError
from xlr_runtime.home import Home
from xlr_runtime.hookspecs import Service
from xlr_runtime.plugins import plugin_manager
from xlr_runtime.scheduler import Scheduler
from xlr_runtime.scripting.contract import ScriptExecutor
from xlr_runtime.store import ScriptRun, Store, Task
from xlr_runtime.store.opening import open_store
from xlr_runtime.typesystem.registry import TypeRegistry, load_registry
from xlr_runtime.typesystem.sources import env_plugin_paths

log = logging.getLogger(__name__)

LOCK_FILE = "xlr.lock"
WAKE_SOCKET = "xlr.wake"
#: Unix socket paths longer than this cannot be bound (sun_path); the server then re-checks the store every
#: :data:`FALLBACK_WAIT` seconds instead.
_MAX_SOCKET_PATH = 100
FALLBACK_WAIT = 1.0


def freeze_start_up_heap() -> None:
    """Collect garbage once, then leave every object alive now out of later collections (``gc.freeze``).

    ``xlr serve`` calls it once its start-up is done (it owns its process; :meth:`Runtime.serve` in a process of
    yours does not): the modules, plugins, type definitions and services it holds live as long as the process, and
    each full collection walked them all again — a 20 to 30 ms pause of the scheduler about every ten seconds at 1,000
    runs a second, delaying every run falling due meanwhile. Objects made later are collected as before; garbage
    left by the start-up is collected first."""
    gc.collect()
    gc.freeze()


class HomeLock:
    """The exclusive ``xlr.lock`` of a home, held by the process that schedules its script runs."""

    def __init__(self, home: Home) -> None:
        self.path = home.root / LOCK_FILE
        self._handle: IO[str] | None = None

    def acquire(self, purpose: str) -> None:
        """Take the lock or raise :class:`HomeLockedError` naming the holder."""
        if not self.try_acquire(purpose):
            holder = self.holder() or "another process"
            raise HomeLockedError(
                f"home {self.path.parent} is in use by {holder}",
                hint="Stop that process first, or use another --home (XLR_HOME).",
            )

    def try_acquire(self, purpose: str) -> bool:
        """Take the lock if free; write ``pid purpose`` into it. Returns False when another process holds it."""
        if self._handle is not None:
            return True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+", encoding="utf-8")
        except OSError as exc:
            raise HomeError(self.path, f"cannot open the home's lock file: {exc.strerror or exc}") from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} ({purpose})\n")
        handle.flush()
        self._handle = handle
        return True

    def holder(self) -> str | None:
        """What the lock file says about its holder (``pid 123 (xlr serve)``), if anything."""
        try:
            return self.path.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def release(self) -> None:
        """Release the lock (the file stays; its content is stale until the next holder writes it)."""
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def notify_server(home: Home) -> bool:
    """Wake the server of ``home`` (if one listens) so it looks for due work now. Returns True if sent."""
    path = home.root / WAKE_SOCKET
    if len(str(path)) > _MAX_SOCKET_PATH or not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(b"w", str(path))
        except OSError:
            return False
    return True


class WakeListener:
    """The server's end of ``xlr.wake``: each datagram calls ``on_wake`` (from a daemon thread)."""

    def __init__(self, home: Home, on_wake: Callable[[], None]) -> None:
        self.path = home.root / WAKE_SOCKET
        self._on_wake = on_wake
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Bind the socket (only call while holding the home lock); False when the path is too long."""
        if len(str(self.path)) > _MAX_SOCKET_PATH:
            return False
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(self.path))
        self._thread = threading.Thread(target=self._listen, name="xlr-wake", daemon=True)
        self._thread.start()
        return True

    def _listen(self) -> None:
        sock = self._sock
        while sock is not None:
            try:
                data = sock.recv(16)
            except OSError:
                return
            if data == b"stop":
                return
            self._on_wake()

    def stop(self) -> None:
        """Close the socket and remove its file."""
        if self._sock is None:
            return
        with contextlib.suppress(OSError):
            self._sock.sendto(b"stop", str(self.path))
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._sock.close()
        self._sock = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class Runtime:
    """A home opened for work. Cheap to open (no worker starts until a script must run); close it when done.

    ``settings`` defaults to the home's (``xlr.toml``, ``conf/xl-release.conf``) with ``overrides`` applied; the
    types come from the plugins of its ``plugins.path``, then ``plugin_paths`` (default: ``XLR_PLUGIN_PATH``), then
    the home's folders, as for the CLI's ``--plugins``;
    ``executor`` defaults to a :class:`~xlr_runtime.scripting.pool.WorkerPool` sized by ``workers.size``;
    ``clock`` to the system clock (pass a :class:`~xlr_runtime.clock.VirtualClock` in tests); ``store`` to the
    store the settings name (``store.url``: the home's ``xlr.db`` by default; one given is the caller's to close).
    """

    def __init__(
        self,
        home: Home | Path,
        *,
        plugin_paths: Sequence[Path] = (),
        settings: settings_module.Settings | None = None,
        overrides: Mapping[str, Any] | None = None,
        clock: Clock | None = None,
        executor: ScriptExecutor | None = None,
        registry: TypeRegistry | None = None,
        pm: pluggy.PluginManager | None = None,
        include_bundled: bool = True,
        store: Store | None = None,
    ) -> None:
        self.home = (home if isinstance(home, Home) else Home(Path(home))).ensure()
        self.settings = settings or settings_module.load(self.home.root, overrides)
        #: The plugin locations given (else ``XLR_PLUGIN_PATH``'s), loaded after ``plugins.path``, and whether the
        #: bundled ones were loaded: what a process serving the same home (the HTTP server's) needs to load the
        #: same types.
        self.plugin_paths = tuple(Path(path) for path in plugin_paths) or tuple(env_plugin_paths())
        self.include_bundled = include_bundled
        self.pm = pm or plugin_manager()
        self.registry = registry or load_registry(
            plugin_paths=(*self.settings.plugin_paths(self.home.root), *self.plugin_paths),
            home=self.home,
            pm=self.pm,
            include_bundled=include_bundled,
        )
        config = self.settings.document_of(self.home.config_file)  # xlr.toml, parsed once per start-up
        self.cis: CiCatalog = load_cis(config, self.registry)
        translate_modes = plugin_translate_modes(config)  # checked before the store opens: nothing to close
        self.clock = clock or SystemClock()
        self._owns_store = store is None
        self.store = store or open_store(self.home, self.settings)
        self.engine = Engine(
            self.store,
            self.registry,
            self.settings,
            self.clock,
            cis=self.cis,
            pm=self.pm,
            translate_modes=translate_modes,
        )
        self.lock = HomeLock(self.home)
        self._executor = executor
        self._owns_executor = executor is None
        self._scheduler: Scheduler | None = None
        self._stop_requested = False

    # -- parts -------------------------------------------------------------------------------------------------

    @property
    def executor(self) -> ScriptExecutor:
        """The script executor (the worker pool, created on first use)."""
        if self._executor is None:
            from xlr_runtime.scripting.pool import WorkerPool

            self._executor = WorkerPool.from_settings(self.settings)
        return self._executor

    def scheduler(self, *, only_task: str | None = None, capacity: int | None = None) -> Scheduler:
        """A new scheduler over this runtime's store and executor (hold the home lock before running it)."""
        return Scheduler(
            self.store,
            self.registry,
            self.executor,
            self.settings,
            self.clock,
            capacity=capacity,
            only_task=only_task,
            engine=self.engine,  # shares the runtime's CIs, hooks and translate modes
        )

    # -- operations --------------------------------------------------------------------------------------------

    def create_task(self, type_name: str, inputs: Mapping[str, Any] | None = None, *, title: str | None = None) -> Task:
        """Validate and store a new task (see :meth:`Engine.create_task`), and wake a server of this home."""
        task = self.engine.create_task(type_name, inputs, title=title)
        notify_server(self.home)
        return task

    def abort(self, task_id: str) -> Task:
        """Abort a task (see :meth:`Engine.abort`)."""
        return self.engine.abort(task_id)

    def retry(self, task_id: str) -> Task:
        """Retry a failed or aborted task (see :meth:`Engine.retry`) and wake a server of this home."""
        task = self.engine.retry(task_id)
        notify_server(self.home)
        return task

    def skip(self, task_id: str) -> Task:
        """Skip a task (see :meth:`Engine.skip`)."""
        return self.engine.skip(task_id)

    def drive(self, task_id: str, *, grace_period: float = 0.0, command: str = "xlr run") -> Task:
        """Run ``task_id``'s script runs in this process until the task ends or :meth:`request_stop`; return it.

        Takes the home lock (:class:`HomeLockedError` when another process schedules this home; ``xlr run``
        then follows the task instead); ``command`` names this process in the lock file and the owner row. On a
        stop, a running script gets ``grace_period`` seconds and is then re-queued: the task stays stored and
        resumable.
        """
        purpose = f"{command}, task {task_id}"
        self.lock.acquire(purpose)
        try:
            scheduler = self._start_scheduler(only_task=task_id)
            self.register(scheduler, purpose)
            scheduler.recover()
            scheduler.run(
                until=lambda: self.store.tasks.get(task_id).status.is_final,
                grace_period=grace_period,
                stop_note=INTERRUPT_NOTE,
            )
        finally:
            self._scheduler = None
            self.lock.release()
        return self.store.tasks.get(task_id)

    def serve(self, *, on_ready: Callable[[], None] | None = None) -> None:
        """Run every due script run of the home until :meth:`request_stop`, then stop gracefully
        (``serve.grace_period``). Services registered through the ``xlr_serve_services`` hook (the Rundeck
        executions, schedules and notifications) run beside the scheduler until then. Raises
        :class:`HomeLockedError` when the home is served already."""
        self.lock.acquire("xlr serve")
        listener: WakeListener | None = None
        services: list[Service] = []
        stack = contextlib.ExitStack()
        try:
            scheduler = self._start_scheduler()
            self.register(scheduler, "xlr serve")
            listener = WakeListener(self.home, scheduler.wake)
            listening = listener.start()
            announced = self.store.listen_for_work(scheduler.wake)  # work added by other hosts (PostgreSQL)
            if announced is not None:
                stack.enter_context(announced)
            recovery = scheduler.recover()
            for run in recovery.restarted:
                _log_requeued(run, "re-queued: the process running it ended")
            for owner, lost in recovery.taken_over.items():
                for run in lost:
                    _log_requeued(run, f"taken over from {owner or 'a runtime without a name'}: its lease ran out")
            log.info("serving %s (%s)", self.home.root, recovery.summary())
            started = self.pm.hook.xlr_serve_services(runtime=self, scheduler=scheduler)
            services = [service for service in started if service is not None]
            if on_ready is not None:
                on_ready()
            scheduler.run(max_wait=None if listening else FALLBACK_WAIT)
        finally:
            for service in services:
                service.request_stop()
            if listener is not None:
                listener.stop()
            stack.close()
            self._scheduler = None
            self.lock.release()

    @property
    def stop_requested(self) -> bool:
        """True once :meth:`request_stop` was called."""
        return self._stop_requested

    def request_stop(self) -> None:
        """Ask a running :meth:`serve` or :meth:`drive` to stop gracefully (from any thread, not a signal handler)."""
        self._stop_requested = True
        if self._scheduler is not None:
            self._scheduler.request_stop()

    def register(self, scheduler: Scheduler, purpose: str) -> None:
        """Record this process as the home's holder in the store, or raise :class:`HomeLockedError` naming the
        live holder found there (its ``xlr.lock`` was deleted or replaced, so the file lock did not stop us). On a
        store several homes share (PostgreSQL) the other owners are other homes' servers: it only records."""
        live = scheduler.register(purpose, exclusive=not self.store.shared)
        if live:
            holder = live[0]
            raise HomeLockedError(
                f"home {self.home.root} is in use by {holder.describe()}, although {LOCK_FILE} did not say so "
                "(it was deleted or replaced)",
                hint="Stop that process first (its script runs stay its own), or use another --home (XLR_HOME).",
            )

    def _start_scheduler(self, *, only_task: str | None = None) -> Scheduler:
        self._scheduler = self.scheduler(only_task=only_task)
        if self._stop_requested:
            self._scheduler.request_stop()
        return self._scheduler

    def close(self) -> None:
        """Stop the worker pool (running scripts are killed) and close the store (when the runtime opened them)."""
        if self._executor is not None and self._owns_executor:
            self._executor.shutdown(wait=False)
        self._executor = None
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class StopFlag:
    """Set by SIGTERM/SIGINT handlers (which only set this flag); see :func:`run_until_stopped`."""

    def __init__(self) -> None:
        self.requested = False

    def install(self) -> Callable[[], None]:
        """Install the handlers for SIGTERM and SIGINT; return a function restoring the previous ones."""
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

        def handler(_signum: int, _frame: Any) -> None:
            self.requested = True

        for sig in previous:
            signal.signal(sig, handler)

        def restore() -> None:
            for sig, old in previous.items():
                signal.signal(sig, old)

        return restore


def _log_requeued(run: ScriptRun, what: str) -> None:
    """The serve log's line for a script run re-queued at start (``what`` says why)."""
    log.info(
        "task %s: script run %s (%s) %s", run.task_id, run.id, run.script_path, what,
        extra={"event": "run.requeued", "task_id": int(run.task_id), "run_id": run.id},
    )  # fmt: skip


def run_until_stopped(
    work: Callable[[], None],
    flag: StopFlag,
    request_stop: Callable[[], None],
    *,
    on_check: Callable[[], None] | None = None,
    check_every: float = 0.2,
) -> None:
    """Run ``work`` in a thread; when ``flag`` is raised, call ``request_stop`` once and wait for ``work`` to end.

    The main thread only joins, checks the flag (signal handlers run in it and only set the flag) and calls
    ``on_check`` (a display refresh); the scheduler in the work thread sleeps on its own events. An exception
    of ``work`` is re-raised here.
    """
    errors: list[BaseException] = []

    def target() -> None:
        try:
            work()
        except BaseException as exc:  # handed to the main thread, which re-raises it
            errors.append(exc)

    thread = threading.Thread(target=target, name="xlr-scheduler")
    thread.start()
    stopping = False
    while thread.is_alive():
        thread.join(check_every)
        if on_check is not None:
            on_check()
        if flag.requested and not stopping:
            stopping = True
            request_stop()
    if errors:
        raise errors[0]
