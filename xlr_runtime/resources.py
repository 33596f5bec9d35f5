"""Where the runtime's own data lives: the base types (``synthetic/``) and the bundled plugins (``plugins/``).

In a source checkout or editable install they are the top-level folders of the repository; in an installed
wheel they are packaged as ``xlr_runtime/_data/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / name


def base_types_dir() -> Path:
    """The folder of base-type synthetic.xml files."""
    return _data_dir("synthetic")


def bundled_plugins_dir() -> Path:
    """The folder of plugins shipped with the runtime (``jenkins/`` is the reference sample)."""
    return _data_dir("plugins")
