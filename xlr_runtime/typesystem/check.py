"""The plugin lint behind ``xlr check PATH...``: every problem of the named plugins, as ``path:line: message``.

The checked plugins load together with the base types, the bundled plugins and the other configured plugin
locations (so ``extends`` and ``referenced-type`` resolve as they would at run time). Definition problems come
from the registry (:func:`registry.collect_registry`); further checks are functions in :data:`CHECKERS`, each
taking a :class:`CheckContext` and yielding :class:`Problem` objects. Add one with::

    from xlr_runtime.typesystem.check import register_checker

    @register_checker
    def check_something(context: CheckContext) -> Iterable[Problem]: ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pluggy

from xlr_runtime.compat.inspect import check_scripts as check_python_scripts
from xlr_runtime.home import Home
from xlr_runtime.plugins import plugin_manager
from xlr_runtime.typesystem.model import TaskType
from xlr_runtime.typesystem.problems import Problem
from xlr_runtime.typesystem.registry import TypeRegistry, collect_registry
from xlr_runtime.typesystem.sources import Origin, PluginSource, ScriptSource, dedupe, discover_plugins, plugins_at


@dataclass(frozen=True)
class CheckContext:
    """What a checker sees: the plugins being checked and the registry they loaded into."""

    targets: tuple[PluginSource, ...]
    registry: TypeRegistry

    def is_target(self, plugin: PluginSource) -> bool:
        """True when ``plugin`` is one of the checked plugins."""
        return plugin.identity in {t.identity for t in self.targets}

    def target_types(self) -> list[TaskType]:
        """The types defined by the checked plugins, sorted by name."""
        return [t for t in self.registry.types() if self.is_target(self.registry.plugin_of(t))]

    def target_documents(self) -> set[str]:
        """Display paths of the checked plugins' synthetic.xml files."""
        return {d.display_path for plugin in self.targets for d in plugin.documents()}

    def target_scripts(self) -> list[ScriptSource]:
        """Every ``*.py`` file of the checked plugins."""
        scripts = []
        for plugin in self.targets:
            for path in plugin.list_files():
                script = plugin.script(path) if path.endswith(".py") else None
                if script is not None:
                    scripts.append(script)
        return scripts


Checker = Callable[[CheckContext], Iterable[Problem]]


def check_scripts_exist(context: CheckContext) -> Iterable[Problem]:
    """A type's script must exist: ``scriptLocation``'s default, or ``<prefix>/<Name>.py`` for a concrete
    PythonScript type, looked up as at run time (ext, the type's plugin, then every other plugin)."""
    documents = context.target_documents()
    for task_type in context.target_types():
        if task_type.virtual:
            continue
        prop = task_type.properties.get("scriptLocation")
        explicit = prop is not None and bool(prop.default)
        if not explicit and not task_type.is_python_script:
            continue
        path = task_type.script_location
        if context.registry.find_script(task_type, path) is not None:
            continue
        declared = prop.source if explicit and prop and prop.source else None
        if declared is not None and declared.path in documents:
            yield Problem(declared.path, declared.line or 0, f"script {path!r} not found (scriptLocation)")
        else:
            source = task_type.source
            how = "scriptLocation" if explicit else "default prefix/Name.py"
            yield Problem(
                source.path, source.line or 0, f"script {path!r} of type {task_type.name!r} not found ({how})"
            )


#: The checks run by :func:`check_plugins`, in order; extend with :func:`register_checker`.
CHECKERS: list[Checker] = [check_scripts_exist, check_python_scripts]


def register_checker(checker: Checker) -> Checker:
    """Add ``checker`` to :data:`CHECKERS` (usable as a decorator); returns it unchanged."""
    if checker not in CHECKERS:
        CHECKERS.append(checker)
    return checker


def check_plugins(
    paths: Sequence[Path],
    *,
    plugin_paths: Sequence[Path] = (),
    home: Home | None = None,
    pm: pluggy.PluginManager | None = None,
    include_bundled: bool = True,
) -> tuple[list[PluginSource], list[Problem]]:
    """Lint the plugins at ``paths`` (plugin folders, archives, synthetic.xml files or folders of plugins).

    Returns the checked plugins and every problem, sorted and without repeats. Raises
    :class:`~xlr_runtime.errors.PluginError` when a path is not a plugin.
    """
    targets = dedupe(plugin for path in paths for plugin in plugins_at(Path(path), Origin.PATH))
    context_sources = discover_plugins(
        plugin_paths=plugin_paths, home=home, pm=pm or plugin_manager(), include_bundled=include_bundled
    )
    registry, problems = collect_registry(dedupe([*context_sources, *targets]))
    context = CheckContext(tuple(targets), registry)
    for checker in CHECKERS:
        problems.extend(checker(context))
    return targets, sorted(set(problems))
