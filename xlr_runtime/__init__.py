"""xlr-runtime: a local, durable runtime for XL Release custom task plugins that also runs Rundeck jobs."""

from importlib.metadata import PackageNotFoundError, version

import pluggy

try:
    __version__ = version("xlr-runtime")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

#: Decorator for hook implementations, re-exported for plugin authors: ``from xlr_runtime import hookimpl``.
hookimpl = pluggy.HookimplMarker("xlr_runtime")

__all__ = ["__version__", "hookimpl"]
