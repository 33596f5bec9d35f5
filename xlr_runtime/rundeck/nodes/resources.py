"""Nodes: the local server node and per-project resource-model files (Rundeck's resource-v13 XML and YAML).

A :class:`Node` keeps every attribute as a string, as Rundeck does: ``nodename``, ``hostname``, ``username``,
``description``, ``osFamily``, ``osName``, ``osArch``, ``osVersion`` and any custom key (``node-executor``,
``ssh-key-storage-path`` …); ``tags`` are kept apart as a tuple. A project's nodes are the local node plus the
nodes of ``<home>/projects/<project>/resources/*.xml|*.yaml|*.yml`` read in name order (a later file's node
replaces an earlier one of the same name).
"""

from __future__ import annotations

import getpass
import os
import platform
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import yaml
from lxml import etree

from xlr_runtime.errors import ResourceModelError
from xlr_runtime.rundeck.jobs.xmlread import syntax_error_message
from xlr_runtime.rundeck.jobs.yaml_codec import not_utf8, yaml_error

#: The node executor that runs commands on this machine (the server node's; see :mod:`.ssh.providers`).
LOCAL_EXECUTOR = "local"
#: Suffixes of resource-model files, by format.
RESOURCE_SUFFIXES = {".xml": "xml", ".yaml": "yaml", ".yml": "yaml"}

# Node-context names (``${node.os-family}``) of the standard attributes.
_CONTEXT_NAMES = {
    "nodename": "name",
    "osFamily": "os-family",
    "osName": "os-name",
    "osArch": "os-arch",
    "osVersion": "os-version",
}


@dataclass(frozen=True)
class Node:
    """One node: its name, its attributes (all strings) and its tags."""

    name: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    #: ``path:line`` of the definition, or ``None`` for the local node.
    source: str | None = None

    def __post_init__(self) -> None:
        attributes = {"nodename": self.name, **self.attributes}
        attributes["nodename"] = self.name
        object.__setattr__(self, "attributes", MappingProxyType(attributes))

    def get(self, key: str) -> str | None:
        """The attribute ``key`` (``nodename``, ``hostname``, ``osFamily``, a custom key), or ``None``."""
        return self.attributes.get(key)

    @property
    def hostname(self) -> str | None:
        """The ``hostname`` attribute."""
        return self.get("hostname")

    def context(self) -> dict[str, str]:
        """The ``node.*`` data context: name, hostname, username, description, tags (comma-joined),
        os-name, os-version, os-arch, os-family, plus every other attribute under its own name."""
        values = {_CONTEXT_NAMES.get(key, key): value for key, value in self.attributes.items()}
        for key in ("hostname", "username", "description"):
            values.setdefault(key, "")
        values["tags"] = ",".join(self.tags)
        return values


def local_node(*, name: str | None = None) -> Node:
    """The server node: this machine, run with the ``local`` executor (Rundeck's framework node)."""
    node_name = name or socket.gethostname() or "localhost"
    system = platform.system()
    attributes = {
        "hostname": node_name,
        "username": getpass.getuser(),
        "description": "Rundeck server node",
        "osFamily": "windows" if os.name == "nt" else "unix",
        "osName": system,
        "osArch": platform.machine(),
        "osVersion": platform.release(),
        "node-executor": LOCAL_EXECUTOR,
    }
    return Node(name=node_name, attributes=attributes)


