"""One SSH connection per node per execution, opened at the node's first step and reused by the next ones.

A connection failure becomes one :class:`~xlr_runtime.errors.NodeConnectionError` line naming the node, its
address and the cause (refused, unreachable, timed out, unknown host, authentication, host key) — never a secret.
Whether the server accepts ``SendEnv`` (its ``AcceptEnv``) is probed once per connection.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import paramiko

from xlr_runtime.errors import NodeConnectionError
from xlr_runtime.rundeck.nodes.ssh.credentials import Credentials
from xlr_runtime.rundeck.nodes.ssh.target import PASSWORD, SshTarget

#: The variable sent to learn whether the server takes environment variables (``AcceptEnv``).
ENV_PROBE = "RD_XLR_ENV_PROBE"
#: What paramiko says when the server accepted the TCP connection but never completed the SSH handshake.
_NO_HANDSHAKE = frozenset({"Error reading SSH protocol banner", "No existing session"})
#: Seconds allowed for the probe command.
PROBE_TIMEOUT = 30.0


class _TrustAnyHostKey(paramiko.MissingHostKeyPolicy):
    """Rundeck's default (``StrictHostKeyChecking=no``): a host key not in known_hosts is accepted, not stored."""

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        return None


@dataclass
class Session:
    """An open connection to one node."""

    target: SshTarget
    client: paramiko.SSHClient
    #: True when the server accepted a variable sent with ``SendEnv`` (else they are exported in the command).
    accepts_env: bool = False
    _sftp: paramiko.SFTPClient | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def transport(self) -> paramiko.Transport:
        """The live transport; raises the node's error when the connection dropped."""
        transport = self.client.get_transport()
        if transport is None or not transport.is_active():
            raise self.target.fail("the connection was lost")
        return transport

    def sftp(self) -> paramiko.SFTPClient:
        """The connection's SFTP channel (opened once)."""
        with self._lock:
            if self._sftp is None:
                try:
                    self._sftp = self.client.open_sftp()
                except (paramiko.SSHException, OSError) as exc:
                    raise self.target.fail(f"cannot open SFTP: {exc}") from None
            return self._sftp

    def close(self) -> None:
        """Close the SFTP channel and the connection."""
        if self._sftp is not None:
            self._sftp.close()
        self.client.close()


class SessionCache:
    """The connections of one execution, by node name; :meth:`close` ends them all."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        #: Number of connections opened (one per node per execution; tests and benchmarks read it).
        self.opened = 0

    def get(self, target: SshTarget, credentials: Callable[[], Credentials]) -> Session:
        """The open session of ``target``'s node, connecting first when there is none (or it dropped)."""
        with self._lock:
            node_lock = self._locks.setdefault(target.node, threading.Lock())
        with node_lock:
            session = self._sessions.get(target.node)
            if session is not None and _alive(session):
                return session
            session = connect(target, credentials())
            with self._lock:
                self._sessions[target.node] = session
                self.opened += 1
            return session

    def close(self) -> None:
        """Close every connection."""
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()


def connect(target: SshTarget, credentials: Credentials) -> Session:
    """Open and authenticate a connection to ``target``. Raises :class:`NodeConnectionError`."""
    client = paramiko.SSHClient()
    if target.strict_host_key_checking:
        try:
            client.load_host_keys(target.known_hosts)
        except OSError as exc:
            raise target.fail(f"cannot read known hosts file {target.known_hosts!r}: {exc.strerror}") from None
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
    else:
        client.set_missing_host_key_policy(_TrustAnyHostKey())
    try:
        client.connect(
            target.host,
            port=target.port,
            username=target.username,
            password=credentials.password,
            pkey=credentials.key,
            timeout=target.connect_timeout,
            banner_timeout=target.connect_timeout,
            auth_timeout=target.connect_timeout,
            allow_agent=False,
            look_for_keys=False,
        )
    except Exception as exc:
        client.close()
        raise _connection_error(target, exc) from None
    session = Session(target=target, client=client)
    session.accepts_env = _probe_env(session)
    return session


def _connection_error(target: SshTarget, exc: Exception) -> NodeConnectionError:
    """The one line that says why a connection failed; never the exception's secret-bearing arguments."""
    if isinstance(exc, paramiko.BadHostKeyException):
        cause = f"host key mismatch: the server's {exc.key.get_name()} key is not the one in {target.known_hosts}"
        return target.fail(cause, reason="HostKeyFailure")
    if isinstance(exc, paramiko.AuthenticationException):
        how = "password" if target.authentication == PASSWORD else "private key"
        cause = f"authentication failed for user {target.username!r} ({how})"
        return target.fail(cause, reason="AuthenticationFailure")
    if isinstance(exc, paramiko.SSHException) and "known_hosts" in str(exc):
        cause = f"host key not found in {target.known_hosts} (strict host key checking)"
        return target.fail(cause, reason="HostKeyFailure")
    if isinstance(exc, paramiko.SSHException) and str(exc) in _NO_HANDSHAKE:
        waited = f"within {target.connect_timeout:g} s" if target.connect_timeout else "(no SSH banner)"
        return target.fail(f"the server did not answer the SSH handshake {waited}", reason="ConnectionTimeout")
    if isinstance(exc, (TimeoutError, socket.timeout)):
        after = f" after {target.connect_timeout:g} s" if target.connect_timeout else ""
        return target.fail(f"connection timed out{after}", reason="ConnectionTimeout")
    if isinstance(exc, socket.gaierror):
        return target.fail(f"unknown host: {exc.strerror}", reason="ConnectionFailure")
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        errors = {e.strerror or str(e) for e in exc.errors.values()}
        refused = all(isinstance(e, ConnectionRefusedError) for e in exc.errors.values())
        return target.fail("connection refused" if refused else f"unreachable: {', '.join(sorted(errors))}")
    if isinstance(exc, OSError):
        return target.fail(f"unreachable: {exc.strerror or exc}")
    return target.fail(f"SSH protocol failure: {exc}", reason="SSHProtocolFailure")


def _alive(session: Session) -> bool:
    transport = session.client.get_transport()
    return transport is not None and transport.is_active()


def _probe_env(session: Session) -> bool:
    """True when the server passes a ``SendEnv`` variable to commands (its ``AcceptEnv`` covers ``RD_*``)."""
    try:
        channel = session.transport.open_session(timeout=PROBE_TIMEOUT)
    except (paramiko.SSHException, OSError):
        return False
    try:
        channel.settimeout(PROBE_TIMEOUT)
        channel.update_environment({ENV_PROBE: "1"})
        channel.exec_command(f'printf %s "${ENV_PROBE}"')
        output = channel.makefile("rb").read()
        channel.recv_exit_status()
        return output == b"1"
    except (paramiko.SSHException, OSError):
        return False
    finally:
        channel.close()
