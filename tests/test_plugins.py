"""The pluggy host: hookspecs, default plugins, installed plugins from entry points, and their documentation."""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from xlr_runtime import hookimpl, hookspecs
from xlr_runtime.cli import main
from xlr_runtime.errors import PluginError
from xlr_runtime.plugins import DEFAULT_PLUGINS, build_plugin_manager, loaded_plugins

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def install_fake_distribution(root: Path, module_source: str, name: str = "fake_plugin") -> None:
    """Make a real installed-looking distribution (dist-info with an entry point) importable from ``root``."""
    (root / f"{name}.py").write_text(module_source, encoding="utf-8")
    dist = root / f"{name.replace('_', '-')}-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: 1.2.3\n")
    (dist / "entry_points.txt").write_text(f"[xlr_runtime]\n{name} = {name}\n")


@pytest.fixture
def fake_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("fake_plugin", None)


def test_every_hook_is_documented() -> None:
    documented = set(re.findall(r"^### `(\w+)\(", DOCS.read_text(encoding="utf-8"), flags=re.M))
    hooks = {name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("xlr_")}
    assert hooks == documented


def test_default_plugins_load_and_nothing_is_pending() -> None:
    pm = build_plugin_manager(load_installed=False)
    assert {row["name"] for row in loaded_plugins(pm)} == set(DEFAULT_PLUGINS)
    assert pm.hook.xlr_script_globals()  # the compat globals (logger, CredentialsFallback)


def test_installed_plugin_is_loaded_when_allowed(fake_distribution: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_distribution(
        fake_distribution,
        "from xlr_runtime import hookimpl\n\n@hookimpl\ndef xlr_plugin_paths():\n    return ['/somewhere']\n",
    )
    monkeypatch.setenv("XLR_LOAD_PLUGINS", "fake-plugin")
    pm = build_plugin_manager()
    assert ["/somewhere"] in pm.hook.xlr_plugin_paths()
    row = next(r for r in loaded_plugins(pm) if r["name"] == "fake_plugin")
    assert row == {"name": "fake_plugin", "hooks": ["xlr_plugin_paths"], "version": "1.2.3", "builtin": False}


def test_installed_plugin_is_not_loaded_when_not_listed(fake_distribution: Path) -> None:
    install_fake_distribution(fake_distribution, "raise RuntimeError('must not be imported')\n")
    pm = build_plugin_manager()  # the suite runs with XLR_LOAD_PLUGINS="" (conftest)
    assert "fake_plugin" not in {row["name"] for row in loaded_plugins(pm)}


def test_broken_installed_plugin_is_a_clear_error(fake_distribution: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_distribution(fake_distribution, "raise RuntimeError('boom')\n")
    monkeypatch.setenv("XLR_LOAD_PLUGINS", "fake_plugin")
    with pytest.raises(PluginError) as caught:
        build_plugin_manager()
    assert str(caught.value) == "plugin 'fake_plugin' (fake_plugin) failed to load: boom"


def test_misspelt_hook_fails_loudly(fake_distribution: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_distribution(
        fake_distribution, "from xlr_runtime import hookimpl\n\n@hookimpl\ndef xlr_plugin_path():\n    return []\n"
    )
    monkeypatch.setenv("XLR_LOAD_PLUGINS", "fake_plugin")
    with pytest.raises(Exception, match="unknown hook 'xlr_plugin_path'"):
        build_plugin_manager()


def test_plugin_can_add_a_command(fake_distribution: Path) -> None:
    @click.command(name="hello")
    def hello() -> None:
        """Say hello.

        Example: xlr hello
        """
        click.echo("hello from a plugin")

    class Plugin:
        @hookimpl
        def xlr_register_commands(self, cli: click.Group) -> None:
            cli.add_command(hello)

    group = click.Group(name="xlr")
    pm = build_plugin_manager(load_installed=False)
    pm.register(Plugin())
    pm.hook.xlr_register_commands(cli=group)
    result = CliRunner().invoke(group, ["hello"])
    assert result.output == "hello from a plugin\n", result.output


def test_xlr_plugins_command_lists_builtins() -> None:
    result = CliRunner().invoke(main, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    assert '"xlr_runtime.rundeck.plugin"' in result.output


def test_trace_writes_hook_calls_to_stderr(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XLR_TRACE_PLUGINS", "1")
    pm = build_plugin_manager(load_installed=False)
    pm.hook.xlr_plugin_paths()
    assert "xlr_plugin_paths" in capsys.readouterr().err
