"""Which script runs when several plugins hold the same path (issue 13, item 10).

The order is XL Release's plugin classpath: ``ext/`` first, then the plugins you add, then the runtime's bundled
plugins and base types. The ``jenkins-override`` test plugin modifies the bundled ``jenkins.Build`` and ships its
own ``jenkins/Build.py``; runs go through ``xlr run`` from an unrelated working folder and through the harness.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from click.testing import CliRunner, Result
from task_helpers import XLR_COMMAND

from xlr_runtime import resources
from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.testing.harness import TaskHarness
from xlr_runtime.typesystem.registry import load_registry

OVERRIDE = Path(__file__).parent / "data" / "plugins" / "jenkins-override"
DEMO = Path(__file__).parent / "data" / "plugins" / "demo"
BUNDLED_BUILD = resources.bundled_plugins_dir() / "jenkins" / "jenkins" / "Build.py"
OVERRIDE_BUILD = OVERRIDE / "jenkins" / "Build.py"
# a port nothing listens on: the bundled Build.py would fail to connect, the override never connects
CI = '[ci.j]\ntype = "jenkins.Server"\nurl = "http://127.0.0.1:9"\n'


def with_ext_build(home: Home) -> Path:
    """An ext/ copy of jenkins/Build.py, as an administrator would add one."""
    ext_build = home.ext_dir / "jenkins" / "Build.py"
    ext_build.parent.mkdir(parents=True)
    ext_build.write_text("buildNumber = '0'\nbuildStatus = 'EXT'\n")
    return ext_build


def run_build(tmp_path: Path, home: Home) -> subprocess.CompletedProcess[str]:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    task = ["jenkins.Build", "--ci", "jenkinsServer=j", "-i", "jobName=app"]
    return subprocess.run(
        [*XLR_COMMAND, "run", *task, "--home", str(home.root), "--plugins", str(OVERRIDE)],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def xlr(home: Home, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--home", str(home.root), "--plugins", str(OVERRIDE)])


def test_classpath_is_ext_then_added_plugins_then_shipped_ones(home: Home) -> None:
    with_ext_build(home)
    registry = load_registry(plugin_paths=[OVERRIDE, DEMO], home=home)
    assert [p.name for p in registry.plugins] == ["base", "jenkins", "jenkins-override", "demo", "ext"]
    assert [p.name for p in registry.classpath] == ["ext", "jenkins-override", "demo", "jenkins", "base"]
    build = registry.get("jenkins.Build")
    assert [s.plugin for s in registry.script_candidates(build, "jenkins/Build.py")] == [
        "ext",
        "jenkins-override",
        "jenkins",
    ]


def test_a_plugins_own_copy_of_a_bundled_script_runs(tmp_path: Path, home: Home) -> None:
    home.config_file.write_text(CI)
    result = run_build(tmp_path, home)
    assert result.returncode == 0, result.stderr
    assert "overridden build of app (dry run: False)" in result.stderr
    assert result.stdout == "buildNumber = '0'\nbuildStatus = 'OVERRIDDEN'\n"


def test_ext_wins_over_every_plugin(tmp_path: Path, home: Home) -> None:
    home.config_file.write_text(CI)
    with_ext_build(home)
    result = run_build(tmp_path, home)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "buildNumber = '0'\nbuildStatus = 'EXT'\n"


def test_types_show_says_which_file_runs(home: Home) -> None:
    shown = xlr(home, "types", "show", "jenkins.Build")
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[3:6] == [
        "  script:  jenkins/Build.py",
        f"  runs:    {OVERRIDE_BUILD} (plugin jenkins-override)",
        f"  shadows: {BUNDLED_BUILD} (plugin jenkins)",
    ], shown.stdout
    ext_build = with_ext_build(home)
    detail = json.loads(xlr(home, "types", "show", "jenkins.Build", "--json").stdout)
    assert (detail["script"], detail["script_file"], detail["script_plugin"], detail["shadowed_scripts"]) == (
        "jenkins/Build.py",
        str(ext_build),
        "ext",
        [str(OVERRIDE_BUILD), str(BUNDLED_BUILD)],
    )


def test_types_show_of_a_type_whose_script_is_missing(tmp_path: Path, home: Home) -> None:
    plugin = tmp_path / "noscript"
    plugin.mkdir()
    (plugin / "synthetic.xml").write_text(
        '<synthetic xmlns="http://www.xebialabs.com/deployit/synthetic">\n'
        '  <type type="noscript.Run" extends="xlrelease.PythonScript"/>\n</synthetic>\n'
    )
    shown = CliRunner().invoke(
        main, ["types", "show", "noscript.Run", "--home", str(home.root), "--plugins", str(plugin)]
    )
    assert "  script:  noscript/Run.py\n" in shown.stdout and "runs:" not in shown.stdout, shown.output
    detail = json.loads(
        CliRunner()
        .invoke(main, ["types", "show", "noscript.Run", "--json", "--home", str(home.root), "--plugins", str(plugin)])
        .stdout
    )
    assert (detail["script_file"], detail["shadowed_scripts"]) == (None, [])
    virtual = CliRunner().invoke(main, ["types", "show", "xlrelease.PythonScript", "--home", str(home.root)])
    assert "runs:" not in virtual.stdout and "script:" not in virtual.stdout


def test_the_harness_runs_the_override(tmp_path: Path) -> None:
    with TaskHarness(tmp_path / "home", plugin_paths=[OVERRIDE]) as harness:
        harness.ci("j", "jenkins.Server", url="http://127.0.0.1:9")
        outcome = harness.run("jenkins.Build", {"jenkinsServer": "j", "jobName": "app", "dryRun": "true"})
    assert outcome.status == "completed", outcome.log_text
    assert outcome.outputs == {"buildNumber": "0", "buildStatus": "OVERRIDDEN"}
    assert "overridden build of app (dry run: True)" in outcome.log_text
