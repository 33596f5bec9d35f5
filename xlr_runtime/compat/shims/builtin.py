"""``import __builtin__``: Python's ``builtins`` plus the Python 2 only built-ins (``unicode``, ``long`` …).

Scripts mostly import it for the main guard ``if __name__ == '__builtin__':`` (the worker runs scripts with
that ``__name__``), and sometimes read ``__builtin__.open`` or similar.
"""

from __future__ import annotations

import builtins
from typing import Any

from xlr_runtime.compat.shims.py2_builtins import PY2_BUILTINS

globals().update({name: value for name, value in vars(builtins).items() if not name.startswith("__")})
globals().update(PY2_BUILTINS)


def __getattr__(name: str) -> Any:
    return getattr(builtins, name)
