"""The SSH connection settings of a node, read as Rundeck reads them.

Each setting is the node's attribute, else ``project.<attribute>`` in ``project.properties``, else
``framework.<attribute>`` in ``framework.properties``, else a default (see docs/rundeck-nodes.md for the table).
``username`` and the key-storage paths are ``${…}``-expanded in the execution's context (``${job.username}``,
``${option.user}``) by the caller's ``expand``.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from xlr_runtime.errors import NodeConnectionError
from xlr_runtime.rundeck.nodes.properties import ProjectProperties
from xlr_runtime.rundeck.nodes.resources import Node

#: Rundeck's SSH port when neither ``hostname:port`` nor ``ssh-port`` says otherwise.
DEFAULT_PORT = 22
#: Rundeck's ``file-copy-destination-dir`` defaults, by ``osFamily``.
DEFAULT_DESTINATIONS = {"windows": "C:/WINDOWS/TEMP/", "unix": "/tmp"}
PRIVATE_KEY = "privateKey"
PASSWORD = "password"


@dataclass(frozen=True)
class SshTarget:
    """Where and how to connect to one node. Holds paths and option names, never a secret itself."""

    node: str
    host: str
    port: int
    username: str
    authentication: str
    key_path: str
    key_storage_path: str | None
    password_storage_path: str | None
    passphrase_storage_path: str | None
    #: The secure option holding the password / key passphrase (``sshPassword`` / ``sshKeyPassphrase``).
    password_option: str
    passphrase_option: str
    #: Seconds; ``None`` waits without limit (Rundeck's ``0``).
    connect_timeout: float | None
    command_timeout: float | None
    destination_dir: str
    strict_host_key_checking: bool
    known_hosts: str

    @property
    def address(self) -> str:
        """``host:port`` as shown in messages."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def fail(self, cause: str, *, reason: str = "ConnectionFailure") -> NodeConnectionError:
        """The one-line error of this node: node, address and ``cause``."""
        return NodeConnectionError(self.node, self.address, cause, reason=reason)


def resolve_target(node: Node, properties: ProjectProperties, expand: Callable[[str], str]) -> SshTarget:
    """The :class:`SshTarget` of ``node``. Raises :class:`NodeConnectionError` (reason ``ConfigurationFailure``)
    for a missing hostname or a value that is not what its attribute takes."""

    def setting(name: str) -> str | None:
        value = node.get(name)
        return value.strip() if value and value.strip() else properties.setting(name)

    def fail(cause: str) -> NodeConnectionError:
        return NodeConnectionError(node.name, node.hostname or "no hostname", cause, reason="ConfigurationFailure")

    host, port = _host_and_port(node, setting("ssh-port"), fail)
    authentication = setting("ssh-authentication") or PRIVATE_KEY
    if authentication not in (PRIVATE_KEY, PASSWORD):
        raise fail(f"ssh-authentication {authentication!r} is not {PRIVATE_KEY!r} or {PASSWORD!r}")
    username = expand(node.get("username") or "").strip() or properties.setting("ssh.user") or getpass.getuser()
    family = (node.get("osFamily") or "unix").lower()
    return SshTarget(
        node=node.name,
        host=host,
        port=port,
        username=username,
        authentication=authentication,
        key_path=setting("ssh-keypath") or properties.framework.get("framework.ssh.keypath") or "~/.ssh/id_rsa",
        key_storage_path=_expanded(setting("ssh-key-storage-path"), expand),
        password_storage_path=_expanded(setting("ssh-password-storage-path"), expand),
        passphrase_storage_path=_expanded(setting("ssh-key-passphrase-storage-path"), expand),
        password_option=_option_name(setting("ssh-password-option") or "option.sshPassword"),
        passphrase_option=_option_name(setting("ssh-key-passphrase-option") or "option.sshKeyPassphrase"),
        connect_timeout=_milliseconds(setting("ssh-connect-timeout"), "ssh-connect-timeout", fail),
        command_timeout=_milliseconds(setting("ssh-command-timeout"), "ssh-command-timeout", fail),
        destination_dir=_destination(node, properties, family),
        strict_host_key_checking=(setting("ssh-config-StrictHostKeyChecking") or "no").lower() == "yes",
        known_hosts=str(Path(setting("ssh-known-hosts-file") or "~/.ssh/known_hosts").expanduser()),
    )


def _host_and_port(node: Node, ssh_port: str | None, fail: Callable[[str], NodeConnectionError]) -> tuple[str, int]:
    """``hostname`` split into host and port: ``host:port``, ``[v6]:port``; else ``ssh-port``, else 22."""
    hostname = (node.hostname or "").strip()
    if not hostname:
        raise fail("no hostname attribute")
    host, port_text = hostname, ssh_port
    if hostname.startswith("["):
        host, _, rest = hostname[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else port_text
    elif hostname.count(":") == 1:
        host, port_text = hostname.split(":")
    if port_text is None:
        return host, DEFAULT_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise fail(f"port {port_text!r} is not a port number")
    return host, int(port_text)


def _milliseconds(value: str | None, name: str, fail: Callable[[str], NodeConnectionError]) -> float | None:
    """A Rundeck timeout in milliseconds as seconds; ``0`` or unset is no limit."""
    if value is None:
        return None
    if not value.isdigit():
        raise fail(f"{name} {value!r} is not a number of milliseconds")
    return int(value) / 1000 or None


def _destination(node: Node, properties: ProjectProperties, family: str) -> str:
    """``file-copy-destination-dir``: node, project (by osFamily, then any), framework (likewise), default."""
    name = "file-copy-destination-dir"
    candidates = (
        node.get(name),
        properties.project.get(f"project.{name}.{family}"),
        properties.project.get(f"project.{name}"),
        properties.framework.get(f"framework.{name}.{family}"),
        properties.framework.get(f"framework.{name}"),
    )
    chosen = next((c.strip() for c in candidates if c and c.strip()), None)
    return chosen or DEFAULT_DESTINATIONS.get(family, DEFAULT_DESTINATIONS["unix"])


def _expanded(value: str | None, expand: Callable[[str], str]) -> str | None:
    return expand(value) if value else None


def _option_name(reference: str) -> str:
    """``option.sshPassword`` → ``sshPassword`` (Rundeck names the secure option with its context prefix)."""
    return reference.removeprefix("option.").removeprefix("secureOption.")
