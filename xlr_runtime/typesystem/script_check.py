"""Static check of plugin scripts for ``xlr check``: what would fail when a script runs, found without running it.

For each Python file of a checked plugin (files under a ``tests/`` folder are not plugin code) and each plugin
module its scripts import from another plugin, :class:`ScriptReport` says:

* whether it compiles, as Python 3 or after translation from Python 2 (with its plugin's translation mode);
* which imports the runtime cannot serve (``com.xebialabs.overthere``, ``java.lang.Runtime``);
* which imports of plugin modules do not resolve, by the rules the worker imports them with
  (:mod:`xlr_runtime.compat.modules`): no such module in any plugin root nor in the Python environment, a folder
  without ``__init__.py``, a relative import in a script;
* which names it reads that nothing defines (pyflakes), given what the file starts with: a task's script its
  type's properties and the script globals (``task``, ``HttpRequest``, ``logger`` …), a plugin module the
  built-ins only; a file that is neither a script nor imported is not checked for names;
* which ``task.schedule('path')`` literals name a script that does not exist.

:func:`inspect_script` checks one text; :func:`plugin_reports` checks the plugins of a ``CheckContext``;
:func:`check_scripts` is the checker registered with :mod:`xlr_runtime.typesystem.check`, yielding each report's
problems as ``path:line: message``.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from xlr_runtime.compat import modules
from xlr_runtime.compat.detect import needs_translation
from xlr_runtime.compat.imports import SHIMS, exports, is_java_name, is_served, unsupported
from xlr_runtime.compat.script_globals import XLR_API_HINT, XLR_API_NAMES, script_global_names
from xlr_runtime.compat.translate import to_python3
from xlr_runtime.errors import ScriptSyntaxError
from xlr_runtime.typesystem.problems import Problem

if TYPE_CHECKING:
    from xlr_runtime.typesystem.registry import TypeRegistry
    from xlr_runtime.typesystem.sources import PluginSource


class CheckContext(Protocol):
    """What the script checks read of ``xlr check``'s context (:class:`xlr_runtime.typesystem.check.CheckContext`
    is the one that exists; a protocol keeps this module from importing the checker that calls it)."""

    @property
    def targets(self) -> tuple[PluginSource, ...]: ...

    @property
    def registry(self) -> TypeRegistry: ...

    @property
    def translate_modes(self) -> Mapping[str, str]: ...

    @property
    def script_reports(self) -> list[ScriptReport]: ...


#: A folder holding a plugin's own tests, not plugin code.
TESTS_FOLDER = "tests"

_ABSOLUTE_IMPORT = re.compile(r"^\s*from\s+__future__\s+import\s+[^#\n]*\babsolute_import\b", re.MULTILINE)

#: ``resolve(module, line, level, guarded)`` -> a problem message, or ``None`` when the import resolves.
ImportCheck = Callable[[str, int, int, bool], str | None]


@dataclass(frozen=True)
class ScriptReport:
    """What :func:`inspect_script` found in one file. Lines are the author's (translation keeps them).

    ``role`` is ``script`` (a task runs it), ``module`` (a script imports it) or ``file`` (neither, as far as
    the check can tell)."""

    path: str
    python2: bool
    error: ScriptSyntaxError | None = None
    unsupported_imports: list[tuple[int, str]] = field(default_factory=list)
    unresolved_imports: list[tuple[int, str]] = field(default_factory=list)
    undefined_names: list[tuple[int, str]] = field(default_factory=list)
    missing_schedules: list[tuple[int, str]] = field(default_factory=list)
    role: str = "file"

    @property
    def compiles(self) -> bool:
        """True when the script compiles (after translation when it is Python 2)."""
        return self.error is None

    @property
    def dialect(self) -> str:
        """``translated from Python 2`` or ``Python 3``."""
        return "translated from Python 2" if self.python2 else "Python 3"

    def problems(self) -> list[Problem]:
        """``path:line: does not compile: …``, or one problem per unsupported or unresolved import, undefined
        name and missing ``task.schedule`` target."""
        if self.error is not None:
            return [Problem(self.path, self.error.line or 0, f"does not compile: {self.error.detail}")]
        found = [
            Problem(self.path, line, f"import of {module!r} is not supported by xlr-runtime")
            for line, module in self.unsupported_imports
        ]
        found += [Problem(self.path, line, message) for line, message in self.unresolved_imports]
        found += [Problem(self.path, line, _undefined(name)) for line, name in self.undefined_names]
        found += [
            Problem(self.path, line, f"task.schedule({target!r}): no such script in the plugins")
            for line, target in self.missing_schedules
        ]
        return found

    def status(self) -> str | None:
        """The file's line in ``xlr check``'s listing: ``path: ok (Python 3)``, ``path: ok (translated from
        Python 2)``, ``path: compiles (…), 1 unsupported import, 2 undefined names``; None when it does not
        compile (its problem line says so). A module followed into another plugin says ``module``."""
        if self.error is not None:
            return None
        counts = [
            _count(len(self.unsupported_imports), "unsupported import"),
            _count(len(self.unresolved_imports), "unresolved import"),
            _count(len(self.undefined_names), "undefined name"),
            _count(len(self.missing_schedules), "missing scheduled script"),
        ]
        counts = [text for text in counts if text]
        if not counts:
            return f"{self.path}: ok ({self.dialect})"
        return f"{self.path}: compiles ({self.dialect}), {', '.join(counts)}"

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict for ``xlr check --json``."""
        error = self.error
        return {
            "path": self.path,
            "role": self.role,
            "translated": self.python2,
            "compiles": self.compiles,
            "error": None if error is None else {"line": error.line, "message": error.detail},
            "unsupported_imports": [{"line": line, "module": module} for line, module in self.unsupported_imports],
            "unresolved_imports": [{"line": line, "message": message} for line, message in self.unresolved_imports],
            "undefined_names": [{"line": line, "name": name} for line, name in self.undefined_names],
            "missing_schedules": [{"line": line, "script": target} for line, target in self.missing_schedules],
        }


