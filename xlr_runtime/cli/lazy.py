"""A click group whose commands are imported only when used, so ``xlr --help`` and ``xlr tasks`` do not pay for
every command's imports (requests, rich, cryptography, the Rundeck codecs…).

A group lists its lazy commands as ``name -> LazyCommand("module:attribute", "One-line help.")``; the one-line
help is what ``--help`` shows without importing the module, and ``tests/test_cli_lazy.py`` checks that it is the
first line of the command's docstring. Commands added with ``add_command`` (plugins, or decorators on the group)
work as in any click group.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import click


@dataclass(frozen=True)
class LazyCommand:
    """Where a command object lives (``"package.module:attribute"``) and the one-line help ``--help`` shows."""

    target: str
    help: str

    def short_help(self, limit: int) -> str:
        """The help as ``--help`` lists it in ``limit`` columns (shortened as click shortens a command's own)."""
        return click.Command(None, help=self.help).get_short_help_str(limit)

    def load(self) -> click.Command:
        """Import the module and return the command object."""
        module_name, _, attribute = self.target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.target} is not a click command")
        return command


class LazyGroup(click.Group):
    """A group with commands imported on first use (see the module docstring).

    ``load_more`` is called once, the first time a name is not found or every command is listed: the root group
    uses it to let installed plugins add their commands (``xlr_register_commands``).
    """

    def __init__(
        self,
        *args: Any,
        lazy_commands: Mapping[str, LazyCommand] | None = None,
        load_more: Callable[[click.Group], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})
        self._load_more = load_more

    def _more(self) -> None:
        if self._load_more is not None:
            load_more, self._load_more = self._load_more, None
            load_more(self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._more()
        return sorted(set(self.commands) | set(self.lazy_commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            lazy = self.lazy_commands.get(cmd_name)
            if lazy is not None:
                self.add_command(lazy.load(), cmd_name)
            else:
                self._more()
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands section of ``--help``: lazy commands show their table help and stay unimported."""
        names = [
            name for name in self.list_commands(ctx) if name in self.lazy_commands or not self.commands[name].hidden
        ]
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = self.commands.get(name)
            if command is None:
                rows.append((name, self.lazy_commands[name].short_help(limit)))
            else:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
