"""xlr-runtime: a local, durable runtime for XL Release custom task plugins that also runs Rundeck jobs."""

import pluggy

#: The version, kept here (the build reads it: ``[tool.hatch.version]``) so that start-up need not ask
#: ``importlib.metadata``, whose import alone costs about 50 ms.
__version__ = "0.1.0.dev0"

#: Decorator for hook implementations, re-exported for plugin authors: ``from xlr_runtime import hookimpl``.
hookimpl = pluggy.HookimplMarker("xlr_runtime")

__all__ = ["__version__", "hookimpl"]
