"""The type registry: extends chains, property merging, type-modifications, defaults, scripts, errors.

Plugins are written into tmp_path or copied from the fixtures of ``tests/data/xlr``; one conformance test
(marked ``corpus``) loads the public corpus through tests/corpus.py.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from synthetic_helpers import TASK, fresh_pm, write_plugin

from tests.corpus import corpus_files
from xlr_runtime.errors import DefinitionError, UnknownTypeError
from xlr_runtime.home import Home
from xlr_runtime.typesystem import registry as registry_module
from xlr_runtime.typesystem.kinds import PropertyKind
from xlr_runtime.typesystem.registry import TypeRegistry, load_registry
from xlr_runtime.typesystem.sources import Origin

FIXTURES = Path(__file__).parent / "data" / "xlr"


def load(*paths: Path, home: Home | None = None, bundled: bool = False) -> TypeRegistry:
    return load_registry(plugin_paths=paths, home=home, pm=fresh_pm(), include_bundled=bundled)


def test_base_types_are_loaded() -> None:
    registry = load()
    script = registry.get("xlrelease.PythonScript")
    assert script.virtual and script.plugin == "base"
    assert [p.name for p in script.properties.values()] == ["scriptLocation", "iconLocation", "taskColor"]
    assert all(p.hidden for p in script.properties.values())
    http = registry.get("configuration.HttpConnection")
    assert http.ancestors == ("xlrelease.Configuration",)
    assert http.properties["password"].password and http.properties["proxyPassword"].password
    assert http.properties["proxyPort"].kind is PropertyKind.INTEGER
    auth = http.properties["authenticationMethod"]
    assert (auth.kind, auth.enum_values, auth.default) == (
        PropertyKind.ENUM,
        ("None", "Basic", "Ntlm", "PAT", "OAuth2"),
        "None",
    )
    for name in (
        "xlrelease.Tile",
        "xlrelease.ReleaseTrigger",
        "xlrelease.JythonProvider",
        "xlrelease.ExportHook",
        "xldeploy.XLDeployServer",
        "jira.Server",
        "vsts.Server",
        "sonar.Server",
        "sonar.task",
        "remoteScript.Unix",
        "remoteScript.Windows",
        "remoteScript.WindowsSmb",
        "remoteScript.OverthereHost",
    ):
        assert name in registry, name


def test_extends_chain_and_property_merge(tmp_path: Path) -> None:
    registry = load(write_plugin(tmp_path / "demo", TASK))
    run = registry.get("demo.Run")
    assert (run.parent, run.ancestors) == ("demo.Task", ("demo.Task", "xlrelease.PythonScript", "xlrelease.Task"))
    assert list(run.properties) == ["scriptLocation", "iconLocation", "taskColor", "server", "count", "result"]
    count = run.properties["count"]
    assert (count.default, count.required, count.is_input) == (3, True, True)
    assert run.properties["result"].required is False
    assert run.script_location == "demo/Run.py"
    assert run.is_python_script and not run.virtual and run.plugin == "demo"
    assert str(run.source) == f"{tmp_path / 'demo' / 'synthetic.xml'}:7"
    assert str(count.source) == f"{tmp_path / 'demo' / 'synthetic.xml'}:8"


def test_own_property_replaces_inherited_at_its_position(tmp_path: Path) -> None:
    body = (
        TASK
        + """  <type type="demo.Special" extends="demo.Run">
    <property name="scriptLocation" hidden="true" default="demo/special.py"/>
    <property name="count" category="input" kind="integer" required="false" default="9"/>
    <property name="more" category="output"/>
  </type>
