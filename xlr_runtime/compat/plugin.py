"""The compatibility layer as a built-in pluggy plugin: it contributes the script globals."""

from __future__ import annotations

from typing import Any

from xlr_runtime import hookimpl
from xlr_runtime.compat.script_globals import script_globals


@hookimpl
def xlr_script_globals() -> dict[str, Any]:
    """``logger``, ``CredentialsFallback`` and the Python 2 built-ins (see :func:`script_globals`)."""
    return script_globals()
