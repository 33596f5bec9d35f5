"""A plugin's own modules: every plugin root (``ext/`` first, then the plugins in discovery order, archives
included) is importable from every script, whatever the working folder; imported modules are translated from
Python 2 like scripts, keep their line numbers, and fail at their own line.

In this process through ``run_script`` (as a worker runs a request), through the worker pool from an unrelated
working folder, through ``xlr run`` (a subprocess started elsewhere), the runtime with an archive plugin and
``ext/``, and the pytest harness. The test plugin is ``tests/data/plugins/helpers-py2``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from synthetic_helpers import write_archive, write_plugin

from xlr_runtime.compat import imports, modules
from xlr_runtime.compat.translate import clear_memory_cache
from xlr_runtime.home import Home
from xlr_runtime.runtime import Runtime
from xlr_runtime.scripting.build import prop, script_request
from xlr_runtime.scripting.contract import RunOutcome, ScriptRunResult
from xlr_runtime.scripting.execution import run_script
from xlr_runtime.scripting.pool import WorkerPool
from xlr_runtime.store import TaskStatus
from xlr_runtime.testing.harness import TaskHarness

PLUGIN = Path(__file__).parent / "data" / "plugins" / "helpers-py2"
REPO = Path(__file__).resolve().parent.parent
XLR = [sys.executable, "-c", "from xlr_runtime.cli import main; main()"]


@pytest.fixture(autouse=True)
def fresh_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Translations in a private cache; no plugin module of one test is seen by the next."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    clear_memory_cache()
    imports.install()
    yield
    modules.FINDER.use(())


def run(
    source: str, roots: list[Path | str], *, script_file: str = "/plugins/p/p/Run.py", **kwargs: object
) -> ScriptRunResult:
    """Run ``source`` in this process with ``roots`` as its module path (translation ``auto``)."""
    path = tuple((str(root), "auto") for root in roots)
    return run_script(script_request(source, script_file=script_file, module_path=path, **kwargs))  # type: ignore[arg-type]


def stdout(result: ScriptRunResult) -> list[str]:
    return [line.text for line in result.log if line.stream == "stdout"]


def plugin(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    return write_plugin(tmp_path / name, "", files)


# -- importing from the roots --------------------------------------------------------------------------------------


def test_a_script_imports_the_plugins_python2_package_translated() -> None:
    result = run(
        "from greeter.client import GreeterClient\nimport greeter.formats as formats\n"
        "c = GreeterClient('ann')\nprint(formats.banner(c.greet()), c.half(7), c.half(-7))\n",
        [PLUGIN],
    )
    assert result.outcome is RunOutcome.SUCCEEDED, result.failure
    # print statements, Python 2 division, string.upper and the implicit relative import of greeter/util.py
    assert stdout(result) == ["greeting ann", "*** HELLO ANN! *** 3 -4"]


def test_modules_come_from_archives_and_report_archive_paths(tmp_path: Path) -> None:
    jar = write_archive(
        tmp_path / "tools.jar",
        "",
        {"jartools/__init__.py": "", "jartools/words.py": 'def word():\n    print "from the jar"\n    return 1 / 0\n'},
    )
    result = run("from jartools.words import word\nword()\n", [jar])
    assert result.outcome is RunOutcome.FAILED and result.failure is not None
    assert (
        result.failure.message == f"{jar}!/jartools/words.py:3: ZeroDivisionError: integer division or modulo by zero"
    )
    assert stdout(result) == ["from the jar"]
    assert f'  File "{jar}!/jartools/words.py", line 3, in word\n    return 1 / 0\n' in result.failure.traceback


def test_the_first_root_with_a_module_wins_and_a_package_keeps_to_its_own_folder(tmp_path: Path) -> None:
    ext = plugin(tmp_path, "ext", {"shared/__init__.py": "WHERE = 'ext'\n", "texts.py": "WHO = 'ext'\n"})
    other = plugin(
        tmp_path,
        "other",
        {"shared/__init__.py": "WHERE = 'other'\n", "shared/more.py": "X = 1\n", "texts.py": "WHO = 'other'\n"},
    )
    result = run("import shared, texts\nprint(shared.WHERE, texts.WHO)\nimport shared.more\n", [ext, other])
    assert stdout(result) == ["ext ext"]
    # as in Jython, the package found first is the package: its sub-modules come from its folder only
    assert result.failure is not None and "No module named 'shared.more'" in result.failure.message


def test_the_standard_library_wins_over_a_plugin_module_of_the_same_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)  # found by the finders, not in sys.modules
    root = plugin(
        tmp_path, "p", {"colorsys.py": "SHADOW = True\n", "mine.py": "import colorsys\nF = colorsys.hls_to_rgb\n"}
    )
    result = run("import colorsys, mine\nprint(hasattr(colorsys, 'SHADOW'), mine.F(0, 1, 0))\n", [root])
    assert stdout(result) == ["False (1, 1, 1)"]


def test_a_folder_without_init_is_not_a_package_as_in_jython(tmp_path: Path) -> None:
    root = plugin(tmp_path, "p", {"loose/thing.py": "VALUE = 1\n"})
    result = run("import loose.thing\n", [root])
    assert result.failure is not None
    assert result.failure.message == (
        f"/plugins/p/p/Run.py:1: ModuleNotFoundError: No module named 'loose': {root / 'loose'} is a folder without "
        "__init__.py, which Jython 2.7 (and so XL Release) does not import as a package; add an empty __init__.py to it"
    )


def test_implicit_relative_imports_unless_the_module_asks_for_absolute_ones(tmp_path: Path) -> None:
    root = plugin(
        tmp_path,
        "p",
        {
            "pkg/__init__.py": "",
            "pkg/texts.py": "WHO = 'sibling'\n",
            "pkg/py2.py": "import texts\nfrom texts import WHO\nRESULT = texts.__name__, WHO\n",
            "pkg/absolute.py": "from __future__ import absolute_import\nimport texts\nRESULT = texts.__name__\n",
            "texts.py": "WHO = 'top level'\n",
        },
    )
    result = run("from pkg import py2, absolute\nprint(py2.RESULT, absolute.RESULT)\n", [root])
    assert stdout(result) == ["('pkg.texts', 'sibling') texts"], result.failure


def test_a_helper_that_raises_fails_at_its_own_line_with_the_authors_text(tmp_path: Path) -> None:
    result = run("from greeter.client import GreeterClient\n\nGreeterClient('bob').fail()\n", [PLUGIN])
    client = PLUGIN / "greeter" / "client.py"
    assert result.failure is not None
    assert result.failure.message == f"{client}:18: ValueError: no bob in {{}}"
    traceback = result.failure.traceback
    assert traceback.startswith('Traceback (most recent call last):\n  File "/plugins/p/p/Run.py", line 3, in <module>')
    # the author's Python 2 line, without column markers (they would point into the translated text)
    assert (
        f'  File "{client}", line 18, in fail\n    raise ValueError, "no %s in %r" % (self.name, found)\nValueError'
        in (traceback)
    )


def test_a_helper_that_does_not_compile_fails_at_its_own_line() -> None:
    result = run("import brokenhelper\n", [PLUGIN])
    assert result.failure is not None and result.failure.kind == "SyntaxError"
    assert result.failure.message == (
        f"{PLUGIN / 'brokenhelper.py'}:3: SyntaxError: unterminated string literal (detected at line 3)"
    )


def test_a_helpers_unsupported_import_names_the_helpers_line(tmp_path: Path) -> None:
    root = plugin(tmp_path, "p", {"remote.py": '"""Remote commands."""\nfrom com.xebialabs.overthere import CmdLine\n'})
    result = run("import remote\n", [root])
    assert result.failure is not None and result.failure.kind == "UnsupportedImportError"
    assert result.failure.message == (
        f"{root / 'remote.py'}:2: import of 'com.xebialabs.overthere' is not supported by xlr-runtime"
    )


def test_python2_helpers_see_python2_builtins_and_each_root_keeps_its_translate_mode(tmp_path: Path) -> None:
    legacy = plugin(tmp_path, "legacy", {"legacy_math.py": "def f(xs):\n    return reduce(cmp, xs), 7 / 2\n"})
    modern = plugin(tmp_path, "modern", {"modern_math.py": "def f():\n    return 7 / 2\n"})
    path = ((str(legacy), "on"), (str(modern), "off"))
    request = script_request(
        "import legacy_math, modern_math\nprint(legacy_math.f([2, 1]), modern_math.f())\n", module_path=path
    )
    assert stdout(run_script(request)) == ["(1, 3) 3.5"]


def test_a_new_module_path_forgets_the_modules_of_the_previous_one(tmp_path: Path) -> None:
    first = plugin(tmp_path, "first", {"texts.py": "WHO = 'first'\n"})
    second = plugin(tmp_path, "second", {"texts.py": "WHO = 'second'\n"})
    assert stdout(run("import texts\nprint(texts.WHO)\n", [first])) == ["first"]
    assert stdout(run("import texts\nprint(texts.WHO)\n", [first])) == ["first"]
    assert stdout(run("import texts\nprint(texts.WHO)\n", [second])) == ["second"]


def test_module_path_puts_ext_first_then_the_plugins_in_discovery_order(tmp_path: Path) -> None:
    home = Home(tmp_path / "home").ensure()
    home.ext_dir.mkdir(parents=True, exist_ok=True)
    jar = write_archive(tmp_path / "p" / "jarred.jar", '  <type type="jarred.T" extends="xlrelease.PythonScript"/>\n')
    legacy = write_plugin(tmp_path / "p" / "legacy", '  <type type="legacy.T" extends="xlrelease.PythonScript"/>\n')
    home.config_file.write_text('[plugins.legacy]\ntranslate = "on"\n', encoding="utf-8")
    with Runtime(home, plugin_paths=[tmp_path / "p"], include_bundled=False) as runtime:
        path = runtime.engine.module_path
    assert path[0] == (str(home.ext_dir), "auto")
    assert path[-2:] == ((str(jar), "auto"), (str(legacy), "on"))
    assert [location for location, _ in path[1:-2]] == [str(runtime.registry.plugins[0].location)]  # base types


# -- through the worker pool, `xlr run`, the runtime and the harness ------------------------------------------------


def test_workers_import_plugin_modules_from_the_roots_never_from_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "greeter").mkdir(parents=True)
    (elsewhere / "greeter" / "__init__.py").write_text("raise ImportError('the working folder was searched')\n")
    (elsewhere / "decoy.py").write_text("X = 1\n")
    monkeypatch.chdir(elsewhere)
    path = ((str(PLUGIN), "auto"),)
    with WorkerPool(1) as pool:
        greeted = pool.run_sync(
            script_request(
                "from greeter.client import GreeterClient\ngreeting = GreeterClient(name).greet()\n",
                properties=[prop("name", "string", "input"), prop("greeting", "string", "output")],
                values={"name": "cy"},
                module_path=path,
            )
        )
        decoy = pool.run_sync(script_request("import decoy\n", module_path=path))
    assert greeted.outcome is RunOutcome.SUCCEEDED, greeted.failure
    assert greeted.properties["greeting"] == "HELLO CY!"
    assert decoy.failure is not None and "No module named 'decoy'" in decoy.failure.message


def test_xlr_run_from_an_unrelated_folder_runs_the_plugins_modules(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def xlr_run(type_name: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [*XLR, "run", type_name, "--home", str(tmp_path / "home"), "--plugins", str(PLUGIN), *args]
        return subprocess.run(command, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)

    greeted = xlr_run("pyhelpers.Greet", "-i", "name=dee")
    assert greeted.returncode == 0, greeted.stderr
    assert "greeting dee\n*** HELLO DEE! ***\n" in greeted.stdout + greeted.stderr
    assert "greeting = 'HELLO DEE!'" in greeted.stdout + greeted.stderr
    failed = xlr_run("pyhelpers.Boom", "-i", "name=eve")
    assert failed.returncode == 1
    assert f"{PLUGIN / 'greeter' / 'client.py'}:18: ValueError: no eve in {{}}" in failed.stdout + failed.stderr


def test_xlr_task_show_names_each_failure_once(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from xlr_runtime.cli import main

    def xlr(*args: str) -> str:
        result = CliRunner().invoke(main, [*args, "--home", str(tmp_path / "home"), "--plugins", str(PLUGIN)])
        return result.stdout + result.stderr

    assert "Task 1 failed" in xlr("run", "pyhelpers.Remote")
    assert "Task 2 failed" in xlr("run", "pyhelpers.Broken")
    remote, broken = xlr("task", "show", "1"), xlr("task", "show", "2")
    unsupported = (
        f"{PLUGIN / 'pyhelpers' / 'Remote.py'}:2: import of 'com.xebialabs.overthere.local' is not supported by "
        "xlr-runtime"
    )
    assert f"  status:      failed - UnsupportedImportError: {unsupported}\n" in remote
    assert f"done failed (UnsupportedImportError: {unsupported})\n" in remote
    not_compiling = f"{PLUGIN / 'brokenhelper.py'}:3: SyntaxError: unterminated string literal (detected at line 3)"
    assert f"  status:      failed - {not_compiling}\n" in broken
    assert f"done failed ({not_compiling})\n" in broken


def test_the_runtime_imports_from_archive_plugins_and_ext(tmp_path: Path) -> None:
    home = Home(tmp_path / "home").ensure()
    write_plugin(home.ext_dir, "", {"extras.py": "SUFFIX = ' (from ext)'\n"})
    jar = write_archive(
        tmp_path / "jarred.jar",
        '  <type type="jarred.Use" extends="xlrelease.PythonScript">\n'
        '    <property name="said" category="output" required="false"/>\n  </type>\n',
        {
            "jarred/Use.py": "from greeter.client import GreeterClient\nfrom jarlib.words import say\nimport extras\n"
            "said = say(GreeterClient('fay').greet()) + extras.SUFFIX\n",
            "jarlib/__init__.py": "",
            "jarlib/words.py": 'def say(text):\n    return "%s, said the jar" % text\n',
        },
    )
    with Runtime(home, plugin_paths=[PLUGIN, jar], include_bundled=False) as runtime:
        done = runtime.drive(runtime.create_task("jarred.Use").id)
    assert done.status is TaskStatus.COMPLETED, done.failure
    assert done.properties["said"] == "HELLO FAY!, said the jar (from ext)"


def test_the_harness_runs_tasks_whose_scripts_import_plugin_modules(tmp_path: Path) -> None:
    with TaskHarness(tmp_path / "home", plugin_paths=[PLUGIN]) as harness:
        greeted = harness.run("pyhelpers.Greet", {"name": "gus"})
        loose = harness.run("pyhelpers.Loose")
    assert greeted.status == "completed", greeted.log_text
    assert greeted.outputs == {"greeting": "HELLO GUS!", "half": 3}
    assert greeted.log == ["greeting gus", "*** HELLO GUS! ***"]
    assert loose.status == "failed" and loose.failure is not None
    assert "No module named 'loose'" in loose.failure and "folder without __init__.py" in loose.failure
