"""A command on a remote node: its environment, streamed output, exit code, command timeout and abort.

The command runs as ``/bin/sh -c COMMAND`` under the login shell sshd starts for the channel. That shell is a
session and process-group leader (sshd calls ``setsid`` for each command), so it first writes its pid to stderr
(:data:`PID_MARKER`, never logged) and then ``exec``s the command: an abort, a log-limit halt, the job timeout
or ``ssh-command-timeout`` kills the whole remote process group (``kill -9 -PID`` on a second channel of the
same connection) and closes the channel.

``RD_*`` variables are sent with ``SendEnv`` as Rundeck does; when the server does not accept them (no
``AcceptEnv RD_*`` in its sshd_config), they are exported at the start of the command instead.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping

import paramiko

from xlr_runtime.rundeck.jobs.quoting import shell_quote
from xlr_runtime.rundeck.nodes.local import CommandResult, LineSink, StopCheck, StopReason, follow_output
from xlr_runtime.rundeck.nodes.ssh.sessions import Session

#: First stderr line of every remote command: the pid of its process group (read here, never logged).
PID_MARKER = "XLR-REMOTE-PGID"
#: Seconds to wait for the remote shell's first line, and for the kill command.
START_TIMEOUT = 30.0
#: Lines a login shell may write to stderr before the marker (they are logged as the command's output).
PRELUDE_LINES = 100


def remote_command(command: str, env: Mapping[str, str], *, export: bool) -> str:
    """The command line sent to sshd: the pid marker, the exports (when ``export``), then ``command``."""
    exports = "".join(f"export {name}={shell_quote(value)}; " for name, value in env.items())
    return f"printf '{PID_MARKER} %s\\n' \"$$\" >&2; {exports if export else ''}exec /bin/sh -c {shell_quote(command)}"


def run_remote(
    session: Session, command: str, *, env: Mapping[str, str], on_line: LineSink, should_stop: StopCheck
) -> CommandResult:
    """Run ``command`` on ``session``'s node and stream its output to ``on_line`` (stdout ``NORMAL``, stderr
    ``ERROR``). Raises :class:`~xlr_runtime.errors.NodeConnectionError` when the connection fails or the
    node's ``ssh-command-timeout`` passes (reason ``CommandTimeout``)."""
    target = session.target
    try:
        channel = session.transport.open_session()
        if session.accepts_env:
            channel.update_environment(dict(env))
        channel.exec_command(remote_command(command, env, export=not session.accepts_env))
    except (paramiko.SSHException, OSError) as exc:
        raise target.fail(f"cannot start the command: {exc}") from None
    stdout, stderr = channel.makefile("rb"), channel.makefile_stderr("rb")
    killer = _GroupKiller(session, channel, _process_group(session, channel, stderr, on_line))
    deadline = None if target.command_timeout is None else time.monotonic() + target.command_timeout

    def check() -> StopReason | None:
        reason = should_stop()
        if reason is None and deadline is not None and time.monotonic() >= deadline:
            killer.command_timed_out = True
            return StopReason.TIMEDOUT
        return reason

    stopped = follow_output(stdout, stderr, on_line=on_line, should_stop=check, kill=killer)
    status = channel.recv_exit_status()
    channel.close()
    if killer.command_timed_out:
        raise target.fail(f"command timed out after {target.command_timeout:g} s", reason="CommandTimeout")
    if stopped is None and status < 0:
        raise target.fail("the connection was lost during the command")
    return CommandResult(exit_code=None if stopped else status, stopped=stopped)


def _process_group(session: Session, channel: paramiko.Channel, stderr: object, on_line: LineSink) -> int | None:
    """Read stderr up to the pid marker; lines before it (a login script's) go to ``on_line``."""
    assert hasattr(stderr, "readline")
    channel.settimeout(session.target.connect_timeout or START_TIMEOUT)
    try:
        for _ in range(PRELUDE_LINES):
            raw = stderr.readline()
            if not raw:  # the shell ended before writing the marker
                return None
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            marker, _, pid = line.partition(" ")
            if marker == PID_MARKER and pid.isdigit():
                return int(pid)
            on_line("ERROR", line)
    except TimeoutError:
        raise session.target.fail("the remote shell did not start") from None
    finally:
        channel.settimeout(None)
    return None


class _GroupKiller:
    """Kills a remote command's process group once, then closes its channel."""

    def __init__(self, session: Session, channel: paramiko.Channel, pgid: int | None) -> None:
        self.session = session
        self.channel = channel
        self.pgid = pgid
        self.command_timed_out = False
        self._done = threading.Event()

    def __call__(self) -> None:
        if self._done.is_set():
            return
        self._done.set()
        transport = self.session.client.get_transport()
        if self.pgid is not None and transport is not None and transport.is_active():
            with contextlib.suppress(paramiko.SSHException, OSError):
                killer = transport.open_session(timeout=START_TIMEOUT)
                killer.settimeout(START_TIMEOUT)
                killer.exec_command(f"kill -9 -{self.pgid}")
                killer.recv_exit_status()
                killer.close()
        self.channel.close()
