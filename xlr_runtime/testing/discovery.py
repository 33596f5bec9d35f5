"""Which plugins a test file tests: found from where the file is, whatever folder pytest was started in.

From the test file's folder up to the repository root (a folder holding ``.git``) or the filesystem root, the
nearest folder that says which plugin wins (the ``xlr_harness`` fixture applies these rules; ``docs/testing.md``
states them for authors). In each folder, in this order:

1. pytest's rootdir: pytest's own setting ``xlr_plugin_paths`` (``pytest.ini``, or ``[tool.pytest.ini_options]``
   of the ``pyproject.toml`` pytest read), paths relative to the rootdir;
2. a ``pyproject.toml`` with a ``[tool.xlr]`` table: its ``plugin_paths``, relative to that folder;
3. a plugin: ``synthetic.xml`` in the folder, or a Maven/Gradle plugin repository (``src/main/resources/
   synthetic.xml``), as :func:`xlr_runtime.typesystem.sources.open_plugin` reads them.

A test file outside the rootdir falls back to pytest's setting when nothing above it says.

Nothing found is not an error by itself (the bundled plugins, such as ``jenkins``, need no plugin under test): the
harness reports :func:`missing_plugin_message` when a test runs a type that is not loaded.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xlr_runtime.errors import ConfigError
from xlr_runtime.typesystem.sources import SYNTHETIC_XML, is_plugin_repository

#: The file and table read for ``plugin_paths``.
PYPROJECT = "pyproject.toml"
TOOL_TABLE = "tool.xlr"


@dataclass(frozen=True)
class Discovered:
    """The plugin paths found for a test file and what said so (``source``, shown in messages)."""

    paths: tuple[Path, ...]
    source: str


def plugin_paths_for(
    test_file: Path, *, ini_paths: Sequence[str] = (), rootdir: Path | None = None
) -> Discovered | None:
    """The plugins under test for ``test_file`` by the module docstring's rules; ``None`` when nothing says.

    ``ini_paths`` are pytest's ``xlr_plugin_paths`` (relative to ``rootdir``). Raises :class:`ConfigError` for a
    ``pyproject.toml`` that cannot be read, whose ``[tool.xlr] plugin_paths`` is not a list of paths, or for a
    configured path that does not exist.
    """
    root = (rootdir or Path.cwd()).absolute()
    for folder in _folders_up(test_file.parent):
        if ini_paths and folder == root:
            return _ini_paths(ini_paths, root)
        pyproject = folder / PYPROJECT
        configured = _tool_xlr_paths(pyproject)
        if configured is not None:
            return _existing(configured, f"[{TOOL_TABLE}] plugin_paths", pyproject)
        if (folder / SYNTHETIC_XML).is_file() or is_plugin_repository(folder):
            return Discovered((folder,), f"the plugin folder {folder}")
    return _ini_paths(ini_paths, root) if ini_paths else None


def _ini_paths(ini_paths: Sequence[str], root: Path) -> Discovered:
    return _existing(tuple(root / entry for entry in ini_paths), "xlr_plugin_paths in pytest's settings", None)


def _existing(paths: tuple[Path, ...], setting: str, config: Path | None) -> Discovered:
    """``paths`` found by ``setting`` (of the file ``config``), each checked to exist."""
    for path in paths:
        if not path.exists():
            raise ConfigError(f"{setting}: plugin path {path} does not exist", path=config)
    return Discovered(paths, setting if config is None else f"{setting} of {config}")


def missing_plugin_message(test_file: Path | None, type_name: str) -> str:
    """Why ``type_name`` is unknown when no plugin was found for ``test_file``, and how to point at the plugin."""
    where = f"for {test_file}" if test_file is not None else "for this test"
    return (
        f"no plugin under test {where}, so type {type_name!r} is unknown: no {SYNTHETIC_XML} (nor "
        f"src/main/resources/{SYNTHETIC_XML}) in the test's folder or above it, no [{TOOL_TABLE}] table in a "
        f"{PYPROJECT} there, and no xlr_plugin_paths in pytest's settings. Point at the plugin in the {PYPROJECT} "
        f'beside or above your tests: [{TOOL_TABLE}] plugin_paths = ["path/to/plugin"] (relative to that file)'
    )


def _folders_up(start: Path) -> list[Path]:
    """``start`` and its parents, up to the first that holds ``.git`` (included) or the filesystem root."""
    folders = []
    for folder in (start.absolute(), *start.absolute().parents):
        folders.append(folder)
        if (folder / ".git").exists():
            break
    return folders


def _tool_xlr_paths(pyproject: Path) -> tuple[Path, ...] | None:
    """The ``[tool.xlr] plugin_paths`` of ``pyproject`` (resolved against its folder); ``None`` without the
    file or the table."""
    if not pyproject.is_file():
        return None
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot be read ({exc})", path=pyproject) from None
    table = document.get("tool", {}).get("xlr")
    if table is None:
        return None
    entries = table.get("plugin_paths") if isinstance(table, dict) else None
    if not isinstance(entries, list) or not entries or not all(isinstance(e, str) and e.strip() for e in entries):
        raise ConfigError(
            f"[{TOOL_TABLE}] plugin_paths must be a non-empty list of paths, got {entries!r}",
            path=pyproject,
            hint=f'Write plugin_paths = ["."] under [{TOOL_TABLE}] (paths relative to {pyproject.parent}).',
        )
    return tuple(pyproject.parent / entry for entry in entries)
