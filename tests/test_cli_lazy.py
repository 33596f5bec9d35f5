"""The lazy command table: each entry names a real command whose docstring starts with the entry's help, ``--help``
reads the same whether the commands are imported or not, and importing the CLI imports none of the heavy
libraries (checked in a fresh interpreter, where nothing else has imported them)."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from xlr_runtime import hookimpl, plugins
from xlr_runtime.cli import COMMANDS, XlrGroup, add_plugin_commands, main
from xlr_runtime.cli.jobs import jobs_group
from xlr_runtime.cli.lazy import LazyCommand
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.store import Store

#: Every lazy table and the group it belongs to.
TABLES = [("", main, COMMANDS), ("jobs ", jobs_group, jobs_group.lazy_commands)]
ENTRIES = [(f"{prefix}{name}", entry) for prefix, _group, table in TABLES for name, entry in table.items()]

#: Libraries that cost tens of milliseconds each and only some commands need.
HEAVY = (
    "requests",
    "rich",
    "cryptography",
    "paramiko",
    "yaml",
    "sqlite_utils",
    "lxml",
    "regex",
    "fissix",
    "pyhocon",
    "starlette",
    "uvicorn",
    "psycopg",
    "psycopg_pool",
)


def in_fresh_interpreter(code: str) -> list[str]:
    """Run ``code`` (which prints a JSON list) in a new interpreter and return what it printed."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize(("name", "entry"), ENTRIES, ids=[name for name, _ in ENTRIES])
def test_each_entry_names_a_command_whose_docstring_starts_with_its_help(name: str, entry: LazyCommand) -> None:
    command = entry.load()
    assert command.name == name.split()[-1], f"{entry.target} is named {command.name!r}, listed as {name!r}"
    first_line = inspect.cleandoc(command.help or "").splitlines()[0]
    assert entry.help == first_line, f"xlr {name}: the table says {entry.help!r}, the docstring {first_line!r}"
    for limit in (45, 70, 200):
        assert entry.short_help(limit) == command.get_short_help_str(limit), f"xlr {name} at {limit} columns"


def test_help_is_the_same_before_and_after_the_commands_are_imported() -> None:
    before = in_fresh_interpreter(
        "import json, sys; from click.testing import CliRunner; from xlr_runtime.cli import main\n"
        "out = CliRunner().invoke(main, ['--help']).output\n"
        "print(json.dumps([out, sorted(m for m in sys.modules if m.startswith('xlr_runtime.cli.'))]))"
    )
    for prefix, group, table in TABLES:
        for name in table:
            assert group.get_command(click.Context(group), name) is not None, f"xlr {prefix}{name}"
    after = CliRunner().invoke(main, ["--help"]).output
    assert before[0] == after
    assert before[1] == ["xlr_runtime.cli.lazy"], "xlr --help imported command modules"


def test_the_jobs_group_lists_and_runs_its_lazy_command() -> None:
    listed = CliRunner().invoke(main, ["jobs", "--help"])
    assert "  run     Run a stored job to its end here; option values go after --." in listed.output, listed.output
    usage = CliRunner().invoke(main, ["jobs", "run", "--help"], prog_name="xlr")
    assert usage.exit_code == 0 and usage.output.startswith("Usage: xlr jobs run [OPTIONS]"), usage.output


def test_importing_the_cli_imports_no_heavy_library() -> None:
    loaded = in_fresh_interpreter(
        f"import json, sys; import xlr_runtime.cli\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    assert loaded == []


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["tasks", "--help"], ["tasks", "--home", "HOME"]])
def test_start_up_commands_import_no_heavy_library(args: list[str], tmp_path: Path) -> None:
    Store.open(tmp_path / "home" / "xlr.db").close()  # migrated already: sqlite_utils runs only migration steps
    args = [str(tmp_path / "home") if arg == "HOME" else arg for arg in args]
    loaded = in_fresh_interpreter(
        "import json, sys; from click.testing import CliRunner; from xlr_runtime.cli import main\n"
        f"result = CliRunner().invoke(main, {args!r}); assert result.exit_code == 0, result.output\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    assert loaded == []


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["nosuch"])
    assert result.exit_code == 2
    assert "No such command 'nosuch'." in result.output, result.output


def test_a_plugin_adds_commands_but_does_not_replace_a_built_in_one(monkeypatch: pytest.MonkeyPatch) -> None:
    @click.command(name="tasks")
    def impostor() -> None:
        """Not the real one."""
        click.echo("impostor")

    @click.command(name="hello")
    def hello() -> None:
        """Say hello."""
        click.echo("hello from a plugin")

    class Plugin:
        @hookimpl
        def xlr_register_commands(self, cli: click.Group) -> None:
            cli.add_command(impostor)
            cli.add_command(hello)

    pm = build_plugin_manager(load_installed=False)
    pm.register(Plugin())
    monkeypatch.setattr(plugins, "plugin_manager", lambda: pm)
    group = XlrGroup(name="xlr", lazy_commands=COMMANDS, load_more=add_plugin_commands)
    listed = CliRunner().invoke(group, ["--help"])
    assert "  hello       Say hello." in listed.output, listed.output
    assert "  tasks       List stored tasks" in listed.output, listed.output
    warning = f"Warning: command 'tasks' of plugin module {__name__} left out: xlr has a command 'tasks'"
    assert warning in listed.output, listed.output
    group = XlrGroup(name="xlr", lazy_commands=COMMANDS, load_more=add_plugin_commands)
    ran = CliRunner().invoke(group, ["hello"])
    assert ran.exit_code == 0 and ran.output.endswith("hello from a plugin\n"), ran.output
