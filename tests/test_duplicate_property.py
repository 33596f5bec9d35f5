"""A property defined twice in one type loads (the later definition wins) and ``xlr check`` warns (issue 13, item 5).

The ``dup-property`` test plugin defines ``retries`` twice with different defaults and ``required``; runs go
through ``xlr run`` from an unrelated working folder and through the test harness.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.testing.harness import TaskHarness
from xlr_runtime.typesystem.check import check_plugins
from xlr_runtime.typesystem.registry import load_registry

PLUGIN = Path(__file__).parent / "data" / "plugins" / "dup-property"
SYNTHETIC = PLUGIN / "synthetic.xml"
WARNING = (
    f"{SYNTHETIC}:12: warning: property 'retries' is defined twice in type 'dup.Echo' (first at line 10); "
    "this later definition is the one used"
)


def xlr(home: Home, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--home", str(home.root), "--plugins", str(PLUGIN)])


def test_the_later_definition_wins_at_the_first_position() -> None:
    echo = load_registry(plugin_paths=[PLUGIN]).get("dup.Echo")
    retries = echo.properties["retries"]
    assert (retries.default, retries.required, retries.label, retries.source.line if retries.source else None) == (
        3,
        False,
        "Retries",
        12,
    )
    own = [name for name in echo.properties if name not in ("scriptLocation", "iconLocation", "taskColor")]
    assert own == ["retries", "message", "echoed"]


def test_xlr_check_warns_and_exits_zero(home: Home) -> None:
    result = CliRunner().invoke(main, ["check", str(PLUGIN), "--home", str(home.root)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{PLUGIN / 'dup' / 'Echo.py'}: ok (translated from Python 2)",
        WARNING,
        "ok: 1 plugin, 1 script checked, no problems, 1 warning",
    ]


def test_xlr_check_json_marks_the_warning(home: Home) -> None:
    result = CliRunner().invoke(main, ["check", "--json", str(PLUGIN), "--home", str(home.root)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True
    assert report["problems"] == [
        {
            "path": str(SYNTHETIC),
            "line": 12,
            "message": "property 'retries' is defined twice in type 'dup.Echo' (first at line 10); this later "
            "definition is the one used",
            "warning": True,
        }
    ]


def test_a_warning_does_not_hide_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(PLUGIN, broken)
    (broken / "synthetic.xml").write_text(
        SYNTHETIC.read_text().replace('default="hello"', 'kind="integer" default="hello"')
    )
    report = check_plugins([broken])
    assert not report.ok
    assert [(p.line, p.warning) for p in report.problems] == [(11, False), (12, True)]
    assert report.listing()[-1] == "1 problem, 1 warning in 1 plugin, 1 script checked"


def test_xlr_run_from_another_folder_uses_the_later_definition(
    tmp_path: Path, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = xlr(home, "run", "dup.Echo")
    assert result.exit_code == 0, result.output
    assert result.stdout == "echoed = 'hello x3'\n"
    shown = xlr(home, "types", "show", "dup.Echo")
    assert "  retries  integer  default=3\n" in shown.stdout, shown.stdout


def test_the_harness_runs_it(tmp_path: Path) -> None:
    with TaskHarness(tmp_path / "home", plugin_paths=[PLUGIN]) as harness:
        outcome = harness.run("dup.Echo", {"message": "hi"})
    assert outcome.status == "completed", outcome.log_text
    assert outcome.outputs == {"echoed": "hi x3"}
