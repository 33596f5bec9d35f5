"""The CLI root: version, help, error boundary, and every command documented with an example."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from xlr_runtime import __version__
from xlr_runtime.cli import XlrGroup, main
from xlr_runtime.cli.reference import walk
from xlr_runtime.errors import ConfigError


def all_commands(group: click.Group) -> list[tuple[str, click.Command]]:
    """Every command below ``group`` by its words after ``xlr`` (lazy ones imported)."""
    return [(" ".join(path), command) for path, command in walk(group, [])[1:]]


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.output == f"xlr, version {__version__}\n", result.output


@pytest.mark.parametrize(("name", "command"), all_commands(main))
def test_every_command_has_help_with_an_example(name: str, command: click.Command) -> None:
    assert command.help, f"'xlr {name}' has no help"
    assert "Example: xlr" in command.help or isinstance(command, click.Group), f"'xlr {name}' help has no example"


def failing_group() -> click.Group:
    @click.group(cls=XlrGroup)
    @click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=lambda ctx, _p, v: ctx.meta.__setitem__("xlr.debug", v),
    )
    def root() -> None:
        """Test root."""

    @root.command()
    def broken() -> None:
        """Fail with a domain error."""
        raise ConfigError("unknown setting 'x'", path="/h/xlr.toml", line=3, hint="Known settings: y")

    return root


def test_domain_error_is_one_line_with_hint_and_nonzero_exit() -> None:
    result = CliRunner().invoke(failing_group(), ["broken"])
    assert result.exit_code == 1, result.output
    assert result.output == "Error: /h/xlr.toml:3: unknown setting 'x'\nHint: Known settings: y\n"


def test_debug_shows_the_traceback() -> None:
    result = CliRunner().invoke(failing_group(), ["--debug", "broken"])
    assert result.exit_code == 1
    assert isinstance(result.exception, ConfigError)


def test_cli_reference_is_current() -> None:
    from pathlib import Path

    from xlr_runtime.cli.reference import render_reference

    docs = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
    assert docs.read_text(encoding="utf-8") == render_reference(main), (
        "docs/cli.md is stale: run python -m xlr_runtime.cli.reference > docs/cli.md"
    )
