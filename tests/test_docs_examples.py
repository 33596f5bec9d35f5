"""The synthetic.xml and script examples of docs/types.md and docs/scripting.md run, so they cannot drift from what
the runtime does.

A fenced block says what it is in its info string (the words after the language):

* `````xml synthetic`` — a complete synthetic.xml: it loads beside the base types and the bundled plugins with no
  problem, not even a warning;
* `````xml synthetic problems`` — a complete synthetic.xml with mistakes: the `````text check`` block after it is
  every problem line ``xlr check`` prints for it, the file's path shortened to ``synthetic.xml``;
* `````text properties TYPE`` — TYPE's property names, in order, as the synthetic block before it defines it;
* `````python file=PATH`` — a script of the page's example plugin, whose synthetic.xml is the page's synthetic block;
* `````python test`` — a pytest test of that plugin, run here with a real harness;
* `````text task-log TYPE NAME=VALUE...`` — the task log of a task of TYPE run with those inputs;
* `````text xlr-run`` — ``$ xlr run ...`` commands and what each prints, run against the page's first synthetic
  block (in ``./acme-plugin``) and a home whose xlr.toml is the page's `````toml`` block.

A reason quoted from the XML parser is written ``<the parser's own reason>`` (tests/messages.py).

Every other ``xml`` block is refused (an example nobody checks), and every ``python`` block must compile.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from synthetic_helpers import fresh_pm

from tests.messages import matches
from xlr_runtime.cli import main
from xlr_runtime.testing.harness import TaskHarness
from xlr_runtime.typesystem.check import check_plugins
from xlr_runtime.typesystem.registry import TypeRegistry, collect_registry
from xlr_runtime.typesystem.sources import discover_plugins

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("docs/types.md", "docs/scripting.md")
FENCE = re.compile(r"^```(\S*)[ \t]*(.*)$")


@dataclass(frozen=True)
class Block:
    """One fenced block of a page: where it starts, its language, the words after it, and its text."""

    page: str
    line: int
    language: str
    words: tuple[str, ...]
    text: str

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(page: str) -> list[Block]:
    """Every fenced block of ``page`` (relative to the repository root), in order."""
    found: list[Block] = []
    opening: tuple[int, str, tuple[str, ...]] | None = None
    lines: list[str] = []
    for number, line in enumerate((ROOT / page).read_text(encoding="utf-8").splitlines(), start=1):
        fence = FENCE.match(line)
        if opening is None and fence:
            opening, lines = (number, fence.group(1), tuple(fence.group(2).split())), []
        elif opening is not None and line.rstrip() == "```":
            found.append(Block(page, opening[0], opening[1], opening[2], "\n".join(lines) + "\n"))
            opening = None
        elif opening is not None:
            lines.append(line)
    assert opening is None, f"{page}:{opening[0]}: a fenced block is not closed"
    return found


def marked(language: str, first_word: str) -> list[Block]:
    return [b for page in PAGES for b in blocks(page) if b.language == language and b.words[:1] == (first_word,)]


def following(block: Block, language: str, first_word: str) -> Block:
    """The first block after ``block`` on its page marked ``language first_word``."""
    later = [b for b in blocks(block.page) if b.line > block.line]
    match = next((b for b in later if b.language == language and b.words[:1] == (first_word,)), None)
    assert match is not None, f"{block.where}: no ```{language} {first_word} block follows"
    return match


def write_plugin(folder: Path, synthetic: Block, scripts: Sequence[Block] = ()) -> Path:
    """A plugin folder: ``synthetic`` as its synthetic.xml, each of ``scripts`` at its ``file=`` path."""
    folder.mkdir(parents=True)
    (folder / "synthetic.xml").write_text(synthetic.text, encoding="utf-8")
    for script in scripts:
        target = folder / dict(w.split("=", 1) for w in script.words)["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(script.text, encoding="utf-8")
    return folder


def load(folder: Path) -> tuple[TypeRegistry, list[str]]:
    """The registry of the base types, the bundled plugins and the plugin in ``folder``, and every problem."""
    registry, problems = collect_registry(discover_plugins(plugin_paths=[folder], pm=fresh_pm()))
    return registry, [str(p) for p in problems]


def ids(items: list[Block]) -> list[str]:
    return [b.where for b in items]


SYNTHETIC = [b for b in marked("xml", "synthetic") if b.words[1:] != ("problems",)]
PROBLEMS = [b for b in marked("xml", "synthetic") if b.words[1:] == ("problems",)]


def test_the_pages_have_examples_of_each_kind() -> None:
    """A page losing its markers would silently check nothing."""
    assert [b.page for b in SYNTHETIC].count("docs/types.md") >= 3
    assert [b.page for b in SYNTHETIC].count("docs/scripting.md") == 1
    assert PROBLEMS, "docs/types.md has no synthetic problems example"
    assert marked("python", "test") and marked("text", "task-log") and marked("text", "properties")


@pytest.mark.parametrize("page", PAGES)
def test_every_xml_example_is_a_checked_synthetic_file(page: str) -> None:
    unchecked = [b.where for b in blocks(page) if b.language == "xml" and b.words[:1] != ("synthetic",)]
    assert not unchecked, f"xml blocks not marked ```xml synthetic, so checked by nothing: {unchecked}"


@pytest.mark.parametrize("page", PAGES)
def test_every_python_example_compiles(page: str) -> None:
    for block in blocks(page):
        if block.language == "python":
            ast.parse(block.text, filename=block.where)


@pytest.mark.parametrize("block", SYNTHETIC, ids=ids(SYNTHETIC))
def test_a_synthetic_example_loads_without_problems(block: Block, tmp_path: Path) -> None:
    _, problems = load(write_plugin(tmp_path / "plugin", block))
    assert problems == []


@pytest.mark.parametrize("block", PROBLEMS, ids=ids(PROBLEMS))
def test_a_problems_example_reports_what_the_page_says(block: Block, tmp_path: Path) -> None:
    folder = write_plugin(tmp_path / "plugin", block)
    report = check_plugins([folder], pm=fresh_pm())
    printed = [str(p).replace(str(folder / "synthetic.xml"), "synthetic.xml") for p in report.problems]
    expected = following(block, "text", "check").text.splitlines()
    assert len(printed) == len(expected) and all(map(matches, printed, expected)), printed


PROPERTIES = marked("text", "properties")


@pytest.mark.parametrize("block", PROPERTIES, ids=ids(PROPERTIES))
def test_a_property_list_is_the_resolved_order(block: Block, tmp_path: Path) -> None:
    synthetic = next(b for b in reversed(SYNTHETIC) if b.page == block.page and b.line < block.line)
    registry, _ = load(write_plugin(tmp_path / "plugin", synthetic))
    assert list(registry.get(block.words[1]).properties) == block.text.split()


def example_plugin(page: str, folder: Path) -> Path:
    """The page's example plugin: its one synthetic block and its ``file=`` scripts."""
    (synthetic,) = [b for b in SYNTHETIC if b.page == page]
    scripts = [b for b in blocks(page) if b.language == "python" and any(w.startswith("file=") for w in b.words)]
    return write_plugin(folder, synthetic, scripts)


