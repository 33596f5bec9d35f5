"""The password-login account of the SSH tests (tests/ssh_accounts.py): a killed session's account is removed when
the next session starts, and the account of a session that still runs is never touched. Sessions are real
processes, killed with ``kill -9``."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ssh_accounts import new_account_name, password_account, remove_abandoned_accounts, session_accounts
from tests.waiting import DEADLINE, returns_within

ROOT = Path(__file__).resolve().parents[1]

#: A session that holds the lock of the account ``argv[1]`` in the folder ``argv[2]`` until its stdin closes.
LOCKING_SESSION = """
import sys
from pathlib import Path
from tests.ssh_accounts import session_lock
with session_lock(sys.argv[1], Path(sys.argv[2])):
    print("ready", flush=True)
    sys.stdin.read()
"""

#: A session that has the password account ``argv[1]`` until its stdin closes.
ACCOUNT_SESSION = """
import sys
from tests.ssh_accounts import password_account
with password_account(sys.argv[1]):
    print("ready", flush=True)
    sys.stdin.read()
"""


class Sessions:
    """Test sessions in processes of their own, each ready (its lock or account is there) once started."""

    def __init__(self) -> None:
        self.processes: dict[str, subprocess.Popen[str]] = {}

    def start(self, script: str, name: str, *args: str) -> None:
        process = subprocess.Popen(
            [sys.executable, "-c", script, name, *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.processes[name] = process
        assert process.stdout is not None
        assert returns_within(process.stdout.readline, f"session {name} got ready") == "ready\n"

    def kill(self, name: str) -> None:
        """``kill -9``: the session has no chance to clean up."""
        self.processes[name].kill()
        self.processes[name].wait(DEADLINE)

    def end(self, name: str) -> None:
        """The session ends normally, cleaning up after itself."""
        assert self.processes[name].communicate(timeout=DEADLINE) == ("", None)
        assert self.processes[name].returncode == 0

    def kill_all(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is None:
                self.kill(name)


@pytest.fixture
def sessions() -> Iterator[Sessions]:
    started = Sessions()
    yield started
    started.kill_all()


def test_the_accounts_of_killed_sessions_are_removed_and_those_of_running_sessions_kept(
    tmp_path: Path, sessions: Sessions
) -> None:
    running, killed, rebooted = new_account_name(), new_account_name(), new_account_name()
    sessions.start(LOCKING_SESSION, running, str(tmp_path))
    sessions.start(LOCKING_SESSION, killed, str(tmp_path))
    sessions.kill(killed)  # its lock file stays; rebooted's went with /run at boot
    removed: list[str] = []
    remove_abandoned_accounts([running, killed, rebooted], locks=tmp_path, remove=removed.append)
    assert removed == [killed, rebooted]
    assert [path.name for path in tmp_path.iterdir()] == [f"{running}.lock"]
    sessions.kill(running)
    remove_abandoned_accounts([running], locks=tmp_path, remove=removed.append)
    assert (removed, list(tmp_path.iterdir())) == ([killed, rebooted, running], [])


def test_a_running_session_keeps_its_lock_and_removes_its_lock_file_when_it_ends(
    tmp_path: Path, sessions: Sessions
) -> None:
    name = new_account_name()
    sessions.start(LOCKING_SESSION, name, str(tmp_path))
    removed: list[str] = []
    remove_abandoned_accounts([name], locks=tmp_path, remove=removed.append)
    sessions.end(name)
    assert (removed, list(tmp_path.iterdir())) == ([], [])


@pytest.mark.skipif(
    os.getuid() != 0 or shutil.which("useradd") is None, reason="system accounts are made as root (CI runs as root)"
)
def test_a_killed_sessions_account_and_home_are_removed_when_the_next_session_starts(sessions: Sessions) -> None:
    killed, running = new_account_name(), new_account_name()
    sessions.start(ACCOUNT_SESSION, killed)
    sessions.start(ACCOUNT_SESSION, running)
    homes = {name: Path(pwd.getpwnam(name).pw_dir) for name in (killed, running)}
    assert {killed, running} <= set(session_accounts())
    sessions.kill(killed)
    with password_account(new_account_name()):
        assert {killed, running} & set(session_accounts()) == {running}
        assert (homes[killed].exists(), homes[running].is_dir()) == (False, True)
    sessions.end(running)
    assert ({killed, running} & set(session_accounts()), homes[running].exists()) == (set(), False)
