"""Generates ``docs/cli.md`` from the commands themselves, so the reference cannot drift.

Run ``python -m xlr_runtime.cli.reference > docs/cli.md`` after changing a command; a test fails when the file
and the commands disagree. The text is built from each command's help and parameters (not from click's help
formatter), so it does not change with the terminal or the click version.
"""

from __future__ import annotations

import inspect

import click

HEADER = """# Command reference

Generated from the commands by `python -m xlr_runtime.cli.reference > docs/cli.md`; do not edit by hand.
Every command also answers `--help`.
"""


def render_reference(root: click.Group) -> str:
    """The Markdown reference of ``root`` and every command below it, in name order."""
    sections = [HEADER]
    for path, command in walk(root, ["xlr"]):
        sections.append(_section(" ".join(path), command))
    return "\n".join(sections)


def walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    """``(path, command)`` for ``command`` (named ``path``) and every command below it, lazy ones imported."""
    found = [(path, command)]
    for name, sub in _subcommands(command).items():
        found.extend(walk(sub, [*path, name]))
    return found


def _subcommands(command: click.Command) -> dict[str, click.Command]:
    """The commands of a group by name (lazy ones imported), in name order; ``{}`` for a plain command."""
    if not isinstance(command, click.Group):
        return {}
    ctx = click.Context(command)
    found = {name: command.get_command(ctx, name) for name in command.list_commands(ctx)}
    return {name: sub for name, sub in sorted(found.items()) if sub is not None}


def _section(name: str, command: click.Command) -> str:
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    usage = " ".join([name, "[OPTIONS]", *(_argument_usage(a) for a in arguments)])
    if isinstance(command, click.Group):
        usage += " COMMAND [ARGS]..."
    lines = [f"## `{name}`", "", f"`{usage}`", "", inspect.cleandoc(command.help or ""), ""]
    if _subcommands(command):
        lines += ["Commands: " + ", ".join(f"`{sub}`" for sub in _subcommands(command)), ""]
    options = [p for p in command.params if isinstance(p, click.Option) and not p.hidden]
    if options:
        lines += ["| option | meaning |", "| --- | --- |"]
        lines += [f"| {_option_names(option)} | {_option_meaning(option)} |" for option in options]
        lines.append("")
    return "\n".join(lines)


def _argument_usage(argument: click.Argument) -> str:
    text = argument.human_readable_name
    if argument.nargs != 1:
        text += "..."
    return text if argument.required else f"[{text}]"


def _option_names(option: click.Option) -> str:
    names = ", ".join(f"`{name}`" for name in [*option.opts, *option.secondary_opts])
    if not option.is_flag and option.metavar is None:
        names += f" {option.type.name.upper()}"
    return names


def _option_meaning(option: click.Option) -> str:
    parts = [(option.help or "").replace("|", "\\|")]
    if isinstance(option.type, click.Choice):
        parts.append("One of " + ", ".join(f"`{c}`" for c in option.type.choices) + ".")
    if option.multiple:
        parts.append("Repeatable.")
    if option.envvar and "env " not in (option.help or ""):
        parts.append(f"Env `{option.envvar}`.")
    if option.show_default and option.default not in (None, False, ()):
        parts.append(f"Default `{option.default}`.")
    return " ".join(part for part in parts if part)


if __name__ == "__main__":
    from xlr_runtime.cli import main

    click.echo(render_reference(main), nl=False)
