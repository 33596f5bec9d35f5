"""Which translation mode a plugin's scripts run with: the per-plugin override, else ``scripts.translate``.

The override lives in the home's ``xlr.toml``, keyed by the plugin's name (its folder name, or its archive's
name without ``.jar``/``.zip``)::

    [plugins.xlr-jenkins-plugin]
    translate = "on"     # auto | on | off

The scheduler puts the result in ``ScriptRunRequest.translate``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlr_runtime.compat.translate import MODES
from xlr_runtime.errors import ConfigError
from xlr_runtime.settings import ConfigDocument, Settings

_cache: dict[Path, tuple[float, dict[str, str]]] = {}


def plugin_translate_modes(config: ConfigDocument | Path) -> dict[str, str]:
    """The ``translate`` overrides in ``config`` (plugin name -> mode); ``{}`` when the file is missing.

    ``config`` is the parsed ``xlr.toml`` of the start-up (:attr:`Settings.source`), or its path (read when it
    changed since the last call). Raises :class:`ConfigError` (``path:line``) for a mode that is not ``auto``,
    ``on`` or ``off``.
    """
    if isinstance(config, ConfigDocument):
        return _read_modes(config, config.tables.get("plugins", {}))
    config_file = config
    try:
        mtime = config_file.stat().st_mtime
    except OSError:
        return {}
    cached = _cache.get(config_file)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    document = ConfigDocument.read(config_file)
    modes = _read_modes(document, document.tables.get("plugins", {}))
    _cache[config_file] = (mtime, modes)
    return modes


def translate_mode(plugin: str | None, settings: Settings | None = None, *, config_file: Path | None = None) -> str:
    """The mode for ``plugin``'s scripts: its override in ``config_file``, else ``settings['scripts.translate']``,
    else ``auto``."""
    if plugin and config_file is not None:
        override = plugin_translate_modes(config_file).get(plugin)
        if override is not None:
            return override
    return settings["scripts.translate"] if settings is not None else "auto"


def _read_modes(document: ConfigDocument, table: Any) -> dict[str, str]:
    if not isinstance(table, dict):
        raise ConfigError(
            "[plugins] must be a table of plugin tables", path=document.path, line=document.line_of("plugins")
        )
    modes: dict[str, str] = {}
    for plugin, options in table.items():
        mode = options.get("translate") if isinstance(options, dict) else None
        if mode is None:
            continue
        if mode not in MODES:
            raise ConfigError(
                f"plugins.{plugin}.translate must be one of {', '.join(MODES)}, got {mode!r}",
                path=document.path,
                line=document.line_of("plugins", plugin, "translate"),
            )
        modes[plugin] = mode
    return modes
