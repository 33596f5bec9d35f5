"""The README's two set-up commands stay true: the first installs and runs the main job (``xlr demo``), the
second runs the tests, and ``.ci/run`` runs exactly that second command. The tests that the default run
deselects (``slow``) say why and how to run them, and nothing is skipped or expected to fail without a reason."""

from __future__ import annotations

import ast
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
    assert "-m 'not slow and not fuzz'" in options["addopts"]
    (slow,) = [m for m in options["markers"] if m.startswith("slow:")]
    assert "CI=true" in slow and "XLR_SLOW=1" in slow
    assert 'if [ "${CI:-}" = true ] || [ "${XLR_SLOW:-}" = 1 ]; then' in CI_RUN.read_text(encoding="utf-8")
    assert "python -m pytest -m slow" in CI_RUN.read_text(encoding="utf-8")


def test_deselected_fuzz_tests_say_how_they_run() -> None:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    (fuzz,) = [m for m in options["markers"] if m.startswith("fuzz:")]
    assert "fuzz extra" in fuzz and ".ci/run" in fuzz
    ci_run = CI_RUN.read_text(encoding="utf-8")
    assert "python -m pip install -q -e '.[test,fuzz]'" in ci_run and "\npython -m pytest -m fuzz\n" in ci_run


#: Skip/xfail calls whose first positional argument is the reason; the others need ``reason=``.
POSITIONAL_REASON = {"pytest.skip", "pytest.xfail", "pytest.mark.skip"}
SKIPS = POSITIONAL_REASON | {"pytest.mark.skipif", "pytest.mark.xfail", "pytest.importorskip"}


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def _has_reason(call: ast.Call, name: str) -> bool:
    if any(keyword.arg == "reason" for keyword in call.keywords):
        return True
    first = call.args[0] if call.args else None
    text = isinstance(first, ast.JoinedStr) or (isinstance(first, ast.Constant) and isinstance(first.value, str))
    return name in POSITIONAL_REASON and text


def unexplained_skips(source: str) -> list[int]:
    """Lines of skip/xfail marks or calls in ``source`` that give no reason (bare ``@pytest.mark.xfail`` too)."""
    tree = ast.parse(source)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and _dotted(node.func) in SKIPS]
    called = {id(call.func) for call in calls}
    lines = [call.lineno for call in calls if not _has_reason(call, _dotted(call.func))]
    lines.extend(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and id(node) not in called and _dotted(node) in SKIPS - {"pytest.skip"}
    )
    return sorted(lines)


def test_the_skip_scan_finds_marks_without_a_reason() -> None:
    source = """import pytest
@pytest.mark.xfail
def a(): pytest.skip("no server")
@pytest.mark.xfail(
    reason="later",
    strict=True,
)
def b(): pytest.importorskip("lxml")
@pytest.mark.skipif(True, reason="never")
def c(): pytest.xfail()
"""
    assert unexplained_skips(source) == [2, 8, 10]


def test_nothing_is_skipped_or_expected_to_fail_without_a_reason() -> None:
    unexplained = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "tests").glob("**/*.py"))
        if "data" not in path.relative_to(ROOT / "tests").parts
        for line in unexplained_skips(path.read_text(encoding="utf-8"))
    ]
    assert unexplained == []


def test_ci_runs_the_corpus_tests_and_never_lets_them_skip() -> None:
    ci_run = CI_RUN.read_text(encoding="utf-8")
    assert "python -m pytest -m corpus" in ci_run
    assert 'if [ "${CI:-}" = true ]; then\n  export XLR_REQUIRE_CORPUS=1' in ci_run
    assert "unset XLR_CORPUS XLR_REQUIRE_CORPUS" in ci_run, "the fresh-clone run must not see the corpus"
