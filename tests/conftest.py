"""Fixtures shared by the whole suite. Tests never see the developer's home, plugins or environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlr_runtime.home import Home

SHARED = Path(__file__).resolve().parents[2] / "shared"
#: Files written by others that the conformance tests load (never copied into the repo).
CORPUS = SHARED / "corpus"


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No installed runtime plugins, no XLR_* variables from the caller, and a throw-away default home."""
    for name in ("XLR_PLUGIN_PATH", "XLR_TRACE_PLUGINS", "XLR_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XLR_LOAD_PLUGINS", "")
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("user-home")))


@pytest.fixture
def home(tmp_path: Path) -> Home:
    """A fresh, empty runtime home in a temporary folder."""
    return Home(tmp_path / "home").ensure()
