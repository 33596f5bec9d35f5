"""``xlr check`` catches what fails at run time: the ``check-mistakes`` test plugin
(``tests/data/plugins/check-mistakes``) has one task per mistake; the check names each at its line, then each
task, run through the pytest harness (and one through ``xlr run`` from an unrelated folder), fails there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from xlr_runtime.cli import main
from xlr_runtime.testing.harness import TaskHarness

PLUGIN = Path(__file__).parent / "data" / "plugins" / "check-mistakes"
REPO = Path(__file__).resolve().parent.parent
SCRIPTS = PLUGIN / "mistakes"
TEXTS = PLUGIN / "mistakes_lib" / "texts.py"


def test_xlr_check_names_each_mistake_and_skips_the_plugins_tests(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(PLUGIN), "--home", str(tmp_path / "home")])
    assert result.exit_code == 1, result.output
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        f"{SCRIPTS / 'Api.py'}: compiles (translated from Python 2), 1 undefined name",
        f"{SCRIPTS / 'Api.py'}:1: undefined name 'getCurrentPhase' (this XL Release API object is not available "
        "in xlr-runtime; releaseApi and taskApi are, in part)",
        f"{SCRIPTS / 'Chain.py'}: compiles (translated from Python 2), 1 missing scheduled script",
        f"{SCRIPTS / 'Chain.py'}:2: task.schedule('mistakes/Chain.wait.py'): no such script in the plugins",
        f"{SCRIPTS / 'Helper.py'}: ok (translated from Python 2)",
        f"{SCRIPTS / 'Typo.py'}: compiles (translated from Python 2), 1 undefined name",
        f"{SCRIPTS / 'Typo.py'}:2: undefined name 'jobname'",
        f"{SCRIPTS / 'Unresolved.py'}: compiles (translated from Python 2), 1 unresolved import",
        f"{SCRIPTS / 'Unresolved.py'}:1: import of 'mistakes_lib.client' does not resolve: No module named "
        f"'mistakes_lib.client' (no {PLUGIN / 'mistakes_lib' / 'client'}.py)",
        f"{PLUGIN / 'mistakes_lib' / '__init__.py'}: ok (Python 3)",
        f"{TEXTS}:3: does not compile: unterminated string literal (detected at line 3)",
        "5 problems in 1 plugin, 7 scripts checked",
    ]


def test_each_task_fails_where_the_check_said(tmp_path: Path) -> None:
    with TaskHarness(tmp_path / "home", plugin_paths=[PLUGIN]) as harness:
        failures = {name: harness.run(f"mistakes.{name}").failure for name in ("Typo", "Api", "Chain", "Unresolved")}
    assert failures == {
        "Typo": f"{SCRIPTS / 'Typo.py'}:2: NameError: name 'jobname' is not defined",
        "Api": f"{SCRIPTS / 'Api.py'}:1: NameError: name 'getCurrentPhase' is not defined (this XL Release API "
        "object is not available in xlr-runtime; releaseApi and taskApi are, in part)",
        "Chain": "task.schedule(): script 'mistakes/Chain.wait.py' is not in the plugin of mistakes.Chain",
        "Unresolved": f"{SCRIPTS / 'Unresolved.py'}:1: ModuleNotFoundError: No module named 'mistakes_lib.client'",
    }


def test_xlr_run_of_the_helper_task_fails_at_the_helpers_line(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    command = [sys.executable, "-c", "from xlr_runtime.cli import main; main()", "run", "mistakes.Helper"]
    command += ["--home", str(tmp_path / "home"), "--plugins", str(PLUGIN)]
    result = subprocess.run(command, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.endswith(
        f"Task 1 failed: {TEXTS}:3: SyntaxError: unterminated string literal (detected at line 3)\n"
    ), result.stderr
