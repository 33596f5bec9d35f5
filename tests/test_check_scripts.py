"""``xlr check`` catches what fails when a script runs: names nothing defines (pyflakes, given the script's
globals), ``task.schedule('path')`` targets that do not exist, plugin-module imports that do not resolve, and
helper modules (of the checked plugin or followed into another) that do not compile; files under ``tests/`` are
not plugin code; Python's own warnings about the text are not printed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from synthetic_helpers import fresh_pm, write_archive, write_plugin

from xlr_runtime.cli import main
from xlr_runtime.compat.script_globals import script_global_names
from xlr_runtime.compat.translate import clear_memory_cache
from xlr_runtime.scripting.build import prop, script_request
from xlr_runtime.scripting.execution import build_namespace
from xlr_runtime.typesystem.check import CheckReport, check_plugins

TYPE = (
    '  <type type="demo.Run" extends="xlrelease.PythonScript">\n'
    '    <property name="server" category="input" required="false"/>\n'
    '    <property name="result" category="output" required="false"/>\n'
    "  </type>\n"
)


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    clear_memory_cache()


def check(*paths: Path, plugin_paths: tuple[Path, ...] = ()) -> CheckReport:
    return check_plugins(list(paths), plugin_paths=plugin_paths, pm=fresh_pm(), include_bundled=False)


def problems(report: CheckReport, root: Path) -> list[str]:
    return [str(p).replace(f"{root}/", "") for p in report.problems]


def test_the_check_knows_every_name_the_worker_gives_a_script() -> None:
    namespace = build_namespace(script_request("pass", properties=[prop("count", "integer")]))
    assert set(namespace) - {"count"} <= script_global_names()


def test_names_a_script_reads_but_nothing_defines(tmp_path: Path) -> None:
    root = write_plugin(
        tmp_path / "demo",
        TYPE,
        {
            "demo/Run.py": "import sys\n"
            "result = '%s %s' % (server, task.getId())\n"  # a property and a script global
            "logger.info(reduce(lambda a, b: a + b, [1, 2]))\n"  # compat globals
            "print releaseVariables, HttpRequest, sys.argv\n"
            "if servr:\n"  # a typo
            "    phaseApi.getPhase('x')\n",  # XL Release's API, not provided locally
            "demo/helper.py": "def f():\n    return missing_name\n",  # not a script, not imported: not checked
        },
    )
    report = check(root)
    assert problems(report, root) == [
        "demo/Run.py:5: undefined name 'servr'",
        "demo/Run.py:6: undefined name 'phaseApi' (this XL Release API object is not available in xlr-runtime; "
        "releaseApi and taskApi are, in part)",
    ]
    statuses = {r.path.rsplit("/", 1)[1]: (r.role, r.status()) for r in report.scripts}
    assert statuses["Run.py"] == (
        "script",
        f"{root}/demo/Run.py: compiles (translated from Python 2), 2 undefined names",
    )
    assert statuses["helper.py"] == ("file", f"{root}/demo/helper.py: ok (Python 3)")


def test_task_schedule_targets_must_exist_and_scheduled_scripts_are_scripts(tmp_path: Path) -> None:
    root = write_plugin(
        tmp_path / "demo",
        TYPE,
        {
            "demo/Run.py": "task.schedule('demo/Run.wait.py')\nif result:\n    task.schedule('demo/Missing.py', 5)\n",
            "demo/Run.wait.py": "result = server + undefined_here\ntask.schedule(path='demo/Gone.py')\n",
        },
    )
    assert problems(check(root), root) == [
        "demo/Run.py:3: task.schedule('demo/Missing.py'): no such script in the plugins",
        "demo/Run.wait.py:1: undefined name 'undefined_here'",
        "demo/Run.wait.py:2: task.schedule('demo/Gone.py'): no such script in the plugins",
    ]


def test_plugin_module_imports_that_do_not_resolve(tmp_path: Path) -> None:
    root = write_plugin(
        tmp_path / "demo",
        TYPE,
        {
            "demo/Run.py": "import json, requests\n"  # the standard library, the Python environment
            "from mytool.client import Client\n"  # resolves
            "import mytool.absent\n"
            "import loose.thing\n"
            "import nowhere_to_be_found\n"
            "import sibling\n"  # next to the script: not on the path
            "from . import sibling\n"
            "try:\n    import optional_speedup\nexcept ImportError:\n    optional_speedup = None\n",
            "demo/sibling.py": "X = 1\n",
            "mytool/__init__.py": "",
            "mytool/client.py": "from util import helper\nfrom .util import helper as again\nClient = helper\n",
            "mytool/util.py": "def helper():\n    return 1\n",
            "loose/thing.py": "",
        },
    )
    assert problems(check(root), root) == [
        "demo/Run.py:3: import of 'mytool.absent' does not resolve: "
        "No module named 'mytool.absent' (no mytool/absent.py)",
        "demo/Run.py:4: import of 'loose.thing' does not resolve: No module named 'loose': loose is a folder "
        "without __init__.py, which Jython 2.7 (and so XL Release) does not import as a package; add an empty "
        "__init__.py to it",
        "demo/Run.py:5: import of 'nowhere_to_be_found' does not resolve: no plugin root nor the Python environment "
        "has it",
        "demo/Run.py:6: import of 'sibling' does not resolve: no plugin root nor the Python environment has it; a "
        "script's own folder is not on the path: import it as 'demo.sibling'",
        "demo/Run.py:7: relative import 'from . import ...' in a script (scripts are not in a package)",
    ]


def test_helper_modules_are_checked_as_modules_and_followed_into_other_plugins(tmp_path: Path) -> None:
    library = write_archive(
        tmp_path / "libs" / "shared.jar",
        '  <type type="shared.Nothing" extends="xlrelease.PythonScript" virtual="true"/>\n',
        {
            "shared/__init__.py": "",
            "shared/texts.py": 'def banner():\n    print "unterminated\n',
            "shared/unused.py": "def f(:\n",  # not imported by the checked plugin: not its problem
        },
    )
    root = write_plugin(
        tmp_path / "demo",
        TYPE,
        {
            "demo/Run.py": "from shared import texts\nimport tools\nresult = tools.shout(server)\n",
            "tools.py": "import string\n\ndef shout(text):\n    return string.upper(text) + suffix\n",
            "tests/test_tools.py": "import pytest\nfrom tools import shout\n\ndef test():\n    assert shout(1 +)\n",
        },
    )
    report = check(root, plugin_paths=(library,))
    assert problems(report, tmp_path) == [
        "demo/tools.py:4: undefined name 'suffix'",  # a module sees the built-ins only, not the script's globals
        "libs/shared.jar!/shared/texts.py:2: does not compile: unterminated string literal (detected at line 2)",
    ]
    assert [(r.path.replace(f"{tmp_path}/", ""), r.role) for r in report.scripts] == [
        ("demo/demo/Run.py", "script"),
        ("demo/tools.py", "module"),
        ("libs/shared.jar!/shared/__init__.py", "module"),
        ("libs/shared.jar!/shared/texts.py", "module"),
    ]


def test_a_tiles_script_is_not_checked_for_names_it_would_find_in_xl_release(tmp_path: Path) -> None:
    root = write_plugin(
        tmp_path / "demo",
        TYPE + '  <type type="demo.StatusTile" extends="xlrelease.Tile">\n'
        '    <property name="scriptLocation" default="demo/StatusTile.py" hidden="true"/>\n  </type>\n',
        {"demo/Run.py": "result = server\n", "demo/StatusTile.py": "data = {'release': release.id}\n"},
    )
    report = check(root)
    assert report.problems == []
    assert [(r.path.rsplit("/", 1)[1], r.role) for r in report.scripts] == [
        ("Run.py", "script"),
        ("StatusTile.py", "file"),
    ]


def test_a_java_class_missing_from_a_package_above_the_shims_is_reported(tmp_path: Path) -> None:
    root = write_plugin(
        tmp_path / "demo",
        TYPE,
        {"demo/Run.py": "from com.xhaus.jyson import JysonCodec, JysonDecoder\nimport java.lang.System as System\n"},
    )
    assert problems(check(root), root) == [
        "demo/Run.py:1: import of 'com.xhaus.jyson.JysonDecoder' is not supported by xlr-runtime"
    ]


def test_xlr_check_prints_no_python_warnings(tmp_path: Path) -> None:
    root = write_plugin(
        tmp_path / "demo",
        TYPE,
        {"demo/Run.py": 'print "x"\nif server is "prod":\n    result = "\\d+"\n'},
    )
    result = CliRunner().invoke(main, ["check", str(root), "--home", str(tmp_path / "home"), "--no-bundled"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert (
        result.stdout
        == f"{root}/demo/Run.py: ok (translated from Python 2)\nok: 1 plugin, 1 script checked, no problems\n"
    )


def test_the_test_plugin_is_checked_as_it_runs() -> None:
    plugin = Path(__file__).parent / "data" / "plugins" / "helpers-py2"
    report = check(plugin)
    assert problems(report, plugin) == [
        "brokenhelper.py:3: does not compile: unterminated string literal (detected at line 3)",
        "pyhelpers/Loose.py:1: import of 'loose.thing' does not resolve: No module named 'loose': loose is "
        "a folder without __init__.py, which Jython 2.7 (and so XL Release) does not import as a package; add an "
        "empty __init__.py to it",
        "pyhelpers/Remote.py:2: import of 'com.xebialabs.overthere.local' is not supported by xlr-runtime",
    ]
    roles = {r.path.replace(f"{plugin}/", ""): r.role for r in report.scripts}
    assert roles["greeter/util.py"] == roles["greeter/client.py"] == roles["brokenhelper.py"] == "module"
    assert roles["pyhelpers/Greet.py"] == "script" and roles["loose/thing.py"] == "file"
