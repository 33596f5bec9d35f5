"""Python 2 behaviour that translated scripts call where Python 3 would silently compute something else.

The fixers in :mod:`xlr_runtime.compat.fixers` rewrite, in translated scripts only:

* ``a / b`` and ``a /= b`` to :func:`div` (``7 / 2 == 3``, unless the script has
  ``from __future__ import division``);
* ``round(x)`` / ``round(x, n)`` to :func:`round_half_away` (``round(2.5) == 3.0``, a float);
* ``sorted(xs, cmp)``, ``sorted(xs, cmp=f)`` and ``xs.sort(f)``/``xs.sort(cmp=f)`` to :func:`sorted_cmp` and
  :func:`sort_cmp`;
* Jython's ``e.printStackTrace([writer])`` on a caught exception to :func:`print_stack_trace`.

Scripts reach them through the globals in :data:`TRANSLATION_GLOBALS` (merged into every script's namespace by
:func:`xlr_runtime.compat.script_globals.script_globals`), so the translated line needs no import and keeps its
number.
"""

from __future__ import annotations

import decimal
import functools
import math
import sys
import traceback
from collections.abc import Callable, Iterable
from typing import Any

#: Beyond these many decimal places no float changes when rounded; below the negative, every float rounds to 0.
_MAX_DIGITS = 400
_ROUNDING = decimal.Context(prec=2 * _MAX_DIGITS, rounding=decimal.ROUND_HALF_UP)


def div(left: Any, right: Any) -> Any:
    """Python 2's ``left / right``: floor division when both are integers (``bool`` included, as in Python 2:
    ``7 / 2 == 3``, ``-7 / 2 == -4``), true division otherwise (``7 / 2.0 == 3.5``)."""
    if isinstance(left, int) and isinstance(right, int):
        return left // right
    return left / right


def round_half_away(number: Any, ndigits: int = 0) -> float:
    """Python 2's ``round``: always a float, halves rounded away from zero (``round(2.5) == 3.0``,
    ``round(-0.5) == -1.0``), decided on the float's exact value (``round(2.675, 2) == 2.67``, as in 2.7)."""
    value = float(number)  # Python 2 rounded the float of an integer too (and overflowed on a huge one)
    if not math.isfinite(value):
        return value
    if not isinstance(ndigits, int):
        raise TypeError(f"ndigits must be an integer, got {type(ndigits).__name__}")
    places = max(-_MAX_DIGITS, min(_MAX_DIGITS, ndigits))
    quantum = decimal.Decimal(1).scaleb(-places)
    return float(decimal.Decimal(value).quantize(quantum, context=_ROUNDING))


def sorted_cmp(
    iterable: Iterable[Any], cmp: Callable[[Any, Any], int] | None = None, key: Any = None, reverse: bool = False
) -> list[Any]:
    """Python 2's ``sorted(iterable, cmp=None, key=None, reverse=False)``, positional or keyword."""
    return sorted(iterable, key=_sort_key(cmp, key), reverse=reverse)


def sort_cmp(target: Any, *args: Any, **kwargs: Any) -> Any:
    """``target.sort(...)`` with Python 2's ``list.sort(cmp=None, key=None, reverse=False)`` when ``target`` is a
    list; any other object's ``sort`` (``Collections.sort(items, comparator)``) is called unchanged."""
    if not isinstance(target, list):
        return target.sort(*args, **kwargs)
    target.sort(**_list_sort_arguments(*args, **kwargs))
    return None


def _list_sort_arguments(
    cmp: Callable[[Any, Any], int] | None = None, key: Any = None, reverse: bool = False
) -> dict[str, Any]:
    return {"key": _sort_key(cmp, key), "reverse": reverse}


def _sort_key(cmp: Callable[[Any, Any], int] | None, key: Any) -> Any:
    """A Python 3 key for Python 2's ``cmp`` and ``key`` (with both, ``cmp`` compares the keys)."""
    if cmp is None:
        return key
    by_cmp = functools.cmp_to_key(cmp)
    if key is None:
        return by_cmp
    return lambda item: by_cmp(key(item))


def print_stack_trace(target: Any, *args: Any) -> Any:
    """Jython's ``e.printStackTrace()`` / ``e.printStackTrace(writer)``: an object with its own
    ``printStackTrace`` is called; an exception prints its Python traceback to ``writer`` (a ``PrintWriter``,
    ``System.err``, any object with ``write``) or to stderr, where Java prints the Java stack trace."""
    method = getattr(target, "printStackTrace", None)
    if method is not None:
        return method(*args)
    if not isinstance(target, BaseException):
        raise AttributeError(f"{type(target).__name__!r} object has no attribute 'printStackTrace'")
    text = "".join(traceback.format_exception(type(target), target, target.__traceback__))
    out = args[0] if args else sys.stderr
    if hasattr(out, "print_"):
        out.print_(text)
    else:
        out.write(text)
    return None


#: The names the fixers write, as script globals.
TRANSLATION_GLOBALS: dict[str, Any] = {
    "_xlr_py2_div": div,
    "_xlr_py2_round": round_half_away,
    "_xlr_py2_sorted": sorted_cmp,
    "_xlr_py2_sort": sort_cmp,
    "_xlr_print_stack_trace": print_stack_trace,
}
