"""The HTTP API as a built-in pluggy plugin: ``xlr serve`` starts it through the ``xlr_serve_services`` hook, so
the runtime core never imports Starlette or uvicorn (they are imported here only when a server starts)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from xlr_runtime import hookimpl
from xlr_runtime.settings import parse_listen

if TYPE_CHECKING:
    from xlr_runtime.http.server import HttpService
    from xlr_runtime.runtime import Runtime
    from xlr_runtime.scheduler import Scheduler

log = logging.getLogger("xlr_runtime.http")


@hookimpl(tryfirst=True)  # first: a busy port stops serve before any other service has started
def xlr_serve_services(runtime: Runtime, scheduler: Scheduler) -> HttpService | None:
    """The HTTP API on ``http.listen`` (``--http``), unless it is ``off``."""
    address = parse_listen(runtime.settings["http.listen"])
    if address is None:
        return None
    from xlr_runtime.engine import Engine
    from xlr_runtime.http.app import ApiContext, build_app
    from xlr_runtime.http.auth import reads_are_open
    from xlr_runtime.http.server import HttpService, bind, display_address
    from xlr_runtime.store.opening import open_store

    host, port = address
    sock = bind(host, port)
    try:
        store = open_store(runtime.home, runtime.settings)
    except BaseException:
        sock.close()
        raise
    engine = Engine(
        store,
        runtime.registry,
        runtime.settings,
        runtime.clock,
        cis=runtime.cis,
        pm=runtime.pm,
        translate_modes=runtime.engine.translate_modes,
    )
    context = ApiContext(
        runtime.home, runtime.settings, runtime.registry, store, engine, runtime.clock, scheduler.wake, cis=runtime.cis
    )
    open_reads = reads_are_open(runtime.settings["http.open_reads"], host)
    service = HttpService(context, build_app(context, open_reads=open_reads), sock).start()
    url = f"http://{display_address(host, service.port)}/api/v1"
    log.info(
        "HTTP API at %s (reads %s; writes need a token)", url, "open" if open_reads else "need a token",
        extra={"event": "http.ready", "target": url},
    )  # fmt: skip
    return service
