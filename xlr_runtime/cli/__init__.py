"""The ``xlr`` command line: one click group; commands come from plugins (built-in ones included).

Domain errors (:class:`~xlr_runtime.errors.XlrError`) are printed as one ``Error: …`` line (plus a ``Hint:``)
and exit non-zero; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

from typing import Any

import click

from xlr_runtime import __version__
from xlr_runtime.errors import XlrError
from xlr_runtime.plugins import plugin_manager


class XlrCommandError(click.ClickException):
    """An :class:`XlrError` shown at the CLI boundary, with its hint and exit code."""

    def __init__(self, error: XlrError) -> None:
        super().__init__(error.message)
        self.exit_code = error.exit_code
        self.hint = error.hint

    def format_message(self) -> str:
        return f"{self.message}\nHint: {self.hint}" if self.hint else self.message


class XlrGroup(click.Group):
    """The root group: turns domain errors into one-line CLI errors unless ``--debug`` is given."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except XlrError as error:
            if ctx.meta.get("xlr.debug"):
                raise
            raise XlrCommandError(error) from error


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    ctx.meta["xlr.debug"] = value
    return value


@click.group(cls=XlrGroup)
@click.version_option(__version__, prog_name="xlr")
@click.option(
    "--debug", is_flag=True, expose_value=False, is_eager=True, callback=_set_debug, help="Show tracebacks for errors."
)
def main() -> None:
    """xlr-runtime: run XL Release custom task plugins and Rundeck jobs locally, durably.

    Example: xlr demo
    """


plugin_manager().hook.xlr_register_commands(cli=main)
