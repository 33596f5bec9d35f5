"""The pluggy plugin manager: built-in default plugins, then installed ones from the ``xlr_runtime`` group.

``XLR_LOAD_PLUGINS`` (comma-separated distribution or entry-point names; empty loads none) limits which
installed plugins load; ``XLR_TRACE_PLUGINS=1`` prints every hook call to stderr.
"""

from __future__ import annotations

import importlib
import os
import sys

import pluggy

from xlr_runtime import hookspecs
from xlr_runtime.entrypoints import entry_points
from xlr_runtime.errors import PluginError

#: The entry-point group (and pluggy project name).
GROUP = "xlr_runtime"

#: Modules of built-in runtime features, registered as plugins through the same hooks as third-party ones.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "xlr_runtime.compat.plugin",
    "xlr_runtime.rundeck.plugin",
    "xlr_runtime.pruner",
    "xlr_runtime.http.plugin",
)

_manager: pluggy.PluginManager | None = None


def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, built on first use."""
    global _manager
    if _manager is None:
        _manager = build_plugin_manager()
    return _manager


def build_plugin_manager(*, load_installed: bool = True) -> pluggy.PluginManager:
    """A new manager with the hookspecs, the default plugins and the installed plugins (unless ``load_installed``
    is false). The built-in commands are not plugins: ``xlr_runtime.cli.COMMANDS`` loads them lazily."""
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    if load_installed:
        _load_installed(pm)
    pm.check_pending()
    if os.environ.get("XLR_TRACE_PLUGINS"):
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()
    return pm


def _load_installed(pm: pluggy.PluginManager) -> None:
    allowed = os.environ.get("XLR_LOAD_PLUGINS")
    names = None if allowed is None else {n.strip() for n in allowed.split(",") if n.strip()}
    for ep in entry_points(group=GROUP):
        dist = ep.dist.name if ep.dist else None
        if names is not None and ep.name not in names and dist not in names:
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken third-party plugin is reported, with its name, not a traceback
            raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
        pm.register(plugin, name=ep.name)


def loaded_plugins(pm: pluggy.PluginManager) -> list[dict[str, object]]:
    """Name, hooks and version of every registered plugin, for ``xlr plugins``."""
    versions = {ep.name: ep.dist.version for ep in entry_points(group=GROUP) if ep.dist}
    rows = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: str(item[0])):
        rows.append(
            {
                "name": name,
                "hooks": sorted(h.name for h in pm.get_hookcallers(plugin) or []),
                "version": versions.get(name),
                "builtin": name in DEFAULT_PLUGINS,
            }
        )
    return rows
