"""Jython's bean sugar: a Java-style accessor name (``getUrl()``, ``isSecure()``) read as the property it stands
for, which every object a script sees answers to (CIs, ``task``, the XL Release API and domain shims)."""

from __future__ import annotations


def bean_property(name: str) -> str | None:
    """The property a Java-style accessor name stands for: ``getUrl`` -> ``url``, ``isSecure`` -> ``secure``;
    ``None`` for any other name."""
    for prefix in ("get", "is"):
        rest = name[len(prefix) :]
        if name.startswith(prefix) and rest[:1].isupper():
            return rest[:1].lower() + rest[1:]
    return None
