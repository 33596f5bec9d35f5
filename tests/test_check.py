"""``check_plugins``: broken synthetic.xml variants, each reported as an exact ``path:line: message``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from synthetic_helpers import fresh_pm, write_archive, write_plugin

from tests.messages import PARSER_REASON, matches
from xlr_runtime.typesystem import check
from xlr_runtime.typesystem.check import CheckContext, check_plugins, register_checker
from xlr_runtime.typesystem.problems import Problem

RUN = '  <type type="demo.Run" extends="xlrelease.PythonScript">\n'
SCRIPTS = {"demo/Run.py": "pass\n"}


def problems(*paths: Path) -> list[str]:
    report = check_plugins(paths, pm=fresh_pm(), include_bundled=False)
    return [str(p) for p in report.problems]


def one_plugin(tmp_path: Path, body: str, scripts: dict[str, str] | None = None) -> tuple[Path, str]:
    root = write_plugin(tmp_path / "demo", body, SCRIPTS if scripts is None else scripts)
    return root, str(root / "synthetic.xml")


def test_clean_plugin_has_no_problems(tmp_path: Path) -> None:
    root, _ = one_plugin(
        tmp_path, RUN + '    <property name="n" category="input" kind="integer" default="1"/>\n  </type>\n'
    )
    report = check_plugins([root], pm=fresh_pm(), include_bundled=False)
    assert report.ok and report.problems == [] and [t.name for t in report.plugins] == ["demo"]
    assert report.listing() == [
        f"{root / 'demo' / 'Run.py'}: ok (Python 3)",
        "ok: 1 plugin, 1 script checked, no problems",
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            RUN + '    <property name="x">\n  </type>\n',
            "{path}:5: malformed XML: " + PARSER_REASON,
            id="malformed-xml",
        ),
        pytest.param(
            '  <type type="demo.Run" extends="demo.Missing"/>\n',
            "{path}:3: type 'demo.Run' extends unknown type 'demo.Missing'",
            id="unknown-extends",
        ),
        pytest.param(
            '  <type type="demo.Run"/>\n', "{path}:3: type 'demo.Run' has no 'extends' attribute", id="missing-extends"
        ),
        pytest.param(
            RUN + '    <property name="s" category="input" kind="ci" referenced-type="demo.Nope"/>\n  </type>\n',
            "{path}:4: property 's' references unknown type 'demo.Nope'",
            id="unknown-referenced-type",
        ),
        pytest.param(
            RUN + '    <property name="s" category="input" kind="ci"/>\n  </type>\n',
            "{path}:4: property 's' of kind ci has no referenced-type",
            id="ci-without-referenced-type",
        ),
        pytest.param(
            RUN + '    <property name="a"/>\n    <property name="a" kind="integer"/>\n  </type>\n',
            "{path}:5: warning: property 'a' is defined twice in type 'demo.Run' (first at line 4); this later "
            "definition is the one used",
            id="duplicate-property",
        ),
        pytest.param(
            RUN + "  </type>\n" + RUN + "  </type>\n",
            "{path}:5: type 'demo.Run' is already defined at {path}:3",
            id="duplicate-type",
        ),
        pytest.param(
            RUN + '    <property name="n" kind="integer" default="abc"/>\n  </type>\n',
            "{path}:4: default of property 'n' (integer): 'abc' is not an integer",
            id="default-not-integer",
        ),
        pytest.param(
            RUN + '    <property name="b" kind="boolean" default="maybe"/>\n  </type>\n',
            "{path}:4: default of property 'b' (boolean): 'maybe' is not a boolean (use true or false)",
            id="default-not-boolean",
        ),
        pytest.param(
            RUN + '    <property name="d" kind="date" default="soon"/>\n  </type>\n',
            "{path}:4: default of property 'd' (date): 'soon' is not an ISO 8601 date",
            id="default-not-date",
        ),
        pytest.param(
            RUN + '    <property name="m" kind="map_string_string" default="novalue"/>\n  </type>\n',
            "{path}:4: default of property 'm' (map_string_string): 'novalue' is not a key=value or key:value pair",
            id="default-not-map",
        ),
        pytest.param(
            RUN + '    <property name="e" kind="enum" default="c">\n'
            "      <enum-values><value>a</value><value>b</value></enum-values>\n    </property>\n  </type>\n",
            "{path}:4: default of property 'e' (enum): 'c' is not one of a, b",
            id="unknown-enum-default",
        ),
        pytest.param(
            '  <type type="demo.S" extends="configuration.HttpConnection">\n'
            '    <property name="authenticationMethod" kind="enum" default="Kerberos" enum-class='
            '"com.xebialabs.xlrelease.domain.configuration.HttpConnection$AuthenticationMethod"/>\n'
            "  </type>\n",
            "{path}:4: default of property 'authenticationMethod' (enum): 'Kerberos' is not one of None, "
            "Basic, Ntlm, PAT, OAuth2",
            id="unknown-enum-class-default",
        ),
        pytest.param(
            RUN + '    <property name="x" kind="text"/>\n  </type>\n',
            "{path}:4: property 'x' has unknown kind 'text'",
            id="unknown-kind",
        ),
        pytest.param(
            '  <type-modification type="demo.Nope">\n    <property name="x"/>\n  </type-modification>\n',
            "{path}:3: type-modification of unknown type 'demo.Nope'",
            id="unknown-modified-type",
        ),
        pytest.param(
            '  <type type="demo.A" extends="demo.B"/>\n  <type type="demo.B" extends="demo.A"/>\n',
            "{path}:4: circular extends: demo.A -> demo.B -> demo.A",
            id="circular-extends",
        ),
        pytest.param(
            RUN + '    <property name="x" requried="false"/>\n  </type>\n',
            "{path}:4: unknown attribute 'requried' on property 'x'",
            id="misspelt-attribute",
        ),
    ],
)
def test_each_mistake_is_reported_exactly(tmp_path: Path, body: str, expected: str) -> None:
    root, path = one_plugin(tmp_path, body)
    (found,) = problems(root)
    assert matches(found, expected.format(path=path)), found


def test_missing_default_script(tmp_path: Path) -> None:
    root, path = one_plugin(tmp_path, RUN + "  </type>\n", scripts={})
    assert problems(root) == [f"{path}:3: script 'demo/Run.py' of type 'demo.Run' not found (default prefix/Name.py)"]


def test_missing_script_location_is_reported_once_at_its_declaration(tmp_path: Path) -> None:
    body = """  <type type="demo.Task" extends="xlrelease.PythonScript" virtual="true">
    <property name="scriptLocation" hidden="true" default="demo/dispatch.py"/>
  </type>
  <type type="demo.One" extends="demo.Task"/>
  <type type="demo.Two" extends="demo.Task"/>
  <type type="demo.Trigger" extends="xlrelease.ReleaseTrigger">
    <property name="scriptLocation" hidden="true" default="demo/Trigger.py"/>
  </type>
  <type type="demo.Tile" extends="xlrelease.Tile"/>
