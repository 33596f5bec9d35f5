"""The ``xlr_runtime`` pytest plugin: fixtures for testing XL Release task plugins with xlr-runtime.

Installed with the package (entry point ``pytest11``). The plugin under test is found from each test file's
location, whatever folder pytest starts in (:mod:`xlr_runtime.testing.discovery`: the nearest folder that is a
plugin, holds a ``pyproject.toml`` with ``[tool.xlr] plugin_paths``, or is pytest's rootdir with the
``xlr_plugin_paths`` setting). The fixtures:

- ``xlr_harness``: a :class:`~xlr_runtime.testing.harness.TaskHarness` in a temporary home, on a virtual clock,
  running scripts in worker pools shared by the whole session (:mod:`xlr_runtime.testing.pools`).
- ``xlr_worker_pools``: the session's :class:`~xlr_runtime.testing.pools.SharedPools`.
- ``jenkins_server``: a running :class:`~xlr_runtime.testing.jenkins.JenkinsServer` on 127.0.0.1.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from xlr_runtime.errors import XlrError
from xlr_runtime.testing.discovery import missing_plugin_message, plugin_paths_for
from xlr_runtime.testing.harness import TaskHarness
from xlr_runtime.testing.jenkins import JenkinsServer
from xlr_runtime.testing.pools import SharedPools


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "xlr_plugin_paths",
        "Plugin folders or archives under test (relative to the rootdir)",
        type="linelist",
        default=[],
    )


@pytest.fixture(scope="session")
def xlr_worker_pools() -> Iterator[SharedPools]:
    """The worker pools every ``xlr_harness`` of the session runs scripts in (stopped at the session's end)."""
    pools = SharedPools()
    try:
        yield pools
    finally:
        pools.close()


@pytest.fixture
def xlr_harness(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    xlr_worker_pools: SharedPools,
) -> Iterator[TaskHarness]:
    """A task harness over the plugins under test of this test file, in a temporary home."""
    test_file = Path(request.node.path)
    try:
        found = plugin_paths_for(
            test_file, ini_paths=request.config.getini("xlr_plugin_paths"), rootdir=Path(request.config.rootpath)
        )
    except XlrError as exc:
        pytest.fail(f"xlr_harness: {exc}" + (f"\n{exc.hint}" if exc.hint else ""), pytrace=False)
    harness = TaskHarness(
        tmp_path / "xlr-home",
        plugin_paths=found.paths if found else (),
        environ=_MonkeyEnviron(monkeypatch),
        pools=xlr_worker_pools,
        missing_plugin_message=None if found else functools.partial(missing_plugin_message, test_file),
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
