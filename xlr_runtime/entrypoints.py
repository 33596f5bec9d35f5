"""Installed entry points of a group, importing ``importlib.metadata`` only when a distribution declares the group.

``xlr --help`` and every worker process ask for the ``xlr_runtime`` group, which is empty unless a plugin is
installed, and importing ``importlib.metadata`` alone costs 15 to 45 ms (``email``, ``zipfile``, ``csv``…).
:func:`declares_group` first reads the ``entry_points.txt`` of every distribution folder (``*.dist-info``,
``*.egg-info``) in the ``sys.path`` folders, where ``importlib.metadata`` finds them; a file that names the group
is parsed with ``configparser`` (the format is defined as what it reads: ``=`` as the only delimiter, case kept).
When one of them declares the group — or when it cannot tell: a ``sys.path`` entry that is a file (a zip), a file
it cannot parse, another finder serving distributions — :func:`entry_points` asks ``importlib.metadata``, which
answers as always. Nothing is cached, so an installed or removed plugin is seen by the next process.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

_METADATA_SUFFIXES = (".dist-info", ".egg-info")


def entry_points(group: str) -> Sequence[EntryPoint]:
    """The installed entry points of ``group``, as ``importlib.metadata.entry_points(group=group)`` gives them."""
    if not declares_group(group):
        return ()
    from importlib.metadata import entry_points as metadata_entry_points

    return tuple(metadata_entry_points(group=group))


def declares_group(group: str) -> bool:
    """False only when no distribution ``importlib.metadata`` could find declares an entry point of ``group``."""
    if any(_other_distribution_finder(finder) for finder in sys.meta_path):
        return True
    return any(_folder_declares(entry or ".", group) for entry in sys.path)


def _other_distribution_finder(finder: object) -> bool:
    return hasattr(finder, "find_distributions") and finder is not importlib.machinery.PathFinder


def _folder_declares(folder: str, group: str) -> bool:
    try:
        with os.scandir(folder) as entries:
            names = [entry.name for entry in entries if entry.name.lower().endswith(_METADATA_SUFFIXES)]
    except NotADirectoryError:
        return True  # a zip or egg file: importlib.metadata looks inside it
    except OSError:
        return False  # a folder that does not exist (or cannot be read) holds no distribution for it either
    return any(_declares(os.path.join(folder, name, "entry_points.txt"), group) for name in names)


def _declares(path: str, group: str) -> bool:
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (FileNotFoundError, NotADirectoryError):  # no entry points, or an ``.egg-info`` file
        return False
    except (OSError, UnicodeDecodeError):
        return True
    if group not in text:  # most files: no need to parse them
        return False
    import configparser

    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    try:
        parser.read_string(text, source=path)
    except configparser.Error:
        return True
    return parser.has_section(group)
