"""The ``xlr_runtime`` pytest plugin: fixtures for testing XL Release task plugins with xlr-runtime.

Installed with the package (entry point ``pytest11``). Configure where your plugin is in ``pytest.ini`` /
``pyproject.toml`` (``xlr_plugin_paths``, paths relative to the rootdir; default: the rootdir when it holds a
``synthetic.xml``), then use the fixtures:

- ``xlr_harness``: a :class:`~xlr_runtime.testing.harness.TaskHarness` in a temporary home, on a virtual clock.
- ``jenkins_server``: a running :class:`~xlr_runtime.testing.jenkins.JenkinsServer` on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from xlr_runtime.testing.harness import TaskHarness
from xlr_runtime.testing.jenkins import JenkinsServer


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "xlr_plugin_paths",
        "Plugin folders or archives under test (relative to the rootdir)",
        type="linelist",
        default=[],
    )


def _plugin_paths(config: pytest.Config) -> list[Path]:
    root = Path(config.rootpath)
    configured = [root / entry for entry in config.getini("xlr_plugin_paths")]
    if configured:
        return configured
    return [root] if (root / "synthetic.xml").is_file() else []


@pytest.fixture
def xlr_harness(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TaskHarness]:
    """A task harness over the plugins under test, in a temporary home."""
    harness = TaskHarness(
        tmp_path / "xlr-home", plugin_paths=_plugin_paths(request.config), environ=_MonkeyEnviron(monkeypatch)
    )
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture
def jenkins_server() -> Iterator[JenkinsServer]:
    """A Jenkins API test server on a free 127.0.0.1 port."""
    with JenkinsServer() as server:
        yield server


class _MonkeyEnviron(dict):
    """Sets environment variables through ``monkeypatch`` so they are undone after the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__()
        self._monkeypatch = monkeypatch

    def __setitem__(self, key: str, value: str) -> None:
        self._monkeypatch.setenv(key, value)
        super().__setitem__(key, value)
