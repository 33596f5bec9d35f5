"""The globals every plugin script finds without importing them, beyond the worker's own (``task``,
``HttpRequest``, ``JsonPathResult``, properties): ``logger``, ``CredentialsFallback``, the Python 2
built-ins translated scripts may still call (``reduce``, ``cmp`` …) and the functions the translation writes
(``_xlr_py2_div`` …, see :mod:`xlr_runtime.compat.shims.py2_semantics`). Exposed to the worker through the
``xlr_script_globals`` hook (see :mod:`xlr_runtime.compat.plugin`)."""

from __future__ import annotations

from typing import Any

from xlr_runtime.compat.shims.credentials import CredentialsFallback
from xlr_runtime.compat.shims.py2_builtins import PY2_GLOBALS
from xlr_runtime.compat.shims.py2_semantics import TRANSLATION_GLOBALS
from xlr_runtime.compat.shims.slf4j import getLogger

#: The names the worker puts in every script's namespace besides the task's properties and :func:`script_globals`
#: (see ``xlr_runtime.scripting.execution.build_namespace``); ``xlr check`` reads undefined names against them.
WORKER_GLOBALS = (
    "task",
    "sys",
    "HttpRequest",
    "HttpResponse",
    "JsonPathResult",
    "releaseVariables",
    "globalVariables",
    "folderVariables",
    "__name__",
    # the local part of XL Release's API (xlr_runtime.scripting.xlr_api)
    "releaseApi",
    "taskApi",
    "release",
    "getCurrentRelease",
    "getCurrentTask",
)

#: The global objects of XL Release's own API, which a script there may use and xlr-runtime does not provide
#: (``releaseApi``, ``taskApi``, ``release``, ``getCurrentRelease`` and ``getCurrentTask`` it does, in part).
XLR_API_NAMES = frozenset(
    {
        "phaseApi",
        "folderApi",
        "templateApi",
        "configurationApi",
        "environmentApi",
        "applicationApi",
        "deliveryApi",
        "triggersApi",
        "userApi",
        "rolesApi",
        "permissionsApi",
        "dslApi",
        "phase",
        "getCurrentPhase",
    }
)
#: What a message about one of :data:`XLR_API_NAMES` adds.
XLR_API_HINT = " (this XL Release API object is not available in xlr-runtime; releaseApi and taskApi are, in part)"

#: Name of the logger behind the ``logger`` global.
SCRIPT_LOGGER_NAME = "xlr.script"


def script_globals() -> dict[str, Any]:
    """A new dict of the compatibility globals; the worker merges it into each script's namespace."""
    return {
        "logger": getLogger(SCRIPT_LOGGER_NAME),
        "CredentialsFallback": CredentialsFallback,
        **PY2_GLOBALS,
        **TRANSLATION_GLOBALS,
    }


def script_global_names() -> frozenset[str]:
    """Every name a script finds without defining it, besides its task's properties and the globals other
    runtime plugins add: :data:`WORKER_GLOBALS` and :func:`script_globals`."""
    return frozenset(WORKER_GLOBALS) | frozenset(script_globals())
