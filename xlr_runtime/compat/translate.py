"""Python 2 -> 3 translation of plugin scripts (fissix), keeping line numbers so tracebacks stay true."""

from __future__ import annotations


def to_python3(source: str, filename: str, mode: str = "auto") -> str:
    """Return ``source`` as Python 3 with the same line numbering.

    ``mode`` is ``auto`` (translate only what does not compile as Python 3), ``on`` or ``off``.
    """
    return source
