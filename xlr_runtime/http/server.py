"""The HTTP API's listening socket and the uvicorn server that serves it in a thread of ``xlr serve``.

The socket is bound before anything else starts, so an address in use is a one-line :class:`HttpListenError` at
start-up rather than a log line from a thread. Stopping ends live streams first, then asks uvicorn to exit (open
connections get :data:`SHUTDOWN_GRACE` seconds) and closes the API's store connection.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import threading

import uvicorn
from starlette.applications import Starlette

from xlr_runtime.errors import HttpListenError
from xlr_runtime.http.app import ApiContext

log = logging.getLogger("xlr_runtime.http")

#: Seconds open connections get to finish when the server stops.
SHUTDOWN_GRACE = 5
#: Connections waiting to be accepted.
BACKLOG = 128


def display_address(host: str, port: int) -> str:
    """``host:port``, with an IPv6 host in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


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


class HttpService:
    """uvicorn serving ``app`` on ``sock`` in the thread ``xlr-http``; a service of ``xlr_serve_services``."""

    def __init__(self, context: ApiContext, app: Starlette, sock: socket.socket) -> None:
        self.context = context
        self.sock = sock
        config = uvicorn.Config(
            app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=SHUTDOWN_GRACE
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="xlr-http", daemon=True)

    @property
    def port(self) -> int:
        """The port listened on (the one picked when port 0 was asked)."""
        return int(self.sock.getsockname()[1])

    def start(self) -> HttpService:
        """Start serving; return self."""
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except Exception:  # the scheduler goes on without the API; the reason is in the serve log
            log.exception("the HTTP API stopped", extra={"event": "http.failed"})

    def request_stop(self) -> None:
        """End live streams, stop uvicorn, wait for its thread, close the socket and the API's store."""
        self.context.stopping.set()
        self.server.should_exit = True
        self.thread.join(SHUTDOWN_GRACE + 5)
        with contextlib.suppress(OSError):
            self.sock.close()
        self.context.store.close()
