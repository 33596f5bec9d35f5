"""The HTTP server's own process: ``python -m xlr_runtime.http.process LISTEN_FD LOG_FD LIFELINE_FD``.

``xlr serve`` starts it (:class:`xlr_runtime.http.server.HttpService`) with the listening socket it bound, a pipe
for log records, the read end of a pipe only serve writes to, and what to serve (a
:class:`~xlr_runtime.http.server.ServerSpec`) as JSON on its standard input. It opens the home as serve did
(settings, types, CIs, its own store connection: SQLite in WAL lets it read while the scheduler writes) and runs
uvicorn in a thread on the socket. Writes go through the same engine operations as the CLI and wake the scheduler
through the home's ``xlr.wake`` socket, as ``xlr run`` does. It stops on SIGTERM or SIGINT, and when the lifeline
pipe closes (serve is gone, even by ``kill -9``): live streams end, open requests get
:data:`~xlr_runtime.http.server.SHUTDOWN_GRACE` seconds, and it exits 0.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import threading
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from xlr_runtime import settings as settings_module
from xlr_runtime.errors import XlrError
from xlr_runtime.http.app import build_app
from xlr_runtime.http.context import ApiContext
from xlr_runtime.http.logpipe import PipeHandler
from xlr_runtime.http.server import SHUTDOWN_GRACE, ServerSpec
from xlr_runtime.runtime import Runtime, StopFlag, notify_server
from xlr_runtime.task_events import TaskEvents

log = logging.getLogger("xlr_runtime.http")

#: Seconds between two checks of the stop conditions.
CHECK_EVERY = 0.2


class UvicornThread:
    """uvicorn serving ``app`` on ``sock`` in the thread ``xlr-http``."""

    def __init__(self, context: ApiContext, app: Starlette, sock: socket.socket) -> None:
        self.context = context
        self.sock = sock
        config = uvicorn.Config(
            app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=SHUTDOWN_GRACE
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="xlr-http", daemon=True)

    def start(self) -> UvicornThread:
        """Start serving; return self."""
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except Exception:  # the process exits and serve restarts it; the reason is in the serve log
            log.exception("the HTTP API stopped", extra={"event": "http.failed"})

    def stop(self) -> None:
        """End live streams, stop uvicorn and wait for its thread."""
        self.context.stopping.set()
        self.server.should_exit = True
        self.thread.join(SHUTDOWN_GRACE + 5)


def open_runtime(spec: ServerSpec) -> Runtime:
    """The served home opened as serve opened it (no worker ever starts here: no script runs in this process)."""
    home = Path(spec.home)
    settings = settings_module.load(home, spec.overrides)
    runtime = Runtime(
        home, plugin_paths=[*map(Path, spec.plugin_paths)], settings=settings,
        include_bundled=spec.include_bundled,
    )  # fmt: skip
    runtime.pm.register(TaskEvents())  # an abort or skip through the API is logged as serve logs it
    return runtime


def api_context(runtime: Runtime) -> ApiContext:
    """What the handlers share: the runtime's home, types and store, and the wake of serve's scheduler."""

    def wake() -> None:
        notify_server(runtime.home)

    return ApiContext(
        runtime.home, runtime.settings, runtime.registry, runtime.store, runtime.engine, runtime.clock, wake,
        cis=runtime.cis,
    )  # fmt: skip


def _watch_parent(fd: int, gone: threading.Event) -> None:
    """Set ``gone`` when the lifeline pipe closes: only serve holds its write end, so serve has exited."""
    with contextlib.suppress(OSError):
        while os.read(fd, 64):
            pass
    gone.set()


def serve(spec: ServerSpec, sock: socket.socket, lifeline_fd: int) -> int:
    """Serve the API on ``sock`` until a signal or serve's end; the exit status."""
    flag = StopFlag()
    flag.install()
    parent_gone = threading.Event()
    threading.Thread(target=_watch_parent, args=(lifeline_fd, parent_gone), name="xlr-lifeline", daemon=True).start()
    try:
        runtime = open_runtime(spec)
    except XlrError as error:
        log.error("the HTTP server cannot open the home: %s", error, extra={"event": "http.failed"})
        return 1
    with runtime:
        context = api_context(runtime)
        server = UvicornThread(context, build_app(context, open_reads=spec.open_reads), sock).start()
        log.debug("HTTP server serving (pid %d)", os.getpid(), extra={"event": "http.serving"})
        while server.thread.is_alive() and not (flag.requested or parent_gone.is_set()):
            server.thread.join(CHECK_EVERY)
        stopped_itself = not server.thread.is_alive()
        server.stop()
    return 1 if stopped_itself else 0


def main(argv: list[str]) -> int:
    """Entry point: ``LISTEN_FD LOG_FD LIFELINE_FD``, the spec on standard input (see the module's docstring)."""
    listen_fd, log_fd, lifeline_fd = argv
    spec = ServerSpec.from_json(sys.stdin.read())
    root = logging.getLogger("xlr_runtime")
    root.addHandler(PipeHandler(int(log_fd)))
    root.setLevel(spec.log_level)
    with socket.socket(fileno=int(listen_fd)) as sock:
        return serve(spec, sock, int(lifeline_fd))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
