"""Python 2 built-ins that fissix does not rename, given to every script as globals (Jython has them all).

fissix turns ``unicode``, ``long``, ``xrange``, ``raw_input``, ``basestring``… into their Python 3 names, but
leaves calls it cannot rewrite on the same line: ``reduce``, ``intern``, ``reload``, ``cmp``, ``file``.
:data:`PY2_GLOBALS` holds those; :data:`PY2_BUILTINS` holds every Python 2 only built-in (for ``__builtin__``).
"""

from __future__ import annotations

import functools
import importlib
import sys
from typing import Any


def cmp(left: Any, right: Any) -> int:
    """Python 2's three-way comparison: -1, 0 or 1."""
    return (left > right) - (left < right)


def apply(function: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> Any:
    """Python 2's ``apply(f, args, kwargs)``."""
    return function(*args, **(kwargs or {}))


#: Names a translated script may still use, injected as globals.
PY2_GLOBALS: dict[str, Any] = {
    "reduce": functools.reduce,
    "intern": sys.intern,
    "reload": importlib.reload,
    "cmp": cmp,
    "file": open,
}

#: Every Python 2 only built-in, as ``__builtin__`` exposes them.
PY2_BUILTINS: dict[str, Any] = {
    **PY2_GLOBALS,
    "unicode": str,
    "basestring": str,
    "long": int,
    "xrange": range,
    "raw_input": input,
    "unichr": chr,
    "apply": apply,
}
