"""``xlr new plugin`` and ``xlr package``: the scaffold passes ``xlr check`` and its own tests as generated, and
packages into a deterministic jar that ``--plugins`` loads and the harness runs."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner, Result

from xlr_runtime.cli import main
from xlr_runtime.cli.package import FIXED_TIME
from xlr_runtime.testing.harness import TaskHarness

ROOT = Path(__file__).resolve().parents[1]
SCAFFOLD_FILES = [
    "README.md",
    "acme/Task.poll.py",
    "acme/Task.py",
    "pyproject.toml",
    "synthetic.xml",
    "tests/conftest.py",
    "tests/test_task.py",
]
JAR_ENTRIES = ["META-INF/MANIFEST.MF", "acme/Task.poll.py", "acme/Task.py", "synthetic.xml"]


def xlr(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    target = tmp_path / "xlr-acme-plugin"
    result = xlr("new", "plugin", "acme", "--dir", str(target))
    assert result.exit_code == 0, result.output
    return target


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def load_conftest(plugin: Path) -> ModuleType:
    """The generated tests/conftest.py, to reuse its fake API against the packaged jar."""
    spec = importlib.util.spec_from_file_location("acme_conftest", plugin / "tests" / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_new_plugin_writes_the_scaffold_and_it_passes_xlr_check(plugin: Path) -> None:
    assert files_under(plugin) == SCAFFOLD_FILES
    synthetic = (plugin / "synthetic.xml").read_text()
    assert 'type="acme.Server" extends="configuration.HttpConnection"' in synthetic
    assert 'type="acme.Task" extends="xlrelease.PythonScript"' in synthetic
    assert "__PLUGIN__" not in synthetic and "__TITLE__" not in (plugin / "README.md").read_text()
    assert 'task.schedule("acme/Task.poll.py", pollInterval or 5)' in (plugin / "acme" / "Task.py").read_text()
    checked = xlr("check", str(plugin))
    assert checked.exit_code == 0, checked.output
    assert checked.output.splitlines()[-1] == "ok: 1 plugin, 2 scripts checked, no problems", checked.output


def test_new_plugin_defaults_to_a_folder_named_after_the_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = xlr("new", "plugin", "acme")
    assert result.exit_code == 0, result.output
    assert files_under(tmp_path / "acme") == SCAFFOLD_FILES
    assert result.output.splitlines()[0] == "Created plugin acme in acme (7 files):"


@pytest.mark.parametrize("start", [".", ".."])  # in the plugin, and in its parent with no settings
def test_the_scaffold_tests_pass_as_generated_wherever_pytest_starts(plugin: Path, start: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "XLR_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env["XLR_LOAD_PLUGINS"] = ""
    installed = any(ep.name == "xlr_runtime" for ep in entry_points(group="pytest11"))
    load = [] if installed else ["-p", "xlr_runtime.testing.pytest_plugin"]  # a source checkout, not installed
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *load],
        cwd=plugin / start,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout, result.stdout


@pytest.mark.parametrize("name", ["1acme", "my-plugin", "acme.sub", "acme/../x", "ac me", ""])
def test_new_plugin_refuses_an_invalid_name_in_one_line(tmp_path: Path, name: str) -> None:
    result = xlr("new", "plugin", name, "--dir", str(tmp_path / "p"))
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: invalid plugin name {name!r}: "), result.output
    assert len(result.output.splitlines()) == 1, result.output
    assert not (tmp_path / "p").exists()


def test_new_plugin_refuses_a_type_prefix_already_loaded(tmp_path: Path) -> None:
    result = xlr("new", "plugin", "jenkins", "--dir", str(tmp_path / "p"))
    assert result.exit_code == 1
    assert (
        result.output
        == "Error: plugin name 'jenkins' is taken: the types jenkins.Build, jenkins.Server already use it\n"
    )


def test_new_plugin_refuses_a_non_empty_folder_and_touches_nothing(tmp_path: Path) -> None:
    target = tmp_path / "p"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    result = xlr("new", "plugin", "acme", "--dir", str(target))
    assert result.exit_code == 1
    assert result.output == f"Error: {target} is not empty; give a new or empty folder with --dir\n"
    assert files_under(target) == ["notes.txt"]


def test_new_plugin_fills_an_existing_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    result = xlr("new", "plugin", "Acme_2", "--dir", str(tmp_path / "p"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p" / "Acme_2" / "Task.poll.py").is_file()
    assert 'label="Acme_2: Run job"' in (tmp_path / "p" / "synthetic.xml").read_text()


def test_package_puts_the_resources_at_the_archive_root(plugin: Path, tmp_path: Path) -> None:
    (plugin / "acme" / "icon.png").write_bytes(b"\x89PNG")
    for junk in ("acme/__pycache__/Task.cpython-311.pyc", ".pytest_cache/v", "acme/.Task.py.swp", "old.jar"):
        (plugin / junk).parent.mkdir(parents=True, exist_ok=True)
        (plugin / junk).write_bytes(b"x")
    out = tmp_path / "acme.jar"
    result = xlr("package", str(plugin), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.output == f"Wrote {out}: 4 files from {plugin} (plugin xlr-acme-plugin)\n"
    with zipfile.ZipFile(out) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == sorted([*JAR_ENTRIES, "acme/icon.png"])
        assert {i.date_time for i in infos} == {FIXED_TIME}
        assert {i.external_attr >> 16 for i in infos} == {0o644}
        assert archive.read("acme/Task.py") == (plugin / "acme" / "Task.py").read_bytes()


def test_package_is_deterministic(plugin: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "one.jar", tmp_path / "two.jar"
    assert xlr("package", str(plugin), "-o", str(first)).exit_code == 0
    for path in plugin.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))  # other file times, same contents
    assert xlr("package", str(plugin), "-o", str(second)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()


def test_package_defaults_to_the_folder_name_and_leaves_earlier_builds_out(
    plugin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(plugin)
    for _ in range(2):  # the second run finds the first jar in the folder
        result = xlr("package", ".")
        assert result.exit_code == 0, result.output
    with zipfile.ZipFile(plugin / "xlr-acme-plugin.jar") as archive:
        assert archive.namelist() == JAR_ENTRIES


def test_package_refuses_a_plugin_that_xlr_check_fails(plugin: Path, tmp_path: Path) -> None:
    poll = plugin / "acme" / "Task.py"
    poll.write_text(poll.read_text().replace('"acme/Task.poll.py"', '"acme/Missing.py"'))
    out = tmp_path / "acme.jar"
    result = xlr("package", str(plugin), "-o", str(out))
    assert result.exit_code == 1
    assert len(result.output.splitlines()) == 1, result.output
    assert result.output.startswith(f"Error: not packaged: xlr check finds 1 problem: {poll}:"), result.output
    assert result.output.endswith(f"(run: xlr check {plugin})\n"), result.output
    assert not out.exists()


def test_package_refuses_a_folder_that_is_not_a_plugin(tmp_path: Path) -> None:
    result = xlr("package", str(tmp_path))
    assert result.exit_code == 1
    assert len(result.output.splitlines()) == 1 and str(tmp_path) in result.output, result.output


def test_package_refuses_an_output_that_is_not_an_archive(plugin: Path, tmp_path: Path) -> None:
    result = xlr("package", str(plugin), "-o", str(tmp_path / "acme.tar"))
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / 'acme.tar'}: the archive must end in .jar or .zip\n"


class MonkeyEnviron(dict):
    """Environment variables set through ``monkeypatch``, so the CI password is undone after the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__()
        self.monkeypatch = monkeypatch

    def __setitem__(self, key: str, value: str) -> None:
        self.monkeypatch.setenv(key, value)


