"""A throw-away PostgreSQL server on 127.0.0.1 for the PostgreSQL store tests (and the benchmark beside SQLite).

``initdb`` and ``pg_ctl`` of the newest PostgreSQL under ``/usr/lib/postgresql/*/bin`` (Debian's layout; the
``PATH`` otherwise) create a cluster in a new folder and start it on a free loopback port, with ``fsync`` off
(a test database never needs to survive a power loss) and trust authentication for connections from this host.
PostgreSQL refuses to run as root: as root (as CI runs) the server runs as the ``postgres`` account (``runuser``),
in a folder it owns. :func:`start_postgres` stops the server and removes the folder when its block ends, even on
failure. Each test gets a schema of its own (:meth:`PostgresServer.new_store_url`).

Without PostgreSQL's server binaries (Debian's ``postgresql``) the tests that need it skip with one reason; under
``CI=true`` they fail instead (``.ci/run`` installs it).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: The account the server runs as when the tests run as root (PostgreSQL refuses root).
SERVER_ACCOUNT = "postgres"
#: The database role the tests connect as (created by initdb as the cluster's superuser).
ROLE = "xlr"


def server_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (the newest of ``/usr/lib/postgresql/*/bin``, else the one
    on ``PATH``), or ``None`` when PostgreSQL's server is not installed."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    for folder in candidates:
        if os.access(Path(folder) / "pg_ctl", os.X_OK) and os.access(Path(folder) / "initdb", os.X_OK):
            return Path(folder)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


def missing_reason() -> str | None:
    """Why no test server can start here (one line), or ``None`` when one can."""
    if server_binaries() is None:
        return "PostgreSQL is not installed (Debian: apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_ACCOUNT)
        except KeyError:
            return f"running as root and there is no {SERVER_ACCOUNT!r} account to run PostgreSQL as"
    return None


def require_postgres() -> None:
    """Skip (fail under ``CI=true``) with one reason when no test server can start here."""
    import pytest

    reason = missing_reason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the PostgreSQL tests (.ci/run installs postgresql)")
        pytest.skip(f"no PostgreSQL test server: {reason}")


def free_port() -> int:
    """A TCP port of 127.0.0.1 free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class PostgresServer:
    """A running test server: where it listens, how to reach a database of it, and how to stop and start it again
    on the same port (a server that goes away under a running store)."""

    port: int
    folder: Path
    binaries: Path

    def url(self, database: str = "postgres") -> str:
        """The store URL of ``database`` on this server."""
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/{database}"

    def new_store_url(self) -> str:
        """The store URL of a new, empty schema of the server's database: the URL sets the connections'
        ``search_path`` to it, so the store's tables and functions go there (a schema costs milliseconds where a
        ``CREATE DATABASE`` costs most of a second)."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return f"{self.url()}?options=-csearch_path%3D{name}"

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` cuts every connection and keeps what was committed (the test server does not
        wait for the disk: ``immediate``, as a crash, could lose the last commits), ``immediate`` at the end."""
        data = self.folder / "data"
        subprocess.run(
            _as_server_account([str(self.binaries / "pg_ctl"), "-D", str(data), "-m", mode, "-w", "stop"]),
            capture_output=True,
        )

    def start(self) -> None:
        """Start the stopped server again on its port."""
        log = self.folder / "server.log"
        started = subprocess.run(
            _as_server_account([str(self.binaries / "pg_ctl"), "-D", str(self.folder / "data"), "-l", str(log),
                                "-o", _options(self.port, self.folder), "-w", "-t", "60", "start"]),
            capture_output=True,
        )  # fmt: skip
        if started.returncode != 0:
            text = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {started.stderr.decode(errors='replace')}{text}")


def _options(port: int, folder: Path) -> str:
    """The server's options: loopback only, its socket in ``folder``, nothing waits for the disk."""
    return f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} " + " ".join(
        f"-c {name}=off" for name in ("fsync", "full_page_writes", "synchronous_commit")
    )


def _as_server_account(command: list[str]) -> list[str]:
    return ["runuser", "-u", SERVER_ACCOUNT, "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def start_postgres() -> Iterator[PostgresServer]:
    """Create a cluster in a new folder, start it on a free port of 127.0.0.1, and stop and remove it after."""
    binaries = server_binaries()
    assert binaries is not None, missing_reason()
    folder = Path(tempfile.mkdtemp(prefix="xlr-postgres-"))  # not under pytest's 0700 folders: the account reads it
    try:
        if os.geteuid() == 0:
            account = pwd.getpwnam(SERVER_ACCOUNT)
            os.chown(folder, account.pw_uid, account.pw_gid)
        initdb = [str(binaries / "initdb"), "-D", str(folder / "data"), "-U", ROLE, "--auth=trust", "-E", "UTF8"]
        subprocess.run(_as_server_account([*initdb, "--no-sync"]), check=True, capture_output=True)
        server = _first_start(binaries, folder)
        try:
            yield server
        finally:
            server.stop("immediate")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _first_start(binaries: Path, folder: Path, attempts: int = 3) -> PostgresServer:
    """The server of ``folder`` started on a free port of 127.0.0.1; another port when the one found free was
    taken before the server bound it."""
    for attempt in range(attempts):
        server = PostgresServer(free_port(), folder, binaries)
        try:
            server.start()
        except RuntimeError as error:
            if "could not bind" not in str(error) or attempt == attempts - 1:
                raise
            continue
        return server
    raise AssertionError("unreachable")