"""
    )
    special = load(write_plugin(tmp_path / "demo", body)).get("demo.Special")
    assert list(special.properties) == [
        "scriptLocation",
        "iconLocation",
        "taskColor",
        "server",
        "count",
        "result",
        "more",
    ]
    assert (special.properties["count"].default, special.properties["count"].required) == (9, False)
    assert special.script_location == "demo/special.py"


def test_type_modification_applies_before_inheritance_and_across_plugins(tmp_path: Path) -> None:
    first = write_plugin(tmp_path / "demo", TASK)
    second = write_plugin(
        tmp_path / "mod",
        """  <type-modification type="demo.Task">
    <property name="server" category="input" kind="ci" referenced-type="demo.Server" required="false"/>
    <property name="token" category="input" password="true" required="false"/>
  </type-modification>
  <type-modification type="configuration.HttpConnection">
    <property name="url" default="https://example.test"/>
  </type-modification>
""",
    )
    registry = load(first, second)
    run = registry.get("demo.Run")
    assert list(run.properties)[3:] == ["server", "token", "count", "result"]
    assert run.properties["server"].required is False
    assert registry.get("demo.Task").modified_by[0].line == 3
    assert registry.get("demo.Server").properties["url"].default == "https://example.test"


def test_enum_class_supplies_values(tmp_path: Path) -> None:
    body = """  <type type="demo.Server" extends="configuration.HttpConnection">
    <property name="authenticationMethod" kind="enum" default="PAT"
      enum-class="com.xebialabs.xlrelease.domain.configuration.HttpConnection$AuthenticationMethod"/>
  </type>
"""
    prop = load(write_plugin(tmp_path / "demo", body)).get("demo.Server").properties["authenticationMethod"]
    assert (prop.enum_values, prop.default) == (("None", "Basic", "Ntlm", "PAT", "OAuth2"), "PAT")


def test_types_are_read_only(tmp_path: Path) -> None:
    run = load(write_plugin(tmp_path / "demo", TASK)).get("demo.Run")
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        run.properties["x"] = run.properties["count"]  # type: ignore[index]


def test_unknown_type() -> None:
    with pytest.raises(UnknownTypeError) as info:
        load().get("nope.Type")
    assert str(info.value) == "unknown type 'nope.Type'"
    assert info.value.hint == (
        "Load its plugin: name it in plugins.path of xlr.toml's [settings], or give --plugins; "
        "'xlr types' lists the loaded types."
    )


def test_same_type_in_two_plugins_names_both_files(tmp_path: Path) -> None:
    a = write_plugin(tmp_path / "a", TASK)
    b = write_plugin(tmp_path / "b", '  <type type="demo.Server" extends="configuration.HttpConnection"/>\n')
    with pytest.raises(DefinitionError) as info:
        load(a, b)
    assert str(info.value) == (
        f"{b / 'synthetic.xml'}:3: type 'demo.Server' is already defined at {a / 'synthetic.xml'}:6"
    )


def test_first_problem_is_raised_with_a_hint_about_the_others(tmp_path: Path) -> None:
    plugin = write_plugin(
        tmp_path / "bad",
        """  <type type="bad.A" extends="bad.Missing"/>
  <type type="bad.B" extends="xlrelease.PythonScript"><property name="n" kind="integer" default="x"/></type>
""",
    )
    with pytest.raises(DefinitionError) as info:
        load(plugin)
    assert str(info.value) == f"{plugin / 'synthetic.xml'}:3: type 'bad.A' extends unknown type 'bad.Missing'"
    assert info.value.hint == "1 more problem(s); run 'xlr check' on the plugin to list them all."


def test_ext_overrides_types_and_scripts(tmp_path: Path, home: Home) -> None:
    write_plugin(home.plugins_dir / "demo", TASK, {"demo/Run.py": "print('plugin')\n"})
    write_plugin(
        home.ext_dir,
        """  <type type="demo.Server" extends="configuration.HttpConnection">
    <property name="token" password="true"/>
  </type>
