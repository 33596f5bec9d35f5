"""Digests of loaded types: what tells two hosts sharing a store that they would run a type differently.

A type's digest is a SHA-256 over its resolved definition (name, ancestry, label, description and every property
with its kind, category, default and flags; never the paths it was read from, which differ from host to host)
and over the scripts it may run: the ``.py`` files of the plugin that defines it (the next scripts a script
schedules, the modules it imports) and its first script as the classpath finds it (``ext/`` may override it).
Each plugin's files are hashed once per registry (:class:`TypeDigests`), so a registry of hundreds of types costs
one read of each plugin's scripts, at the first use.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from xlr_runtime.typesystem.model import PropertyDef, TaskType

if TYPE_CHECKING:
    from xlr_runtime.typesystem.sources import PluginSource, ScriptSource


class DigestedRegistry(Protocol):
    """What a digest reads of a type registry (:class:`~xlr_runtime.typesystem.registry.TypeRegistry`, which
    builds its digests with this module: a protocol rather than an import of it)."""

    def types(self) -> list[TaskType]: ...

    def plugin_of(self, task_type: TaskType) -> PluginSource: ...

    def find_script(self, task_type: TaskType, path: str) -> ScriptSource | None: ...


#: Hex digits of a type digest kept (64 bits: enough to tell two versions of a type apart, short to store).
DIGEST_LENGTH = 16


@dataclass(frozen=True)
class TypeDigests:
    """The digest of every type of a registry (``by_type``) and of the whole registry (``registry``: equal on two
    hosts exactly when all their types' digests are)."""

    registry: str
    by_type: Mapping[str, str]

    @classmethod
    def of(cls, registry: DigestedRegistry) -> TypeDigests:
        """The digests of ``registry``'s types (reads each plugin's scripts once)."""
        plugins: dict[str, str] = {}
        by_type = {t.name: _type_digest(registry, t, plugins) for t in registry.types()}
        whole = hashlib.sha256(json.dumps(sorted(by_type.items())).encode()).hexdigest()[:DIGEST_LENGTH]
        return cls(whole, by_type)


def _type_digest(registry: DigestedRegistry, task_type: TaskType, plugins: dict[str, str]) -> str:
    plugin = registry.plugin_of(task_type)
    key = plugin.name + "\0" + "\0".join(plugin.identity)
    if key not in plugins:
        plugins[key] = _plugin_scripts_digest(plugin)
    first = registry.find_script(task_type, task_type.script_location) if task_type.is_python_script else None
    first_bytes = b"" if first is None else first.read().encode("utf-8", "surrogateescape")
    digest = hashlib.sha256(json.dumps(_definition(task_type), default=str).encode())
    digest.update(plugins[key].encode())
    digest.update(hashlib.sha256(first_bytes).digest())
    return digest.hexdigest()[:DIGEST_LENGTH]


def _plugin_scripts_digest(plugin: PluginSource) -> str:
    """A SHA-256 over the relative path and bytes of every ``.py`` file of ``plugin``."""
    digest = hashlib.sha256()
    for path in plugin.list_files():
        if path.endswith(".py"):
            data = plugin.read_bytes(path) or b""
            digest.update(f"{path}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()


def _definition(task_type: TaskType) -> dict[str, Any]:
    return {
        "name": task_type.name,
        "parent": task_type.parent,
        "ancestors": list(task_type.ancestors),
        "virtual": task_type.virtual,
        "label": task_type.label,
        "description": task_type.description,
        "properties": [_property(p) for p in task_type.properties.values()],
    }


def _property(prop: PropertyDef) -> list[Any]:
    return [
        prop.name,
        str(prop.kind),
        prop.category,
        prop.default,
        prop.required,
        prop.hidden,
        prop.password,
        list(prop.enum_values),
        prop.referenced_type,
    ]
