"""Options shared by ``xlr`` commands, each with its ``XLR_*`` environment variable, and the context they build.

Use ``@runtime_options`` on a command and take a ``ctx: CliContext`` parameter; add ``@json_option`` where a
script would consume the output.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from xlr_runtime import settings as settings_module
from xlr_runtime.home import HOME_ENV, Home, default_home
from xlr_runtime.store.base import MAX_ROW_ID, fits_row_id


@dataclass
class CliContext:
    """What the shared options say: the home, extra plugin paths, and lazily loaded settings."""

    home: Home
    plugin_paths: tuple[Path, ...] = ()
    _settings: settings_module.Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> settings_module.Settings:
        """The home's validated settings (read once)."""
        if self._settings is None:
            self._settings = settings_module.load(self.home.root)
        return self._settings


class RowId(click.ParamType):
    """An id of a stored row (an execution): a whole number SQLite can hold, else a one-line usage error."""

    name = "integer"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        number = click.INT.convert(value, param, ctx)
        if not fits_row_id(number):
            self.fail(f"{value} is not an id: ids are at most {MAX_ROW_ID}", param, ctx)
        return number


#: The type of execution id arguments.
ROW_ID = RowId()


def _split_paths(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> tuple[Path, ...]:
    paths: list[Path] = []
    for item in value:
        paths.extend(Path(p).expanduser() for p in item.split(os.pathsep) if p)
    return tuple(paths)


def runtime_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--home`` (``XLR_HOME``) and ``--plugins`` (``XLR_PLUGIN_PATH``, repeatable) and pass ``ctx``."""

    @click.option(
        "--home",
        "home_dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar=HOME_ENV,
        default=None,
        help="Runtime home folder [env XLR_HOME; default ~/.xlr].",
    )
    @click.option(
        "--plugins",
        "plugin_paths",
        multiple=True,
        envvar="XLR_PLUGIN_PATH",
        callback=_split_paths,
        help="Extra plugin folder, .jar or .zip (repeatable; env XLR_PLUGIN_PATH, os.pathsep-separated).",
    )
    @functools.wraps(command)
    def wrapper(*args: Any, home_dir: Path | None, plugin_paths: tuple[Path, ...], **kwargs: Any) -> Any:
        home = Home((home_dir or default_home()).expanduser())
        return command(*args, ctx=CliContext(home=home, plugin_paths=plugin_paths), **kwargs)

    return wrapper


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON (the ``--json`` output of every command)."""
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
