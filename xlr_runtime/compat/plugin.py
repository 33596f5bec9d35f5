"""The compatibility layer as a built-in pluggy plugin: it contributes the script globals."""

from __future__ import annotations

from typing import Any

from xlr_runtime import hookimpl


@hookimpl
def xlr_script_globals() -> dict[str, Any]:
    """``logger``, ``CredentialsFallback`` and the Python 2 built-ins (see
    :func:`~xlr_runtime.compat.script_globals.script_globals`)."""
    from xlr_runtime.compat.script_globals import script_globals  # only where scripts run, not for `xlr --help`

    return script_globals()