@pytest.fixture
def scripting_harness(tmp_path: Path) -> Iterator[TaskHarness]:
    with TaskHarness(tmp_path / "home", plugin_paths=[example_plugin("docs/scripting.md", tmp_path / "acme")]) as h:
        yield h


TESTS = [b for b in marked("python", "test") if b.page == "docs/scripting.md"]


@pytest.mark.parametrize("block", TESTS, ids=ids(TESTS))
def test_a_test_example_passes(block: Block, scripting_harness: TaskHarness) -> None:
    namespace: dict[str, object] = {}
    exec(compile(block.text, block.where, "exec"), namespace)  # the page's own test function
    (test,) = [value for name, value in namespace.items() if name.startswith("test_") and callable(value)]
    test(scripting_harness)


LOGS = [b for b in marked("text", "task-log") if b.page == "docs/scripting.md"]


@pytest.mark.parametrize("block", LOGS, ids=ids(LOGS))
def test_a_task_log_is_what_the_task_prints(block: Block, scripting_harness: TaskHarness) -> None:
    type_name, *given = block.words[1:]
    outcome = scripting_harness.run(type_name, dict(word.split("=", 1) for word in given))
    assert outcome.log == block.text.splitlines(), outcome.failure


RUNS = marked("text", "xlr-run")


def commands(block: Block) -> list[tuple[list[str], list[str]]]:
    """The ``$ xlr ...`` commands of ``block``, each with the lines printed after it."""
    runs: list[tuple[list[str], list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ xlr "):
            runs.append((shlex.split(line[len("$ xlr ") :]), []))
        else:
            runs[-1][1].append(line)
    return runs


@pytest.mark.parametrize("block", RUNS, ids=ids(RUNS))
def test_xlr_run_refuses_what_the_page_says(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_plugin(tmp_path / "acme-plugin", next(b for b in SYNTHETIC if b.page == block.page))
    (config,) = [b for b in blocks(block.page) if b.language == "toml"]
    home = tmp_path / "home"
    home.mkdir()
    (home / "xlr.toml").write_text(config.text, encoding="utf-8")
    monkeypatch.setenv("ACME_TOKEN", "t0k3n")
    monkeypatch.chdir(tmp_path)
    for args, printed in commands(block):
        result = CliRunner().invoke(main, [*args, "--home", str(home)])
        assert (result.exit_code, result.output.splitlines()) == (1, printed), (args, result.output)
