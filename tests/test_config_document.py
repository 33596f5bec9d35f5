"""xlr.toml is read and parsed once per start-up: settings, CIs and per-plugin translate modes share the document."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from task_helpers import DEMO_PLUGIN

from xlr_runtime.cli.options import CliContext
from xlr_runtime.errors import ConfigError
from xlr_runtime.home import Home
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.runtime import Runtime
from xlr_runtime.settings import ConfigDocument, defaults, load

CONFIG = (
    '[settings]\n"workers.size" = 2\n\n'
    '[ci.local]\ntype = "demo.Server"\nurl = "http://h"\n\n'
    '[plugins.demo]\ntranslate = "off"\n'
)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every file opened for reading through ``io.open`` (pathlib's reads go through it), by path."""
    opened: list[str] = []
    real_open = io.open

    def counting_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "r" in mode:
            opened.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(io, "open", counting_open)
    yield opened


def open_runtime(home: Home, **kwargs: Any) -> Runtime:
    return Runtime(home, plugin_paths=[DEMO_PLUGIN], pm=build_plugin_manager(load_installed=False), **kwargs)


def test_a_runtime_start_up_reads_xlr_toml_once(home: Home, reads: list[str]) -> None:
    home.config_file.write_text(CONFIG, encoding="utf-8")
    with open_runtime(home) as runtime:
        assert runtime.settings["workers.size"] == 2
        assert runtime.cis.names() == ["local"]
        assert runtime.engine.translate_modes == {"demo": "off"}
    assert reads.count(str(home.config_file)) == 1


def test_the_cli_hands_its_settings_document_to_the_runtime(home: Home, reads: list[str]) -> None:
    home.config_file.write_text(CONFIG, encoding="utf-8")
    ctx = CliContext(home=home)
    with open_runtime(home, settings=ctx.settings) as runtime:
        assert (runtime.cis.names(), runtime.engine.translate_modes) == (["local"], {"demo": "off"})
    assert reads.count(str(home.config_file)) == 1


def test_settings_without_a_document_make_the_runtime_read_it_once(home: Home, reads: list[str]) -> None:
    home.config_file.write_text(CONFIG, encoding="utf-8")
    with open_runtime(home, settings=defaults()) as runtime:
        assert (runtime.cis.names(), runtime.engine.translate_modes) == (["local"], {"demo": "off"})
    assert reads.count(str(home.config_file)) == 1


def test_settings_of_another_home_are_not_taken_for_this_one(tmp_path: Path, home: Home) -> None:
    other = Home(tmp_path / "other").ensure()
    other.config_file.write_text('[plugins.demo]\ntranslate = "on"\n', encoding="utf-8")
    home.config_file.write_text(CONFIG, encoding="utf-8")
    with open_runtime(home, settings=load(other.root)) as runtime:
        assert runtime.engine.translate_modes == {"demo": "off"}


def test_overrides_keep_the_document(home: Home) -> None:
    home.config_file.write_text(CONFIG, encoding="utf-8")
    loaded = load(home.root)
    assert loaded.source is not None and loaded.source.tables["ci"]["local"]["url"] == "http://h"
    assert loaded.with_overrides(workers_size=4).source is loaded.source
    assert defaults().source is None


def test_a_missing_file_is_an_empty_document(tmp_path: Path) -> None:
    document = ConfigDocument.read(tmp_path / "xlr.toml")
    assert (document.text, document.tables, document.key_lines) == ("", {}, {})


def test_errors_found_through_the_common_document_keep_their_lines(home: Home) -> None:
    home.config_file.write_text(CONFIG.replace('translate = "off"', 'translate = "maybe"'), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        open_runtime(home)
    assert (
        str(caught.value) == f"{home.config_file}:9: plugins.demo.translate must be one of auto, on, off, got 'maybe'"
    )
    home.config_file.write_text(CONFIG.replace('url = "http://h"', 'colour = "red"'), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        open_runtime(home)
    assert str(caught.value) == f"{home.config_file}:6: ci 'local': unknown property 'colour' of demo.Server"