def split_tags(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Tags from a comma string or a list: trimmed, empty ones dropped, first occurrence kept."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(dict.fromkeys(tag.strip() for tag in items if tag.strip()))


def load_resource_file(path: Path) -> list[Node]:
    """The nodes of one resource-model file, XML (``<project><node …/>``) or YAML (a map or a list),
    by its suffix. Raises :class:`ResourceModelError` with ``path:line`` for anything unreadable."""
    kind = RESOURCE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ResourceModelError(f"unknown resource-model format {path.suffix!r} (use .xml, .yaml or .yml)", path=path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ResourceModelError(f"cannot read: {exc.strerror}", path=path) from exc
    return _parse_xml(path, data) if kind == "xml" else _parse_yaml(path, data)


def project_resources_dir(home_root: Path, project: str) -> Path:
    """``<home>/projects/<project>/resources``: the folder holding a project's resource-model files."""
    return home_root / "projects" / project / "resources"


def project_nodes(home_root: Path, project: str, *, server: Node | None = None) -> dict[str, Node]:
    """Every node of a project by name: the server node first, then each resource-model file's nodes."""
    server = server or local_node()
    nodes = {server.name: server}
    folder = project_resources_dir(home_root, project)
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in RESOURCE_SUFFIXES and path.is_file():
                nodes.update((node.name, node) for node in load_resource_file(path))
    return nodes


def _parse_xml(path: Path, data: bytes) -> list[Node]:
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        message = syntax_error_message(exc)
        raise ResourceModelError(f"not well-formed XML: {message}", path=path, line=exc.lineno) from None
    if root.tag != "project":
        raise ResourceModelError(f"root element is <{root.tag}>, expected <project>", path=path, line=root.sourceline)
    nodes = []
    for element in root:
        if not isinstance(element.tag, str):
            continue
        if element.tag != "node":
            raise ResourceModelError(
                f"unexpected element <{element.tag}> in <project>", path=path, line=element.sourceline
            )
        nodes.append(_xml_node(path, element))
    return nodes


def _xml_node(path: Path, element: etree._Element) -> Node:
    attributes = {str(key): str(value) for key, value in element.attrib.items()}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if child.tag != "attribute" or not child.get("name"):
            raise ResourceModelError(
                f"unexpected element <{child.tag}> in <node> (expected <attribute name=…>)",
                path=path,
                line=child.sourceline,
            )
        value = child.get("value")
        attributes[child.get("name", "")] = value if value is not None else (child.text or "")
    name = attributes.pop("name", "").strip()
    if not name:
        raise ResourceModelError("node without a name", path=path, line=element.sourceline)
    tags = split_tags(attributes.pop("tags", None))
    return Node(name=name, attributes=attributes, tags=tags, source=f"{path}:{element.sourceline}")


def _parse_yaml(path: Path, data: bytes) -> list[Node]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ResourceModelError(not_utf8(data, exc), path=path, line=data[: exc.start].count(b"\n") + 1) from None
    try:
        document = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        message, line = yaml_error(exc, text)
        raise ResourceModelError(f"not valid YAML: {message}", path=path, line=line) from None
    if document is None:
        return []
    if isinstance(document, yaml.SequenceNode):
        return [_yaml_node(path, item, None) for item in document.value]
    if isinstance(document, yaml.MappingNode):
        return [_yaml_node(path, value, _scalar(path, key)) for key, value in document.value]
    raise ResourceModelError("expected a map of node names or a list of nodes", path=path, line=_line(document))


def _yaml_node(path: Path, definition: yaml.Node, key_name: str | None) -> Node:
    if not isinstance(definition, yaml.MappingNode):
        what = f"node {key_name!r}" if key_name else "list item"
        raise ResourceModelError(f"{what} is not a map of attributes", path=path, line=_line(definition))
    attributes: dict[str, str] = {}
    tags: tuple[str, ...] = ()
    for key_node, value_node in definition.value:
        key = _scalar(path, key_node)
        if key == "tags":
            tags = _yaml_tags(path, value_node)
        elif not (isinstance(value_node, yaml.ScalarNode) and value_node.tag.endswith(":null")):
            attributes[key] = _scalar(path, value_node)
    name = (attributes.pop("nodename", None) or key_name or "").strip()
    if not name:
        raise ResourceModelError("node without a nodename", path=path, line=_line(definition))
    return Node(name=name, attributes=attributes, tags=tags, source=f"{path}:{_line(definition)}")


def _yaml_tags(path: Path, node: yaml.Node) -> tuple[str, ...]:
    if isinstance(node, yaml.SequenceNode):
        return split_tags(_scalar(path, item) for item in node.value)
    return split_tags(_scalar(path, node))


def _scalar(path: Path, node: yaml.Node) -> str:
    """A scalar's text exactly as written (``8080``, ``true``), as Rundeck keeps attributes as strings."""
    if not isinstance(node, yaml.ScalarNode):
        raise ResourceModelError("expected a plain value, found a map or a list", path=path, line=_line(node))
    return "" if node.tag.endswith(":null") else str(node.value)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1
