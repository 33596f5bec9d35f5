"""Plugin sources and discovery: folders, archives, XLR_PLUGIN_PATH, home plugins/ext, hooks, resources."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from synthetic_helpers import TASK, fresh_pm, write_archive, write_plugin

from xlr_runtime import hookimpl, resources
from xlr_runtime.errors import PluginError
from xlr_runtime.home import Home
from xlr_runtime.typesystem.registry import load_registry
from xlr_runtime.typesystem.sources import (
    ArchivePlugin,
    FolderPlugin,
    Origin,
    discover_plugins,
    open_plugin,
    plugins_at,
)

SERVER = '  <type type="{p}.Server" extends="configuration.HttpConnection"/>\n'


def names(plugins: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(p.name, p.origin.value) for p in plugins]


def test_folder_plugin_reads_scripts(tmp_path: Path) -> None:
    root = write_plugin(tmp_path / "demo", TASK, {"demo/Run.py": "print 'hi'\n", "demo/icon.png": "x"})
    plugin = open_plugin(root, Origin.PATH)
    assert isinstance(plugin, FolderPlugin)
    assert [d.display_path for d in plugin.documents()] == [str(root / "synthetic.xml")]
    assert plugin.list_files() == ["demo/Run.py", "demo/icon.png", "synthetic.xml"]
    script = plugin.script("demo/Run.py")
    assert script is not None
    assert (script.path, script.display_path, script.plugin, script.read()) == (
        "demo/Run.py",
        str(root / "demo" / "Run.py"),
        "demo",
        "print 'hi'\n",
    )
    assert plugin.script("demo/Nope.py") is None
    assert plugin.script("../demo/synthetic.xml") is None


def test_latin1_script_is_read(tmp_path: Path) -> None:
    root = write_plugin(tmp_path / "demo", TASK)
    (root / "old.py").write_bytes(b"# caf\xe9\n")
    script = open_plugin(root, Origin.PATH).script("old.py")
    assert script is not None and script.read() == "# café\n"


@pytest.mark.parametrize("suffix", [".jar", ".zip"])
def test_archive_plugin(tmp_path: Path, suffix: str) -> None:
    archive = write_archive(tmp_path / f"xlr-demo-plugin-1.0{suffix}", TASK, {"demo/Run.py": "x = 1\n"})
    plugin = open_plugin(archive, Origin.PATH)
    assert isinstance(plugin, ArchivePlugin) and plugin.name == "xlr-demo-plugin-1.0"
    assert [d.display_path for d in plugin.documents()] == [f"{archive}!/synthetic.xml"]
    script = plugin.script("demo/Run.py")
    assert script is not None
    assert (script.display_path, script.read()) == (f"{archive}!/demo/Run.py", "x = 1\n")
    registry = load_registry(plugin_paths=[archive], pm=fresh_pm(), include_bundled=False)
    run = registry.get("demo.Run")
    assert run.plugin == "xlr-demo-plugin-1.0"
    assert str(run.source) == f"{archive}!/synthetic.xml:7"
    found = registry.find_script(run, run.script_location)
    assert found is not None and found.display_path == f"{archive}!/demo/Run.py"


def test_bad_archives(tmp_path: Path) -> None:
    empty = write_archive(tmp_path / "lib.jar", None, {"a.txt": "x"})
    with pytest.raises(PluginError) as info:
        open_plugin(empty, Origin.PATH)
    assert str(info.value) == f"{empty}: no synthetic.xml at the archive root"
    broken = tmp_path / "broken.zip"
    broken.write_text("not a zip")
    with pytest.raises(PluginError) as info:
        open_plugin(broken, Origin.PATH)
    assert str(info.value) == f"{broken}: not a readable .jar/.zip archive (File is not a zip file)"


def test_single_xml_file_is_a_plugin_rooted_at_its_folder(tmp_path: Path) -> None:
    root = write_plugin(tmp_path / "x", TASK)
    renamed = root / "xlr-demo-plugin.synthetic.xml"
    (root / "synthetic.xml").rename(renamed)
    plugin = open_plugin(renamed, Origin.PATH)
    assert plugin.name == "xlr-demo-plugin"
    assert [d.display_path for d in plugin.documents()] == [str(renamed)]


def test_folder_of_plugins(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    write_plugin(folder / "b-folder", SERVER.format(p="b"))
    write_archive(folder / "a.jar", SERVER.format(p="a"))
    write_archive(folder / "library.jar", None, {"x.class": ""})
    write_archive(folder / "__local__" / "c.zip", SERVER.format(p="c"))
    (folder / "notes.txt").write_text("ignored")
    # sorted by name: "__local__" < "a.jar" < "b-folder"
    assert names(plugins_at(folder, Origin.PATH)) == [("c", "path"), ("a", "path"), ("b-folder", "path")]


def test_missing_and_empty_paths(tmp_path: Path) -> None:
    with pytest.raises(PluginError) as info:
        plugins_at(tmp_path / "nope", Origin.PATH)
    assert str(info.value) == f"plugin path {tmp_path / 'nope'} does not exist"
    (tmp_path / "empty").mkdir()
    with pytest.raises(PluginError) as info:
        plugins_at(tmp_path / "empty", Origin.PATH)
    assert str(info.value) == f"{tmp_path / 'empty'}: no plugins found (expected synthetic.xml, .jar or .zip files)"
    assert plugins_at(tmp_path / "nope", Origin.HOME, required=False) == []
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(PluginError, match="not a plugin"):
        plugins_at(tmp_path / "file.txt", Origin.PATH)


def test_discovery_order_and_dedupe(tmp_path: Path, home: Home) -> None:
    hooked = write_plugin(tmp_path / "hooked", SERVER.format(p="h"))
    extra_base = tmp_path / "base-extra.xml"
    extra_base.write_text(write_plugin(tmp_path / "tmp", SERVER.format(p="eb")).joinpath("synthetic.xml").read_text())
    given = write_plugin(tmp_path / "given", SERVER.format(p="g"))
    write_plugin(home.plugins_dir / "homeplugin", SERVER.format(p="hp"))
    write_plugin(home.ext_dir, "")

    class Hooks:
        @hookimpl
        def xlr_plugin_paths(self) -> list[Path | str]:
            return [str(hooked), given]  # `given` again: loaded once, at its first position

        @hookimpl
        def xlr_base_type_files(self) -> list[Path | str]:
            return [extra_base]

    plugins = discover_plugins(plugin_paths=[given], home=home, pm=fresh_pm(Hooks()))
    assert names(plugins) == [
        ("base", "base"),
        ("base-extra", "base"),
        ("jenkins", "bundled"),
        ("hooked", "hook"),
        ("given", "hook"),
        ("homeplugin", "home"),
        ("ext", "ext"),
    ]
    registry = load_registry(plugin_paths=[given], home=home, pm=fresh_pm(Hooks()))
    assert {"eb.Server", "h.Server", "g.Server", "hp.Server", "jenkins.Build"} <= {t.name for t in registry.types()}
    assert [p.name for p in registry.plugins] == [p.name for p in plugins]


def test_env_plugin_path_is_used_without_explicit_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one = write_plugin(tmp_path / "one", SERVER.format(p="one"))
    two = write_archive(tmp_path / "two.jar", SERVER.format(p="two"))
    monkeypatch.setenv("XLR_PLUGIN_PATH", f"{one}{os.pathsep}{two}")
    pm = fresh_pm()
    assert names(discover_plugins(pm=pm, include_bundled=False))[1:] == [("one", "path"), ("two", "path")]
    explicit = write_plugin(tmp_path / "explicit", SERVER.format(p="ex"))
    assert names(discover_plugins(plugin_paths=[explicit], pm=pm, include_bundled=False))[1:] == [
        ("explicit", "path"),
    ]


def test_missing_base_type_file_from_hook(tmp_path: Path) -> None:
    class Hooks:
        @hookimpl
        def xlr_base_type_files(self) -> list[Path | str]:
            return [tmp_path / "missing.xml"]

    with pytest.raises(PluginError) as info:
        discover_plugins(pm=fresh_pm(Hooks()))
    assert str(info.value) == (
        f"base type file {tmp_path / 'missing.xml'} (from the xlr_base_type_files hook) does not exist"
    )


def test_resources_find_the_source_tree_data() -> None:
    repo = Path(__file__).resolve().parents[1]
    assert resources.base_types_dir() == repo / "synthetic"
    assert resources.bundled_plugins_dir() == repo / "plugins"
    assert (resources.base_types_dir() / "xlrelease.xml").is_file()
    assert (resources.base_types_dir() / "configuration" / "HttpConnectionCheck.py").is_file()
    assert (resources.bundled_plugins_dir() / "jenkins" / "synthetic.xml").is_file()


def test_resources_prefer_the_packaged_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site-packages" / "xlr_runtime"
    (package / "_data" / "synthetic").mkdir(parents=True)
    (package / "_data" / "plugins").mkdir(parents=True)
    monkeypatch.setattr(resources, "_PACKAGE", package)
    assert resources.base_types_dir() == package / "_data" / "synthetic"
    assert resources.bundled_plugins_dir() == package / "_data" / "plugins"
