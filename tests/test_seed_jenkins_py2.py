"""The ``jenkins-py2`` test plugin keeps the seed's Jenkins example as printed.

The seed (XL Release's "Use advanced scripting in custom task types") prints the Jenkins Build task's
synthetic.xml and its three scripts with parts elided as ``...``. Every printed script line must appear verbatim
in our Python 2 scripts, each run of lines between two ``...`` contiguous and in order; the only change allowed is
the fix of the undefined ``jobBuildNumber`` (``buildNumber``). The elided parts are filled in Python 2 style.

The checks against the seed text are conformance tests (marked ``corpus``; the seed is reached through
tests/corpus.py). Without it, the rest is still tested: the line-matching used against the seed (on small texts
written here), the fix, the scripts staying Python 2, and the definition being the bundled jenkins.Build's.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from synthetic_helpers import fresh_pm

from tests.corpus import seed
from xlr_runtime.compat.detect import needs_translation
from xlr_runtime.typesystem.model import TaskType
from xlr_runtime.typesystem.registry import load_registry

SEED = "xl-release-advanced-scripting-custom-task-types.txt"
PLUGIN = Path(__file__).parent / "data" / "plugins" / "jenkins-py2"
#: The seed's python blocks, in the order it prints them.
SCRIPTS = ("jenkins/Build.py", "jenkins/Build.wait-for-queue.py", "jenkins/Build.wait-for-build.py")
#: The one fix: the seed's wait-for-queue script formats an undefined name.
FIX = ("jobBuildNumber", "buildNumber")


def seed_blocks(language: str) -> list[list[str]]:
    """The lines of each ``{% highlight language %}`` block of the seed."""
    text = seed(SEED).read_text(encoding="utf-8")
    pattern = r"\{% highlight " + language + r" %\}\n(.*?)\{% endhighlight %\}"
    return [block.splitlines() for block in re.findall(pattern, text, flags=re.DOTALL)]


def segments(lines: list[str]) -> list[list[str]]:
    """The runs of lines between elisions (a line that is only ``...``), without surrounding blank lines."""
    runs: list[list[str]] = [[]]
    for line in lines:
        if line.strip() == "...":
            runs.append([])
        else:
            runs[-1].append(line)
    trimmed = [_trim(run) for run in runs]
    return [run for run in trimmed if run]


def _trim(run: list[str]) -> list[str]:
    while run and not run[0].strip():
        run = run[1:]
    while run and not run[-1].strip():
        run = run[:-1]
    return run


def find_in_order(needles: list[list[str]], haystack: list[str]) -> list[int]:
    """The index where each run of ``needles`` starts in ``haystack``, each after the previous one; a run not
    found contiguously in order raises AssertionError naming it."""
    starts, position = [], 0
    for run in needles:
        found = next(
            (i for i in range(position, len(haystack) - len(run) + 1) if haystack[i : i + len(run)] == run), None
        )
        assert found is not None, "not kept as printed:\n" + "\n".join(run)
        starts.append(found)
        position = found + len(run)
    return starts


def test_segments_are_the_runs_between_elisions_without_surrounding_blank_lines() -> None:
    printed = ["", "a = 1", "b = 2", "", "...", "  ...  ", "", "c = 3", "...", ""]
    assert segments(printed) == [["a = 1", "b = 2"], ["c = 3"]]
    assert segments(["    x = 1", "", "    y = 2"]) == [["    x = 1", "", "    y = 2"]]  # inner blanks and indents kept
    assert segments(["...", "", "..."]) == []


def test_find_in_order_needs_each_run_contiguous_and_after_the_previous() -> None:
    ours = ["import sys", "a = 1", "b = 2", "# filled in", "c = 3", "a = 1"]
    assert find_in_order([["a = 1", "b = 2"], ["c = 3"]], ours) == [1, 4]
    assert find_in_order([["c = 3"], ["a = 1"]], ours) == [4, 5]  # the later copy of a = 1
    with pytest.raises(AssertionError, match=r"not kept as printed:\s+a = 1\s+c = 3"):
        find_in_order([["a = 1", "c = 3"]], ours)  # not contiguous
    with pytest.raises(AssertionError, match=r"not kept as printed:\s+b = 2"):
        find_in_order([["c = 3"], ["b = 2"]], ours)  # out of order


def test_the_scripts_carry_the_one_fix() -> None:
    sources = {script: (PLUGIN / script).read_text(encoding="utf-8") for script in SCRIPTS}
    assert [script for script, source in sources.items() if FIX[0] in source] == []
    assert FIX[1] in sources["jenkins/Build.wait-for-queue.py"]


def test_the_definition_is_the_bundled_jenkins_build() -> None:
    registry = load_registry(plugin_paths=[PLUGIN], pm=fresh_pm())
    bundled, ours = registry.get("jenkins.Build"), registry.get("jenkinspy2.Build")
    assert registry.plugin_of(bundled).name == "jenkins" and ours.plugin == "jenkins-py2"

    def shape(task_type: TaskType) -> list[object]:
        return [dataclasses.replace(prop, source=None) for prop in task_type.properties.values()]

    assert len(ours.properties) == len(bundled.properties) == 11
    assert shape(ours) == shape(bundled)
    assert (ours.parent, ours.script_location) == (bundled.parent, bundled.script_location)


@pytest.mark.corpus
def test_the_seed_prints_three_python_scripts_and_one_fix() -> None:
    blocks = seed_blocks("python")
    assert len(blocks) == len(SCRIPTS)
    assert sum(line.count(FIX[0]) for block in blocks for line in block) == 1


@pytest.mark.corpus
@pytest.mark.parametrize(("index", "script"), list(enumerate(SCRIPTS)), ids=SCRIPTS)
def test_every_printed_line_is_kept_verbatim(index: int, script: str) -> None:
    printed = [line.replace(*FIX) for line in seed_blocks("python")[index]]
    ours = (PLUGIN / script).read_text(encoding="utf-8").splitlines()
    runs = segments(printed)
    assert runs, script
    find_in_order(runs, ours)


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_scripts_stay_python_2(script: str) -> None:
    source = (PLUGIN / script).read_text(encoding="utf-8")
    assert needs_translation(source, script)
    prints = [line.strip() for line in source.splitlines() if line.strip().startswith("print")]
    assert prints and all(line.startswith('print "') for line in prints), prints


@pytest.mark.corpus
def test_the_definition_keeps_every_printed_property() -> None:
    (printed,) = seed_blocks("xml")
    ours = [line.strip() for line in (PLUGIN / "synthetic.xml").read_text(encoding="utf-8").splitlines()]
    properties = [line.strip() for line in printed if line.strip().startswith("<property ")]
    assert len(properties) == 10
    find_in_order([[line] for line in properties], ours)
