"""``import sets`` (removed in Python 3): ``sets.Set`` and ``sets.ImmutableSet`` are the built-in sets."""

from __future__ import annotations

Set = set
ImmutableSet = frozenset
BaseSet = (set, frozenset)

__all__ = ["ImmutableSet", "Set"]