def _count(number: int, noun: str) -> str:
    return "" if not number else f"{number} {noun}{'s' if number != 1 else ''}"


def _undefined(name: str) -> str:
    return f"undefined name {name!r}{XLR_API_HINT if name in XLR_API_NAMES else ''}"


@dataclass
class _Parsed:
    """A file translated and parsed once."""

    path: str
    source: str
    python2: bool
    tree: ast.Module | None = None
    error: ScriptSyntaxError | None = None


def _parse(source: str, path: str, mode: str) -> _Parsed:
    python2 = mode == "on" or (mode == "auto" and needs_translation(source, path))
    try:
        translated = to_python3(source, path, mode)
        with warnings.catch_warnings():  # Python's warnings about the text (invalid escapes): Jython has none
            warnings.simplefilter("ignore")
            tree = ast.parse(translated, path)
    except ScriptSyntaxError as exc:
        return _Parsed(path, source, python2, error=exc)
    except SyntaxError as exc:
        return _Parsed(path, source, python2, error=ScriptSyntaxError(exc.msg, path=path, line=exc.lineno))
    return _Parsed(path, source, python2, tree)


def inspect_script(
    source: str,
    path: str,
    mode: str = "auto",
    *,
    names: Iterable[str] | None = None,
    resolve: ImportCheck | None = None,
    schedule_exists: Callable[[str], bool] | None = None,
    role: str = "file",
) -> ScriptReport:
    """Translate ``source`` as the worker would (``mode``: auto, on, off) and report on it.

    ``names``: the globals the file starts with besides the built-ins (undefined names are not checked when
    None); ``resolve``: checks an import of a non-Java module (see :data:`ImportCheck`); ``schedule_exists``:
    whether a ``task.schedule`` literal names an existing script.
    """
    return _report(_parse(source, path, mode), names=names, resolve=resolve, schedule_exists=schedule_exists, role=role)


def _report(
    parsed: _Parsed,
    *,
    names: Iterable[str] | None,
    resolve: ImportCheck | None,
    schedule_exists: Callable[[str], bool] | None,
    role: str,
) -> ScriptReport:
    if parsed.tree is None:
        return ScriptReport(parsed.path, parsed.python2, parsed.error, role=role)
    tree = parsed.tree
    unresolved: list[tuple[int, str]] = []
    if resolve is not None:
        for line, module, level, guarded in imported_modules(tree):
            message = resolve(module, line, level, guarded)
            if message is not None:
                unresolved.append((line, message))
    undefined = undefined_names(tree, parsed.path, names) if names is not None else []
    missing = []
    if schedule_exists is not None:
        missing = [(line, target) for line, target in schedule_targets(tree) if not schedule_exists(target)]
    return ScriptReport(
        parsed.path,
        parsed.python2,
        None,
        unsupported_imports(tree),
        sorted(set(unresolved)),
        undefined,
        missing,
        role,
    )


