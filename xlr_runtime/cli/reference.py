"""Generates ``docs/cli.md`` from the commands' own ``--help``, so the reference cannot drift.

Run ``python -m xlr_runtime.cli.reference > docs/cli.md`` after changing a command; a test fails when the file
and the commands disagree.
"""

from __future__ import annotations

import click

HEADER = """# Command reference

Generated from `xlr … --help` by `python -m xlr_runtime.cli.reference > docs/cli.md`; do not edit by hand.
"""


def render_reference(root: click.Group) -> str:
    """The Markdown reference of ``root`` and every command below it, in name order."""
    sections = [HEADER]
    for path, command in _walk(root, ["xlr"]):
        with click.Context(command, info_name=" ".join(path), terminal_width=100, max_content_width=100) as ctx:
            help_text = command.get_help(ctx)
        sections.append(f"## `{' '.join(path)}`\n\n```text\n{help_text}\n```\n")
    return "\n".join(sections)


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            found.extend(_walk(command.commands[name], [*path, name]))
    return found


if __name__ == "__main__":
    from xlr_runtime.cli import main

    click.echo(render_reference(main), nl=False)