def test_the_packaged_jar_loads_and_its_task_runs_through_the_harness(
    plugin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jar = tmp_path / "acme.jar"
    assert xlr("package", str(plugin), "-o", str(jar)).exit_code == 0
    listed = xlr("types", "--plugins", str(jar))
    assert listed.exit_code == 0, listed.output
    assert any(
        line.split()[:3] == ["acme.Task", "acme", "xlrelease.PythonScript"] for line in listed.output.splitlines()
    )
    shown = xlr("types", "--plugins", str(jar), "show", "acme.Task")
    assert f"runs:    {jar}!/acme/Task.py (plugin acme)" in shown.output, shown.output

    fake = load_conftest(plugin)
    harness = TaskHarness(tmp_path / "home", plugin_paths=[jar], environ=MonkeyEnviron(monkeypatch))
    with harness, fake.FakeApi(harness.clock) as api:
        harness.ci("api", "acme.Server", url=api.url, username=api.username, password=api.password)
        outcome = harness.run("acme.Task", {"server": "api", "jobName": "deploy"})
    assert outcome.status == "completed", outcome.log_text
    assert outcome.outputs == {"jobId": "1", "result": "succeeded"}
    assert api.polls == 3


def test_the_wheel_ships_the_templates() -> None:
    from hatchling.builders.wheel import WheelBuilder

    shipped = {f.distribution_path for f in WheelBuilder(str(ROOT)).recurse_included_files()}
    templates = ROOT / "xlr_runtime" / "templates"
    expected = {p.relative_to(ROOT).as_posix() for p in templates.rglob("*.tmpl")}
    assert len(expected) == 7 and expected <= shipped, sorted(expected - shipped)


def test_package_takes_a_plugin_repository_as_its_build_would(plugin: Path, tmp_path: Path) -> None:
    repository = tmp_path / "xlr-acme-repo"
    resources = repository / "src" / "main" / "resources"
    resources.mkdir(parents=True)
    for name in ("synthetic.xml", "acme"):
        (plugin / name).rename(resources / name)
    (repository / "build.gradle").write_text("// the repository's, not the plugin's")
    (repository / "README.md").write_text("not packaged")
    out = tmp_path / "repo.jar"
    result = xlr("package", str(repository), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.output.endswith("(plugin xlr-acme-repo)\n"), result.output
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == JAR_ENTRIES
