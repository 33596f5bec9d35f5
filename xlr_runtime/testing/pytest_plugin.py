"""The ``xlr_runtime`` pytest plugin: fixtures for testing XL Release task plugins with xlr-runtime.

Installed with the package (entry point ``pytest11``). The plugin under test is found from each test file's
location, whatever folder pytest starts in (:mod:`xlr_runtime.testing.discovery`: the nearest folder that is a
plugin, holds a ``pyproject.toml`` with ``[tool.xlr] plugin_paths``, or is pytest's rootdir with the
``xlr_plugin_paths`` setting). The fixtures:

- ``xlr_harness``: a :class:`~xlr_runtime.testing.harness.TaskHarness` in a temporary home, on a virtual clock,
  running scripts in worker pools shared by the whole session (:mod:`xlr_runtime.testing.pools`).
- ``xlr_worker_pools``: the session's :class:`~xlr_runtime.testing.pools.SharedPools`.
- ``jenkins_server``: a running :class:`~xlr_runtime.testing.jenkins.JenkinsServer` on 127.0.0.1.
- ``xlr_cassette``: the :class:`~xlr_runtime.testing.cassettes.Cassette` of a test marked
  ``@pytest.mark.xlr_cassette`` (``None`` otherwise), which ``xlr_harness`` records or replays the scripts' HTTP
  exchanges through: ``pytest --xlr-record[=MODE]`` records (see ``docs/testing.md``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from xlr_runtime.errors import XlrError
from xlr_runtime.testing.cassettes import Cassette, RecordMode, default_path
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
    parser.getgroup("xlr_runtime").addoption(
        "--xlr-record",
        nargs="?",
        const=RecordMode.ONCE.value,
        default=RecordMode.NONE.value,
        choices=[mode.value for mode in RecordMode],
        metavar="MODE",
        help="Record the HTTP exchanges of tests marked xlr_cassette: once (alone), new_episodes, all or none "
        "(the default: replay only). Give the mode with '=': --xlr-record=all",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "xlr_cassette(path=None): record and replay the HTTP exchanges of the test's scripts in a vcrpy cassette "
        "(default cassettes/<test module>/<test name>.yaml beside the test file; a relative path is from there)",
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
def xlr_cassette(request: pytest.FixtureRequest) -> Iterator[Cassette | None]:
    """The cassette of a test marked ``xlr_cassette``, in the mode ``--xlr-record`` gives (checked before the
    test runs, written after it); ``None`` when the test is not marked."""
    marker = request.node.get_closest_marker("xlr_cassette")
    if marker is None:
        yield None
        return
    test_file = Path(request.node.path)
    given = marker.args[0] if marker.args else marker.kwargs.get("path")
    cassette = Cassette(
        test_file.parent / given if given else default_path(test_file, request.node.name),
        request.config.getoption("xlr_record"),
    )
    cassette.start()
    try:
        yield cassette
    finally:
        cassette.save()


@pytest.fixture
def xlr_harness(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    xlr_worker_pools: SharedPools,
    xlr_cassette: Cassette | None,
) -> Iterator[TaskHarness]:
    """A task harness over the plugins under test of this test file, in a temporary home (recording or
    replaying through ``xlr_cassette`` when the test is marked)."""
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
        cassette=xlr_cassette,
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
