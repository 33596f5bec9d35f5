"""Which node executor and file copier run a node's steps, chosen as Rundeck chooses them.

In order: the node's ``node-executor`` / ``file-copier`` attribute; for the server node,
``service.NodeExecutor.default.local.provider`` / ``service.FileCopier.default.local.provider``, else ``local``;
for any other node ``service.NodeExecutor.default.provider`` / ``service.FileCopier.default.provider`` (in
``project.properties``, then ``framework.properties``), else Rundeck's default, SSH (``jsch-ssh``, ``jsch-scp``).
"""

from __future__ import annotations

from xlr_runtime.errors import NodeExecutorError
from xlr_runtime.rundeck.nodes.properties import ProjectProperties
from xlr_runtime.rundeck.nodes.resources import LOCAL_EXECUTOR, Node

#: Rundeck's default node executor for nodes that do not name one.
DEFAULT_REMOTE_EXECUTOR = "jsch-ssh"
#: Node executors run over SSH here (Rundeck's JSch and SSHJ plugins).
SSH_EXECUTORS = frozenset({"jsch-ssh", "sshj-ssh"})
#: File copiers run over SSH here (Rundeck's SCP plugins; the bytes travel over SFTP on the same connection).
SSH_COPIERS = frozenset({"jsch-scp", "sshj-scp"})
#: Rundeck's default file copier for nodes that do not name one.
DEFAULT_REMOTE_COPIER = "jsch-scp"

_SERVICES = {
    "node executor": ("node-executor", "NodeExecutor", DEFAULT_REMOTE_EXECUTOR, SSH_EXECUTORS),
    "file copier": ("file-copier", "FileCopier", DEFAULT_REMOTE_COPIER, SSH_COPIERS),
}


def node_executor(node: Node, properties: ProjectProperties) -> str:
    """The node executor of ``node``: ``local`` or an SSH one. Raises :class:`NodeExecutorError` for others."""
    return _provider("node executor", node, properties)


def file_copier(node: Node, properties: ProjectProperties) -> str:
    """The file copier of ``node``: ``local`` or an SSH one. Raises :class:`NodeExecutorError` for others."""
    return _provider("file copier", node, properties)


def executor_name(node: Node, properties: ProjectProperties) -> str:
    """The node executor ``node`` names or gets by default, supported here or not (for listings)."""
    return _named("node executor", node, properties)


def node_summary(node: Node, properties: ProjectProperties) -> dict[str, object]:
    """One node as ``xlr nodes --json`` and the dashboard list it: name, executor (as the project's
    ``properties`` resolve it, :func:`executor_name`), tags, attributes and where it was defined."""
    return {
        "name": node.name,
        "executor": executor_name(node, properties),
        "tags": list(node.tags),
        "attributes": dict(node.attributes),
        "source": node.source or "server node",
    }


def is_remote(node: Node, properties: ProjectProperties) -> bool:
    """True when ``node``'s steps run over SSH (its node executor is an SSH one; then so must be its copier)."""
    if node_executor(node, properties) == LOCAL_EXECUTOR:
        return False
    file_copier(node, properties)
    return True


def _named(service: str, node: Node, properties: ProjectProperties) -> str:
    attribute, key, remote_default, _ = _SERVICES[service]
    server = node.source is None
    property_name = f"service.{key}.default{'.local' if server else ''}.provider"
    return (
        node.get(attribute)
        or properties.project.get(property_name)
        or properties.framework.get(property_name)
        or (LOCAL_EXECUTOR if server else remote_default)
    ).strip()


def _provider(service: str, node: Node, properties: ProjectProperties) -> str:
    named = _named(service, node, properties)
    supported = _SERVICES[service][3]
    if named != LOCAL_EXECUTOR and named not in supported:
        usable = ", ".join([LOCAL_EXECUTOR, *sorted(supported)])
        raise NodeExecutorError(f"node {node.name!r}: {service} {named!r} is not supported (use {usable})")
    return named
