"""An installed runtime plugin, end to end in a real ``xlr`` process: found through the ``xlr_runtime``
entry-point group, listed by ``xlr plugins``, its plugin folder seen by ``xlr types``, limited by
``XLR_LOAD_PLUGINS`` and traced by ``XLR_TRACE_PLUGINS``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from synthetic_helpers import write_plugin

PLUGIN_MODULE = """from pathlib import Path

from xlr_runtime import hookimpl


@hookimpl
def xlr_plugin_paths():
    return [Path(__file__).parent / "fake-xlr-plugin"]
"""
TYPES = '  <type type="fake.Server" extends="configuration.HttpConnection"/>\n'


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A folder on PYTHONPATH holding an installed-looking distribution ``fake-plugin`` 1.2.3 whose entry point
    (group ``xlr_runtime``) adds the plugin folder ``fake-xlr-plugin`` through ``xlr_plugin_paths``."""
    root = tmp_path / "site"
    root.mkdir()
    (root / "fake_plugin.py").write_text(PLUGIN_MODULE, encoding="utf-8")
    dist = root / "fake_plugin-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-plugin\nVersion: 1.2.3\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[xlr_runtime]\nfake_plugin = fake_plugin\n", encoding="utf-8")
    write_plugin(root / "fake-xlr-plugin", TYPES)
    return root


def xlr(site: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``xlr ARGS`` in a fresh interpreter with ``site`` importable, no XLR_* variables but ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("XLR_")}
    clean.update(PYTHONPATH=str(site), HOME=str(site.parent), **env)
    return subprocess.run(
        [sys.executable, "-c", "from xlr_runtime.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=clean,
        timeout=60,
    )


def test_an_installed_plugin_is_listed_and_its_types_load(site: Path) -> None:
    listed = xlr(site, "plugins")
    assert listed.returncode == 0, listed.stderr
    assert "fake_plugin (version 1.2.3): xlr_plugin_paths" in listed.stdout.splitlines(), listed.stdout
    types = xlr(site, "types")
    assert types.returncode == 0, types.stderr
    rows = {line.split()[0]: line.split()[1:] for line in types.stdout.splitlines()[1:]}
    assert rows["fake.Server"] == ["fake-xlr-plugin", "configuration.HttpConnection"], types.stdout


@pytest.mark.parametrize(
    ("allowed", "loaded"),
    [("", False), ("other", False), ("fake_plugin", True), ("other, fake-plugin", True)],
)
def test_xlr_load_plugins_limits_installed_plugins(site: Path, allowed: str, loaded: bool) -> None:
    listed = xlr(site, "plugins", "--json", XLR_LOAD_PLUGINS=allowed)
    assert listed.returncode == 0, listed.stderr
    assert ('"fake_plugin"' in listed.stdout) is loaded, listed.stdout
    assert '"xlr_runtime.rundeck.plugin"' in listed.stdout  # built-in plugins always load


def test_xlr_trace_plugins_prints_hook_calls_to_stderr(site: Path) -> None:
    traced = xlr(site, "types", XLR_TRACE_PLUGINS="1")
    assert traced.returncode == 0, traced.stderr
    assert "xlr_plugin_paths" in traced.stderr and "fake-xlr-plugin" in traced.stderr, traced.stderr
    assert "fake.Server" in traced.stdout
    quiet = xlr(site, "types")
    assert quiet.stderr == "", quiet.stderr


COMMAND_MODULE = '''import click

from xlr_runtime import hookimpl


@click.command(name="hello")
def hello():
    """Say hello from an installed plugin.

    Example: xlr hello
    """
    click.echo("hello from fake_plugin")


@hookimpl
def xlr_register_commands(cli):
    cli.add_command(hello)
'''


def test_an_installed_plugin_adds_a_command_listed_by_help(site: Path) -> None:
    (site / "fake_plugin.py").write_text(COMMAND_MODULE, encoding="utf-8")
    listed = xlr(site, "--help")
    assert listed.returncode == 0, listed.stderr
    assert "  hello       Say hello from an installed plugin." in listed.stdout.splitlines(), listed.stdout
    ran = xlr(site, "hello")
    assert (ran.returncode, ran.stdout) == (0, "hello from fake_plugin\n"), ran.stderr


def test_a_broken_installed_plugin_is_one_error_line_for_help_and_spares_built_in_commands(site: Path) -> None:
    (site / "fake_plugin.py").write_text("raise RuntimeError('boom')\n", encoding="utf-8")
    for args in (["--help"], ["plugins"]):
        failed = xlr(site, *args)
        assert failed.returncode == 1, failed.stdout
        assert failed.stderr == "Error: plugin 'fake_plugin' (fake_plugin) failed to load: boom\n", failed.stderr
    traced = xlr(site, "--debug", "--help")
    assert traced.returncode == 1
    assert traced.stderr.startswith("Traceback") and "PluginError" in traced.stderr, traced.stderr
    (site.parent / "home").mkdir()
    listed = xlr(site, "tasks", "--home", str(site.parent / "home"))
    assert (listed.returncode, listed.stdout) == (0, "No tasks.\n"), listed.stderr
