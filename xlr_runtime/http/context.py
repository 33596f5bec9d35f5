"""What the handlers of the HTTP API and the dashboard share: :class:`ApiContext`, found from a request with
:func:`context_of`, and :data:`PREFIX`, where the JSON API's routes live. A module of its own, so the route modules
and :mod:`xlr_runtime.http.app`, which gathers them, do not import each other."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import Request

from xlr_runtime.cis import CiCatalog
from xlr_runtime.clock import Clock
from xlr_runtime.engine import Engine
from xlr_runtime.home import Home
from xlr_runtime.settings import Settings
from xlr_runtime.store import Store
from xlr_runtime.typesystem.registry import TypeRegistry

#: Where every route of the JSON API lives.
PREFIX = "/api/v1"


@dataclass
class ApiContext:
    """What the handlers share: the home, its settings and types, the API's store and engine, a way to wake the
    scheduler after a write, the CIs of ``xlr.toml``, and the event that ends live streams when the server stops."""

    home: Home
    settings: Settings
    registry: TypeRegistry
    store: Store
    engine: Engine
    clock: Clock
    wake: Callable[[], None]  # wakes the scheduler of the serving runtime
    cis: CiCatalog = field(default_factory=CiCatalog)
    plugin_paths: tuple[Path, ...] = ()
    stopping: threading.Event = field(default_factory=threading.Event)


def context_of(request: Request) -> ApiContext:
    """The :class:`ApiContext` of the application serving ``request``."""
    context: ApiContext = request.app.state.context
    return context