""",
        {"demo/Run.py": "print('ext')\n"},
    )
    registry = load(home=home)
    assert registry.get("demo.Server").plugin == "ext"
    assert "token" in registry.get("demo.Server").properties
    script = registry.find_script(registry.get("demo.Run"), "demo/Run.py")
    assert script is not None
    assert (script.plugin, script.read(), script.display_path) == (
        "ext",
        "print('ext')\n",
        str(home.ext_dir / "demo" / "Run.py"),
    )
    assert [p.origin for p in registry.plugins][-2:] == [Origin.HOME, Origin.EXT]


def test_find_script_follows_the_classpath_not_the_owning_plugin(tmp_path: Path) -> None:
    other = write_plugin(
        tmp_path / "other",
        '  <type type="o.T" extends="xlrelease.PythonScript"/>\n',
        {"demo/Run.py": "other\n", "common/lib.py": "lib\n"},
    )
    demo = write_plugin(tmp_path / "demo", TASK, {"demo/Run.py": "own\n"})
    registry = load(other, demo)
    run = registry.get("demo.Run")
    first = registry.find_script(run, "demo/Run.py")  # `other` comes first on the classpath (docs/plugins.md)
    assert first is not None and (first.plugin, first.read(), first.path) == ("other", "other\n", "demo/Run.py")
    common = registry.find_script(run, "/common//lib.py")
    assert common is not None and (common.plugin, common.path) == ("other", "common/lib.py")
    assert registry.find_script(run, "demo/Missing.py") is None
    assert registry.find_script(run, "../other/demo/Run.py") is None
    assert registry.plugin_of(run).name == "demo"


def test_script_edits_are_seen_without_reloading(tmp_path: Path) -> None:
    demo = write_plugin(tmp_path / "demo", TASK, {"demo/Run.py": "v1\n"})
    registry = load(demo)
    script = registry.find_script(registry.get("demo.Run"), "demo/Run.py")
    assert script is not None
    (demo / "demo" / "Run.py").write_text("v2\n")
    assert script.read() == "v2\n"


def test_synthetic_edits_are_seen_by_the_next_load(tmp_path: Path) -> None:
    demo = write_plugin(tmp_path / "demo", TASK)
    assert "demo.New" not in load(demo)
    write_plugin(demo, TASK + '  <type type="demo.New" extends="demo.Task"/>\n')
    assert "demo.New" in load(demo)


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The display path of every synthetic.xml the registry parses from now on, in order."""
    parsed: list[str] = []
    real = registry_module.parse_synthetic

    def counting(data: bytes, path: str) -> object:
        parsed.append(path)
        return real(data, path)

    monkeypatch.setattr(registry_module, "parse_synthetic", counting)
    return parsed


def copies_of(files: list[Path], folder: Path) -> list[Path]:
    """Fresh copies (new paths, so nothing of them is cached yet)."""
    folder.mkdir()
    return [Path(shutil.copy2(file, folder / file.name)) for file in files]


def test_a_second_load_parses_nothing_again_and_an_edit_only_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = copies_of(sorted(FIXTURES.glob("*.xml")), tmp_path / "plugins")
    parsed = count_parses(monkeypatch)
    first = load(*files)
    assert sorted(p for p in parsed if p.startswith(str(tmp_path))) == sorted(str(f) for f in files)
    parsed.clear()
    second = load(*files)
    assert parsed == []
    assert [t.name for t in second.types()] == [t.name for t in first.types()] and "relayextras.Retry" in second
    extras = tmp_path / "plugins" / "relay-extras.synthetic.xml"
    extras.write_text(
        extras.read_text(encoding="utf-8").replace(
            "</synthetic>", '    <type type="relayextras.Cancel" extends="relay.Pipeline"/>\n</synthetic>'
        ),
        encoding="utf-8",
    )
    third = load(*files)
    assert parsed == [str(extras)]
    assert {t.name for t in third.types()} - {t.name for t in second.types()} == {"relayextras.Cancel"}


@pytest.mark.corpus
def test_the_whole_corpus_loads_and_a_second_load_parses_nothing_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = copies_of(corpus_files("xlr"), tmp_path / "xlr")
    parsed = count_parses(monkeypatch)
    registry = load(*files)
    assert len(registry) > 100
    assert sorted(p for p in parsed if p.startswith(str(tmp_path))) == sorted(str(f) for f in files)
    parsed.clear()
    again = load(*files)
    assert parsed == []
    assert [t.name for t in again.types()] == [t.name for t in registry.types()]
