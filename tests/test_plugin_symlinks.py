"""A plugin reached through a symlink and through its real path is one plugin (issue 13, item 9).

Uses a copy of the ``xlr-layout-plugin`` repository written for the layout tests, and symlinks to it, its
resources folder and its synthetic.xml, in another folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.testing.harness import TaskHarness
from xlr_runtime.typesystem.registry import load_registry
from xlr_runtime.typesystem.sources import Origin

REPOSITORY = Path(__file__).parent / "data" / "plugins" / "xlr-layout-plugin"


def symlinked(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the repository and a symlink to it, in another folder."""
    real = shutil.copytree(REPOSITORY, tmp_path / "real" / "xlr-layout-plugin")
    link = tmp_path / "links" / "layout"
    link.parent.mkdir()
    link.symlink_to(real, target_is_directory=True)
    return real, link


def xlr(home: Home, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--home", str(home.root)])


def test_a_plugin_given_by_a_symlink_and_by_its_real_path_loads_once(tmp_path: Path) -> None:
    real, link = symlinked(tmp_path)
    registry = load_registry(plugin_paths=[link, real])
    assert [p.name for p in registry.plugins if p.origin is Origin.PATH] == ["layout"]
    assert registry.get("layout.Hello").plugin == "layout"


def test_a_symlinked_plugin_folder_in_home_plugins_and_on_the_command_line(tmp_path: Path, home: Home) -> None:
    real, _ = symlinked(tmp_path)
    home.plugins_dir.mkdir(parents=True, exist_ok=True)
    (home.plugins_dir / "layout-link").symlink_to(real / "src" / "main" / "resources", target_is_directory=True)
    result = xlr(home, "run", "layout.Wave", "--plugins", str(real))
    assert result.exit_code == 0, result.output
    assert result.stdout == "waved = 'yes'\n"
    checked = xlr(home, "check", str(real), str(tmp_path / "links" / "layout"))
    assert checked.exit_code == 0, checked.output
    assert checked.output.splitlines()[-1] == "ok: 1 plugin, 5 scripts checked, no problems"


def test_a_symlinked_synthetic_xml_is_read_beside_its_real_file(tmp_path: Path) -> None:
    real, _ = symlinked(tmp_path)
    xml_link = tmp_path / "links" / "synthetic.xml"
    xml_link.symlink_to(real / "src" / "main" / "resources" / "synthetic.xml")
    registry = load_registry(plugin_paths=[xml_link, real / "src" / "main" / "resources" / "synthetic.xml"])
    assert registry.get("layout.Wave").plugin == "xlr-layout-plugin"
    script = registry.find_script(registry.get("layout.Wave"), "layout/Wave.py")
    assert script is not None and script.display_path == str(real / "src" / "main" / "jython" / "layout" / "Wave.py")


def test_a_symlinked_archive_and_its_target(tmp_path: Path) -> None:
    archive = tmp_path / "real" / "layout.jar"
    archive.parent.mkdir()
    resources = REPOSITORY / "src" / "main" / "resources"
    shutil.make_archive(str(archive.with_suffix("")), "zip", resources)
    archive.with_suffix(".zip").rename(archive)
    link = tmp_path / "layout-link.jar"
    link.symlink_to(archive)
    registry = load_registry(plugin_paths=[archive, link])
    assert [p.name for p in registry.plugins if p.origin is Origin.PATH] == ["layout"]


def test_the_harness_with_both_paths(tmp_path: Path) -> None:
    real, link = symlinked(tmp_path)
    with TaskHarness(tmp_path / "home", plugin_paths=[link, real]) as harness:
        outcome = harness.run("layout.Wave")
    assert outcome.status == "completed", outcome.log_text
    assert outcome.outputs == {"waved": "yes"}
