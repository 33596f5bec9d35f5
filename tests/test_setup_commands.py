"""The README's two set-up commands stay true: the first installs and runs the main job (``xlr demo``), the
second runs the tests, and ``.ci/run`` runs exactly that second command. The tests that the default run
deselects (``slow``) say why and how to run them, and nothing is skipped or expected to fail without a reason."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from click.testing import CliRunner

from xlr_runtime.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"


def setup_commands() -> list[str]:
    """The shell commands of the README's "Set up" section, in order."""
    section = README.read_text(encoding="utf-8").split("## Set up", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)]


def test_the_readme_has_two_set_up_commands() -> None:
    assert setup_commands() == [
        "python -m pip install . && xlr demo",
        "python -m pip install -e '.[test]' && python -m pytest",
    ]


def test_the_first_command_installs_an_xlr_with_a_demo() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"] == {"xlr": "xlr_runtime.cli:main"}
    result = CliRunner().invoke(main, ["demo", "--help"])
    assert result.exit_code == 0 and "Example: xlr demo" in result.output, result.output


def test_ci_runs_the_readmes_test_command() -> None:
    test_command = setup_commands()[1]
    lines = [line.strip() for line in CI_RUN.read_text(encoding="utf-8").splitlines()]
    assert test_command in lines
    assert CI_RUN.stat().st_mode & 0o111, "not executable"


def test_deselected_slow_tests_say_how_they_run() -> None:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert "-m 'not slow'" in options["addopts"]
    (slow,) = [m for m in options["markers"] if m.startswith("slow:")]
    assert "CI=true" in slow and "XLR_SLOW=1" in slow
    assert 'if [ "${CI:-}" = true ] || [ "${XLR_SLOW:-}" = 1 ]; then' in CI_RUN.read_text(encoding="utf-8")
    assert "python -m pytest -m slow" in CI_RUN.read_text(encoding="utf-8")


def test_nothing_is_skipped_or_expected_to_fail_without_a_reason() -> None:
    unexplained = []
    for path in sorted((ROOT / "tests").glob("**/*.py")):
        if "data" in path.relative_to(ROOT / "tests").parts or path == Path(__file__):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for kind, call in re.findall(
                r"(mark\.(?:skip|skipif|xfail)|pytest\.(?:skip|xfail|importorskip))\b(.*)", line
            ):
                positional_reason = kind != "pytest.importorskip" and re.match(r"\(\s*[\"']", call)
                if "reason" not in call and not positional_reason:
                    unexplained.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert unexplained == []
