"""Real OpenSSH servers on 127.0.0.1 for the remote-node tests: several ``sshd -D`` on free ports, each with its
own generated host key, standing for several Rundeck nodes.

- Every server takes the session's client key (``ssh-keygen``, Ed25519) for the current user.
- ``accept_env`` servers have ``AcceptEnv RD_*`` (Rundeck's SendEnv works); the others refuse it, so the
  runtime's fallback (variables exported in the command) is tested too.
- The password server only when the tests run as root (as CI does): sshd checks passwords against the system's
  accounts, which a non-root sshd cannot read, and setting a password on the developer's own account is not
  something a test may do. It logs in a dedicated account, :data:`PASSWORD_USER`, named, created and given a
  random password for this test session only (two sessions on one machine never share it) and removed when the
  session's servers stop, or by the next session when this one is killed (tests/ssh_accounts.py); the key
  servers refuse passwords.

Without ``sshd`` (Debian's ``openssh-server``) the tests that need it skip with one reason; under ``CI=true``
they fail instead (``.ci/run`` installs it).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.ssh_accounts import new_account_name, password_account
from tests.waiting import wait_until

#: The account the password server logs in: this session's own (created only when the tests run as root).
PASSWORD_USER = new_account_name()
SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd")


@dataclass
class SshServer:
    """One running ``sshd``."""

    name: str
    port: int
    folder: Path
    process: subprocess.Popen[bytes]
    accept_env: bool
    password_user: str | None = None

    @property
    def host_key_line(self) -> str:
        """The ``known_hosts`` line of this server's host key."""
        public = (self.folder / "host_key.pub").read_text().split()
        return f"[127.0.0.1]:{self.port} {public[0]} {public[1]}"


@dataclass
class SshLab:
    """The session's servers, client key and (as root) the password account."""

    folder: Path
    client_key: Path
    user: str
    servers: list[SshServer] = field(default_factory=list)
    password: str | None = None

    def server(self, name: str) -> SshServer:
        """The server called ``name``."""
        return next(s for s in self.servers if s.name == name)


def sshd_binary() -> str | None:
    """The ``sshd`` executable, or ``None`` when openssh-server is not installed."""
    found = shutil.which("sshd")
    return found or next((c for c in SSHD_CANDIDATES if os.access(c, os.X_OK)), None)


def require_sshd() -> str:
    """``sshd``, or skip (fail under ``CI=true``) with one reason."""
    binary = sshd_binary()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("sshd is not installed; CI must run the SSH tests (.ci/run installs openssh-server)")
        pytest.skip("sshd is not installed (Debian: apt-get install openssh-server)")
    return binary


def free_port() -> int:
    """A TCP port of 127.0.0.1 free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def keygen(path: Path, kind: str = "ed25519", *, passphrase: str = "", pem: bool = False) -> Path:
    """A new key pair at ``path`` / ``path.pub``."""
    command = ["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", "xlr-test", "-f", str(path)]
    if pem:
        command[3:3] = ["-m", "PEM"]
    subprocess.run(command, check=True, capture_output=True)
    return path


@contextlib.contextmanager
def start_ssh_lab(folder: Path, names: dict[str, bool], *, password_server: str | None) -> Iterator[SshLab]:
    """Start one server per name (``{name: accept_env}``), plus ``password_server`` when root; stop them all."""
    binary = require_sshd()
    user = pwd.getpwuid(os.getuid()).pw_name
    lab = SshLab(folder=folder, client_key=keygen(folder / "client_key"), user=user)
    if os.getuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
    with contextlib.ExitStack() as stack:
        if password_server and os.getuid() == 0:
            lab.password = stack.enter_context(password_account(PASSWORD_USER))
        stack.callback(_stop_all, lab.servers)  # before the account goes: its logins end first
        for name, accept_env in names.items():
            lab.servers.append(_start(binary, folder / name, name, lab, accept_env=accept_env))
        if password_server and lab.password:
            server = _start(binary, folder / password_server, password_server, lab, accept_env=False, password=True)
            lab.servers.append(server)
        yield lab


def _start(binary: str, folder: Path, name: str, lab: SshLab, *, accept_env: bool, password: bool = False) -> SshServer:
    folder.mkdir()
    keygen(folder / "host_key")
    authorized = folder / "authorized_keys"
    authorized.write_text((lab.client_key.with_suffix(".pub")).read_text())
    port = free_port()
    lines = [
        f"Port {port}",
        "ListenAddress 127.0.0.1",
        f"HostKey {folder / 'host_key'}",
        f"PidFile {folder / 'sshd.pid'}",
        f"AuthorizedKeysFile {authorized}",
        "StrictModes no",
        "UsePAM no",
        "PermitRootLogin yes",
        "PubkeyAuthentication yes",
        f"PasswordAuthentication {'yes' if password else 'no'}",
        "KbdInteractiveAuthentication no",
        "MaxSessions 100",
        "MaxStartups 100",
        "LogLevel ERROR",
        "Subsystem sftp internal-sftp",
    ]
    if accept_env:
        lines.append("AcceptEnv RD_*")
    if password:
        lines.append(f"AllowUsers {PASSWORD_USER}")
    config = folder / "sshd_config"
    config.write_text("\n".join(lines) + "\n")
    process = subprocess.Popen(
        [binary, "-D", "-e", "-f", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "sshd.log").open("wb"),
        start_new_session=True,
    )
    wait_until(
        lambda: process.poll() is not None or _answers(port),
        lambda: f"sshd {name} on port {port}: {(folder / 'sshd.log').read_text()}",
    )
    if process.poll() is not None:
        raise RuntimeError(f"sshd {name} did not start: {(folder / 'sshd.log').read_text()}")
    return SshServer(name, port, folder, process, accept_env, PASSWORD_USER if password else None)


def _answers(port: int) -> bool:
    """True when an SSH banner comes from ``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
            return connection.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def _stop_all(servers: list[SshServer]) -> None:
    for server in servers:
        _stop(server.process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def key_node(lab: SshLab, name: str, **extra: str) -> dict[str, str]:
    """The resource-model attributes of the key server ``name``."""
    server = lab.server(name)
    return {
        "hostname": f"127.0.0.1:{server.port}",
        "username": lab.user,
        "ssh-keypath": str(lab.client_key),
        "osFamily": "unix",
        "tags": "ssh",
        **extra,
    }


def write_project(root: Path, nodes: dict[str, dict[str, str]], properties: dict[str, str] | None = None) -> None:
    """The project's resource file and project.properties."""
    folder = root / "projects" / "P"
    (folder / "resources").mkdir(parents=True, exist_ok=True)
    (folder / "resources" / "nodes.yaml").write_text(yaml.safe_dump(nodes))
    (folder / "etc").mkdir(exist_ok=True)
    text = "".join(f"{key}={value}\n" for key, value in (properties or {}).items())
    (folder / "etc" / "project.properties").write_text(text)


@contextlib.contextmanager
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word (a host that hangs): yields the port."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]
