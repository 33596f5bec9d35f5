"""The system account the password-login SSH tests log in (tests/ssh_helpers.py): one test session's own, removed
when the session's servers stop — and, when the session was killed first (``kill -9``, a CI timeout), by the next
session that starts, so no session meets what another left on the machine.

Each account is named :data:`ACCOUNT_PREFIX` and a random part, and its session holds an exclusive ``flock`` on
``LOCKS/<name>.lock`` from before the account exists until after it is removed. The kernel releases that lock when
the session's process ends, however it ends. So a session starting removes the accounts whose lock it can take
(their session is gone) and never one whose lock is held: the account of a session running beside it on the same
machine stays. Nothing depends on pids, which the system reuses.
"""

from __future__ import annotations

import contextlib
import fcntl
import pwd
import secrets
import subprocess
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

#: The start of every test session's account name (the rest is random).
ACCOUNT_PREFIX = "xlr-ssh-pw-"
#: The folder of the sessions' locks: root's, and emptied at boot, when no session is left to hold one.
LOCKS = Path("/run/xlr-ssh-accounts")


def new_account_name() -> str:
    """A name for a new session's account, which no other session has."""
    return f"{ACCOUNT_PREFIX}{secrets.token_hex(4)}"


@contextlib.contextmanager
def password_account(name: str) -> Iterator[str]:
    """The account ``name``, with a new random password (yielded), while the context lasts; the accounts of killed
    sessions are removed first. Needs root."""
    LOCKS.mkdir(mode=0o700, exist_ok=True)
    remove_abandoned_accounts(session_accounts())
    with session_lock(name):
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", name], check=True)
        try:
            password = secrets.token_urlsafe(18)
            subprocess.run(["chpasswd"], input=f"{name}:{password}\n".encode(), check=True)
            yield password
        finally:
            delete_account(name)


@contextlib.contextmanager
def session_lock(name: str, locks: Path = LOCKS) -> Iterator[None]:
    """Hold the lock of the account ``name`` in ``locks`` while the context lasts (so no other session removes the
    account), then remove the lock file; raise when another process holds it."""
    lock = locks / f"{name}.lock"
    with _locked(lock) as held:
        if not held:
            raise RuntimeError(f"another process holds the lock of the account {name}: {lock}")
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)


def session_accounts() -> list[str]:
    """The accounts of test sessions on this machine, of live sessions and of gone ones."""
    return sorted(entry.pw_name for entry in pwd.getpwall() if entry.pw_name.startswith(ACCOUNT_PREFIX))


def delete_account(name: str) -> None:
    """Delete the account ``name`` and its home; a failure leaves it to the next session's start."""
    subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)


def remove_abandoned_accounts(
    names: Iterable[str], *, locks: Path = LOCKS, remove: Callable[[str], None] = delete_account
) -> None:
    """Remove each account of ``names`` whose session is gone (its lock in ``locks`` is free, or missing after a
    reboot) with ``remove``, and its lock file. An account whose lock is held stays: its session runs."""
    for name in names:
        lock = locks / f"{name}.lock"
        with _locked(lock) as held:
            if held:
                remove(name)
                lock.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[bool]:
    """Hold the exclusive lock of ``path`` (created when missing) while the context lasts; yield ``False`` without
    waiting when another process holds it."""
    with path.open("a") as handle:  # closing it releases the lock
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
        else:
            yield True
