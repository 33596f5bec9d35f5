"""``xlr types``, ``xlr types show`` and ``xlr check`` through click's CliRunner.

Plugins are written into tmp_path or read from the fixtures of ``tests/data/xlr`` (see test_corpus_xlr.py);
one conformance test (marked ``corpus``) checks a real file of the public corpus through tests/corpus.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from synthetic_helpers import TASK, write_archive, write_plugin

from tests.corpus import corpus
from xlr_runtime.cli import main
from xlr_runtime.home import Home

FIXTURES = (Path(__file__).parent / "data" / "xlr").absolute()
RELAY = FIXTURES / "relay.synthetic.xml"
RELAY_EXTRAS = FIXTURES / "relay-extras.synthetic.xml"
JENKINS_COPY = FIXTURES / "jenkins-copy.synthetic.xml"

SECRET = """  <type type="demo.Secret" extends="demo.Task">
    <property name="token" category="input" password="true" default="s3cr3t-default"/>
    <property name="tags" category="Extra" kind="list_of_string" default="a,b" hidden="true"/>
  </type>
"""


def run(home: Home, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--home", str(home.root)], catch_exceptions=False)


def test_types_lists_every_type_with_plugin_and_parent(home: Home, tmp_path: Path) -> None:
    plugin = write_plugin(tmp_path / "demo", TASK)
    result = run(home, "types", "--plugins", str(plugin))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["TYPE", "PLUGIN", "EXTENDS"], result.output
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert rows["demo.Run"] == ["demo", "demo.Task"], result.output
    assert rows["demo.Task"] == ["demo", "xlrelease.PythonScript", "(virtual)"], result.output
    assert rows["jenkins.Build"] == ["jenkins", "xlrelease.PythonScript"], result.output
    assert rows["xlrelease.Task"] == ["base", "-", "(virtual)"], result.output


def test_types_json(home: Home, tmp_path: Path) -> None:
    plugin = write_plugin(tmp_path / "demo", TASK)
    result = run(home, "types", "--json", "--plugins", str(plugin))
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["demo.Run"] == {
        "name": "demo.Run",
        "plugin": "demo",
        "parent": "demo.Task",
        "virtual": False,
        "label": None,
        "source": f"{plugin / 'synthetic.xml'}:7",
    }, result.output


def test_types_reads_home_plugins_and_env(home: Home, tmp_path: Path) -> None:
    write_plugin(home.plugins_dir / "demo", TASK)
    env_plugin = write_plugin(tmp_path / "envplugin", '  <type type="env.S" extends="configuration.HttpConnection"/>\n')
    result = CliRunner().invoke(main, ["types", "--home", str(home.root)], env={"XLR_PLUGIN_PATH": str(env_plugin)})
    assert result.exit_code == 0, result.output
    assert "demo.Run " in result.output and "env.S " in result.output, result.output


def test_types_show_groups_by_category_and_masks_password_defaults(home: Home, tmp_path: Path) -> None:
    plugin = write_plugin(tmp_path / "demo", TASK + SECRET)
    result = run(home, "types", "show", "demo.Secret", "--plugins", str(plugin))
    assert result.exit_code == 0, result.output
    assert "s3cr3t-default" not in result.output
    assert result.output.splitlines() == [
        "demo.Secret",
        f"  plugin:  demo ({plugin / 'synthetic.xml'}:11)",
        "  extends: demo.Task -> xlrelease.PythonScript -> xlrelease.Task",
        "  script:  demo/Secret.py",
        "",
        "input:",
        "  server  ci -> demo.Server  required",
        "  token   string  default=********  required  password",
        "",
        "Extra:",
        "  tags  list_of_string  default=a,b  hidden",
        "",
        "(no category):",
        "  scriptLocation  string  hidden",
        "  iconLocation    string  hidden",
        "  taskColor       string  hidden",
    ], result.output


def test_types_show_json(home: Home, tmp_path: Path) -> None:
    plugin = write_plugin(tmp_path / "demo", TASK + SECRET)
    result = run(home, "types", "show", "demo.Secret", "--json", "--plugins", str(plugin))
    assert result.exit_code == 0, result.output
    assert "s3cr3t-default" not in result.output
    detail = json.loads(result.output)
    assert detail["ancestors"] == ["demo.Task", "xlrelease.PythonScript", "xlrelease.Task"], result.output
    assert [c["category"] for c in detail["categories"]] == ["input", "Extra", None], result.output
    token = detail["categories"][0]["properties"][1]
    assert (token["name"], token["default"], token["password"], token["required"]) == (
        "token",
        "********",
        True,
        True,
    ), result.output


def test_types_lists_plugin_files_that_build_on_each_other(home: Home) -> None:
    result = run(home, "types", "--plugins", str(RELAY), "--plugins", str(RELAY_EXTRAS))
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines()[1:]}
    assert {name: row for name, row in rows.items() if name.startswith("relay")} == {
        "relay.DeployTarget": ["relay", "xldeploy.XLDeployServer"],
        "relay.Pipeline": ["relay", "relay.Task", "(virtual)"],
        "relay.RunFinishedTrigger": ["relay", "xlrelease.ReleaseTrigger"],
        "relay.RunsTile": ["relay", "xlrelease.Tile"],
        "relay.Server": ["relay", "configuration.HttpConnection"],
        "relay.StartPipeline": ["relay", "relay.Pipeline"],
        "relay.Task": ["relay", "xlrelease.PythonScript", "(virtual)"],
        "relay.WaitForRun": ["relay", "relay.Pipeline"],
        "relayextras.Retry": ["relay-extras", "relay.StartPipeline"],
    }, result.output
    assert rows["jenkins.Build"] == ["jenkins", "xlrelease.PythonScript"], result.output


def test_types_show_every_property_kind_of_a_plugin_file(home: Home) -> None:
    result = run(home, "types", "show", "relay.StartPipeline", "--plugins", str(RELAY), "--plugins", str(RELAY_EXTRAS))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "relay.StartPipeline (Relay: Start Pipeline)",
        f"  plugin:  relay ({RELAY}:36)",
        "  extends: relay.Pipeline -> relay.Task -> xlrelease.PythonScript -> xlrelease.Task",
        "  script:  relay/StartPipeline.py",
        "",
        "input:",
        "  server          ci -> relay.Server  required",
        "  username        string",
        "  password        string  password",
        "  timeoutSeconds  integer  default=600",
        "  pipeline        string  required",
        "  pollSeconds     integer  default=10  required",
        "  branch          string  default=main  required",
        "  priority        enum [low, normal, urgent]  default=normal  required",
        "  dryRun          boolean  default=false  required",
        "  stages          list_of_string  default=build,test",
        "  labels          set_of_string  default=ci,nightly",
        "  variables       map_string_string  default=env=qa,region=eu",
        "  notBefore       date  default=2024-05-01T09:30:00+00:00",
        "  notes           string",
        "",
        "output:",
        "  runId  string",
        "",
        "script:",
        "  attempt  integer",
        "",
        "(no category):",
        "  scriptLocation  string  hidden",
        "  iconLocation    string  default=relay/relay.svg  hidden",
        "  taskColor       string  default=#3D7A5C  hidden",
    ], result.output


def test_types_show_a_connection_type_modified_by_another_plugin(home: Home) -> None:
    result = run(home, "types", "show", "relay.Server", "--plugins", str(RELAY), "--plugins", str(RELAY_EXTRAS))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:4] == [
        "relay.Server (Relay: Server)",
        f"  plugin:  relay ({RELAY}:9)",
        "  extends: configuration.HttpConnection -> xlrelease.Configuration",
        f"  modified by {RELAY_EXTRAS}:7",
    ], result.output
    rows = {line.split()[0]: line.split()[1:] for line in lines[6:]}
    assert rows["authenticationMethod"] == ["enum", "[PAT]", "default=PAT", "hidden"], result.output
    assert rows["username"] == ["string", "default=unused", "hidden"], result.output
    assert rows["password"] == rows["token"] == ["string", "password"], result.output
    assert rows["proxyPort"] == ["integer", "default=3128"], result.output


def test_types_show_accepts_options_before_show(home: Home, tmp_path: Path) -> None:
    plugin = write_plugin(tmp_path / "demo", TASK)
    result = CliRunner().invoke(main, ["types", "--home", str(home.root), "--plugins", str(plugin), "show", "demo.Run"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("demo.Run\n  plugin:  demo"), result.output


def test_types_show_unknown_type(home: Home) -> None:
    result = CliRunner().invoke(main, ["types", "show", "nope.Type", "--home", str(home.root)])
    assert result.exit_code == 1, result.output
    assert result.output == (
        "Error: unknown type 'nope.Type'\nHint: Load its plugin: name it in plugins.path of xlr.toml's [settings], "
        "or give --plugins; 'xlr types' lists the loaded types.\n"
    )


def test_types_loads_every_plugins_option_and_xlr_plugin_path(home: Home, tmp_path: Path) -> None:
    folder = write_plugin(tmp_path / "one", '  <type type="one.Server" extends="configuration.HttpConnection"/>\n')
    archive = write_archive(tmp_path / "two.jar", '  <type type="two.Server" extends="one.Server"/>\n')
    home.ensure()
    write_plugin(home.plugins_dir / "three", '  <type type="three.Server" extends="two.Server"/>\n')
    expected = {"one.Server": ["one", "configuration.HttpConnection"], "two.Server": ["two", "one.Server"]}
    expected["three.Server"] = ["three", "two.Server"]
    for args, env in (
        (["--plugins", str(folder), "--plugins", str(archive)], {}),
        ([], {"XLR_PLUGIN_PATH": f"{folder}{os.pathsep}{archive}"}),
    ):
        result = CliRunner().invoke(main, ["types", "--home", str(home.root), *args], env=env)
        assert result.exit_code == 0, result.output
        rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines()[1:]}
        assert {name: rows.get(name) for name in expected} == expected, result.output


def test_the_same_type_in_two_plugins_is_an_error_naming_both_files(home: Home, tmp_path: Path) -> None:
    first = write_plugin(tmp_path / "one", '  <type type="dup.Server" extends="configuration.HttpConnection"/>\n')
    second = write_archive(
        tmp_path / "two.jar",
        '  <type type="x.Y" extends="xlrelease.Configuration"/>\n'
        '  <type type="dup.Server" extends="configuration.HttpConnection"/>\n',
    )
    result = CliRunner().invoke(
        main, ["types", "--home", str(home.root), "--plugins", str(first), "--plugins", str(second)]
    )
    assert result.exit_code == 1, result.output
    assert result.output == (
        f"Error: {second}!/synthetic.xml:4: type 'dup.Server' is already defined at {first / 'synthetic.xml'}:3\n"
    ), result.output


def test_types_reports_definition_errors_as_one_line(home: Home, tmp_path: Path) -> None:
    plugin = write_plugin(tmp_path / "bad", '  <type type="bad.A" extends="bad.Nope"/>\n')
    result = CliRunner().invoke(main, ["types", "--home", str(home.root), "--plugins", str(plugin)])
    assert result.exit_code == 1, result.output
    assert result.output == f"Error: {plugin / 'synthetic.xml'}:3: type 'bad.A' extends unknown type 'bad.Nope'\n"


def test_check_ok(home: Home, tmp_path: Path) -> None:
    plugin = write_plugin(tmp_path / "demo", TASK, {"demo/Run.py": "pass\n"})
    result = run(home, "check", str(plugin))
    assert result.exit_code == 0, result.output
    assert (
        result.output == f"{plugin / 'demo' / 'Run.py'}: ok (Python 3)\nok: 1 plugin, 1 script checked, no problems\n"
    )


def test_check_prints_every_problem_and_exits_1(home: Home, tmp_path: Path) -> None:
    plugin = write_plugin(tmp_path / "demo", TASK.replace('default="3"', 'default="three"'))
    path = plugin / "synthetic.xml"
    result = CliRunner().invoke(main, ["check", str(plugin), "--home", str(home.root)])
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        f"{path}:7: script 'demo/Run.py' of type 'demo.Run' not found (default prefix/Name.py)",
        f"{path}:8: default of property 'count' (integer): 'three' is not an integer",
        "2 problems in 1 plugin, 0 scripts checked",
    ], result.output


def test_check_json(home: Home, tmp_path: Path) -> None:
    plugin = write_plugin(tmp_path / "demo", '  <type type="demo.X" extends="demo.Y"/>\n')
    result = CliRunner().invoke(main, ["check", "--json", str(plugin), "--home", str(home.root)])
    assert result.exit_code == 1, result.output
    assert json.loads(result.output) == {
        "ok": False,
        "plugins": ["demo"],
        "scripts": [],
        "problems": [
            {"path": str(plugin / "synthetic.xml"), "line": 3, "message": "type 'demo.X' extends unknown type 'demo.Y'"}
        ],
    }, result.output


def test_check_no_bundled_allows_checking_a_copy_of_jenkins(home: Home) -> None:
    with_bundled = CliRunner().invoke(main, ["check", str(JENKINS_COPY), "--home", str(home.root)])
    assert with_bundled.exit_code == 1, with_bundled.output
    assert with_bundled.output.splitlines()[0].startswith(
        f"{JENKINS_COPY}:8: type 'jenkins.Server' is already defined at "
    ), with_bundled.output
    result = CliRunner().invoke(main, ["check", "--no-bundled", str(JENKINS_COPY), "--home", str(home.root)])
    assert result.exit_code == 1, result.output
    assert result.output == (
        f"{JENKINS_COPY}:13: script 'jenkins/Build.py' not found (scriptLocation)\n"
        "1 problem in 1 plugin, 0 scripts checked\n"
    ), result.output


@pytest.mark.corpus
def test_check_no_bundled_allows_checking_the_documented_jenkins_types(home: Home) -> None:
    docs = corpus("xlr", "docs-jenkins.Build.xml")
    with_bundled = CliRunner().invoke(main, ["check", str(docs), "--home", str(home.root)])
    assert with_bundled.exit_code == 1 and "is already defined at" in with_bundled.output, with_bundled.output
    result = CliRunner().invoke(main, ["check", "--no-bundled", str(docs), "--home", str(home.root)])
    assert result.output == (
        f"{docs}:19: script 'jenkins/Build.py' not found (scriptLocation)\n1 problem in 1 plugin, 0 scripts checked\n"
    ), result.output


def python2_plugin(tmp_path: Path) -> Path:
    """A plugin with a Python 3 script, a Python 2 one, one with an unsupported import and one that is broken."""
    return write_plugin(
        tmp_path / "demo",
        TASK,
        {
            "demo/Run.py": 'print "count", count\n',
            "demo/util.py": "import json\nprint(json.dumps(count))\n",
            "demo/Remote.py": "import sys\nfrom com.xebialabs.overthere import CmdLine\n"
            "from java.lang import Runtime\n",
            "demo/broken.py": "def f(:\n    pass\n",
        },
    )


def test_check_lists_each_script_and_each_problem(home: Home, tmp_path: Path) -> None:
    scripts = python2_plugin(tmp_path) / "demo"
    result = run(home, "check", str(scripts.parent))
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        f"{scripts / 'Remote.py'}: compiles (Python 3), 2 unsupported imports",
        f"{scripts / 'Remote.py'}:2: import of 'com.xebialabs.overthere' is not supported by xlr-runtime",
        f"{scripts / 'Remote.py'}:3: import of 'java.lang.Runtime' is not supported by xlr-runtime",
        f"{scripts / 'Run.py'}: ok (translated from Python 2)",
        f"{scripts / 'broken.py'}:1: does not compile: invalid syntax near ':'",
        f"{scripts / 'util.py'}: ok (Python 3)",
        "3 problems in 1 plugin, 4 scripts checked",
    ], result.output


def test_check_a_plugin_translated_from_python_2_is_ok(home: Home, tmp_path: Path) -> None:
    plugin = write_plugin(tmp_path / "demo", TASK, {"demo/Run.py": 'print "count", count\n'})
    result = run(home, "check", str(plugin))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{plugin / 'demo' / 'Run.py'}: ok (translated from Python 2)",
        "ok: 1 plugin, 1 script checked, no problems",
    ], result.output


def test_check_json_lists_each_script(home: Home, tmp_path: Path) -> None:
    scripts = python2_plugin(tmp_path) / "demo"
    result = run(home, "check", "--json", str(scripts.parent))
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["ok"] is False and report["plugins"] == ["demo"], result.output
    empty = {"unresolved_imports": [], "undefined_names": [], "missing_schedules": []}
    assert report["scripts"] == [
        {
            "path": str(scripts / "Remote.py"),
            "role": "file",
            "translated": False,
            "compiles": True,
            "error": None,
            "unsupported_imports": [
                {"line": 2, "module": "com.xebialabs.overthere"},
                {"line": 3, "module": "java.lang.Runtime"},
            ],
            **empty,
        },
        {
            "path": str(scripts / "Run.py"),
            "role": "script",
            "translated": True,
            "compiles": True,
            "error": None,
            "unsupported_imports": [],
            **empty,
        },
        {
            "path": str(scripts / "broken.py"),
            "role": "file",
            "translated": True,
            "compiles": False,
            "error": {"line": 1, "message": "invalid syntax near ':'"},
            "unsupported_imports": [],
            **empty,
        },
        {
            "path": str(scripts / "util.py"),
            "role": "file",
            "translated": False,
            "compiles": True,
            "error": None,
            "unsupported_imports": [],
            **empty,
        },
    ], result.output
    assert [(p["line"], p["message"]) for p in report["problems"]] == [
        (2, "import of 'com.xebialabs.overthere' is not supported by xlr-runtime"),
        (3, "import of 'java.lang.Runtime' is not supported by xlr-runtime"),
        (1, "does not compile: invalid syntax near ':'"),
    ], result.output


def test_check_translates_with_the_plugins_mode_from_xlr_toml(home: Home, tmp_path: Path) -> None:
    plugin = write_plugin(tmp_path / "demo", TASK, {"demo/Run.py": 'print "count", count\n'})
    home.config_file.write_text('[plugins.demo]\ntranslate = "off"\n', encoding="utf-8")
    result = run(home, "check", str(plugin))
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        f"{plugin / 'demo' / 'Run.py'}:1: does not compile: Missing parentheses in call to 'print'. "
        "Did you mean print(...)?",
        "1 problem in 1 plugin, 1 script checked",
    ], result.output


def test_help_texts_have_examples() -> None:
    for args in (["types"], ["types", "show"], ["check"]):
        result = CliRunner().invoke(main, [*args, "--help"])
        assert result.exit_code == 0 and "Example: xlr " in result.output, result.output