def unsupported_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """``(line, module)`` for each import in ``tree`` that would raise ``UnsupportedImportError``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names if unsupported(alias.name))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if unsupported(node.module):
                found.append((node.lineno, node.module))
            elif is_java_name(node.module) and (node.module in SHIMS or is_served(node.module)):
                found.extend(
                    (node.lineno, f"{node.module}.{alias.name}")
                    for alias in node.names
                    if alias.name != "*" and _missing_class(node.module, alias.name)
                )
    return sorted(found)


def _missing_class(module: str, name: str) -> bool:
    """True when ``from module import name`` fails: the shim has no such class, or ``module`` is a package above
    the shims (``com.xhaus.jyson``) with no such sub-module or class."""
    if name.startswith("__"):
        return False
    if module in SHIMS:
        return not exports(module, name) and not is_served(f"{module}.{name}")
    return not is_served(f"{module}.{name}") and unsupported(f"{module}.{name}")


def imported_modules(tree: ast.Module) -> list[tuple[int, str, int, bool]]:
    """``(line, module, level, guarded)`` for each import of a module that is not Java's, in ``tree``:
    ``import a.b`` gives ``a.b``; ``from a import b`` gives ``a`` (and ``a.b`` is tried as a module by the
    caller when it wants); ``guarded`` when the import sits in a ``try`` that catches ``ImportError``."""
    found: list[tuple[int, str, int, bool]] = []

    def visit(node: ast.AST, guarded: bool) -> None:
        if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            catches = any(_catches_import_error(handler) for handler in node.handlers)  # type: ignore[attr-defined]
            for child in node.body:  # type: ignore[attr-defined]
                visit(child, guarded or catches)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:  # type: ignore[attr-defined]
                visit(child, guarded)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, 0, guarded) for alias in node.names if not is_java_name(alias.name))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level or not is_java_name(module):
                found.append((node.lineno, module, node.level, guarded))
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(tree, False)
    return found


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    caught = handler.type
    if caught is None:
        return True
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return any(
        isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError", "Exception", "BaseException")
        for n in names
    )


def undefined_names(tree: ast.Module, path: str, names: Iterable[str]) -> list[tuple[int, str]]:
    """``(line, name)`` for each name pyflakes finds read but never defined, given the globals ``names``."""
    from pyflakes import checker, messages

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = checker.Checker(tree, filename=path, builtins=set(names) | set(modules.module_builtin_names()))
    return sorted({(m.lineno, m.message_args[0]) for m in found.messages if isinstance(m, messages.UndefinedName)})


def schedule_targets(tree: ast.Module) -> list[tuple[int, str]]:
    """``(line, path)`` for each ``task.schedule('path', ...)`` call with a literal path."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "schedule"):
            continue
        owner = node.func.value
        if not (isinstance(owner, ast.Name) and owner.id == "task"):
            continue
        argument = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "path"), None)
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str) and argument.value.strip():
            found.append((node.lineno, argument.value.strip()))
    return found


def check_scripts(context: CheckContext) -> Iterable[Problem]:
    """The ``xlr check`` checker: every problem of every report (see :func:`plugin_reports`)."""
    for report in context.script_reports:
        yield from report.problems()


# -- a whole check: roles, import resolution, followed modules ----------------------------------------------------


def is_plugin_code(relative: str) -> bool:
    """True for a plugin's Python file that is not under a ``tests/`` folder."""
    return relative.endswith(".py") and TESTS_FOLDER not in relative.split("/")[:-1]


@dataclass
class _File:
    """A Python file of a plugin root, as the check sees it."""

    root: modules.Root
    relative: str
    mode: str
    parsed: _Parsed
    role: str = "file"
    names: set[str] = field(default_factory=set)
    types: list[Any] = field(default_factory=list)  # the task types that run it, when it is a script

    @property
    def module_name(self) -> str:
        """``teamcity.client`` for ``teamcity/client.py``, ``teamcity`` for ``teamcity/__init__.py``."""
        name = self.relative[: -len(".py")].replace("/", ".")
        return name[: -len(".__init__")] if name.endswith(".__init__") else name

    @property
    def package(self) -> str | None:
        """The package the file's imports are relative to (None at the top level)."""
        if self.relative.endswith("/__init__.py"):
            return self.module_name
        return self.module_name.rpartition(".")[0] or None


