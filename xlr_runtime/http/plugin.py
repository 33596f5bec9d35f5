"""The HTTP API as a built-in pluggy plugin: ``xlr serve`` starts it through the ``xlr_serve_services`` hook, so
the runtime core never imports Starlette or uvicorn (only the HTTP server's own process does, see
:mod:`xlr_runtime.http.server`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from xlr_runtime import hookimpl
from xlr_runtime.settings import OVERRIDE, parse_listen

if TYPE_CHECKING:
    from xlr_runtime.http.server import HttpService
    from xlr_runtime.runtime import Runtime
    from xlr_runtime.scheduler import Scheduler

log = logging.getLogger("xlr_runtime.http")


@hookimpl(tryfirst=True)  # first: a busy port stops serve before any other service has started
def xlr_serve_services(runtime: Runtime, scheduler: Scheduler) -> HttpService | None:
    """The HTTP API on ``http.listen`` (``--http``), unless it is ``off``: the socket bound here, the server in
    its own process (it wakes ``scheduler`` through the home's wake socket)."""
    address = parse_listen(runtime.settings["http.listen"])
    if address is None:
        return None
    from xlr_runtime.http.server import HttpService, ServerSpec, bind, display_address, reads_are_open

    host, port = address
    sock = bind(host, port)
    open_reads = reads_are_open(runtime.settings["http.open_reads"], host)
    spec = ServerSpec(
        home=str(runtime.home.root),
        plugin_paths=tuple(str(path) for path in runtime.plugin_paths),
        include_bundled=runtime.include_bundled,
        overrides={
            name: runtime.settings[name] for name, origin in runtime.settings.origins.items() if origin == OVERRIDE
        },
        open_reads=open_reads,
        log_level=logging.getLogger("xlr_runtime").getEffectiveLevel(),
    )
    try:
        service = HttpService(spec, sock).start()
    except BaseException:
        sock.close()
        raise
    base = f"http://{display_address(host, service.port)}"
    log.info(
        "HTTP API at %s/api/v1 (reads %s; writes need a token; server pid %d); Dashboard at %s/", base,
        "open" if open_reads else "need a token", service.pid, base,
        extra={"event": "http.ready", "target": f"{base}/api/v1"},
    )  # fmt: skip
    return service
