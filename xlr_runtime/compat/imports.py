"""Import shims: Java/Jython module names that plugin scripts import, served by our Python modules.

:data:`SHIMS` maps a module name as scripts write it to the module of ours that serves it. Worker processes
call :func:`install` once; a name missing here imports as usual.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types

#: Script-visible module name -> xlr_runtime module providing it.
SHIMS: dict[str, str] = {
    "xlrelease.HttpRequest": "xlr_runtime.scripting.http",
    "com.xebialabs.xlrelease.plugin.webhook": "xlr_runtime.scripting.jsonpath",
}


class _ShimFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves every name in :data:`SHIMS`, and the packages above them, from our modules."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname in SHIMS or any(name.startswith(fullname + ".") for name in SHIMS):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=fullname not in SHIMS)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        if spec.name in SHIMS:
            return importlib.import_module(SHIMS[spec.name])
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        if module.__spec__ is not None and module.__spec__.name not in SHIMS:
            module.__path__ = []


def install() -> None:
    """Put the shim finder first on ``sys.meta_path`` (idempotent)."""
    if not any(isinstance(finder, _ShimFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ShimFinder())
