"""The installed package (a real wheel, not the source tree) finds its base types and bundled plugins."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from xlr_runtime import __version__

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    return next(out.glob("xlr_runtime-*.whl"))


def test_wheel_carries_the_data_folders(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "xlr_runtime/_data/synthetic/xlrelease.xml" in names
    assert "xlr_runtime/_data/plugins/jenkins/synthetic.xml" in names
    assert "xlr_runtime/_data/plugins/jenkins/jenkins/Build.wait-for-build.py" in names
    assert "xlr_runtime/py.typed" in names
    web = ROOT / "xlr_runtime" / "http" / "web"
    shipped = [p.relative_to(ROOT).as_posix() for p in [*web.glob("templates/*.html"), *web.glob("static/*")]]
    assert "xlr_runtime/http/web/templates/base.html" in shipped and "xlr_runtime/http/web/static/app.js" in shipped
    assert set(shipped) <= names  # the dashboard's templates, stylesheet and script


def test_wheel_version_is_the_package_version(wheel: Path) -> None:
    """The build reads ``xlr_runtime.__version__`` (the CLI shows it without asking importlib.metadata)."""
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        headers = archive.read(metadata).decode("utf-8").split("\n\n", 1)[0].splitlines()
    assert f"Version: {__version__}" in headers, headers


def test_installed_wheel_loads_types_away_from_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    probe = (
        "import xlr_runtime.resources as r, xlr_runtime.typesystem.registry as reg;"
        "print(r.base_types_dir()); print(r.bundled_plugins_dir());"
        "t = reg.load_registry().get('jenkins.Build'); print(t.plugin, t.script_location)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XLR_LOAD_PLUGINS": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    base, bundled, jenkins = result.stdout.splitlines()
    assert base == str(target / "xlr_runtime" / "_data" / "synthetic")
    assert bundled == str(target / "xlr_runtime" / "_data" / "plugins")
    assert jenkins == "jenkins jenkins/Build.py"


def test_installed_wheel_runs_the_cli_away_from_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XLR_LOAD_PLUGINS": ""}

    def xlr(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", "from xlr_runtime.cli import main; main()", *args]
        return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)

    shown = xlr("types", "show", "jenkins.Build")
    assert shown.returncode == 0, shown.stderr
    synthetic = target / "xlr_runtime" / "_data" / "plugins" / "jenkins" / "synthetic.xml"
    assert shown.stdout.splitlines()[1].startswith(f"  plugin:  jenkins ({synthetic}:"), shown.stdout
    checked = xlr("check", "--no-bundled", str(target / "xlr_runtime" / "_data" / "plugins" / "jenkins"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.splitlines()[-1] == "ok: 1 plugin, 3 scripts checked, no problems", checked.stdout
