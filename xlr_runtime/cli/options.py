"""Options shared by ``xlr`` commands and the context they build.

``--home`` and ``--plugins`` have their ``XLR_*`` environment variables here; the variables of settings
(``XLR_STORE``, ``XLR_HTTP``) are read by :func:`xlr_runtime.settings.load`, as for every other entry point, and
an option only overrides them.

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
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from xlr_runtime import settings as settings_module
from xlr_runtime.errors import ConfigError, EnvironmentConfigError, HomeError
from xlr_runtime.home import HOME_ENV, Home, default_home
from xlr_runtime.store.base import MAX_ROW_ID, fits_row_id
from xlr_runtime.storeurl import parse_store_url

if TYPE_CHECKING:
    from xlr_runtime.store import Store


@dataclass
class CliContext:
    """What the shared options say: the home, the ``--plugins`` paths, ``--store``, and lazily loaded settings.

    ``read_only`` commands (listing and showing) read the home as it is: settings of its files that fail
    validation are reported once on stderr as a warning and the defaults (with the environment's settings) are used
    instead; a command that runs scripts stops, and a bad environment variable stops every command, as a bad option
    does. ``home_source`` and ``plugins_source`` say where ``--home`` and ``--plugins`` came from, for ``xlr
    config``. ``option_store_url`` (``--store``) replaces ``store.url``, whatever ``XLR_STORE`` says.
    """

    home: Home
    option_plugin_paths: tuple[Path, ...] = ()
    read_only: bool = False
    home_source: str = "default"
    plugins_source: str = "default"
    option_store_url: str | None = None
    #: The error that made a read-only command fall back to the default settings, if any.
    settings_error: ConfigError | None = None
    _settings: settings_module.Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> settings_module.Settings:
        """The home's validated settings (read once)."""
        if self._settings is None:
            try:
                self._settings = settings_module.load(self.home.root)
            except ConfigError as error:
                if not self.read_only or isinstance(error, EnvironmentConfigError):
                    raise
                click.echo(f"Warning: {error}; using the default settings", err=True)
                self.settings_error = error
                self._settings = settings_module.load(None)  # the defaults, and the environment as always
            if self.option_store_url is not None:
                self._settings = self._settings.with_overrides(store_url=self.option_store_url)
        return self._settings

    def open_store(self) -> Store:
        """The store the settings name (``store.url``; the home's ``xlr.db`` by default), created and migrated if
        needed."""
        from xlr_runtime.store.opening import open_store

        self.home.ensure()
        return open_store(self.home, self.settings)

    @property
    def plugin_paths(self) -> tuple[Path, ...]:
        """The plugins to load besides the home's folders: ``plugins.path`` of the settings, then ``--plugins``
        (``XLR_PLUGIN_PATH``)."""
        return (*self.settings.plugin_paths(self.home.root), *self.option_plugin_paths)

    def require_home(self) -> Home:
        """The home, which must exist: a :class:`HomeError` instead of creating a mistyped ``--home``."""
        if not self.home.root.is_dir():
            raise HomeError(
                self.home.root,
                "no such home folder",
                hint="Check --home (XLR_HOME); 'xlr run' and 'xlr serve' create a new home.",
            )
        return self.home


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


def _store_url(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """``--store`` checked as ``store.url`` is: a bad URL is a one-line usage error (never showing a password)."""
    if value is not None:
        try:
            parse_store_url(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


def runtime_options(
    command: Callable[..., Any] | None = None, *, read_only: bool = False, home_optional: bool = False
) -> Callable[..., Any]:
    """Add ``--home`` (``XLR_HOME``), ``--plugins`` (``XLR_PLUGIN_PATH``, repeatable) and ``--store`` (over
    ``XLR_STORE``, which the settings read) and pass ``ctx``.

    ``@runtime_options(read_only=True)`` marks a command that only reads the home: a home that does not exist is
    a one-line error (nothing is created) and invalid settings are a warning (see :class:`CliContext`);
    ``home_optional`` lets it run without a home (``xlr types``: the defaults, no home plugins).
    """
    if command is None:
        return functools.partial(runtime_options, read_only=read_only, home_optional=home_optional)

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
        help="Extra plugin folder, .jar or .zip, added to plugins.path of xlr.toml (repeatable; env "
        "XLR_PLUGIN_PATH, os.pathsep-separated).",
    )
    @click.option(
        "--store",
        "store_url",
        default=None,
        metavar="URL",
        callback=_store_url,
        help="The store: sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE [default: env XLR_STORE, else "
        "store.url, else the home's xlr.db].",
    )
    @functools.wraps(command)
    def wrapper(
        *args: Any, home_dir: Path | None, plugin_paths: tuple[Path, ...], store_url: str | None, **kwargs: Any
    ) -> Any:
        click_ctx = click.get_current_context()
        ctx = CliContext(
            home=Home((home_dir or default_home()).expanduser()),
            option_plugin_paths=plugin_paths,
            read_only=read_only,
            home_source=_source(click_ctx, "home_dir", "--home", HOME_ENV),
            plugins_source=_source(click_ctx, "plugin_paths", "--plugins", "XLR_PLUGIN_PATH"),
            option_store_url=store_url,
        )
        if read_only and not home_optional:
            ctx.require_home()
        return command(*args, ctx=ctx, **kwargs)

    return wrapper


def _source(click_ctx: click.Context, param: str, option: str, envvar: str) -> str:
    """Where an option's value came from, in the words of ``xlr config``."""
    source = click_ctx.get_parameter_source(param)
    if source is ParameterSource.ENVIRONMENT:
        return f"environment variable {envvar}"
    if source is ParameterSource.COMMANDLINE:
        return f"command-line option {option}"
    return "default"


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON (the ``--json`` output of every command)."""
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


#: How many rows a listing (``xlr tasks``, ``xlr executions``) shows without ``--limit`` or ``--all``.
DEFAULT_PAGE = 50


def page_options(noun: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--limit N`` (at least 1; default :data:`DEFAULT_PAGE`) and ``--all`` of a listing of ``noun`` (plural);
    the command receives ``limit`` and ``show_all`` and reads its page size from :func:`page_size`."""
    limit = click.option(
        "--limit",
        type=click.IntRange(min=1),
        default=None,
        help=f"At most this many {noun}, the newest [default: {DEFAULT_PAGE}].",
    )
    show_all = click.option("--all", "show_all", is_flag=True, help=f"Every {noun.removesuffix('s')} (no limit).")
    return lambda command: limit(show_all(command))


def page_size(limit: int | None, show_all: bool) -> int | None:
    """The rows to show (``None``: all) for ``--limit`` and ``--all``; giving both is a usage error."""
    if show_all and limit is not None:
        raise click.UsageError("give --limit N or --all, not both")
    return None if show_all else (limit or DEFAULT_PAGE)


def echo_left_out(left_out: int, shown: int, noun: str, *, err: bool) -> None:
    """The footer of a page: how many older ``noun`` (singular) rows are not shown and how to see them (nothing
    when none is left out)."""
    if left_out:
        older = f"older {noun} is" if left_out == 1 else f"older {noun}s are"
        message = f"{left_out:,} {older} not shown (the newest {shown:,} are); see them with --limit N or --all."
        click.echo(message, err=err)
