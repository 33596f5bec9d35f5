"""Fixtures common to the whole suite. Tests never see the developer's home, plugins or environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.corpus import require_corpus
from tests.postgres_helpers import PostgresServer, require_postgres, start_postgres
from tests.ssh_helpers import SshLab, start_ssh_lab
from tests.store_backends import STORE_BACKENDS
from xlr_runtime.home import Home
from xlr_runtime.store import Store

#: Test plugins under tests/data may ship their own tests (as real plugins do): fixtures, not tests of this suite.
collect_ignore = ["data"]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A conformance test (marked ``corpus``) skips with one reason when the public corpus is absent."""
    if item.get_closest_marker("corpus") is not None:
        require_corpus()


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No installed runtime plugins, no XLR_* variables from the caller, no HTTP API unless a test asks for one
    (``--http``), and a throw-away default home."""
    for name in ("XLR_PLUGIN_PATH", "XLR_TRACE_PLUGINS", "XLR_HOME", "XLR_PROGRESS", "XLR_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XLR_LOAD_PLUGINS", "")
    monkeypatch.setenv("XLR_HTTP", "off")  # servers of the suite run side by side: no shared port 5516
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("user-home")))


#: The SSH servers of the session, by name: whether each accepts ``SendEnv RD_*`` (``AcceptEnv``).
SSH_NODES = {"n1": True, "n2": False, "n3": False}


@pytest.fixture(scope="session")
def ssh_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshLab]:
    """Real OpenSSH servers on 127.0.0.1, started once per session (:data:`SSH_NODES`, plus the password server
    ``pw`` when root); skips without ``sshd`` (fails under ``CI=true``). See tests/ssh_helpers.py."""
    with start_ssh_lab(tmp_path_factory.mktemp("ssh-lab"), SSH_NODES, password_server="pw") as lab:
        yield lab


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throw-away PostgreSQL server on 127.0.0.1, started once per session; each test makes its own schema
    (``postgres_server.new_store_url()``). Skips without PostgreSQL (fails under ``CI=true``); see
    tests/postgres_helpers.py."""
    require_postgres()
    with start_postgres() as server:
        yield server


@pytest.fixture
def own_postgres_server() -> Iterator[PostgresServer]:
    """A throw-away PostgreSQL server of the test's own, which it may stop and start again (a server that goes
    away under a running store). Skips and fails as :func:`postgres_server`."""
    require_postgres()
    with start_postgres() as server:
        yield server


@pytest.fixture
def home(tmp_path: Path) -> Home:
    """A fresh, empty runtime home in a temporary folder."""
    return Home(tmp_path / "home").ensure()


@pytest.fixture(params=sorted(STORE_BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, open store on each backend of :data:`STORE_BACKENDS` (a module may define its own ``store``)."""
    opened = STORE_BACKENDS[request.param](request, tmp_path)
    yield opened
    opened.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, home: Home) -> str:
    """The URL of an empty store of each backend for ``home``: its SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{home.database}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_store_url()
