"""The effective settings of a home as ``xlr config --json`` and ``GET /api/v1/settings`` show them: the home,
then each setting's value and where it came from.

Secrets are never shown: a ``*_env`` setting shows its variable's name and whether it is set, a URL its user with
the password masked (:data:`~xlr_runtime.mask.MASK`; ``store.url`` through :func:`~xlr_runtime.storeurl.redact`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from xlr_runtime.mask import MASK
from xlr_runtime.settings import SETTINGS, Settings
from xlr_runtime.storeurl import redact


@dataclass(frozen=True)
class GivenOptions:
    """What was given beside the home's own files and the settings' environment variables (``--home``,
    ``--plugins`` or their variables, ``--store``) and where the first two came from; the defaults say that nothing
    was given."""

    home_source: str = "default"
    plugin_paths: tuple[Path, ...] = ()
    plugins_source: str = "default"
    store_url: str | None = None


def settings_rows(home: Path, settings: Settings, given: GivenOptions = GivenOptions()) -> list[dict[str, Any]]:
    """The home's row, then every setting's ``name``, ``value`` (secrets never shown) and ``source``, for the
    home at ``home`` whose effective ``settings`` (with ``given``'s store URL applied) these are."""
    rows = [{"name": "home", "value": str(home), "source": given.home_source}]
    rows += [_setting_row(home, settings, given, setting.name) for setting in SETTINGS]
    return rows


def _setting_row(home: Path, settings: Settings, given: GivenOptions, name: str) -> dict[str, Any]:
    source = settings.origin(name).describe()
    if name == "plugins.path":
        value: Any = [str(path) for path in (*settings.plugin_paths(home), *given.plugin_paths)]
        if given.plugin_paths:
            source = given.plugins_source if not settings["plugins.path"] else f"{source} + {given.plugins_source}"
    else:
        value = _shown(name, settings[name])
        if name == "store.url" and given.store_url is not None:
            source = "command-line option --store"
    return {"name": name, "value": value, "source": source}


def _shown(name: str, value: Any) -> Any:
    """``value`` as it may be shown: the name of a secret's variable with whether it is set, a URL's password
    masked."""
    if isinstance(value, tuple):
        return list(value)
    if name == "store.url":
        return redact(value)
    if name.endswith("_env") and value:
        return f"{value} ({'set' if os.environ.get(value) else 'not set'})"
    if isinstance(value, str) and "@" in value and "://" in value:
        parts = urlsplit(value)
        if parts.password is not None:
            netloc = f"{parts.username}:{MASK}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
            return urlunsplit(parts._replace(netloc=netloc))
    return value
