"""Which plugin a harness test tests: xlr_runtime.testing.discovery's rules, on real folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlr_runtime.errors import ConfigError
from xlr_runtime.testing.discovery import Discovered, plugin_paths_for

SYNTHETIC = '<synthetic xmlns="http://www.xebialabs.com/deployit/synthetic"/>\n'


def make(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_nearest_folder_with_synthetic_xml_is_the_plugin(tmp_path: Path) -> None:
    make(tmp_path / "synthetic.xml", SYNTHETIC)
    plugin = tmp_path / "plugins" / "acme"
    make(plugin / "synthetic.xml", SYNTHETIC)
    test_file = make(plugin / "tests" / "unit" / "test_task.py")
    assert plugin_paths_for(test_file) == Discovered((plugin,), f"the plugin folder {plugin}")


def test_a_maven_or_gradle_plugin_repository_is_the_plugin(tmp_path: Path) -> None:
    repository = tmp_path / "xlr-acme-plugin"
    make(repository / "src" / "main" / "resources" / "synthetic.xml", SYNTHETIC)
    test_file = make(repository / "src" / "test" / "python" / "test_task.py")
    assert plugin_paths_for(test_file) == Discovered((repository,), f"the plugin folder {repository}")


def test_tool_xlr_plugin_paths_are_relative_to_their_pyproject(tmp_path: Path) -> None:
    make(tmp_path / "plugin" / "synthetic.xml", SYNTHETIC)
    make(tmp_path / "acme.jar", "")
    pyproject = make(tmp_path / "pyproject.toml", '[tool.xlr]\nplugin_paths = ["plugin", "acme.jar"]\n')
    test_file = make(tmp_path / "tests" / "test_task.py")
    assert plugin_paths_for(test_file) == Discovered(
        (tmp_path / "plugin", tmp_path / "acme.jar"), f"[tool.xlr] plugin_paths of {pyproject}"
    )


def test_a_pyproject_without_a_tool_xlr_table_says_nothing(tmp_path: Path) -> None:
    make(tmp_path / "synthetic.xml", SYNTHETIC)
    make(tmp_path / "tests" / "pyproject.toml", "[tool.ruff]\nline-length = 120\n")
    test_file = make(tmp_path / "tests" / "test_task.py")
    assert plugin_paths_for(test_file) == Discovered((tmp_path,), f"the plugin folder {tmp_path}")


def test_pytest_setting_wins_at_the_rootdir_and_a_nearer_plugin_wins_over_it(tmp_path: Path) -> None:
    make(tmp_path / "synthetic.xml", SYNTHETIC)
    make(tmp_path / "acme.jar", "")
    at_root = make(tmp_path / "tests" / "test_task.py")
    found = plugin_paths_for(at_root, ini_paths=["acme.jar"], rootdir=tmp_path)
    assert found == Discovered((tmp_path / "acme.jar",), "xlr_plugin_paths in pytest's settings")
    other = tmp_path / "other"
    make(other / "synthetic.xml", SYNTHETIC)
    nearer = make(other / "tests" / "test_other.py")
    assert plugin_paths_for(nearer, ini_paths=["acme.jar"], rootdir=tmp_path) == Discovered(
        (other,), f"the plugin folder {other}"
    )


def test_pytest_setting_applies_to_a_test_file_outside_the_rootdir_when_nothing_else_says(tmp_path: Path) -> None:
    make(tmp_path / "root" / "acme.jar", "")
    (tmp_path / "elsewhere" / ".git").mkdir(parents=True)
    test_file = make(tmp_path / "elsewhere" / "test_task.py")
    found = plugin_paths_for(test_file, ini_paths=["acme.jar"], rootdir=tmp_path / "root")
    assert found == Discovered((tmp_path / "root" / "acme.jar",), "xlr_plugin_paths in pytest's settings")


def test_the_search_stops_at_the_repository_root(tmp_path: Path) -> None:
    make(tmp_path / "synthetic.xml", SYNTHETIC)
    (tmp_path / "project" / ".git").mkdir(parents=True)
    test_file = make(tmp_path / "project" / "tests" / "test_task.py")
    assert plugin_paths_for(test_file) is None


@pytest.mark.parametrize(
    ("table", "got"),
    [('plugin_paths = "."', "'.'"), ("plugin_paths = []", "[]"), ("plugin_path = ['.']", "None")],
)
def test_a_bad_tool_xlr_table_is_an_error_naming_the_file(tmp_path: Path, table: str, got: str) -> None:
    pyproject = make(tmp_path / "pyproject.toml", f"[tool.xlr]\n{table}\n")
    with pytest.raises(ConfigError) as raised:
        plugin_paths_for(make(tmp_path / "test_task.py"))
    assert str(raised.value) == f"{pyproject}: [tool.xlr] plugin_paths must be a non-empty list of paths, got {got}"
    assert raised.value.hint == f'Write plugin_paths = ["."] under [tool.xlr] (paths relative to {tmp_path}).'


def test_a_configured_path_that_does_not_exist_is_an_error_naming_its_setting(tmp_path: Path) -> None:
    pyproject = make(tmp_path / "pyproject.toml", '[tool.xlr]\nplugin_paths = ["gone"]\n')
    with pytest.raises(ConfigError) as raised:
        plugin_paths_for(make(tmp_path / "test_task.py"))
    assert str(raised.value) == f"{pyproject}: [tool.xlr] plugin_paths: plugin path {tmp_path / 'gone'} does not exist"
    with pytest.raises(ConfigError) as raised:
        plugin_paths_for(make(tmp_path / "sub" / "test_task.py"), ini_paths=["lost"], rootdir=tmp_path / "sub")
    lost = tmp_path / "sub" / "lost"
    assert str(raised.value) == f"xlr_plugin_paths in pytest's settings: plugin path {lost} does not exist"


def test_an_unreadable_pyproject_is_an_error_naming_it(tmp_path: Path) -> None:
    pyproject = make(tmp_path / "pyproject.toml", "[tool.xlr\n")
    with pytest.raises(ConfigError, match=f"^{pyproject}: cannot be read"):
        plugin_paths_for(make(tmp_path / "test_task.py"))
