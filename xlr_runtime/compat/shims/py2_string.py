"""``string`` for translated Python 2 scripts: the real module plus the functions Python 3 removed
(``string.strip(s)``, ``string.join(words, sep)``, ``string.letters`` …). Served as ``_xlr_py2_string``."""

from __future__ import annotations

import string as _string
from string import *  # noqa: F403  (everything the real module has, then Python 2's functions below)
from typing import Any

letters = _string.ascii_letters
lowercase = _string.ascii_lowercase
uppercase = _string.ascii_uppercase
maketrans = str.maketrans


def strip(text: str, chars: str | None = None) -> str:
    """``text.strip(chars)``."""
    return text.strip(chars)


def lstrip(text: str, chars: str | None = None) -> str:
    """``text.lstrip(chars)``."""
    return text.lstrip(chars)


def rstrip(text: str, chars: str | None = None) -> str:
    """``text.rstrip(chars)``."""
    return text.rstrip(chars)


def split(text: str, sep: str | None = None, maxsplit: int = -1) -> list[str]:
    """``text.split(sep, maxsplit)``."""
    return text.split(sep, maxsplit)


def join(words: Any, sep: str = " ") -> str:
    """``sep.join(words)`` (Python 2's argument order)."""
    return sep.join(words)


joinfields = join
splitfields = split


def replace(text: str, old: str, new: str, count: int = -1) -> str:
    """``text.replace(old, new, count)``."""
    return text.replace(old, new, count)


def lower(text: str) -> str:
    """``text.lower()``."""
    return text.lower()


def upper(text: str) -> str:
    """``text.upper()``."""
    return text.upper()


def find(text: str, sub: str, *args: int) -> int:
    """``text.find(sub, ...)``."""
    return text.find(sub, *args)


def atoi(text: str, base: int = 10) -> int:
    """``int(text, base)``."""
    return int(text, base)


def atof(text: str) -> float:
    """``float(text)``."""
    return float(text)
