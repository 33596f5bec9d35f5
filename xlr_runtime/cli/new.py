"""``xlr new plugin NAME``: scaffold an XL Release task plugin that passes ``xlr check`` and its own tests.

The files come from ``xlr_runtime/templates/plugin/`` (shipped in the wheel): every ``*.tmpl`` file is written
without that suffix, with ``__PLUGIN__`` replaced by the plugin name (in paths too) and ``__TITLE__`` by its
capitalised form. NAME is the type prefix (``NAME.Server``, ``NAME.Task``) and the scripts' folder, so it must
be an identifier that no loaded type uses yet.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

#: The scaffold's files, relative to the package.
TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates" / "plugin"
TEMPLATE_SUFFIX = ".tmpl"
NAME_TOKEN = "__PLUGIN__"
TITLE_TOKEN = "__TITLE__"
#: A type prefix XL Release accepts and a script folder every file system accepts.
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def render_plugin(name: str) -> dict[str, str]:
    """The scaffold of plugin ``name``: relative POSIX path -> text."""
    title = name[:1].upper() + name[1:]
    files: dict[str, str] = {}
    for template in sorted(TEMPLATE_DIR.rglob(f"*{TEMPLATE_SUFFIX}")):
        relative = template.relative_to(TEMPLATE_DIR).as_posix()[: -len(TEMPLATE_SUFFIX)]
        text = template.read_text(encoding="utf-8")
        files[relative.replace(NAME_TOKEN, name)] = text.replace(NAME_TOKEN, name).replace(TITLE_TOKEN, title)
    return files


def check_name(name: str) -> None:
    """Raise a one-line :class:`click.ClickException` unless ``name`` can be a new plugin's type prefix."""
    if not NAME_PATTERN.fullmatch(name):
        raise click.ClickException(
            f"invalid plugin name {name!r}: it becomes the type prefix (NAME.Task) and the scripts' folder, "
            "so use a letter, then letters, digits or _"
        )
    from xlr_runtime.typesystem.registry import load_registry  # only when scaffolding: loading types takes a moment

    taken = sorted(t.name for t in load_registry().types() if t.name.split(".")[0] == name)
    if taken:
        raise click.ClickException(f"plugin name {name!r} is taken: the types {', '.join(taken)} already use it")


def write_plugin(name: str, target: Path) -> list[Path]:
    """Write the scaffold of ``name`` into ``target`` (a new or empty folder); return the files written."""
    if target.exists() and not target.is_dir():
        raise click.ClickException(f"{target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()):
        raise click.ClickException(f"{target} is not empty; give a new or empty folder with --dir")
    written = []
    for relative, text in render_plugin(name).items():
        path = target.joinpath(*relative.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


@click.group(name="new")
def new_command() -> None:
    """Create something new from a template.

    Example: xlr new plugin acme
    """


@new_command.command(name="plugin")
@click.argument("name")
@click.option(
    "--dir",
    "target",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder to create the plugin in (new or empty) [default: ./NAME].",
)
def new_plugin_command(name: str, target: Path | None) -> None:
    """Scaffold an XL Release task plugin: synthetic.xml with a CI type (NAME.Server, an HTTP connection) and a
    polling task type (NAME.Task: inputs, outputs, a script property, a password input), its two scripts
    (NAME/Task.py starts a job on the server's API and schedules NAME/Task.poll.py, which polls it), a pytest
    test run by the xlr_harness fixture against a fake of that API on 127.0.0.1, and a README.

    The plugin passes `xlr check` and its tests as generated; `xlr package` turns it into the .jar XL Release
    installs.

    Example: xlr new plugin acme --dir ./xlr-acme-plugin
    """
    check_name(name)
    target = target if target is not None else Path(name)
    written = write_plugin(name, target)
    click.echo(f"Created plugin {name} in {target} ({len(written)} files):")
    for path in written:
        click.echo(f"  {path.relative_to(target).as_posix()}")
    click.echo(f"Next: cd {target} && xlr check . && pytest")
