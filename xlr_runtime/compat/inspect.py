"""Static check of plugin scripts for ``xlr check``: does each script compile (after translation from
Python 2), and which of its imports can the runtime not serve?

:func:`inspect_script` reports on one script; :func:`check_scripts` is the checker registered with
:mod:`xlr_runtime.typesystem.check`, yielding one problem per script that does not compile and per
unsupported import, each as ``path:line: message``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xlr_runtime.compat.detect import needs_translation
from xlr_runtime.compat.imports import SHIMS, is_java_name, unsupported
from xlr_runtime.compat.translate import to_python3
from xlr_runtime.errors import ScriptSyntaxError
from xlr_runtime.typesystem.problems import Problem

if TYPE_CHECKING:
    from xlr_runtime.typesystem.check import CheckContext
    from xlr_runtime.typesystem.sources import PluginSource


@dataclass(frozen=True)
class ScriptReport:
    """What :func:`inspect_script` found: ``python2`` (it needs translation), ``error`` (one line, when it
    does not compile) and ``unsupported_imports`` as ``(line, module)`` pairs."""

    path: str
    python2: bool
    error: ScriptSyntaxError | None = None
    unsupported_imports: list[tuple[int, str]] = field(default_factory=list)

    @property
    def compiles(self) -> bool:
        """True when the script compiles (after translation when it is Python 2)."""
        return self.error is None

    def summary(self) -> str:
        """One line for a per-script listing: ``path: Python 2 (translated), compiles, 1 unsupported import``."""
        dialect = "Python 2 (translated)" if self.python2 else "Python 3"
        state = "compiles" if self.compiles else f"does not compile (line {self.error.line})" if self.error else ""
        count = len(self.unsupported_imports)
        imports = f", {count} unsupported import{'s' if count != 1 else ''}" if count else ""
        return f"{self.path}: {dialect}, {state}{imports}"


def inspect_script(source: str, path: str, mode: str = "auto") -> ScriptReport:
    """Translate ``source`` as the worker would (``mode``: auto, on, off) and list its unsupported imports."""
    python2 = mode == "on" or (mode == "auto" and needs_translation(source, path))
    try:
        translated = to_python3(source, path, mode)
        tree = ast.parse(translated, path)
    except ScriptSyntaxError as exc:
        return ScriptReport(path, python2, exc)
    except SyntaxError as exc:
        return ScriptReport(path, python2, ScriptSyntaxError(exc.msg, path=path, line=exc.lineno))
    return ScriptReport(path, python2, None, unsupported_imports(tree))


def unsupported_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """``(line, module)`` for each import in ``tree`` that would raise ``UnsupportedImportError``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names if unsupported(alias.name))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if unsupported(node.module):
                found.append((node.lineno, node.module))
            elif node.module in SHIMS and is_java_name(node.module):
                found.extend(
                    (node.lineno, f"{node.module}.{alias.name}")
                    for alias in node.names
                    if alias.name != "*" and _missing_from_shim(node.module, alias.name)
                )
    return sorted(found)


def script_reports(plugins: Iterable[PluginSource]) -> list[ScriptReport]:
    """A :class:`ScriptReport` for every ``*.py`` file of ``plugins`` (for ``xlr check``'s per-script list)."""
    reports = []
    for plugin in plugins:
        for path in plugin.list_files():
            script = plugin.script(path) if path.endswith(".py") else None
            if script is not None:
                reports.append(inspect_script(script.read(), script.display_path))
    return reports


def check_scripts(context: CheckContext) -> Iterable[Problem]:
    """The ``xlr check`` checker: a problem per script that does not compile and per unsupported import."""
    for script in context.target_scripts():
        report = inspect_script(script.read(), script.display_path)
        if report.error is not None:
            yield Problem(script.display_path, report.error.line or 0, f"does not compile: {report.error.detail}")
        for line, module in report.unsupported_imports:
            yield Problem(script.display_path, line, f"import of {module!r} is not supported by xlr-runtime")


def _missing_from_shim(module: str, name: str) -> bool:
    """True when the shim serving ``module`` has no ``name`` (e.g. ``from java.lang import Runtime``)."""
    import importlib

    try:
        served = importlib.import_module(SHIMS[module])
    except ImportError:
        return False
    return not hasattr(served, name) and not name.startswith("__")
