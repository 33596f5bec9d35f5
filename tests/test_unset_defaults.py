"""XL Release's values for unset properties, and map defaults written ``key:value`` (issue 13, items 3 and 4).

The ``unset-defaults`` test plugin leaves every kind unset; its Python 2 scripts use the values as public plugins
do (``.keys()`` on a map nobody filled in, an unchecked boolean input without ``required="false"``). Runs go
through ``xlr run`` started from an unrelated working folder and through the test harness.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from task_helpers import XLR_COMMAND

from xlr_runtime.cli import main
from xlr_runtime.errors import ValueCoercionError
from xlr_runtime.home import Home
from xlr_runtime.testing.harness import TaskHarness
from xlr_runtime.typesystem.kinds import PropertyKind, coerce, unset_value
from xlr_runtime.typesystem.model import PropertyDef
from xlr_runtime.typesystem.registry import load_registry

PLUGIN = Path(__file__).parent / "data" / "plugins" / "unset-defaults"
K = PropertyKind

UNSET_REPORT = (
    "text=None count=None dryRun=False mode=None since=None server=None names=[] tags=[] options={} servers=0 pool=0"
)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (K.STRING, None),
        (K.INTEGER, None),
        (K.BOOLEAN, False),
        (K.DATE, None),
        (K.ENUM, None),
        (K.CI, None),
        (K.LIST_OF_STRING, []),
        (K.SET_OF_STRING, []),
        (K.MAP_STRING_STRING, {}),
        (K.LIST_OF_CI, []),
        (K.SET_OF_CI, []),
    ],
)
def test_unset_value_of_every_kind(kind: PropertyKind, expected: Any) -> None:
    value = unset_value(kind)
    assert value == expected and type(value) is type(expected)


def test_initial_values_are_fresh_copies() -> None:
    unset = PropertyDef("m", kind=K.MAP_STRING_STRING)
    first = unset.initial_value
    first["x"] = "1"
    assert unset.initial_value == {}
    listed = PropertyDef("l", kind=K.LIST_OF_STRING, default=["a"])
    copy = listed.initial_value
    copy.append("b")
    assert listed.initial_value == ["a"] and listed.default == ["a"]
    assert PropertyDef("b", kind=K.BOOLEAN, default=True).initial_value is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("number:number,short_description:Short", {"number": "number", "short_description": "Short"}),
        ("a=1,b:2", {"a": "1", "b": "2"}),
        ("url:http://x/y?a=b", {"url": "http://x/y?a=b"}),
        ("url=http://x:8080/", {"url": "http://x:8080/"}),
        (" k : v \n j = w ", {"k": "v", "j": "w"}),
        ("empty:", {"empty": ""}),
    ],
)
def test_map_text_takes_key_colon_value_pairs(text: str, expected: dict[str, str]) -> None:
    assert coerce("m", K.MAP_STRING_STRING, text) == expected


def test_map_text_without_a_separator_names_both_forms() -> None:
    with pytest.raises(ValueCoercionError) as info:
        coerce("m", K.MAP_STRING_STRING, "a:1,loose")
    assert str(info.value) == "property 'm' (map_string_string): 'loose' is not a key=value or key:value pair"


def test_key_colon_value_default_loads_as_a_dict() -> None:
    registry = load_registry(plugin_paths=[PLUGIN])
    fields = registry.get("defaults.Fields").properties
    assert fields["fields"].default == {
        "number": "number",
        "short_description": "Short description",
        "url": "http://example.com/a=b",
    }
    assert fields["mixed"].default == {"a": "1", "b": "2"}


def xlr_in(folder: Path, home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    """``xlr`` as a real process started in ``folder`` (not the plugin's folder, not the repository)."""
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [*XLR_COMMAND, *args, "--home", str(home.root), "--plugins", str(PLUGIN)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_xlr_run_gives_scripts_xl_releases_unset_values(tmp_path: Path, home: Home) -> None:
    # dryRun is a boolean input without required="false" and without a default: an unchecked box, not missing
    result = xlr_in(tmp_path / "elsewhere", home, "run", "defaults.Unset", "--json")
    assert result.returncode == 0, result.stderr
    task = json.loads(result.stdout)
    assert task["status"] == "completed"
    assert task["properties"]["report"] == UNSET_REPORT
    assert task["properties"]["serverReport"] is None
    assert "no text, no count" in result.stderr and "dry run" not in result.stderr


def test_a_ci_with_unset_properties_gives_the_same_values(tmp_path: Path, home: Home) -> None:
    home.config_file.write_text('[ci.srv]\ntype = "defaults.Server"\n')
    result = xlr_in(tmp_path / "elsewhere", home, "run", "defaults.Unset", "--ci", "server=srv", "-i", "dryRun=true")
    assert result.returncode == 0, result.stderr
    assert "serverReport = 'headers=0 scopes=0 insecure=False timeout=None'" in result.stdout
    assert "dry run" in result.stderr


def test_xlr_run_reads_a_key_colon_value_default_as_a_dict(
    tmp_path: Path, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = CliRunner().invoke(main, ["run", "defaults.Fields", "--home", str(home.root), "--plugins", str(PLUGIN)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "picked = 'Short description|number,short_description,url|http://example.com/a=b|12'\n"


def test_given_values_still_win_over_unset_values(tmp_path: Path, home: Home) -> None:
    result = xlr_in(
        tmp_path / "elsewhere",
        home,
        "run",
        "defaults.Unset",
        "-i",
        "options=x:1",
        "-i",
        "names=a,b",
        "-i",
        "count=0",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)["properties"]["report"]
    assert "count=0 " in report and "names=['a', 'b']" in report and "options={'x': '1'}" in report


def test_the_harness_sees_the_same_values(tmp_path: Path) -> None:
    with TaskHarness(tmp_path / "home", plugin_paths=[PLUGIN]) as harness:
        unset = harness.run("defaults.Unset")
        fields = harness.run("defaults.Fields", {"mixed": "a:x,b=y"})
    assert unset.status == "completed", unset.log_text
    assert unset.outputs["report"] == UNSET_REPORT
    assert fields.status == "completed", fields.log_text
    assert fields.outputs["picked"] == "Short description|number,short_description,url|http://example.com/a=b|xy"
