"""The HTTP API's listening socket, and the process that serves it, started and supervised by ``xlr serve``.

The socket is bound by serve before anything else starts, so an address in use is a one-line
:class:`HttpListenError` at start-up. The server itself runs in its own process (:mod:`xlr_runtime.http.process`,
an exec'd interpreter given the socket), so serving requests never competes with the scheduler for the
interpreter's lock. :class:`HttpService` supervises it:

* a server that dies is logged (its exit code or signal) and restarted on the same socket after a pause that
  doubles from :data:`RESTART_MIN` to :data:`RESTART_MAX` seconds while it keeps dying (connections wait in the
  socket's backlog meanwhile);
* stopping sends it SIGTERM: it ends live streams, gives open requests :data:`SHUTDOWN_GRACE` seconds, and exits;
* it holds the read end of a pipe whose write end only serve holds, so when serve dies however it dies (``kill
  -9``), the server sees the pipe close and stops too: it never serves a home nobody schedules;
* its log records come back through another pipe (:mod:`xlr_runtime.http.logpipe`) into serve's log.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from xlr_runtime.errors import HttpListenError
from xlr_runtime.http.logpipe import forward_records
from xlr_runtime.scripting.pool import child_environment
from xlr_runtime.settings import LOOPBACK_HOSTS

log = logging.getLogger("xlr_runtime.http")

#: Seconds open connections get to finish when the server stops.
SHUTDOWN_GRACE = 5
#: Connections waiting to be accepted (also while a dead server is restarted).
BACKLOG = 128
#: Seconds before the first restart of a server that died, and the longest pause between two restarts.
RESTART_MIN, RESTART_MAX = 0.5, 30.0
#: A server that ran this many seconds before dying is restarted after :data:`RESTART_MIN` again.
RESTART_RESET = 60.0


def display_address(host: str, port: int) -> str:
    """``host:port``, with an IPv6 host in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def reads_are_open(setting: str, host: str) -> bool:
    """What ``http.open_reads`` means for a server listening on ``host``."""
    if setting == "auto":
        return host in LOOPBACK_HOSTS
    return setting == "on"


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one); :class:`HttpListenError` when it cannot be."""
    address = display_address(host, port)
    try:
        family, kind, proto, _, sockaddr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise HttpListenError(address, f"unknown host ({exc.strerror})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(sockaddr)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        reason = "the address is in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc)).lower()
        raise HttpListenError(address, reason) from None
    return sock


@dataclass(frozen=True)
class ServerSpec:
    """What the server process needs to serve the same home as serve: the home, the plugin locations given
    besides its folders, the settings given as overrides (``--http`` and the like; the rest it reads from the home
    as serve did), whether reads are open, and the level serve logs at."""

    home: str
    plugin_paths: tuple[str, ...]
    include_bundled: bool
    overrides: dict[str, Any]
    open_reads: bool
    log_level: int

    def to_json(self) -> str:
        """The spec as the server process reads it on its standard input."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServerSpec:
        """The spec :meth:`to_json` wrote."""
        data = json.loads(text)
        return cls(**{**data, "plugin_paths": tuple(data["plugin_paths"])})


def describe_exit(code: int) -> str:
    """``exited with code 1`` or ``was killed by signal SIGKILL``, from a ``Popen.returncode``."""
    if code >= 0:
        return f"exited with code {code}"
    try:
        return f"was killed by signal {signal.Signals(-code).name}"
    except ValueError:
        return f"was killed by signal {-code}"


class HttpService:
    """The HTTP server process on ``sock``, supervised; a service of ``xlr_serve_services``."""

    def __init__(self, spec: ServerSpec, sock: socket.socket) -> None:
        self.spec = spec
        self.sock = sock
        self._lifeline_read, self._lifeline_write = os.pipe()  # not inherited by any other child (close-on-exec)
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # a restart and a stop never cross
        self.process: subprocess.Popen[bytes] | None = None
        self._supervisor = threading.Thread(target=self._supervise, name="xlr-http-supervisor", daemon=True)

    @property
    def port(self) -> int:
        """The port listened on (the one picked when port 0 was asked)."""
        return int(self.sock.getsockname()[1])

    @property
    def pid(self) -> int | None:
        """The process id of the server process, while one was started."""
        return self.process.pid if self.process is not None else None

    def start(self) -> HttpService:
        """Start the server process and its supervision; return self."""
        self.process = self._spawn()
        self._supervisor.start()
        return self

    def _spawn(self) -> subprocess.Popen[bytes]:
        log_read, log_write = os.pipe()
        fds = (self.sock.fileno(), log_write, self._lifeline_read)
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "xlr_runtime.http.process", *map(str, fds)],
                stdin=subprocess.PIPE,  # the spec: on the command line, any process could read its settings
                pass_fds=fds,
                start_new_session=True,  # Ctrl-C reaches serve only, which stops the server in its turn
                env=child_environment(),
            )
        except BaseException:
            os.close(log_read)
            raise
        finally:
            os.close(log_write)
        assert process.stdin is not None
        # a few hundred bytes: the pipe holds them whether or not the child reads yet; a child that died at once
        # (a broken pipe) is reported by the supervisor
        with contextlib.suppress(BrokenPipeError), process.stdin:
            process.stdin.write(self.spec.to_json().encode())
        threading.Thread(target=forward_records, args=(log_read,), name="xlr-http-log", daemon=True).start()
        return process

    def _supervise(self) -> None:
        """Restart the server each time it dies, until :meth:`request_stop`."""
        pause = RESTART_MIN
        while True:
            process = self.process
            assert process is not None  # started before this thread
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            pause = RESTART_MIN if time.monotonic() - started >= RESTART_RESET else pause
            log.warning(
                "the HTTP server (pid %d) %s; restarting it in %.1f s", process.pid, describe_exit(code), pause,
                extra={"event": "http.exited", "status": code},
            )  # fmt: skip
            if self._stopping.wait(pause):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self.process = self._spawn()
            log.info("HTTP server restarted (pid %d)", self.process.pid, extra={"event": "http.restarted"})
            pause = min(pause * 2, RESTART_MAX)

    def request_stop(self) -> None:
        """Stop the server process (SIGTERM: it ends live streams and open requests get :data:`SHUTDOWN_GRACE`
        seconds; SIGKILL if it is still there after that), then close the socket and the pipes."""
        with self._lock:
            if self._stopping.is_set():
                return
            self._stopping.set()
            process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(SHUTDOWN_GRACE + 5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._supervisor.is_alive():
            self._supervisor.join(5)
        for close in (self.sock.close, lambda: os.close(self._lifeline_read), lambda: os.close(self._lifeline_write)):
            with contextlib.suppress(OSError):
                close()
