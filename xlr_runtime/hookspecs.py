"""The hooks xlr-runtime offers to plugins (entry-point group ``xlr_runtime``).

Implement them with ``from xlr_runtime import hookimpl``. Hooks are always called with keyword arguments;
a misspelt implementation fails at start-up (``PluginManager.check_pending``). Built-in features use the same
hooks (see :data:`xlr_runtime.plugins.DEFAULT_PLUGINS`). Every hook is listed in ``docs/plugins.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    import click

hookspec = pluggy.HookspecMarker("xlr_runtime")


@hookspec
def xlr_plugin_paths() -> list[Path | str]:
    """Extra plugin locations: folders or ``.jar``/``.zip`` archives with ``synthetic.xml`` at their root.

    Returns a list of paths; results of all implementations are loaded after the bundled plugins and before
    the home's ``plugins/`` and ``ext/`` folders.
    """


@hookspec
def xlr_base_type_files() -> list[Path | str]:
    """Extra synthetic.xml files holding base types, loaded with the runtime's own ``synthetic/`` data.

    Returns a list of file paths. Use it to ship stock definitions of built-in types a plugin extends.
    """


@hookspec
def xlr_register_commands(cli: click.Group) -> None:
    """Add commands to the ``xlr`` CLI.

    ``cli`` is the root click group; call ``cli.add_command(...)`` on it. Returns nothing.
    """