"""
    root, path = one_plugin(tmp_path, body, scripts={})
    assert problems(root) == [
        f"{path}:4: script 'demo/dispatch.py' not found (scriptLocation)",
        f"{path}:9: script 'demo/Trigger.py' not found (scriptLocation)",
    ]


def test_scripts_are_found_in_other_plugins_and_archives(tmp_path: Path) -> None:
    library = write_archive(
        tmp_path / "common.jar", '  <type type="lib.T" extends="xlrelease.Configuration"/>\n', {"demo/Run.py": "pass\n"}
    )
    root, _ = one_plugin(tmp_path, RUN + "  </type>\n", scripts={})
    assert problems(library, root) == []
    check_path = "configuration/HttpConnectionCheck.py"  # shipped with the base types
    connection = (
        '  <type type="demo.S" extends="configuration.HttpConnection">\n'
        f'    <property name="scriptLocation" hidden="true" default="{check_path}"/>\n'
        "  </type>\n"
    )
    root, _ = one_plugin(tmp_path / "conn", connection, scripts={})
    assert problems(root) == []


def test_archive_problems_use_archive_paths(tmp_path: Path) -> None:
    archive = write_archive(
        tmp_path / "demo.jar", RUN + '    <property name="n" kind="integer" default="x"/>\n  </type>\n', SCRIPTS
    )
    assert problems(archive) == [
        f"{archive}!/synthetic.xml:4: default of property 'n' (integer): 'x' is not an integer",
    ]


def test_all_problems_are_collected_sorted_across_plugins(tmp_path: Path) -> None:
    first = write_plugin(
        tmp_path / "a",
        """  <type type="demo.Run" extends="xlrelease.PythonScript">
    <property name="n" kind="integer" default="x"/>
    <property name="n"/>
  </type>
""",
        SCRIPTS,
    )
    second = write_plugin(
        tmp_path / "b",
        """  <type type="demo.Run" extends="xlrelease.PythonScript"/>
  <type type="other.X" extends="nowhere.Y"/>
""",
    )
    a, b = first / "synthetic.xml", second / "synthetic.xml"
    # The second demo.Run is dropped (so its properties are not resolved); b's demo.Run finds a's script.
    assert problems(second, first) == [
        f"{a}:3: type 'demo.Run' is already defined at {b}:3",
        f"{a}:5: warning: property 'n' is defined twice in type 'demo.Run' (first at line 4); this later definition "
        "is the one used",
        f"{b}:4: type 'other.X' extends unknown type 'nowhere.Y'",
    ]


def test_checkers_are_extensible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(check, "CHECKERS", list(check.CHECKERS))

    @register_checker
    def no_print(context: CheckContext) -> Iterable[Problem]:
        for script in context.target_scripts():
            if "print " in script.read():
                yield Problem(script.display_path, 1, "print statement")

    root, _ = one_plugin(tmp_path, RUN + "  </type>\n", scripts={"demo/Run.py": "print 'x'\n"})
    assert problems(root) == [f"{root / 'demo' / 'Run.py'}:1: print statement"]
    assert register_checker(no_print) is no_print and check.CHECKERS.count(no_print) == 1
