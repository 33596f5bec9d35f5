"""The ``xlr`` command line: one click group; built-in commands load lazily, plugins add theirs.

Domain errors (:class:`~xlr_runtime.errors.XlrError`) are printed as one ``Error: …`` line (plus a ``Hint:``)
and exit non-zero; ``--debug`` shows the traceback instead.

Adding a built-in command is one line in :data:`COMMANDS`: its name, where the click command lives and the first
line of its docstring. Its module is imported only when the command runs or its own help is asked, so ``xlr
--help`` and ``xlr --version`` stay fast (see ``docs/architecture.md``, "Start-up").
"""

from __future__ import annotations

from typing import Any

import click

from xlr_runtime import __version__
from xlr_runtime.cli.lazy import LazyCommand, LazyGroup
from xlr_runtime.errors import XlrError

#: The built-in commands: name -> where the command lives and its one-line help (its docstring's first line).
COMMANDS: dict[str, LazyCommand] = {
    "adhoc": LazyCommand(
        "xlr_runtime.cli.executions:adhoc_command",
        "Run a command line on the nodes a filter selects, as rd adhoc; the command goes after --.",
    ),
    "backup": LazyCommand(
        "xlr_runtime.cli.operations:backup_command",
        "Copy the home's store to DEST, consistently, while 'xlr serve' keeps running.",
    ),
    "check": LazyCommand(
        "xlr_runtime.cli.types:check_command",
        "Lint plugins (folders, .jar/.zip or synthetic.xml files): list each script, and each problem.",
    ),
    "config": LazyCommand(
        "xlr_runtime.cli.operations:config_command",
        "Print the effective settings of the home and where each came from.",
    ),
    "demo": LazyCommand(
        "xlr_runtime.cli.demo:demo_command",
        "Run the Jenkins Build sample against a local Jenkins test server, end to end.",
    ),
    "execution": LazyCommand(
        "xlr_runtime.cli.executions:execution_group", "See, follow, abort or resume one execution."
    ),
    "executions": LazyCommand(
        "xlr_runtime.cli.executions:executions_command", "List executions, newest first, with job, status and times."
    ),
    "jobs": LazyCommand(
        "xlr_runtime.cli.jobs:jobs_group", "Rundeck job definitions, stored per project (as ``rd jobs``)."
    ),
    "keys": LazyCommand(
        "xlr_runtime.cli.keys:keys_group",
        "Rundeck key storage: private keys, public keys and passwords at keys/... paths, stored sealed.",
    ),
    "new": LazyCommand("xlr_runtime.cli.new:new_command", "Create something new from a template."),
    "nodes": LazyCommand(
        "xlr_runtime.cli.nodes:nodes_command",
        "List a project's nodes: the server node and those of the project's resource-model files.",
    ),
    "package": LazyCommand(
        "xlr_runtime.cli.package:package_command", "Build the .jar XL Release installs from a plugin folder."
    ),
    "plugins": LazyCommand(
        "xlr_runtime.cli.plugins:plugins_command",
        "List loaded runtime plugins (built-in and installed) and their hooks.",
    ),
    "prune": LazyCommand(
        "xlr_runtime.cli.operations:prune_command",
        "Remove ended tasks and executions beyond a retention, never anything in flight.",
    ),
    "projects": LazyCommand("xlr_runtime.cli.jobs:projects_command", "List projects and how many jobs each holds."),
    "run": LazyCommand(
        "xlr_runtime.cli.run:run_command",
        "Create a task of TYPE and run it to its end here, showing its status line and log.",
    ),
    "schedules": LazyCommand(
        "xlr_runtime.cli.schedules:schedules_command",
        "List the scheduled jobs of a project with their next fire times.",
    ),
    "serve": LazyCommand(
        "xlr_runtime.cli.serve:serve_command",
        "Run every task of the home until stopped (SIGTERM or Ctrl-C stops gracefully).",
    ),
    "store": LazyCommand(
        "xlr_runtime.cli.store:store_group", "Copy the store to another backend, or apply its schema migrations."
    ),
    "task": LazyCommand("xlr_runtime.cli.tasks:task_group", "Show a stored task, its log, or abort, retry or skip it."),
    "tasks": LazyCommand(
        "xlr_runtime.cli.tasks:tasks_command", "List stored tasks, newest first, with title, status and status line."
    ),
    "token": LazyCommand(
        "xlr_runtime.cli.tokens:token_group", "Create, list or revoke the API tokens of the HTTP API of 'xlr serve'."
    ),
    "types": LazyCommand(
        "xlr_runtime.cli.types:types_command",
        "List every loaded type with its plugin and parent (virtual types are marked).",
    ),
}


class XlrCommandError(click.ClickException):
    """An :class:`XlrError` shown at the CLI boundary, with its hint and exit code."""

    def __init__(self, error: XlrError) -> None:
        super().__init__(error.message)
        self.exit_code = error.exit_code
        self.hint = error.hint

    def format_message(self) -> str:
        return f"{self.message}\nHint: {self.hint}" if self.hint else self.message


class XlrGroup(LazyGroup):
    """The root group: turns domain errors into one-line CLI errors unless ``--debug`` is given."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        # --help lists the commands while the arguments are parsed, before invoke: a broken installed plugin fails
        # there (its one-line error too, unless --debug asks for the traceback)
        debug = "--debug" in args  # read first: parsing consumes ``args``
        try:
            return super().make_context(info_name, args, parent, **extra)
        except XlrError as error:
            if debug:
                raise
            raise XlrCommandError(error) from error

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


def add_plugin_commands(cli: click.Group) -> None:
    """Let the installed plugins add their commands (``xlr_register_commands``). A built-in command keeps its
    name: a plugin's command of the same name is left out, with a warning on stderr naming its module."""
    from xlr_runtime.plugins import plugin_manager

    added = click.Group()
    plugin_manager().hook.xlr_register_commands(cli=added)
    for name, command in added.commands.items():
        if name in COMMANDS:
            where = getattr(command.callback, "__module__", "?")
            click.echo(
                f"Warning: command {name!r} of plugin module {where} left out: xlr has a command {name!r}", err=True
            )
        else:
            cli.add_command(command, name)


@click.group(cls=XlrGroup, lazy_commands=COMMANDS, load_more=add_plugin_commands)
@click.version_option(__version__, prog_name="xlr")
@click.option(
    "--debug", is_flag=True, expose_value=False, is_eager=True, callback=_set_debug, help="Show tracebacks for errors."
)
def main() -> None:
    """xlr-runtime: run XL Release custom task plugins and Rundeck jobs locally, durably.

    Example: xlr demo
    """
