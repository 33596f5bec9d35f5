"""The ``jenkins-py2`` test plugin keeps the seed's Jenkins example as printed.

The seed (XL Release's "Use advanced scripting in custom task types") prints the Jenkins Build task's
synthetic.xml and its three scripts with parts elided as ``...``. Every printed script line must appear verbatim
in our Python 2 scripts, each run of lines between two ``...`` contiguous and in order; the only change allowed is
the fix of the undefined ``jobBuildNumber`` (``buildNumber``). The elided parts are filled in Python 2 style.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import SHARED
from xlr_runtime.compat.detect import needs_translation

SEED = SHARED / "seeds" / "xl-release-advanced-scripting-custom-task-types.txt"
PLUGIN = Path(__file__).parent / "data" / "plugins" / "jenkins-py2"
#: The seed's python blocks, in the order it prints them.
SCRIPTS = ("jenkins/Build.py", "jenkins/Build.wait-for-queue.py", "jenkins/Build.wait-for-build.py")
#: The one fix: the seed's wait-for-queue script formats an undefined name.
FIX = ("jobBuildNumber", "buildNumber")


def seed_blocks(language: str) -> list[list[str]]:
    """The lines of each ``{% highlight language %}`` block of the seed."""
    text = SEED.read_text(encoding="utf-8")
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


def test_the_seed_prints_three_python_scripts_and_one_fix() -> None:
    blocks = seed_blocks("python")
    assert len(blocks) == len(SCRIPTS)
    assert sum(line.count(FIX[0]) for block in blocks for line in block) == 1


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


def test_the_definition_keeps_every_printed_property() -> None:
    (printed,) = seed_blocks("xml")
    ours = [line.strip() for line in (PLUGIN / "synthetic.xml").read_text(encoding="utf-8").splitlines()]
    properties = [line.strip() for line in printed if line.strip().startswith("<property ")]
    assert len(properties) == 10
    find_in_order([[line] for line in properties], ours)