class _Checker:
    """Finds roles and resolves imports for the plugins of a check."""

    def __init__(self, context: CheckContext, extra_globals: Iterable[str]) -> None:
        self.context = context
        registry = context.registry
        self.path = modules.module_path(registry.plugins, context.translate_modes)
        self.roots = [modules.open_root(location, mode) for location, mode in self.path]
        self.root_of = {root.location: root for root in self.roots}
        self.files: dict[str, _File] = {}  # display path -> file
        self.script_globals = set(extra_globals)
        self.target_locations = {location for plugin in context.targets for location in modules.plugin_roots(plugin)}

    # files

    def file(self, root: modules.Root, relative: str) -> _File:
        display = root.display(relative)
        known = self.files.get(display)
        if known is None:
            source = root.read_text(relative)
            known = self.files[display] = _File(root, relative, root.translate, _parse(source, display, root.translate))
        return known

    def root_with(self, plugin: PluginSource, relative: str) -> modules.Root | None:
        """The first root of ``plugin`` (a repository has two) that holds ``relative``."""
        for location in modules.plugin_roots(plugin):
            root = self.root_of.get(location)
            if root is not None and root.has_file(relative):
                return root
        return None

    def target_files(self) -> list[_File]:
        found = []
        for plugin in self.context.targets:
            for relative in plugin.list_files():
                if is_plugin_code(relative) and (root := self.root_with(plugin, relative)) is not None:
                    found.append(self.file(root, relative))
        return found

    # roles

    def mark_scripts(self) -> None:
        """Each task type's script, and what it schedules, is a script with the type's properties as globals."""
        registry = self.context.registry
        pending: list[tuple[Any, str]] = []
        for task_type in registry.types():
            # tasks only: a tile's, trigger's or provider's script runs in XL Release with other globals, never here
            if not task_type.virtual and task_type.is_python_script:
                pending.append((task_type, task_type.script_location))
        seen: set[tuple[str, str]] = set()
        while pending:
            task_type, path = pending.pop()
            found = registry.find_script(task_type, path)
            if found is None or (task_type.name, found.display_path) in seen:
                continue
            seen.add((task_type.name, found.display_path))
            root = self.root_with(found.source, found.path)
            if root is None or root.location not in self.target_locations:  # only the checked plugins' scripts
                continue
            script = self.file(root, found.path)
            script.role = "script"
            script.names |= set(task_type.properties) | self.script_globals
            script.types.append(task_type)
            if script.parsed.tree is not None:
                pending.extend((task_type, target) for _, target in schedule_targets(script.parsed.tree))

    def follow_imports(self) -> None:
        """Every plugin module a script imports (transitively) is a module: each package on the way, and a
        sub-module a ``from package import name`` names."""
        queue = [f for f in self.files.values() if f.role == "script"]
        while queue:
            importer = queue.pop()
            if importer.parsed.tree is None:
                continue
            wanted = [(module, level) for _line, module, level, _guarded in imported_modules(importer.parsed.tree)]
            for node in ast.walk(importer.parsed.tree):
                if isinstance(node, ast.ImportFrom) and (node.level or not is_java_name(node.module or "")):
                    prefix = f"{node.module}." if node.module else ""
                    wanted.extend((prefix + alias.name, node.level) for alias in node.names if alias.name != "*")
            for module, level in wanted:
                for found in self.plugin_modules(importer, module, level):
                    if found.role == "file":
                        found.role = "module"
                        queue.append(found)

    def plugin_modules(self, importer: _File, module: str, level: int) -> list[_File]:
        """The plugin files an import loads (each package on the way, and the module)."""
        name = self.absolute(importer, module, level)
        if name is None:
            return []
        located = self.locate(importer, name)
        return [self.file(f.root, f.file) for f in located if isinstance(f, modules.ModuleFile)]

    def absolute(self, importer: _File, module: str, level: int) -> str | None:
        """The absolute name an import means (implicit relative imports of Python 2 packages included)."""
        if level:
            package = importer.package if importer.role != "script" else None
            if package is None:
                return None
            parts = package.split(".")
            if level - 1 >= len(parts):
                return None
            base = ".".join(parts[: len(parts) - (level - 1)])
            return f"{base}.{module}" if module else base
        head = module.partition(".")[0]
        package = importer.package if importer.role != "script" else None
        if package and not _ABSOLUTE_IMPORT.search(importer.parsed.source):
            folder = package.replace(".", "/")
            if modules.locate_in(importer.root, f"{folder}/{head}") is not None:
                return f"{package}.{module}"
        return module

    def locate(self, importer: _File, name: str) -> list[modules.ModuleFile | str]:
        """Each step of importing ``name`` from the plugin roots: the module files, or a message at the first
        step that fails; ``[]`` when the top-level name is not a plugin module."""
        parts = name.split(".")
        if parts[0] in sys.stdlib_module_names or parts[0] in sys.builtin_module_names:
            return []
        steps: list[modules.ModuleFile | str] = []
        found = modules.locate(self.roots, parts[0])
        if found is None:
            bare = next((root for root in self.roots if root.has_dir(parts[0])), None)
            return [modules.not_a_package(bare, parts[0], parts[0])] if bare is not None else []
        steps.append(found)
        for index in range(1, len(parts)):
            if not found.package:
                steps.append(
                    f"No module named {'.'.join(parts[: index + 1])!r}; {'.'.join(parts[:index])!r} is not a package"
                )
                return steps
            relative = f"{found.folder}/{parts[index]}"
            inner = modules.locate_in(found.root, relative)
            if inner is None:
                qualified = ".".join(parts[: index + 1])
                if found.root.has_dir(relative):
                    steps.append(modules.not_a_package(found.root, relative, qualified))
                else:
                    steps.append(f"No module named {qualified!r} (no {found.root.display(relative)}.py)")
                return steps
            found = inner
            steps.append(found)
        return steps

    # import problems

    def resolver(self, importer: _File) -> ImportCheck:
        def resolve(module: str, line: int, level: int, guarded: bool) -> str | None:
            if level and importer.role == "script":
                dots = "." * level
                return f"relative import 'from {dots}{module} import ...' in a script (scripts are not in a package)"
            name = self.absolute(importer, module, level)
            if name is None or guarded or is_served(name) or name in SHIMS:
                return None
            steps = self.locate(importer, name)
            failure = next((step for step in steps if isinstance(step, str)), None)
            if failure is not None:
                return f"import of {name!r} does not resolve: {failure}"
            if steps or _importable(name.partition(".")[0]):
                return None
            hint = ""
            folder = importer.relative.rpartition("/")[0]
            if (
                importer.role == "script"
                and folder
                and modules.locate_in(importer.root, f"{folder}/{module.partition('.')[0]}")
            ):
                hint = f"; a script's own folder is not on the path: import it as '{folder.replace('/', '.')}.{module}'"
            return f"import of {name!r} does not resolve: no plugin root nor the Python environment has it{hint}"

        return resolve

    def schedule_check(self, script: _File) -> Callable[[str], bool]:
        """Whether a ``task.schedule`` target exists for one of the types that run ``script`` (looked up as the
        engine does: ``ext/``, the type's plugin, then the others)."""
        registry = self.context.registry

        def exists(target: str) -> bool:
            return any(registry.find_script(t, target) is not None for t in script.types)

        return exists

    def reports(self) -> list[ScriptReport]:
        targets = self.target_files()
        self.mark_scripts()
        self.follow_imports()
        target_paths = {f.parsed.path for f in targets}
        chosen = targets + [f for f in self.files.values() if f.role == "module" and f.parsed.path not in target_paths]
        reports = []
        for item in sorted(chosen, key=lambda f: f.parsed.path):
            names: Iterable[str] | None
            if item.role == "script":
                names = item.names
            elif item.role == "module":
                names = ()
            else:
                names = None
            reports.append(
                _report(
                    item.parsed,
                    names=names,
                    resolve=self.resolver(item),
                    schedule_exists=self.schedule_check(item) if item.role == "script" else None,
                    role=item.role,
                )
            )
        return reports


def _importable(top: str) -> bool:
    """True when the Python environment has a top-level module ``top`` (nothing is imported to find out)."""
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def plugin_reports(context: CheckContext, extra_globals: Mapping[str, Any] | Iterable[str] = ()) -> list[ScriptReport]:
    """A report for each Python file of the checked plugins (not under ``tests/``) and each plugin module from
    another plugin that their scripts import, sorted by path. ``extra_globals``: the names runtime plugins add
    to every script (``xlr_script_globals``), besides :func:`script_global_names`."""
    return _Checker(context, set(script_global_names()) | set(extra_globals)).reports()
