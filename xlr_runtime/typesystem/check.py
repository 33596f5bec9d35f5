"""The plugin lint behind ``xlr check PATH...``: every problem of the named plugins, as ``path:line: message``.

The checked plugins load together with the base types, the bundled plugins and the other configured plugin
locations (so ``extends`` and ``referenced-type`` resolve as they would at run time). Definition problems come
from the registry (:func:`registry.collect_registry`); further checks are functions in :data:`CHECKERS`, each
taking a :class:`CheckContext` and yielding :class:`Problem` objects. The result, a :class:`CheckReport`, also
lists every script and module of the checked plugins (and the modules they import from other plugins) with what
would fail when it runs (:mod:`xlr_runtime.typesystem.script_check`). Add a check with::

    from xlr_runtime.typesystem.check import register_checker

    @register_checker
    def check_something(context: CheckContext) -> Iterable[Problem]: ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pluggy

from xlr_runtime.compat.config import translate_mode
from xlr_runtime.home import Home
from xlr_runtime.plugins import plugin_manager
from xlr_runtime.settings import Settings
from xlr_runtime.typesystem.model import TaskType
from xlr_runtime.typesystem.problems import Problem
from xlr_runtime.typesystem.registry import TypeRegistry, collect_registry
from xlr_runtime.typesystem.script_check import ScriptReport, is_plugin_code, plugin_reports
from xlr_runtime.typesystem.script_check import check_scripts as check_python_scripts
from xlr_runtime.typesystem.sources import Origin, PluginSource, ScriptSource, dedupe, discover_plugins, plugins_at


@dataclass(frozen=True)
class CheckContext:
    """What a checker sees: the plugins being checked, the registry they loaded into, and the Python 2
    translation mode of each checked plugin (plugin name -> ``auto``/``on``/``off``; ``auto`` when absent)."""

    targets: tuple[PluginSource, ...]
    registry: TypeRegistry
    translate_modes: Mapping[str, str] = field(default_factory=dict)
    script_globals: frozenset[str] = frozenset()  # what runtime plugins add to every script (xlr_script_globals)

    def is_target(self, plugin: PluginSource) -> bool:
        """True when ``plugin`` is one of the checked plugins."""
        return plugin.identity in self._target_identities

    @cached_property
    def _target_identities(self) -> frozenset[tuple[str, ...]]:
        """The checked plugins' identities, worked out once (each one resolves a path and stats files)."""
        return frozenset(t.identity for t in self.targets)

    def target_types(self) -> list[TaskType]:
        """The types defined by the checked plugins, sorted by name."""
        return [t for t in self.registry.types() if self.is_target(self.registry.plugin_of(t))]

    def target_documents(self) -> set[str]:
        """Display paths of the checked plugins' synthetic.xml files."""
        return {d.display_path for plugin in self.targets for d in plugin.documents()}

    def target_scripts(self) -> list[ScriptSource]:
        """Every ``*.py`` file of the checked plugins, but those under a ``tests/`` folder."""
        scripts = []
        for plugin in self.targets:
            for path in plugin.list_files():
                script = plugin.script(path) if is_plugin_code(path) else None
                if script is not None:
                    scripts.append(script)
        return scripts

    @cached_property
    def script_reports(self) -> list[ScriptReport]:
        """A report for every target script and every plugin module they import, translated with its plugin's
        mode as a run would (computed once; see :func:`xlr_runtime.typesystem.script_check.plugin_reports`)."""
        return plugin_reports(self, self.script_globals)


Checker = Callable[[CheckContext], Iterable[Problem]]


def check_scripts_exist(context: CheckContext) -> Iterable[Problem]:
    """A type's script must exist: ``scriptLocation``'s default, or ``<prefix>/<Name>.py`` for a concrete
    PythonScript type, looked up as at run time (:attr:`TypeRegistry.classpath`)."""
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


@dataclass(frozen=True)
class CheckReport:
    """What :func:`check_plugins` found: the checked plugins, a report per script of theirs, and every problem
    (sorted, without repeats)."""

    plugins: list[PluginSource]
    scripts: list[ScriptReport]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        """True when there is no problem other than warnings (a script translated from Python 2 is not one)."""
        return not self.errors

    @property
    def errors(self) -> list[Problem]:
        """The problems that are not warnings."""
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self) -> list[Problem]:
        """The problems XL Release accepts too (a property defined twice in one type)."""
        return [p for p in self.problems if p.warning]

    def listing(self) -> list[str]:
        """``xlr check``'s lines, sorted by path: each script's status (``path: ok (Python 3)``), then each
        problem as ``path:line: message`` (``path:line: warning: message``); a last line counts them."""
        entries = [(p.path, p.line, str(p)) for p in self.problems]
        entries.extend((r.path, -1, status) for r in self.scripts if (status := r.status()) is not None)
        counted = f"{_count(len(self.plugins), 'plugin')}, {_count(len(self.scripts), 'script')} checked"
        warned = f", {_count(len(self.warnings), 'warning')}" if self.warnings else ""
        if self.ok:
            last = f"ok: {counted}, no problems{warned}"
        else:
            last = f"{_count(len(self.errors), 'problem')}{warned} in {counted}"
        return [line for _path, _line, line in sorted(entries)] + [last]

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict for ``xlr check --json``: ``ok``, ``plugins``, ``scripts``, ``problems``."""
        return {
            "ok": self.ok,
            "plugins": [p.name for p in self.plugins],
            "scripts": [r.to_json() for r in self.scripts],
            "problems": [p.to_json() for p in self.problems],
        }


def check_plugins(
    paths: Sequence[Path],
    *,
    plugin_paths: Sequence[Path] = (),
    home: Home | None = None,
    settings: Settings | None = None,
    pm: pluggy.PluginManager | None = None,
    include_bundled: bool = True,
) -> CheckReport:
    """Lint the plugins at ``paths`` (plugin folders, archives, synthetic.xml files or folders of plugins).

    Scripts are translated with the mode a run would use (``[plugins.NAME] translate`` in the home's
    xlr.toml, else ``settings``' ``scripts.translate``, else ``auto``). Raises
    :class:`~xlr_runtime.errors.PluginError` when a path is not a plugin.
    """
    targets = dedupe(plugin for path in paths for plugin in plugins_at(Path(path), Origin.PATH))
    context_sources = discover_plugins(
        plugin_paths=plugin_paths, home=home, pm=pm or plugin_manager(), include_bundled=include_bundled
    )
    registry, problems = collect_registry(dedupe([*context_sources, *targets]))
    config_file = home.config_file if home is not None else None
    modes = {t.name: translate_mode(t.name, settings, config_file=config_file) for t in targets}
    manager = pm or plugin_manager()
    added = frozenset(name for names in manager.hook.xlr_script_globals() for name in (names or {}))
    context = CheckContext(tuple(targets), registry, modes, added)
    for checker in CHECKERS:
        problems.extend(checker(context))
    return CheckReport(list(targets), context.script_reports, sorted(set(problems)))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
