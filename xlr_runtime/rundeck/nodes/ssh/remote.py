"""What a workflow calls to run a step on a remote node: one :class:`RemoteNodes` per execution."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path

from xlr_runtime.rundeck.keystore import KeyStore
from xlr_runtime.rundeck.nodes.local import CommandResult, LineSink, StopCheck
from xlr_runtime.rundeck.nodes.properties import ProjectProperties
from xlr_runtime.rundeck.nodes.resources import Node
from xlr_runtime.rundeck.nodes.ssh.copier import copy_script, remove_script, script_name
from xlr_runtime.rundeck.nodes.ssh.credentials import Credentials, load_credentials
from xlr_runtime.rundeck.nodes.ssh.executor import run_remote
from xlr_runtime.rundeck.nodes.ssh.providers import is_remote
from xlr_runtime.rundeck.nodes.ssh.sessions import Session, SessionCache
from xlr_runtime.rundeck.nodes.ssh.target import resolve_target


class RemoteNodes:
    """The SSH side of one execution of ``project`` (in the home ``home_root``): which nodes are remote, their
    connections (one per node, reused across steps, closed by :meth:`close`), and commands and scripts on them.

    ``expand`` expands ``${…}`` for a node (username, key-storage paths); ``secure`` gives the execution's secure
    option values (``sshPassword``, ``sshKeyPassphrase``) as a node (by name) sees them, which may differ by
    node (a ``storagePath`` read per node); ``on_secret`` receives each password or passphrase read, so the
    execution's log masks it.
    """

    def __init__(
        self,
        home_root: Path,
        project: str,
        *,
        execution_id: int,
        expand: Callable[[str, str], str],
        keys: KeyStore,
        secure: Callable[[str], Mapping[str, str]],
        on_secret: Callable[[tuple[str, ...]], None],
    ) -> None:
        self.home_root = home_root
        self.project = project
        self.execution_id = execution_id
        self.expand = expand
        self.keys = keys
        self.secure = secure
        self.on_secret = on_secret
        self.sessions = SessionCache()

    @cached_property
    def properties(self) -> ProjectProperties:
        """The project's and the framework's properties, read at the first remote step."""
        return ProjectProperties.load(self.home_root, self.project)

    def is_remote(self, node: Node) -> bool:
        """True when ``node`` runs over SSH. Raises :class:`NodeExecutorError` for a provider not run here."""
        return is_remote(node, self.properties)

    def run(
        self, node: Node, command: str, *, env: Mapping[str, str], on_line: LineSink, should_stop: StopCheck
    ) -> CommandResult:
        """Run an exec command line on ``node``."""
        return run_remote(self._session(node), command, env=env, on_line=on_line, should_stop=should_stop)

    def run_script(
        self,
        node: Node,
        data: bytes,
        *,
        extension: str | None,
        command: Callable[[str], str],
        env: Mapping[str, str],
        on_line: LineSink,
        should_stop: StopCheck,
    ) -> CommandResult:
        """Copy a script to ``node``, run ``command(remote_path)``, then remove the copy."""
        session = self._session(node)
        path = copy_script(session, data, script_name(self.execution_id, node.name, extension))
        try:
            return run_remote(session, command(path), env=env, on_line=on_line, should_stop=should_stop)
        finally:
            remove_script(session, path)

    def close(self) -> None:
        """Close every connection of the execution."""
        self.sessions.close()

    def _session(self, node: Node) -> Session:
        target = resolve_target(node, self.properties, lambda text: self.expand(text, node.name))

        def credentials() -> Credentials:  # read only when a connection is opened
            found = load_credentials(target, keys=self.keys, secure=self.secure(node.name))
            self.on_secret(found.secrets)
            return found

        return self.sessions.get(target, credentials)
