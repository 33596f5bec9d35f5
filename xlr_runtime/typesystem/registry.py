"""The type registry: every loaded type, resolved along ``extends`` and ``type-modification``, read-only.

Resolution rules (docs/types.md):

* a type name is defined once; a second definition is an error naming both files, except that a type in the
  home's ``ext/synthetic.xml`` replaces the definition of an earlier plugin (ext overrides plugins);
* ``type-modification`` elements are applied in plugin load order to the named type's own properties (a
  property of the same name is replaced, a new one appended), before inheritance, so subtypes see them;
* a type's properties are its parent's, in order, with its own applied on top: an own property replaces the
  inherited one of the same name at the inherited position, a new one is appended;
* defaults are coerced to their kind (:func:`kinds.coerce`); inputs are required unless ``required="false"``.

Every mistake is recorded as a :class:`Problem`; :func:`load_registry` raises the first that is not a warning
as a :class:`DefinitionError`, :func:`collect_registry` returns them all (for ``xlr check``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

import pluggy

from xlr_runtime.errors import DefinitionError, UnknownTypeError, ValueCoercionError
from xlr_runtime.home import Home
from xlr_runtime.plugins import plugin_manager
from xlr_runtime.typesystem import kinds
from xlr_runtime.typesystem.digest import TypeDigests
from xlr_runtime.typesystem.model import INPUT, PropertyDef, SourceRef, TaskType
from xlr_runtime.typesystem.problems import Problem
from xlr_runtime.typesystem.sources import (
    Origin,
    PluginSource,
    ScriptSource,
    SyntheticDocument,
    discover_plugins,
    normalize_relative,
)
from xlr_runtime.typesystem.synthetic import RawProperty, RawType, SyntheticFile, parse_synthetic

#: Values of the Java enums that synthetic.xml names with ``enum-class`` instead of listing ``<enum-values>``.
ENUM_CLASSES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "com.xebialabs.xlrelease.domain.configuration.HttpConnection$AuthenticationMethod": (
            "None",
            "Basic",
            "Ntlm",
            "PAT",
            "OAuth2",
        ),
    }
)


#: Classpath rank of each origin (lower first); plugins of one rank keep their load order.
_CLASSPATH_RANK: Mapping[Origin, int] = MappingProxyType(
    {Origin.EXT: 0, Origin.HOOK: 1, Origin.PATH: 1, Origin.HOME: 1, Origin.BUNDLED: 2, Origin.BASE: 3}
)


class TypeRegistry:
    """The loaded types and the plugins they came from. Build it with :func:`load_registry`."""

    def __init__(
        self, types: Mapping[str, TaskType], plugins: Sequence[PluginSource], owners: Mapping[str, PluginSource]
    ) -> None:
        self._types = dict(types)
        self._owners = dict(owners)
        #: The loaded plugin sources, in load order.
        self.plugins: tuple[PluginSource, ...] = tuple(plugins)

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __len__(self) -> int:
        return len(self._types)

    def get(self, name: str) -> TaskType:
        """The type called ``name``; raises :class:`UnknownTypeError`."""
        try:
            return self._types[name]
        except KeyError:
            raise UnknownTypeError(name) from None

    def types(self) -> list[TaskType]:
        """Every loaded type, sorted by name."""
        return [self._types[name] for name in sorted(self._types)]

    def plugin_of(self, task_type: TaskType) -> PluginSource:
        """The plugin that defines ``task_type``."""
        return self._owners[task_type.name]

    @functools.cached_property
    def classpath(self) -> tuple[PluginSource, ...]:
        """The plugins in the order a script path is looked up, as on XL Release's plugin classpath: ``ext/``
        first, then the plugins you add (``xlr_plugin_paths`` hook, ``--plugins``, the home's ``plugins/``) in
        load order, then the runtime's own bundled plugins and base types. The first plugin holding the path
        wins, whichever plugin defines the type (docs/plugins.md, "Which script runs")."""
        return tuple(sorted(self.plugins, key=lambda plugin: _CLASSPATH_RANK[plugin.origin]))

    @functools.cached_property
    def digests(self) -> TypeDigests:
        """The digest of each type and of the whole registry (:mod:`~xlr_runtime.typesystem.digest`), computed at
        the first use: hosts sharing a store compare them (docs/cluster.md, "Plugins and types")."""
        return TypeDigests.of(self)

    def script_search_order(self, task_type: TaskType) -> list[PluginSource]:
        """Where scripts of ``task_type`` are looked up: :attr:`classpath` (the same for every type)."""
        return list(self.classpath)

    def find_script(self, task_type: TaskType, path: str) -> ScriptSource | None:
        """The script at relative ``path`` for ``task_type`` (see :attr:`classpath`), or ``None``."""
        if normalize_relative(path) is None:
            return None
        for plugin in self.script_search_order(task_type):
            script = plugin.script(path)
            if script is not None:
                return script
        return None

    def script_candidates(self, task_type: TaskType, path: str) -> list[ScriptSource]:
        """Every plugin's file at relative ``path``, in :attr:`classpath` order: the first runs, the others are
        shadowed by it."""
        if normalize_relative(path) is None:
            return []
        found = (plugin.script(path) for plugin in self.script_search_order(task_type))
        return [script for script in found if script is not None]


def load_registry(
    *,
    plugin_paths: Sequence[Path] = (),
    home: Home | None = None,
    pm: pluggy.PluginManager | None = None,
    include_bundled: bool = True,
) -> TypeRegistry:
    """Discover the plugins (:func:`sources.discover_plugins`) and load their types.

    ``plugin_paths`` are ``--plugins`` paths (default: ``XLR_PLUGIN_PATH``); ``home`` adds its ``plugins/``
    and ``ext/`` (``None``: no home); ``pm`` defaults to the process-wide plugin manager. Raises
    :class:`DefinitionError` for the first definition problem and :class:`PluginError` for unreadable plugins.
    """
    sources = discover_plugins(
        plugin_paths=plugin_paths, home=home, pm=pm or plugin_manager(), include_bundled=include_bundled
    )
    return build_registry(sources)


def build_registry(sources: Sequence[PluginSource]) -> TypeRegistry:
    """The registry of ``sources`` (in load order); raises :class:`DefinitionError` on the first problem that is
    not a warning."""
    registry, problems = collect_registry(sources)
    problems = [p for p in problems if not p.warning]
    if problems:
        more = len(problems) - 1
        hint = f"{more} more problem(s); run 'xlr check' on the plugin to list them all." if more else None
        raise problems[0].to_error(hint=hint)
    return registry


def collect_registry(sources: Sequence[PluginSource]) -> tuple[TypeRegistry, list[Problem]]:
    """The registry of ``sources`` and every problem found, in discovery order; never raises for definitions."""
    builder = _Builder()
    for source in sources:
        for document in source.documents():
            builder.add_file(source, _parse_cached(document))
    return builder.build(sources), builder.problems


@functools.lru_cache(maxsize=512)
def _parse_cached(document: SyntheticDocument) -> SyntheticFile | DefinitionError:
    """Parse once per file version (a document compares by its path and its ``cache_key``, which holds the
    mtime and size), so repeated loads are cheap."""
    try:
        return parse_synthetic(document.read(), document.display_path)
    except DefinitionError as error:
        return error


@dataclass
class _Definition:
    """A type being resolved: its raw element, its file, its plugin and the modifications applied to it."""

    raw: RawType
    path: str
    source: PluginSource
    properties: list[tuple[RawProperty, str]]
    modified_by: list[SourceRef]


class _Builder:
    """Collects raw definitions in load order, then resolves them into :class:`TaskType` objects."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.definitions: dict[str, _Definition] = {}
        self.modifications: list[tuple[RawType, str]] = []

    def problem(self, path: str, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def add_file(self, source: PluginSource, parsed: SyntheticFile | DefinitionError) -> None:
        if isinstance(parsed, DefinitionError):
            self.problem(parsed.path or "", parsed.line or 0, parsed.detail)
            return
        self.problems.extend(parsed.problems)
        for raw in parsed.types:
            self.add_type(source, parsed.path, raw)
        self.modifications.extend((raw, parsed.path) for raw in parsed.modifications)

    def add_type(self, source: PluginSource, path: str, raw: RawType) -> None:
        if raw.extends is None and source.origin is not Origin.BASE:
            self.problem(path, raw.line, f"type {raw.name!r} has no 'extends' attribute")
        existing = self.definitions.get(raw.name)
        if existing is not None and not (source.origin is Origin.EXT and existing.source.origin is not Origin.EXT):
            where = SourceRef(existing.path, existing.raw.line)
            self.problem(path, raw.line, f"type {raw.name!r} is already defined at {where}")
            return
        own = [(prop, path) for prop in raw.properties]
        self.definitions[raw.name] = _Definition(raw, path, source, own, [])

    def build(self, sources: Sequence[PluginSource]) -> TypeRegistry:
        self.apply_modifications()
        resolver = _Resolver(self)
        types = {name: resolver.resolve(name) for name in self.definitions}
        owners = {name: d.source for name, d in self.definitions.items()}
        return TypeRegistry(types, sources, owners)

    def apply_modifications(self) -> None:
        for raw, path in self.modifications:
            target = self.definitions.get(raw.name)
            if target is None:
                self.problem(path, raw.line, f"type-modification of unknown type {raw.name!r}")
                continue
            target.modified_by.append(SourceRef(path, raw.line))
            if raw.label is not None or raw.description is not None:
                target.raw = replace(
                    target.raw,
                    label=raw.label or target.raw.label,
                    description=raw.description or target.raw.description,
                )
            for prop in raw.properties:
                index = next((i for i, (p, _) in enumerate(target.properties) if p.name == prop.name), None)
                if index is None:
                    target.properties.append((prop, path))
                else:
                    target.properties[index] = (prop, path)


class _Resolver:
    """Resolves ``extends`` chains with memoisation; reports unknown parents, cycles and bad properties."""

    def __init__(self, builder: _Builder) -> None:
        self.builder = builder
        self.done: dict[str, TaskType] = {}
        self.own: dict[str, list[PropertyDef]] = {}

    def resolve(self, name: str, chain: tuple[str, ...] = ()) -> TaskType:
        if name in self.done:
            return self.done[name]
        definition = self.builder.definitions[name]
        raw = definition.raw
        parent = self.parent(definition, (*chain, name))
        inherited: dict[str, PropertyDef] = dict(parent.properties) if parent else {}
        for prop in self.own_properties(name, definition):
            inherited[prop.name] = prop
        task_type = TaskType(
            name=name,
            parent=raw.extends,
            ancestors=((parent.name, *parent.ancestors) if parent else ()),
            virtual=raw.virtual,
            properties=MappingProxyType(inherited),
            plugin=definition.source.name,
            source=SourceRef(definition.path, raw.line),
            label=raw.label,
            description=raw.description,
            modified_by=tuple(definition.modified_by),
        )
        self.done[name] = task_type
        return task_type

    def parent(self, definition: _Definition, chain: tuple[str, ...]) -> TaskType | None:
        raw = definition.raw
        if raw.extends is None:
            return None
        if raw.extends in chain:
            cycle = " -> ".join((*chain[chain.index(raw.extends) :], raw.extends))
            self.builder.problem(definition.path, raw.line, f"circular extends: {cycle}")
            return None
        if raw.extends not in self.builder.definitions:
            self.builder.problem(definition.path, raw.line, f"type {raw.name!r} extends unknown type {raw.extends!r}")
            return None
        return self.resolve(raw.extends, chain)

    def own_properties(self, name: str, definition: _Definition) -> list[PropertyDef]:
        if name not in self.own:
            self.own[name] = [self.property_def(raw, path) for raw, path in definition.properties]
        return self.own[name]

    def property_def(self, raw: RawProperty, path: str) -> PropertyDef:
        enum_values = raw.enum_values if raw.enum_values is not None else ENUM_CLASSES.get(raw.enum_class or "", ())
        if raw.referenced_type and raw.referenced_type not in self.builder.definitions:
            self.builder.problem(
                path, raw.line, f"property {raw.name!r} references unknown type {raw.referenced_type!r}"
            )
        default = None
        if raw.default is not None:
            try:
                default = kinds.coerce(raw.name, raw.kind, raw.default, enum_values)
            except ValueCoercionError as exc:
                self.builder.problem(path, raw.line, f"default of {exc}")
        required = raw.required if raw.required is not None else raw.category == INPUT
        return PropertyDef(
            name=raw.name,
            kind=raw.kind,
            category=raw.category,
            label=raw.label,
            description=raw.description,
            default=default,
            required=required,
            hidden=raw.hidden,
            password=raw.password,
            size=raw.size,
            enum_values=tuple(enum_values),
            enum_class=raw.enum_class,
            referenced_type=raw.referenced_type,
            source=SourceRef(path, raw.line),
        )
