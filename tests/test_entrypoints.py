"""Entry points of a group: what ``importlib.metadata`` gives, without importing it when no distribution on
``sys.path`` declares the group (real ``dist-info``/``egg-info`` folders in a temporary folder)."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from xlr_runtime.entrypoints import declares_group, entry_points

#: A group no installed distribution declares (so the tests do not depend on what the machine has installed).
GROUP = "xlr_runtime_entrypoints_test"


def distribution(root: Path, folder: str, text: str | None) -> None:
    """A distribution folder ``folder`` under ``root`` with ``entry_points.txt`` holding ``text`` (none if None)."""
    path = root / folder
    path.mkdir(parents=True)
    (path / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {folder.split('-')[0]}\nVersion: 1.0\n")
    if text is not None:
        (path / "entry_points.txt").write_text(text)


def names(found: object) -> list[tuple[str, str]]:
    return sorted((ep.name, ep.value) for ep in found)  # type: ignore[attr-defined]


def test_a_group_nobody_declares_is_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    distribution(tmp_path, "other-1.0.dist-info", "[console_scripts]\nother = other:main\n")
    distribution(tmp_path, "bare-1.0.dist-info", None)
    (tmp_path / "single-1.0.egg-info").write_text("Metadata-Version: 1.0\nName: single\n")  # an egg-info file
    monkeypatch.syspath_prepend(str(tmp_path))
    assert not declares_group(GROUP)
    assert entry_points(GROUP) == ()
    assert names(importlib.metadata.entry_points(group=GROUP)) == []


@pytest.mark.parametrize("folder", ["demo_plugin-1.0.dist-info", "demo_plugin-1.0.egg-info"])
def test_a_declared_group_gives_what_importlib_metadata_gives(
    folder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = f"[console_scripts]\ndemo = demo:main\n\n[{GROUP}]\nDemo.Plugin = demo_plugin.hooks:Plugin [extra]\n"
    distribution(tmp_path, folder, text)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert declares_group(GROUP)
    assert names(entry_points(GROUP)) == [("Demo.Plugin", "demo_plugin.hooks:Plugin [extra]")]
    assert names(entry_points(GROUP)) == names(importlib.metadata.entry_points(group=GROUP))


def test_what_it_cannot_read_is_left_to_importlib_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    distribution(tmp_path / "broken", "broken-1.0.dist-info", f"{GROUP} = not an ini file\n[unclosed\n")
    with zipfile.ZipFile(tmp_path / "plugins.zip", "w") as archive:
        archive.writestr("zipped-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\nVersion: 1.0\n")
        archive.writestr("zipped-1.0.dist-info/entry_points.txt", f"[{GROUP}]\nzipped = zipped\n")
    monkeypatch.syspath_prepend(str(tmp_path / "broken"))
    assert declares_group(GROUP)  # unreadable: asks importlib.metadata
    assert names(entry_points(GROUP)) == names(importlib.metadata.entry_points(group=GROUP))
    monkeypatch.syspath_prepend(str(tmp_path / "plugins.zip"))
    assert declares_group(GROUP)  # a zip on sys.path: importlib.metadata looks inside
    assert names(entry_points(GROUP)) == [("zipped", "zipped")]


def test_a_missing_sys_path_folder_declares_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path / "gone"))
    assert not declares_group(GROUP)


def test_an_undeclared_group_does_not_import_importlib_metadata() -> None:
    code = (
        "import json, sys\nfrom xlr_runtime.entrypoints import entry_points\n"
        f"found = entry_points({GROUP!r})\nprint(json.dumps([len(found), 'importlib.metadata' in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [0, False]


def test_xlr_help_does_not_import_it_without_installed_plugins(tmp_path: Path) -> None:
    if declares_group("xlr_runtime"):
        pytest.skip("an installed plugin declares the xlr_runtime group: its commands need importlib.metadata")
    code = (
        "import json, sys\nfrom click.testing import CliRunner\nfrom xlr_runtime.cli import main\n"
        "result = CliRunner().invoke(main, ['--help']); assert result.exit_code == 0, result.output\n"
        "print(json.dumps('importlib.metadata' in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) is False
