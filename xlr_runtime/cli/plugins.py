"""``xlr plugins``: list the loaded pluggy plugins and the hooks they implement."""

from __future__ import annotations

import click

from xlr_runtime.cli.options import echo_json, json_option
from xlr_runtime.plugins import loaded_plugins, plugin_manager


@click.command(name="plugins")
@json_option
def plugins_command(as_json: bool) -> None:
    """List loaded runtime plugins (built-in and installed) and their hooks.

    Example: xlr plugins --json
    """
    rows = loaded_plugins(plugin_manager())
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        origin = "built-in" if row["builtin"] else f"version {row['version'] or '?'}"
        click.echo(f"{row['name']} ({origin}): {', '.join(row['hooks']) or '-'}")
