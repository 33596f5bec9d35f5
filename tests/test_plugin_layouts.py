"""Plugin repositories in the Maven/Gradle layout (issue 13, item 8).

``xlr-layout-plugin`` is a plugin repository written for these tests: synthetic.xml and one script in
``src/main/resources``, more scripts in ``src/main/jython``. It is one plugin named after the repository, whether
it is given by its root, its resources folder, its synthetic.xml or inside a folder of plugins.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from task_helpers import XLR_COMMAND

from xlr_runtime.cli import main
from xlr_runtime.errors import PluginError
from xlr_runtime.home import Home
from xlr_runtime.testing.harness import TaskHarness
from xlr_runtime.typesystem.sources import FolderPlugin, Origin, open_plugin, plugins_at

REPOSITORY = Path(__file__).parent / "data" / "plugins" / "xlr-layout-plugin"
RESOURCES = REPOSITORY / "src" / "main" / "resources"
JYTHON = REPOSITORY / "src" / "main" / "jython"


def xlr_in(folder: Path, home: Home, plugin: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``xlr`` as a real process started in ``folder``, far from the plugin."""
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [*XLR_COMMAND, *args, "--home", str(home.root), "--plugins", str(plugin)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("given", [REPOSITORY, RESOURCES, RESOURCES / "synthetic.xml"], ids=["root", "res", "xml"])
def test_a_repository_is_one_plugin_named_after_it(given: Path) -> None:
    (plugin,) = plugins_at(given, Origin.PATH)
    assert isinstance(plugin, FolderPlugin)
    assert plugin.name == "xlr-layout-plugin"
    assert plugin.roots == (RESOURCES, JYTHON)
    assert plugin.list_files() == [
        "layout/Hello.finish.py",
        "layout/Hello.py",
        "layout/Wave.py",
        "layoutlib/__init__.py",
        "layoutlib/words.py",
        "synthetic.xml",
    ]
    finish = plugin.script("layout/Hello.finish.py")
    assert finish is not None and finish.display_path == str(JYTHON / "layout" / "Hello.finish.py")
    assert plugin.display_path("layout/Hello.py") == str(RESOURCES / "layout" / "Hello.py")


def test_a_folder_of_repositories(tmp_path: Path) -> None:
    shutil.copytree(REPOSITORY, tmp_path / "checkouts" / "xlr-layout-plugin")
    (tmp_path / "checkouts" / "notes").mkdir()
    assert [p.name for p in plugins_at(tmp_path / "checkouts", Origin.PATH)] == ["xlr-layout-plugin"]


def test_a_file_in_resources_wins_over_the_same_path_in_jython(tmp_path: Path) -> None:
    copy = shutil.copytree(REPOSITORY, tmp_path / "repo")
    (copy / "src" / "main" / "resources" / "layout" / "Wave.py").write_text("waved = 'resources'\n")
    plugin = open_plugin(copy, Origin.PATH)
    script = plugin.script("layout/Wave.py")
    assert script is not None and script.read() == "waved = 'resources'\n"


def test_a_repository_without_a_jython_folder(tmp_path: Path) -> None:
    copy = shutil.copytree(REPOSITORY, tmp_path / "xlr-small-plugin")
    shutil.rmtree(copy / "src" / "main" / "jython")
    plugin = open_plugin(copy, Origin.PATH)
    assert isinstance(plugin, FolderPlugin)
    assert (plugin.name, plugin.roots) == ("xlr-small-plugin", (copy / "src" / "main" / "resources",))


def test_a_folder_that_is_no_plugin_names_the_repository_layout(tmp_path: Path) -> None:
    (tmp_path / "src" / "main").mkdir(parents=True)
    with pytest.raises(PluginError) as info:
        open_plugin(tmp_path, Origin.PATH)
    assert "a plugin repository with src/main/resources/synthetic.xml" in str(info.value)


def test_xlr_types_on_a_repository_root_from_another_folder(tmp_path: Path, home: Home) -> None:
    result = xlr_in(tmp_path / "elsewhere", home, REPOSITORY, "types", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row["plugin"] for row in json.loads(result.stdout)}
    assert rows["layout.Hello"] == rows["layout.Wave"] == "xlr-layout-plugin"


def test_xlr_run_uses_scripts_of_both_folders(tmp_path: Path, home: Home) -> None:
    hello = xlr_in(tmp_path / "elsewhere", home, REPOSITORY, "run", "layout.Hello", "-i", "who=repo")
    assert hello.returncode == 0, hello.stderr
    assert hello.stdout == "greeting = 'hello repo!'\n"
    assert "hello from resources" in hello.stderr and "finishing in jython" in hello.stderr
    wave = xlr_in(tmp_path / "elsewhere", home, RESOURCES, "run", "layout.Wave")
    assert wave.returncode == 0, wave.stderr
    assert wave.stdout == "waved = 'yes'\n"


def test_plugin_settings_name_the_repository(tmp_path: Path, home: Home) -> None:
    # translation off for this plugin: its Python 2 scripts no longer compile, so the setting reached it
    home.config_file.write_text('[plugins.xlr-layout-plugin]\ntranslate = "off"\n')
    result = xlr_in(tmp_path / "elsewhere", home, REPOSITORY, "run", "layout.Wave")
    assert result.returncode == 1
    assert f"{JYTHON / 'layout' / 'Wave.py'}:3" in result.stderr, result.stderr


def test_xlr_check_lists_the_scripts_of_both_folders(home: Home) -> None:
    result = CliRunner().invoke(main, ["check", str(REPOSITORY), "--home", str(home.root)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{JYTHON / 'layout' / 'Hello.finish.py'}: ok (translated from Python 2)",
        f"{JYTHON / 'layout' / 'Wave.py'}: ok (translated from Python 2)",
        f"{JYTHON / 'layoutlib' / '__init__.py'}: ok (Python 3)",
        f"{JYTHON / 'layoutlib' / 'words.py'}: ok (translated from Python 2)",
        f"{RESOURCES / 'layout' / 'Hello.py'}: ok (translated from Python 2)",
        "ok: 1 plugin, 5 scripts checked, no problems",
    ]


def test_the_harness_runs_a_repository(tmp_path: Path) -> None:
    with TaskHarness(tmp_path / "home", plugin_paths=[REPOSITORY]) as harness:
        outcome = harness.run("layout.Hello")
    assert outcome.status == "completed", outcome.log_text
    assert outcome.outputs == {"greeting": "hello world!"}
