"""The ``xlr_runtime`` pytest plugin: fixtures for testing XL Release task plugins with xlr-runtime.

Installed with the package (entry point ``pytest11``). Configure where your plugin is in ``pytest.ini`` /
``pyproject.toml`` (``xlr_plugin_paths``, paths relative to the rootdir; default: the rootdir when it holds a
``synthetic.xml``), then use the fixtures:

- ``xlr_harness``: a :class:`~xlr_runtime.testing.harness.TaskHarness` in a temporary home, on a virtual clock.
- ``jenkins_server``: a running :class:`~xlr_runtime.testing.jenkins.JenkinsServer` on 127.0.0.1.
- ``xlr_cassette``: the :class:`~xlr_runtime.testing.cassettes.Cassette` of a test marked
  ``@pytest.mark.xlr_cassette`` (``None`` otherwise), which ``xlr_harness`` records or replays the scripts' HTTP
  exchanges through: ``pytest --xlr-record[=MODE]`` records (see ``docs/testing.md``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from xlr_runtime.testing.cassettes import Cassette, RecordMode, default_path
from xlr_runtime.testing.harness import TaskHarness
from xlr_runtime.testing.jenkins import JenkinsServer


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


def _plugin_paths(config: pytest.Config) -> list[Path]:
    root = Path(config.rootpath)
    configured = [root / entry for entry in config.getini("xlr_plugin_paths")]
    if configured:
        return configured
    return [root] if (root / "synthetic.xml").is_file() else []


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
    xlr_cassette: Cassette | None,
) -> Iterator[TaskHarness]:
    """A task harness over the plugins under test, in a temporary home (recording or replaying through
    ``xlr_cassette`` when the test is marked)."""
    harness = TaskHarness(
        tmp_path / "xlr-home",
        plugin_paths=_plugin_paths(request.config),
        environ=_MonkeyEnviron(monkeypatch),
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
